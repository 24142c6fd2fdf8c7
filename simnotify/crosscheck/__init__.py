"""Cross-check simnotify against a real Winsock: Wine's ws2_32, or a Windows transcript.

``interp.c`` is the interpreter (one process per simulated process, driven by a line
protocol); ``script`` turns a run into its command script; ``wine`` builds the
interpreter and runs scripts under Wine; ``transcript`` reads what the interpreter
answered; ``compare`` and ``check`` compare and classify; ``command`` is the
``simnotify crosscheck`` subcommand.
"""

from __future__ import annotations

from .check import CLASSES, Difference, FileReport, compare_transcript, crosscheck_plan
from .script import Script, Step, build_script
from .transcript import Transcript, TranscriptError, parse_transcript
from .wine import WineUnavailable, build_interpreter, wine_session

__all__ = [
    "CLASSES",
    "Difference",
    "FileReport",
    "Script",
    "Step",
    "Transcript",
    "TranscriptError",
    "WineUnavailable",
    "build_interpreter",
    "build_script",
    "compare_transcript",
    "crosscheck_plan",
    "parse_transcript",
    "wine_session",
]
