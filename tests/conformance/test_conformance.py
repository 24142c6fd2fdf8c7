"""Conformance suite: each scenario file below this folder is one test, named after it.

A file is run under its declared ``profile`` and under every profile named in one of its
per-profile ``expect`` tables; every inline expectation must hold.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from simnotify.plan import ANY_PROFILE, Plan
from simnotify.runner import run_plan
from simnotify.scenario import build, load

HERE = Path(__file__).parent


def profiles_of(plan: Plan) -> list[str]:
    """The declared profile plus those named explicitly in per-profile expectations."""
    named = {plan.profile}
    calls = [s.call for s in plan.steps]
    calls += [c for p in plan.processes for hs in p.handlers.values() for c in hs]
    calls += [
        c for p in plan.processes for t in p.threads for hs in t.handlers.values() for c in hs
    ]
    for call in calls:
        if call.expect is not None:
            named.update(k for k in call.expect.by_profile if k != ANY_PROFILE)
    return sorted(named)


def _make_test(path: Path) -> Callable[[], None]:
    def test() -> None:
        plan = build(load(str(path)))
        for profile in profiles_of(plan):
            res = run_plan(plan, profile)
            assert res.checks, f"{path.name} has no inline expectation under {profile}"
            problems = [f"{path.name}:{c.line}: {c.message()}" for c in res.failures]
            assert not problems, "\n".join(problems)

    test.__name__ = f"test_{path.stem}"
    test.__doc__ = f"{path.parent.name}/{path.name}"
    return test


for _path in sorted(HERE.glob("*/*.toml")):
    globals()[f"test_{_path.stem}"] = _make_test(_path)
