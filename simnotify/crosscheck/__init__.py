"""Cross-check simnotify against a real Winsock: Wine's ws2_32, or a Windows transcript.

``interp.c`` is the interpreter (one process per simulated process, driven by a line
protocol); ``script`` turns a run into its command script; ``wine`` builds the
interpreter and runs scripts under Wine; ``transcript`` reads what the interpreter
answered; ``compare`` and ``check`` compare and classify; ``command`` is the
``simnotify crosscheck`` subcommand. The names below are imported on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazy import exports

#: Milliseconds to wait before an observation that follows an action (``--settle``): here,
#: so registering the command on the parser imports none of the modules.
SETTLE_MS = 10

if TYPE_CHECKING:
    from .check import CLASSES, Difference, FileReport, compare_transcript, crosscheck_plan
    from .script import Script, Step, build_script
    from .transcript import Transcript, TranscriptError, parse_transcript
    from .wine import WineUnavailable, build_interpreter, wine_session

_WHERE = {
    "CLASSES": "check",
    "Difference": "check",
    "FileReport": "check",
    "compare_transcript": "check",
    "crosscheck_plan": "check",
    "Script": "script",
    "Step": "script",
    "build_script": "script",
    "Transcript": "transcript",
    "TranscriptError": "transcript",
    "parse_transcript": "transcript",
    "WineUnavailable": "wine",
    "build_interpreter": "wine",
    "wine_session": "wine",
}
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
__getattr__, __dir__ = exports(__name__, _WHERE)
