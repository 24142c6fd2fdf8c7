"""Standard output that a reader closing the pipe early (``| head``) does not break.

When the reader goes away, the rest of the output is discarded rather than raising, so
the command still finishes its work and exits with the code it would have had: a run
whose expectations failed exits 1 even when its output went into ``head``. Any other
failure to write (a full disk) is an ``OutputError`` naming standard output.
"""

from __future__ import annotations

import os
from typing import TextIO

from .outfile import OutputError


def _failed(exc: OSError) -> OutputError:
    """Standard output on a full disk, say: named like any other output."""
    return OutputError(f"standard output: cannot write it: {exc.strerror or exc}")


class PipeSafe:
    """Writes to ``stream`` until its reader is gone; then to nowhere."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.closed_pipe = False

    def write(self, text: str) -> int:
        if not self.closed_pipe:
            try:
                self.stream.write(text)
            except BrokenPipeError:
                self._discard()
            except OSError as exc:
                raise _failed(exc) from None
        return len(text)

    def flush(self) -> None:
        if not self.closed_pipe:
            try:
                self.stream.flush()
            except BrokenPipeError:
                self._discard()
            except OSError as exc:
                raise _failed(exc) from None

    def _discard(self) -> None:
        """Point the stream's descriptor at /dev/null: the interpreter's final flush of
        what is still buffered must not fail again on exit."""
        self.closed_pipe = True
        try:
            fd = self.stream.fileno()
        except (AttributeError, OSError, ValueError):  # not a real file (a test's StringIO)
            return
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, fd)
        os.close(devnull)
