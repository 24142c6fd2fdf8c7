"""Exports: Chrome trace events that Perfetto draws as meant, CSV, records, pandas."""

from __future__ import annotations

import csv
import io
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

import simnotify as sn
from simnotify.cli import main
from simnotify.describe import detail
from simnotify.export import (
    chrome_trace,
    to_dataframe,
    to_records,
    verdict_fields,
    write_chrome,
    write_csv,
)
from simnotify.jsonl import record_dict
from simnotify.result import Result
from simnotify.trace import FIELDS
from simnotify.verdicts import Verdict

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = sorted((ROOT / "scenarios").glob("*.toml"))
PREFORK = ROOT / "scenarios" / "prefork-handoff-inherited-read.toml"
REQUIRED = {"name", "ph", "ts", "pid", "tid"}

Event = dict[str, Any]


@pytest.fixture(
    scope="module",
    params=[(path, prof) for path in SCENARIOS for prof in ("observed", "documented")],
    ids=lambda p: f"{p[0].stem}-{p[1]}",
)
def result(request: pytest.FixtureRequest) -> Result:
    path, profile = request.param
    return sn.run(sn.load(str(path)), profile=profile)


@pytest.fixture(scope="module")
def events(result: Result) -> list[Event]:
    buf = io.StringIO()
    write_chrome(result, buf)
    doc = json.loads(buf.getvalue())
    assert doc["displayTimeUnit"] == "ms"
    return doc["traceEvents"]


def test_every_event_has_the_fields_its_phase_needs(events: list[Event]) -> None:
    for ev in events:
        assert ev.keys() >= REQUIRED, ev
        assert all(isinstance(ev[k], int) for k in ("ts", "pid", "tid")), ev
        if ev["ph"] == "X":
            assert isinstance(ev["dur"], int) and ev["dur"] >= 1, ev
        elif ev["ph"] == "i":
            assert ev["s"] == "t", ev
        elif ev["ph"] in ("s", "f"):
            assert isinstance(ev["id"], int), ev
        else:
            assert ev["ph"] == "M", ev


def _findings(result: Result) -> list[Verdict]:
    return [v for v in result.verdicts if v.kind != "delivered"]


def test_every_record_and_verdict_is_one_slice_or_instant_with_its_fields(
    result: Result, events: list[Event]
) -> None:
    shown = [ev for ev in events if ev["ph"] in ("X", "i")]
    n = len(result.trace)
    found = _findings(result)
    assert sorted(ev["args"]["seq"] for ev in shown) == list(range(n + len(found)))
    for ev in shown:
        seq = ev["args"]["seq"]
        if seq >= n:  # a verdict, numbered after the records
            v = found[seq - n]
            assert (ev["cat"], ev["ts"], ev["args"]["detail"]) == (v.kind, v.t_us, v.explanation)
            names = {e["tid"]: e["args"]["name"] for e in events if e["name"] == "thread_name"}
            assert names[ev["tid"]] == "verdicts"
            continue
        rec = result.trace[seq]
        assert {k: ev["args"][k] for k in FIELDS} == record_dict(rec)
        assert ev["ph"] == ("X" if rec.kind == "call" else "i")
        assert ev["ts"] + ev.get("dur", 0) >= rec.t_us >= ev["ts"]


def test_every_flow_start_has_one_finish_not_earlier(events: list[Event]) -> None:
    starts = [ev for ev in events if ev["ph"] == "s"]
    finishes = [ev for ev in events if ev["ph"] == "f"]
    assert Counter(ev["id"] for ev in starts).most_common(1)[0][1] == 1
    assert sorted(ev["id"] for ev in starts) == sorted(ev["id"] for ev in finishes)
    by_id = {ev["id"]: ev for ev in finishes}
    for start in starts:
        finish = by_id[start["id"]]
        assert finish["bp"] == "e"
        assert (finish["name"], finish["cat"]) == (start["name"], start["cat"])
        assert finish["ts"] >= start["ts"]


def test_a_flow_for_every_cause(result: Result, events: list[Event]) -> None:
    caused = {r.seq for r in result.trace if r.cause is not None}
    n = len(result.trace)
    caused |= {n + i for i, v in enumerate(_findings(result)) if v.cause is not None}
    assert {ev["id"] for ev in events if ev["ph"] == "s"} == caused


def test_every_pid_and_tid_is_named_and_tids_are_unique(events: list[Event]) -> None:
    meta = [ev for ev in events if ev["ph"] == "M"]
    procs = {ev["pid"] for ev in meta if ev["name"] == "process_name"}
    threads = {(ev["pid"], ev["tid"]) for ev in meta if ev["name"] == "thread_name"}
    assert {ev["pid"] for ev in events} <= procs
    assert {(ev["pid"], ev["tid"]) for ev in events} <= threads
    tids = [tid for _, tid in threads]
    assert len(tids) == len(set(tids))  # Perfetto names threads by tid alone
    assert not set(tids) & procs


def _binds(events: list[Event]) -> dict[tuple[int, str], int]:
    """Replay the trace the way Perfetto's JSON importer does (events in ts order, a stack
    of open slices per thread; a flow step binds to the top of its thread's stack) and
    return (flow id, phase) -> the seq of the record it bound to."""
    stacks: dict[int, list[tuple[int, int, int]]] = {}  # tid -> (start, end, seq)
    bound: dict[tuple[int, str], int] = {}
    for ev in sorted((e for e in events if e["ph"] != "M"), key=lambda e: e["ts"]):
        stack = stacks.setdefault(ev["tid"], [])
        if ev["ph"] in ("s", "f"):
            assert stack, f"flow {ev} has no slice to bind to"
            bound[(ev["id"], ev["ph"])] = stack[-1][2]
            continue
        ts, dur = ev["ts"], ev.get("dur", 0)
        while stack and (
            stack[-1][1] < ts or (stack[-1][1] == ts and not (stack[-1][0] == ts and dur == 0))
        ):
            stack.pop()
        assert not stack or ts + dur <= stack[-1][1], f"{ev} overlaps its parent"
        stack.append((ts, ts + dur, ev["args"]["seq"]))
    return bound


def test_flows_bind_to_the_cause_and_the_effect(result: Result, events: list[Event]) -> None:
    bound = _binds(events)
    for rec in result.trace:
        if rec.cause is not None:
            ends = {bound[(rec.seq, "s")], bound[(rec.seq, "f")]}
            assert ends == {rec.cause, rec.seq}


def test_posts_and_signals_sit_on_their_window_and_event_object(events: list[Event]) -> None:
    names = {ev["tid"]: ev["args"]["name"] for ev in events if ev["name"] == "thread_name"}
    for ev in events:
        kind = ev.get("args", {}).get("kind")
        if kind == "post" and ev["args"]["process"]:
            assert names[ev["tid"]].startswith("window "), ev
        if kind == "signal" and ev["args"]["process"]:
            assert names[ev["tid"]].startswith("event "), ev


def test_prefork_shapes(tmp_path: Path) -> None:
    res = sn.run(sn.load(str(PREFORK)), profile="observed")
    doc = chrome_trace(res)
    evs = doc["traceEvents"]
    phases = Counter(ev["ph"] for ev in evs)
    assert phases == {"M": 30, "i": 26, "X": 11, "s": 14, "f": 14}
    procs = {ev["args"]["name"] for ev in evs if ev["name"] == "process_name"}
    assert procs == {"A", "W", "client", "network"}
    connect = next(ev for ev in evs if ev["name"] == "connect")
    assert (connect["ts"], connect["dur"]) == (1000, 200)  # blocked from 1ms, done at 1.2ms
    lost = next(ev for ev in evs if ev["name"] == "lost FD_READ")
    flow = next(ev for ev in evs if ev["ph"] == "f" and ev["id"] == lost["args"]["seq"])
    assert flow["name"] == "deliver -> lost"


def test_same_result_same_bytes() -> None:
    def dump() -> str:
        buf = io.StringIO()
        write_chrome(sn.run(sn.load(str(PREFORK))), buf)
        return buf.getvalue()

    assert dump() == dump()


def test_csv_has_one_row_per_record_then_verdict_with_every_field(result: Result) -> None:
    buf = io.StringIO(newline="")
    write_csv(result, buf)
    rows = list(csv.reader(io.StringIO(buf.getvalue(), newline="")))
    assert rows[0] == [*FIELDS, "profile"]
    found = _findings(result)
    assert len(rows) == len(result.trace) + len(found) + 1
    n = len(result.trace)
    for row, rec in zip(rows[1 : n + 1], result.trace, strict=True):
        assert len(row) == len(FIELDS) + 1
        cells = dict(zip(rows[0], row, strict=True))
        assert cells["profile"] == result.profile
        assert int(cells["seq"]) == rec.seq and cells["kind"] == rec.kind
        assert cells["detail"] == detail(rec)
        for name in ("args", "data"):
            assert (json.loads(cells[name]) if cells[name] else None) == getattr(rec, name)
    for row, v in zip(rows[n + 1 :], found, strict=True):
        cells = dict(zip(rows[0], row, strict=True))
        assert (cells["seq"], cells["kind"], cells["detail"]) == ("", v.kind, v.explanation)


def test_to_records_matches_the_trace_then_the_verdicts(result: Result) -> None:
    expected = [record_dict(r) for r in result.trace]
    expected += [verdict_fields(v) for v in _findings(result)]
    assert to_records(result) == expected
    assert result.to_records() == expected
    assert all(list(d) == list(FIELDS) for d in expected)


def test_to_dataframe_without_pandas_says_how_to_get_it(monkeypatch: pytest.MonkeyPatch) -> None:
    res = sn.run(sn.load(str(PREFORK)))
    monkeypatch.setitem(sys.modules, "pandas", None)  # makes `import pandas` fail
    with pytest.raises(RuntimeError, match=r"to_dataframe needs pandas: pip install pandas"):
        res.to_dataframe()


def test_to_dataframe_with_pandas() -> None:
    res = sn.run(sn.load(str(PREFORK)))
    frame = to_dataframe(res)
    assert list(frame.columns) == [*FIELDS, "profile"]
    n = len(res.trace)
    assert len(frame) == n + len(_findings(res))
    assert frame["seq"][:n].tolist() == [r.seq for r in res.trace]
    assert frame["seq"][n:].isna().all()
    assert frame["cause"][:n].isna().sum() == sum(r.cause is None for r in res.trace)
    caused = next(r for r in res.trace if r.cause is not None)
    assert frame.loc[caused.seq, "cause"] == caused.cause
    assert res.to_dataframe().equals(frame)


def test_cli_writes_the_exports(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    chrome, table = tmp_path / "t.json", tmp_path / "t.csv"
    args = ["run", str(PREFORK), "--quiet", "--chrome", str(chrome), "--csv", str(table)]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert f"Chrome trace written to {chrome}" in out and f"CSV written to {table}" in out
    res = sn.run(sn.load(str(PREFORK)))
    assert json.loads(chrome.read_text()) == chrome_trace(res)
    assert len(table.read_text().splitlines()) == len(res.trace) + len(_findings(res)) + 1
    first = chrome.read_bytes()
    assert main(args) == 0
    assert chrome.read_bytes() == first


def test_cli_names_one_file_per_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = tmp_path / "t.json"
    assert main(["run", str(PREFORK), "--quiet", "--profile", "both", "--chrome", str(base)]) == 0
    capsys.readouterr()
    names = sorted(p.name for p in tmp_path.iterdir())
    stem = "t.prefork-handoff-inherited-read"
    assert names == [f"{stem}.documented.json", f"{stem}.observed.json"]
