"""A runner's habits: one summary line for several files or a folder, JUnit XML for CI
systems, and examples at the end of every ``--help``."""

from __future__ import annotations

import shutil
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

import simnotify as sn
from simnotify.cli import EXAMPLES, main, parser
from simnotify.report import expectation_tally

ROOT = Path(__file__).resolve().parent.parent
SPLIT = ROOT / "scenarios" / "shared-sockets-split-interest.toml"
RACE = ROOT / "scenarios" / "prefork-handoff-race.toml"


def broken_copy(tmp_path: Path) -> Path:
    """The split-interest scenario with one outcome expectation that fails."""
    text = SPLIT.read_text(encoding="utf-8")
    bad = text.replace('[[expect]]\nlost = "FD_READ"', '[[expect]]\nlost = "FD_WRITE"', 1)
    assert bad != text
    path = tmp_path / "sub" / "broken.toml"
    path.parent.mkdir()
    path.write_text(bad, encoding="utf-8")
    return path


def test_several_files_end_with_one_summary_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = broken_copy(tmp_path)
    assert main(["run", str(SPLIT), str(RACE), str(broken), "--quiet"]) == 1
    last = capsys.readouterr().out.strip().splitlines()[-1]
    tallies = [expectation_tally(sn.run(sn.load(p))) for p in (SPLIT, RACE, broken)]
    held, failed, unreached = (sum(t[i] for t in tallies) for i in range(3))
    assert failed == 1
    assert last == f"3 files, {held} expectations held, 1 failed, {unreached} not reached"


def test_a_folder_runs_every_scenario_in_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copy(SPLIT, tmp_path / "a.toml")
    broken_copy(tmp_path)
    assert main(["run", str(tmp_path), "--quiet"]) == 1
    out = capsys.readouterr().out
    assert out.count("\n== ") + out.startswith("== ") == 2
    assert out.strip().splitlines()[-1].startswith("2 files, ")


def test_one_file_has_no_summary_line_and_an_empty_folder_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", str(SPLIT), "--quiet"]) == 0
    assert " files, " not in capsys.readouterr().out
    assert main(["run", str(tmp_path)]) == 2
    assert "no scenario files" in capsys.readouterr().err


def test_junit_xml_has_a_case_per_expectation_and_the_failure(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = broken_copy(tmp_path)
    xml = tmp_path / "results.xml"
    assert main(["run", str(SPLIT), str(broken), "--quiet", "--junit-xml", str(xml)]) == 1
    root = ET.parse(xml).getroot()
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == [
        "shared-sockets-split-interest (observed)",
        "shared-sockets-split-interest (observed)",
    ]
    res = sn.run(sn.load(SPLIT))
    cases = suites[0].findall("testcase")
    assert len(cases) == len(res.checks) + len(res.outcomes)
    assert not suites[0].findall(".//failure")
    failures = suites[1].findall(".//failure")
    assert len(failures) == 1 and "FD_WRITE" in (failures[0].text or "")
    assert (root.get("tests"), root.get("failures")) == (str(2 * len(cases)), "1")
    assert suites[1].get("file") == str(broken)


def test_every_help_ends_with_examples(capsys: pytest.CaptureFixture[str]) -> None:
    commands = parser()._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    assert set(commands) == {k for k in EXAMPLES if k}
    for argv in [["--help"], *([name, "--help"] for name in commands)]:
        with pytest.raises(SystemExit):
            main(argv)
        out = capsys.readouterr().out
        assert "\nexamples:\n  simnotify " in out, argv
