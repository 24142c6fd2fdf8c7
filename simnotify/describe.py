"""Human text for trace records, made from their fields: the report, the exporters and
``TraceRecord.detail`` read it; nothing parses it."""

from __future__ import annotations

from typing import Any

from .trace import Kind, TraceRecord, detail, waiting_in

__all__ = ["ARROW", "call_text", "detail", "fmt_value", "record_text", "waiting_in"]

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
    if k is Kind.CALL:
        return call_text(rec)
    ev = rec.event or ""
    text = detail(rec)
    if k is Kind.OCCUR:
        return f"{ev} occurs: {text}"
    if k is Kind.RECORD:
        who = f" for {rec.descriptor}" if rec.descriptor else ""
        return f"{ev} {text}{who}"
    if k is Kind.POST:
        return f"{ev} posted {text}, wParam {rec.descriptor}"
    if k is Kind.SIGNAL:
        return f"{ev} signals: {text}"
    if k is Kind.DELIVER:
        return f"takes {ev} on {rec.descriptor}: {text}"
    if k in (Kind.SUPPRESS, Kind.DISCARD):
        return f"{ev} {text}".strip()
    if k is Kind.REGISTER:
        return f"{rec.descriptor}: {text}"
    return text
