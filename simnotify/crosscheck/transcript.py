"""Transcripts: what the interpreter answered to each line of a script.

A transcript is what ``simnotify-interp.exe --run SCRIPT`` prints, on Wine or on Windows:

    simnotify-transcript 1
    system windows-10.0.19045        (or wine-8.0)
    interp 1
    T 12 recv name=server bytes=2 => OK 2
    ...
    end

Every command line of the script is echoed as written (before ``$VARIABLES`` are
filled in) with `` => `` and the reply, so a transcript recorded anywhere can be matched
against the script the scenario gives here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .script import Script

TRANSCRIPT_MAGIC = "simnotify-transcript 1"


class TranscriptError(Exception):
    """A transcript that is malformed or belongs to another script: ``FILE:LINE: ...``."""


@dataclass(slots=True)
class Transcript:
    """The replies of one run of a script, keyed by the script line they answer."""

    system: str
    interp: str
    replies: dict[str, str] = field(default_factory=dict)
    lines: list[tuple[int, str]] = field(default_factory=list)  # (line number, command)
    complete: bool = False

    def reply(self, line: str) -> str | None:
        """The reply to one script line, or None when the transcript has none."""
        return self.replies.get(line)


def decode_transcript(data: bytes) -> str:
    """Transcript bytes as text: UTF-8, or UTF-16 with its mark (PowerShell's ``>``)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    return data.decode("utf-8-sig")


def parse_transcript(text: str, source: str = "<transcript>") -> Transcript:
    """Read a transcript; a malformed one raises TranscriptError naming its line."""
    rows = text.splitlines()
    if not rows or rows[0].strip() != TRANSCRIPT_MAGIC:
        raise TranscriptError(f"{source}:1: not a simnotify transcript (first line)")
    out = Transcript(system="unknown", interp="unknown")
    for number, raw in enumerate(rows[1:], 2):
        line = raw.rstrip("\r")
        if not line.strip():
            continue
        if line.startswith("system "):
            out.system = line[7:].strip()
            continue
        if line.startswith("interp "):
            out.interp = line[7:].strip()
            continue
        if line.strip() == "end":
            out.complete = True
            continue
        command, sep, answer = line.partition(" => ")
        if not sep:
            raise TranscriptError(
                f"{source}:{number}: expected 'COMMAND => REPLY', got {line[:80]!r}"
            )
        out.replies[command] = answer
        out.lines.append((number, command))
    return out


def check_matches(transcript: Transcript, script: Script, source: str, scenario: str) -> None:
    """A transcript answers exactly this script's lines, in order; else TranscriptError."""
    expected = script.command_lines()
    got = [cmd for _, cmd in transcript.lines]
    for i, want in enumerate(expected):
        if i >= len(got):
            where = transcript.lines[-1][0] if transcript.lines else 1
            raise TranscriptError(
                f"{source}:{where}: transcript ends early: no reply to script line {want!r} "
                f"of {scenario} (was it recorded with an older script?)"
            )
        if got[i] != want:
            number = transcript.lines[i][0]
            raise TranscriptError(
                f"{source}:{number}: transcript line {got[i]!r} does not match the script of "
                f"{scenario}, which has {want!r} here (record it again with crosscheck --record)"
            )
    if len(got) > len(expected):
        number = transcript.lines[len(expected)][0]
        raise TranscriptError(
            f"{source}:{number}: transcript has more lines than the script of {scenario}"
        )
