"""Cross-check one scenario: simnotify's steps against a real Winsock's replies.

Every differing step is put in one class:

- ``known``: one of Wine's known deviations from Windows explains it. The test is a
  prediction, not a list: the ``wine`` profile (``observed`` plus the deviations in
  ``profiles.WINE_EVIDENCE``) is run too, and a difference is known when that run predicts
  Wine's answer and ``observed`` does not; the deviations cited are those whose value
  alone turns the checked profile's answer into Wine's.
- ``environment``: buffer sizes. When WSAEWOULDBLOCK comes, how much a drain must read and
  where segments end follow the host's (Linux's autotuned) buffers, not simnotify's: a
  send that fails on one side only, a recv of N bytes that gets another positive count,
  a lingering close that can or cannot finish at once, a drain of a connection filled to
  WSAEWOULDBLOCK. Once that has happened on a connection, what differs on it afterwards
  (FD_WRITE timing first) is a consequence and is classed the same way.
- ``unexplained``: anything else. It is what the cross-check is for.
"""

from __future__ import annotations

import difflib
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from ..engine.world import World
from ..plan import Plan
from ..profiles import OBSERVED, WINE, WINE_EVIDENCE, Profile
from ..trace import TraceKeeper
from ..units import format_time
from . import SETTLE_MS
from .compare import Compared, agrees, compare_steps
from .script import Run, Script, Step, build_script
from .transcript import Transcript

KNOWN, ENVIRONMENT, UNEXPLAINED = "known", "environment", "unexplained"
CLASSES = (KNOWN, ENVIRONMENT, UNEXPLAINED)
#: A run with something unexplained is run again with this many times the settle.
RESETTLE_FACTOR = 10

if TYPE_CHECKING:
    from ..scenario import Scenario

_HANDLE = re.compile(r"@#([0-9a-f]+)")


@dataclass(frozen=True, slots=True)
class Difference:
    """One step where the two sides differ, with its class and why."""

    step: Step
    klass: str
    simnotify: str
    other: str
    why: str
    sources: tuple[str, ...] = ()

    def where(self) -> str:
        """The step as reports name it: its id, the call and the simulated time."""
        tag = f"{self.step.tag}: " if self.step.tag else ""
        return f"{tag}{self.step.label} at {format_time(self.step.t_us)}"

    def to_json(self) -> dict[str, Any]:
        """The ``--json`` form."""
        return {
            "step": self.where(),
            "class": self.klass,
            "simnotify": self.simnotify,
            "wine": self.other,
            "why": self.why,
            "sources": list(self.sources),
        }


@dataclass(slots=True)
class FileReport:
    """The cross-check of one scenario file."""

    file: str
    name: str
    profile: str
    against: str
    compared: int = 0
    agreed: int = 0
    differences: list[Difference] = field(default_factory=list)
    seconds: float = 0.0
    #: when a first run found unexplained differences and a slower second run was kept:
    #: the first run's settle (ms) and how many it left unexplained
    resettled: tuple[int, int] | None = None

    def count(self, klass: str) -> int:
        """How many differences are in ``klass``."""
        return sum(1 for d in self.differences if d.klass == klass)

    @property
    def ok(self) -> bool:
        """No unexplained difference."""
        return self.count(UNEXPLAINED) == 0

    def to_json(self) -> dict[str, Any]:
        """The ``--json`` form: per file, steps compared and agreeing, and each difference."""
        return {
            "file": self.file,
            "profile": self.profile,
            "against": self.against,
            "compared": self.compared,
            "agreed": self.agreed,
            "differences": [d.to_json() for d in self.differences],
            "resettled": None
            if self.resettled is None
            else {"first_settle_ms": self.resettled[0], "first_unexplained": self.resettled[1]},
        }


# -- simulation ------------------------------------------------------------------------


def simulate(plan: Plan, profile: Profile) -> tuple[Run, dict[str, str]]:
    """Run a plan under any Profile (a variant too); the run and each socket's peer."""
    keeper = TraceKeeper()
    world = World(plan, profile, [keeper])
    world.run()
    ends = {p.thread_label: p.waiting for p in world.threads.values()}
    peers = {s.id: s.peer.id for s in world.table.sockets if s.peer is not None}
    return Run(profile.name, keeper.trace, ends), peers


def script_for(plan: Plan, profile: Profile, settle_ms: int | None = None) -> Script:
    """The cross-check script of a plan under a profile."""
    run, _ = simulate(plan, profile)
    return build_script(plan, run) if settle_ms is None else build_script(plan, run, settle_ms)


# -- replies -------------------------------------------------------------------------------


def replies_by_id(transcript: Transcript) -> dict[str, str]:
    """Each step id's reply (a ``finish`` line answers for its ``start``), with wParams
    that name another process's handle given that process's name for it."""
    handles: dict[str, str] = {}  # handle value -> the name its creator gave it
    out: dict[str, str] = {}
    for _, command in transcript.lines:
        reply = transcript.replies[command]
        _proc, ident, rest = [*command.split(" ", 2), "", ""][:3]
        m = re.search(r" handle=0x([0-9a-f]+)", reply)
        if m:
            name = _created_name(rest)
            if name:
                handles[m.group(1)] = name
        if "@#" in reply:
            reply = _HANDLE.sub(lambda h: "@" + handles.get(h.group(1), "#" + h.group(1)), reply)
        if rest.startswith("start "):
            continue
        out[ident] = reply
    return out


def _created_name(command: str) -> str | None:
    words = dict(w.split("=", 1) for w in command.split()[1:] if "=" in w)
    if command.startswith(("accept", "import")):
        return words.get("as")
    return words.get("name")


# -- classification ---------------------------------------------------------------------


def _align(mine: Sequence[Step], theirs: Sequence[Step]) -> dict[str, Step]:
    """Step id in ``mine`` -> the corresponding step in ``theirs``, per process, by the
    longest matching sequence of calls (runs under other profiles may take other paths)."""
    out: dict[str, Step] = {}
    procs = {s.process for s in mine}
    for proc in procs:
        a = [s for s in mine if s.process == proc]
        b = [s for s in theirs if s.process == proc]
        matcher = difflib.SequenceMatcher(
            None, [s.key for s in a], [s.key for s in b], autojunk=False
        )
        for block in matcher.get_matching_blocks():
            for k in range(block.size):
                out[a[block.a + k].id] = b[block.b + k]
    return out


class Classifier:
    """Puts each differing step of one file in a class (module docstring)."""

    def __init__(self, plan: Plan, profile: Profile, peers: dict[str, str]) -> None:
        self.plan = plan
        self.profile = profile
        self.peers = peers
        self._predictions: dict[str, dict[str, Step]] = {}
        self._mine: list[Step] = []
        self._compared: list[Compared] = []
        self._broken: dict[str, bool] = {}
        self.marked: dict[frozenset[str], str] = {}  # connection -> the step that marked it

    def _predicted(self, key: str, profile: Profile) -> dict[str, Step]:
        if key not in self._predictions:
            self._predictions[key] = _align(self._mine, script_for(self.plan, profile).steps)
        return self._predictions[key]

    def _connection(self, sock: str | None) -> frozenset[str] | None:
        if sock is None:
            return None
        peer = self.peers.get(sock)
        return frozenset({sock, peer}) if peer else frozenset({sock})

    def _connections(self, step: Step) -> list[frozenset[str]]:
        socks = [step.socket, *step.sockets] if step.socket else list(step.sockets)
        conns = [self._connection(s) for s in socks]
        return [c for c in conns if c is not None]

    def _mark(self, step: Step, why: str) -> None:
        for conn in self._connections(step):
            self.marked.setdefault(conn, why)

    def classify(self, compared: Sequence[Compared]) -> list[Difference]:
        """The differences among ``compared`` (in script order), each with its class."""
        self._mine = [c.step for c in compared]
        self._compared = list(compared)
        out: list[Difference] = []
        for c in compared:
            step = c.step
            if step.call == "send" and step.expected.status == "WSAEWOULDBLOCK":
                self._mark(step, f"filled to WSAEWOULDBLOCK by a send at {format_time(step.t_us)}")
            if c.agrees:
                continue
            out.append(self._one(c))
        return out

    def _one(self, c: Compared) -> Difference:
        step, other = c.step, c.other
        mine, theirs = step.expected.text(), other.text()
        known = self._known(c)
        if known is not None:
            why, sources = known
            return Difference(step, KNOWN, mine, theirs, why, sources)
        env = self._environment(c)
        if env is not None:
            return Difference(step, ENVIRONMENT, mine, theirs, env)
        return Difference(step, UNEXPLAINED, mine, theirs, self._unexplained(c))

    def _known(self, c: Compared) -> tuple[str, tuple[str, ...]] | None:
        """Wine's deviations predict this answer and observed Windows' behaviour does not."""
        if self.profile == WINE:
            return None
        if not self._predicts("wine", WINE, c):
            return None
        if self.profile != OBSERVED and self._predicts("observed", OBSERVED, c):
            return None  # observed Windows behaviour, not a Wine deviation
        differing = [n for n in WINE_EVIDENCE if getattr(self.profile, n) != getattr(WINE, n)]
        # a deviation explains the step if switching it alone gives Wine's answer here
        # without losing any step that agreed
        cited = [
            name
            for name in differing
            if self._predicts(name, self._variant(name), c) and not self._breaks(name)
        ]
        if not cited:  # only the deviations together predict it
            cited = differing
        return f"the wine profile predicts it: {', '.join(cited)}", tuple(cited)

    def _variant(self, name: str) -> Profile:
        return replace(self.profile, **{name: getattr(WINE, name)})

    def _breaks(self, name: str) -> bool:
        """Whether switching one deviation loses a step where the two sides agreed."""
        if name not in self._broken:
            steps = self._predicted(name, self._variant(name))
            self._broken[name] = any(
                (alt := steps.get(c.step.id)) is None or not agrees(alt, alt.expected, c.other)
                for c in self._compared
                if c.agrees and c.step.seq >= 0
            )
        return self._broken[name]

    def _predicts(self, key: str, profile: Profile, c: Compared) -> bool:
        """Whether a run under ``profile`` gives, at this step, the other side's answer."""
        alt = self._predicted(key, profile).get(c.step.id)
        if alt is not None:
            return agrees(alt, alt.expected, c.other)
        if c.step.seq < 0:  # an end-of-run check the other run has none of: there the
            # process was not left waiting, so it predicts that something was there
            return c.other.status == "ok" and c.other.value not in ("-", "WSA_WAIT_TIMEOUT")
        return False

    def _environment(self, c: Compared) -> str | None:
        step, mine, other = c.step, c.step.expected, c.other
        conns = self._connections(step)
        earlier = next((self.marked[k] for k in conns if k in self.marked), None)
        at = format_time(step.t_us)
        if step.call == "send" and {mine.status, other.status} <= {"ok", "WSAEWOULDBLOCK"}:
            self._mark(step, f"WSAEWOULDBLOCK came at another send (at {at})")
            return "when send fails with WSAEWOULDBLOCK follows the host's buffer sizes"
        if step.call == "closesocket" and {mine.status, other.status} == {"ok", "WSAEWOULDBLOCK"}:
            self._mark(step, f"a lingering close went another way (at {at})")
            return "whether a lingering close must wait for unsent data follows the buffer sizes"
        if (
            step.kind == "count"
            and mine.status == other.status == "ok"
            and isinstance(mine.value, int)
            and isinstance(other.value, int)
            and mine.value > 0
            and other.value > 0
        ):
            return "how many bytes one recv returns follows segment and buffer sizes"
        if earlier is not None:
            return f"follows the buffer sizes: on this connection {earlier}"
        return None

    def _unexplained(self, c: Compared) -> str:
        if c.other.status in ("TIMEOUT", "SKIPPED", "BAD"):
            return f"the interpreter answered {c.other.text()} {c.other.value or ''}".strip()
        return "no known deviation or environment rule explains it"


# -- whole files ---------------------------------------------------------------------------


def compare_transcript(
    plan: Plan, profile: Profile, script: Script, transcript: Transcript, source: str
) -> FileReport:
    """Compare a run's steps with a transcript's replies; classify what differs."""
    _, peers = simulate(plan, profile)
    compared = compare_steps(script.steps, replies_by_id(transcript))
    report = FileReport(plan.source, plan.name, profile.name, source)
    report.compared = len(compared)
    report.agreed = sum(1 for c in compared if c.agrees)
    report.differences = Classifier(plan, profile, peers).classify(compared)
    return report


def crosscheck_plan(
    scenario: Plan | Scenario,
    profile: Profile,
    run_script: Callable[[str], str],
    settle_ms: int | None = None,
) -> FileReport:
    """Build the script, run it (``run_script``: text -> transcript text, e.g.
    ``Wine.run_script``), compare and classify.

    A run that leaves something unexplained is run once more with RESETTLE_FACTOR times
    the settle: on a loaded machine Wine's server may not have seen a connection or a
    send within the first settle, and a difference that goes away with more time is the
    machine's, not Winsock's. The report says when that happened; a difference that stays
    is reported from the second run.
    """
    from ..runner import to_plan

    plan = to_plan(scenario)
    settle = SETTLE_MS if settle_ms is None else settle_ms
    report = _crosscheck_once(plan, profile, run_script, settle)
    if report.ok:
        return report
    again = _crosscheck_once(plan, profile, run_script, max(settle * RESETTLE_FACTOR, 1))
    again.resettled = (settle, report.count(UNEXPLAINED))
    again.seconds += report.seconds
    return again


def _crosscheck_once(
    plan: Plan, profile: Profile, run_script: Callable[[str], str], settle_ms: int
) -> FileReport:
    from .transcript import parse_transcript

    started = time.monotonic()
    script = script_for(plan, profile, settle_ms)
    transcript = parse_transcript(run_script(script.text()), f"<{plan.name} transcript>")
    report = compare_transcript(plan, profile, script, transcript, transcript.system)
    report.seconds = time.monotonic() - started
    return report
