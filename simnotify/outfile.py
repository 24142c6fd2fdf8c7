"""Output files that are whole or absent.

A trace, export or picture is written under a temporary name beside its final one and
renamed into place only once every byte is written and the file is closed. If writing
fails (disk full, a file-size limit, Ctrl-C), the temporary file is removed and the
error names the file the user asked for, so no truncated file ever sits under a name
that says it is complete. Devices and pipes (``/dev/stdout``, ``/dev/full``, a FIFO)
cannot be renamed onto: they are written in place.
"""

from __future__ import annotations

import itertools
import os
import stat
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from pathlib import Path
from typing import IO, Any, TextIO, cast

#: A temporary file's name: hidden, beside the final file, unique to this process.
_PART = ".{name}.{pid}-{n}.part"
_counter = itertools.count()


class OutputError(Exception):
    """An output that could not be written; the message names the file and the reason."""


def text_output(path: str | os.PathLike[str]) -> AbstractContextManager[TextIO]:
    """A text file (UTF-8, lines as written) that appears at ``path`` only when complete."""
    return cast("AbstractContextManager[TextIO]", _output(Path(path), binary=False))


def binary_output(path: str | os.PathLike[str]) -> AbstractContextManager[IO[bytes]]:
    """A binary file (a picture) that appears at ``path`` only when complete."""
    return _output(Path(path), binary=True)


def _in_place(path: Path) -> bool:
    """Whether ``path`` is a device, pipe or socket (or a name for one under ``/dev``, such
    as ``/dev/stdout`` redirected to a file), written where it is."""
    if path.is_absolute() and path.parts[1:2] == ("dev",):
        return True
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    return not stat.S_ISREG(mode) and not stat.S_ISDIR(mode)


def _fail(path: Path, exc: OSError) -> OutputError:
    return OutputError(f"{path}: cannot write it: {exc.strerror or exc}")


def _open(path: str | Path, flags: int, binary: bool) -> IO[Any]:
    fd = os.open(path, flags, 0o666)
    if binary:
        return os.fdopen(fd, "wb")
    return os.fdopen(fd, "w", encoding="utf-8", newline="")


@contextmanager
def _output(final: Path, binary: bool) -> Iterator[IO[Any]]:
    """Raises ``OutputError`` when the file cannot be opened, written or closed. Any other
    exception (``KeyboardInterrupt`` among them) also removes the partial file, gains a
    note naming the file, and passes through."""
    if _in_place(final):
        try:
            with _open(final, os.O_WRONLY | os.O_TRUNC, binary) as fh:
                yield fh
        except OSError as exc:
            raise _fail(final, exc) from None
        return
    part = final.with_name(_PART.format(name=final.name, pid=os.getpid(), n=next(_counter)))
    try:
        fh = _open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL, binary)
    except OSError as exc:
        raise _fail(final, exc) from None
    try:
        with fh:
            yield fh
        os.replace(part, final)
    except BaseException as exc:
        with suppress(OSError):
            part.unlink()
        if isinstance(exc, OSError):
            raise _fail(final, exc) from None
        exc.add_note(f"{final} was not written")
        raise
