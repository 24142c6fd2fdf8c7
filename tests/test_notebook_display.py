"""Results at home in a notebook: HTML summaries, a short repr, the terminal report from
print(), and figures that show even when the cell ends with ``;``."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

import simnotify as sn
from simnotify import notebook
from simnotify.cli import main
from simnotify.report import text

ROOT = Path(__file__).resolve().parent.parent
SPLIT = ROOT / "scenarios" / "shared-sockets-split-interest.toml"
RACE = ROOT / "scenarios" / "prefork-handoff-race.toml"


class Cells(HTMLParser):
    """The text of each table cell and the text of the whole document, tags dropped."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.cells: list[str] = []
        self.text: list[str] = []
        self._cell: list[str] | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.cells.append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._cell is not None:
            self._cell.append(data)


def test_a_result_shows_its_findings_takings_ends_and_failures_as_html() -> None:
    res = sn.run(sn.load(SPLIT))
    page = Cells(res._repr_html_())
    words = " ".join("".join(page.text).split())
    assert "verdicts: 1 delivered, 1 lost, 1 hang" in words
    lost = next(v for v in res.verdicts if v.kind == "lost")
    assert lost.text() in page.cells  # the finding with its cause
    row = page.cells.index("A", page.cells.index("bytes received"))  # the takings table
    assert page.cells[row + 1 : row + 3] == ["nothing", "still waiting in GetMessage"]
    assert "B" in page.cells and "FD_WRITE x1" in page.cells
    assert "expectations (observed): 9 held, all held" in words
    assert f"timeline: {len(res.trace)} happenings" in words
    assert "0.000ms" in page.cells  # the compact timeline's first row


def test_failed_and_unreached_expectations_are_listed(tmp_path: Path) -> None:
    text_ = SPLIT.read_text(encoding="utf-8").replace(
        '[[expect]]\nlost = "FD_READ"', '[[expect]]\nlost = "FD_WRITE"', 1
    )
    assert text_ != SPLIT.read_text(encoding="utf-8")
    res = sn.run(sn.loads(text_, source="split.toml"))
    assert not res.ok
    page = Cells(res._repr_html_())
    assert "FAIL" in page.cells
    assert any(c.startswith("split.toml:") for c in page.cells)
    assert all(f.message() in page.cells for f in res.failures)


def test_short_repr_and_print_gives_the_terminal_report() -> None:
    res = sn.run(sn.load(SPLIT))
    assert repr(res) == (
        "<Result shared-sockets-split-interest under observed: 1 lost, 1 hang; "
        "expectations 9 held, all held>"
    )
    assert str(res) == res.report() == text(res)
    assert res.report().splitlines()[0].startswith("== Shared Sockets page")
    assert "verdicts: 1 delivered, 1 lost, 1 hang" in res.report().splitlines()


def test_print_matches_what_the_run_command_prints(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", str(SPLIT)]) == 0
    printed = capsys.readouterr().out.strip()
    res = sn.run(sn.load(SPLIT))
    assert printed == res.report()


def test_a_comparison_shows_both_profiles_and_their_differences() -> None:
    cmp = sn.compare(sn.load(ROOT / "scenarios" / "prefork-handoff-inherited-read.toml"))
    page = Cells(cmp._repr_html_())
    words = " ".join("".join(page.text).split())
    assert "under observed" in words and "under documented" in words
    assert "differences" in words
    assert len(repr(cmp)) < 300 and repr(cmp).startswith(
        "<Comparison prefork-handoff-inherited-read"
    )
    assert "== differences [prefork-handoff-inherited-read]" in str(cmp)


def test_a_sweep_shows_its_table_as_html() -> None:
    res = sn.sweep(sn.load(RACE), runs=30, vary=("network.latency", ["50us", "1ms"]))
    page = Cells(res._repr_html_())
    assert page.cells[:5] == ["network.latency", "outcome", "P", "95% interval", "example seed"]
    assert "50us" in page.cells and "1ms" in page.cells
    for row in res.rows:
        for outcome, k in row.counts.items():
            assert f"{k / row.runs:.2f}" in page.cells
            assert str(row.example[outcome]) in page.cells
    assert str(res) == "\n".join(res.table())


def test_run_takes_seed_and_set_as_the_command_line_does(
    capsys: pytest.CaptureFixture[str],
) -> None:
    sc = sn.load(RACE)
    res = sn.run(sc, seed=7, set={"network.latency": "200us"})
    assert (res.plan.seed, res.plan.network.latency_us) == (7, 200)
    assert main(["run", str(RACE), "--seed", "7", "--set", "network.latency=200us"]) in (0, 1)
    assert capsys.readouterr().out.strip() == res.report()
    cmp = sn.compare(sc, seed=7, set={"network.latency": "200us"})
    assert (
        cmp.observed.records()
        == sn.run(sc, "observed", seed=7, set={"network.latency": "200us"}).records()
    )


class FakeShell:
    """What show_at_end_of_cell uses of an IPython kernel's shell."""

    def __init__(self, formatter: bool) -> None:
        self.callbacks: list[Any] = []
        self.kernel = object()
        shell = self

        class Formatter:
            def lookup(self, obj: object) -> object:
                if not formatter:
                    raise KeyError(type(obj))
                return repr

        class Events:
            def register(self, name: str, cb: Any) -> None:
                assert name == "post_run_cell"
                shell.callbacks.append(cb)

            def unregister(self, name: str, cb: Any) -> None:
                shell.callbacks.remove(cb)

        self.events = Events()
        self.display_formatter = type("F", (), {"formatters": {"image/png": Formatter()}})()

    def end_cell(self, value: object) -> None:
        for cb in list(self.callbacks):
            cb(type("R", (), {"result": value})())


@pytest.mark.parametrize(
    ("ends_with_semicolon", "formatter", "shown"),
    [(True, True, 1), (False, True, 0), (False, False, 1), (True, False, 1)],
)
def test_a_figure_shows_once_at_the_end_of_its_cell(
    monkeypatch: pytest.MonkeyPatch, ends_with_semicolon: bool, formatter: bool, shown: int
) -> None:
    shell = FakeShell(formatter)
    displayed: list[object] = []
    monkeypatch.setattr(notebook, "kernel", lambda: shell)
    monkeypatch.setattr(notebook, "display_figure", displayed.append)
    fig = sn.run(sn.load(SPLIT)).plot()
    shell.end_cell(None if ends_with_semicolon else fig)
    assert displayed == [fig] * shown
    assert not shell.callbacks  # one cell only: the next cell shows nothing again


def test_outside_a_kernel_nothing_is_registered_and_sweeps_are_quiet(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert notebook.kernel() is None
    assert not notebook.progress_default()
    sn.sweep(sn.load(RACE), runs=5)
    assert capsys.readouterr().err == ""


def test_in_a_real_kernel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``res.plot();`` shows the picture, ``res`` its HTML, and a sweep its progress."""
    monkeypatch.setenv("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(f"import simnotify as sn\nres = sn.run(sn.load({str(SPLIT)!r}))"),
        nbformat.v4.new_code_cell("res.plot();"),
        nbformat.v4.new_code_cell("res"),
        nbformat.v4.new_code_cell(f"sw = sn.sweep(sn.load({str(RACE)!r}), runs=20)"),
        nbformat.v4.new_code_cell("print(res)"),
    ]
    NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    outputs = [c.outputs for c in nb.cells]
    assert [o.output_type for o in outputs[1]] == ["display_data"]
    assert "image/png" in outputs[1][0].data
    assert (
        "text/html" in outputs[2][0].data
        and "still waiting in GetMessage" in outputs[2][0].data["text/html"]
    )
    progress = "".join(o.get("text", "") + str(o.get("data", "")) for o in outputs[3])
    assert re.search(r"20/20|20 run", progress), progress
    assert outputs[4][0].text.startswith("== Shared Sockets page")
