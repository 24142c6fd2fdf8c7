"""Human text for trace records, shared by the report, the oracle and exporters."""

from __future__ import annotations

from typing import Any

from .trace import TraceRecord

ARROW = "->"


def fmt_value(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(str(v) for v in value) + "]"
    return str(value)


def call_text(rec: TraceRecord) -> str:
    """``recv(s, bytes=all) -> 5`` from a call record."""
    args = dict(rec.args or {})
    parts: list[str] = []
    sock = args.pop("socket", None)
    if sock is not None:
        parts.append(str(sock))
    for key, value in args.items():
        if key == "bytes" and value == -1:
            value = "all"
        if isinstance(value, bool):
            parts.append(key)
        elif isinstance(value, list) and key == "events" and rec.call != "WSAWaitForMultipleEvents":
            parts.append("|".join(value) or "0")
        else:
            parts.append(f"{key}={fmt_value(value)}")
    outcome = rec.error if rec.error is not None else fmt_value(rec.result)
    extra = " (end of stream)" if rec.data and rec.data.get("eof") else ""
    return f"{rec.call}({', '.join(parts)}) {ARROW} {outcome}{extra}"


def record_text(rec: TraceRecord) -> str:
    """One human line for any record (without the time and actor columns)."""
    k = rec.kind
    if k == "call":
        return call_text(rec)
    ev = rec.event or ""
    if k == "occur":
        return f"{ev} occurs: {rec.detail}"
    if k == "record":
        who = f" for {rec.descriptor}" if rec.descriptor else ""
        return f"{ev} {rec.detail}{who}"
    if k == "post":
        return f"{ev} posted {rec.detail}, wParam {rec.descriptor}"
    if k == "signal":
        return f"{ev} signals: {rec.detail}"
    if k == "deliver":
        return f"takes {ev} on {rec.descriptor}: {rec.detail}"
    if k in ("suppress", "discard"):
        return f"{ev} {rec.detail}".strip()
    if k == "register":
        return f"{rec.descriptor}: {rec.detail}"
    return rec.detail
