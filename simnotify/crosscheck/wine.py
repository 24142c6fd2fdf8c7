"""Wine and the cross-compiler: find them, build the interpreter, run a script.

The interpreter (``interp.c``, shipped with the package) is compiled once per source
version into the cache directory; a Wine prefix lives there too, created on first use
(about 13 s). A persistent wineserver keeps each later run at about 0.1 s of start-up.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

#: What to tell a user who has neither Wine nor the cross-compiler.
INSTALL_HINT = "install them with: apt-get install -y wine64 gcc-mingw-w64-x86-64"
#: Where Wine's loader is looked for, in order (Debian puts wine64 in /usr/lib/wine).
WINE_CANDIDATES = ("/usr/lib/wine/wine64", "wine64", "wine")
COMPILER = "x86_64-w64-mingw32-gcc"
#: Seconds a whole script may take under Wine before the run is abandoned.
RUN_TIMEOUT_S = 600
#: Runs of one script when Wine fails to start one of the interpreter's processes.
STARTUP_TRIES = 3
_STARTUP_FAILURE = "CreateProcess failed"


class WineUnavailable(Exception):
    """Wine, the cross-compiler or the interpreter cannot be used; the text says why."""


def cache_dir() -> Path:
    """Where the built interpreter and the Wine prefix live (``SIMNOTIFY_CACHE`` wins)."""
    env = os.environ.get("SIMNOTIFY_CACHE")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "simnotify"


def interpreter_source() -> str:
    """The interpreter's C source, as shipped with the package."""
    return resources.files("simnotify.crosscheck").joinpath("interp.c").read_text("utf-8")


def _which(name: str) -> str | None:
    if os.sep in name:
        return name if os.access(name, os.X_OK) else None
    return shutil.which(name)


def find_wine() -> str:
    """Wine's loader: ``SIMNOTIFY_WINE``, else the first of WINE_CANDIDATES present."""
    env = os.environ.get("SIMNOTIFY_WINE")
    for name in (env,) if env else WINE_CANDIDATES:
        found = _which(name)
        if found:
            return found
    looked = env or ", ".join(WINE_CANDIDATES)
    raise WineUnavailable(f"Wine is not installed (looked for {looked}); {INSTALL_HINT}")


def _wineserver(wine: str) -> str | None:
    beside = Path(wine).resolve().parent / "wineserver"
    if beside.exists():
        return str(beside)
    return shutil.which("wineserver")


def build_interpreter(out: Path | None = None) -> Path:
    """Compile the interpreter (once per source version) and return the .exe's path.

    ``SIMNOTIFY_INTERP`` names a prebuilt interpreter and skips the compiler.
    """
    prebuilt = os.environ.get("SIMNOTIFY_INTERP")
    if prebuilt and out is None:
        if not Path(prebuilt).is_file():
            raise WineUnavailable(f"SIMNOTIFY_INTERP={prebuilt}: no such file")
        return Path(prebuilt)
    source = interpreter_source()
    digest = hashlib.sha256(source.encode("utf-8")).hexdigest()[:16]
    target = out or cache_dir() / f"simnotify-interp-{digest}.exe"
    if out is None and target.exists():
        return target
    compiler = _which(os.environ.get("SIMNOTIFY_MINGW", COMPILER))
    if compiler is None:
        raise WineUnavailable(
            f"the MinGW-w64 cross-compiler ({COMPILER}) is missing; {INSTALL_HINT}"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "interp.c"
        src.write_text(source, encoding="utf-8")
        exe = Path(tmp) / "interp.exe"
        cmd = [compiler, "-O2", "-o", str(exe), str(src), "-lws2_32", "-luser32"]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise WineUnavailable(f"compiling the interpreter failed:\n{proc.stderr.strip()}")
        tmp_target = target.with_name(target.name + ".tmp")
        shutil.copyfile(exe, tmp_target)
        tmp_target.replace(target)  # atomic: a concurrent run never sees half a file
    return target


class Wine:
    """One Wine installation with its prefix, ready to run scripts."""

    def __init__(self, wine: str, exe: Path, prefix: Path) -> None:
        self.wine = wine
        self.exe = exe
        self.prefix = prefix
        self.env = {**os.environ, "WINEPREFIX": str(prefix), "WINEDEBUG": "-all"}
        self.env.pop("DISPLAY", None)  # message-only windows need no display
        self.env.pop("WAYLAND_DISPLAY", None)

    def run_script(self, script: str, timeout_s: float = RUN_TIMEOUT_S) -> str:
        """Run a cross-check script in the coordinator under Wine; returns the transcript.

        A run that fails because Wine could not start one of its processes (the
        interpreter's "CreateProcess failed", seen under heavy load) is tried again, up to
        STARTUP_TRIES times in all: that is Wine's own trouble, and says nothing of
        Winsock. Any other failure is reported at once.
        """
        for attempt in range(1, STARTUP_TRIES + 1):
            code, text, errors = self._run_once(script, timeout_s)
            if code == 0 and text.startswith("simnotify-transcript"):
                return text
            if _STARTUP_FAILURE not in errors or attempt == STARTUP_TRIES:
                break
            time.sleep(0.2 * attempt)
        tried = f" ({STARTUP_TRIES} tries)" if _STARTUP_FAILURE in errors else ""
        raise WineUnavailable(
            f"the interpreter failed under Wine (exit {code}){tried}: {errors[-2000:]}"
        )

    def _run_once(self, script: str, timeout_s: float) -> tuple[int, str, str]:
        with tempfile.TemporaryDirectory() as tmp:
            (Path(tmp) / "script.txt").write_text(script, encoding="utf-8")
            out_path, err_path = Path(tmp) / "transcript.txt", Path(tmp) / "stderr.txt"
            # files, not pipes: helper processes Wine starts (the desktop's explorer.exe)
            # inherit the standard handles and hold a pipe open for seconds after the run
            with out_path.open("wb") as out, err_path.open("wb") as err:
                try:
                    proc = subprocess.run(
                        [self.wine, str(self.exe), "--run", "script.txt"],
                        cwd=tmp,
                        env=self.env,
                        stdin=subprocess.DEVNULL,
                        stdout=out,
                        stderr=err,
                        timeout=timeout_s,
                        check=False,
                    )
                except subprocess.TimeoutExpired:
                    raise WineUnavailable(
                        f"the script did not finish within {timeout_s:.0f} s"
                    ) from None
            text = out_path.read_text("utf-8", "replace")
            errors = err_path.read_text("utf-8", "replace").strip()
        return proc.returncode, text, errors

    def version(self) -> str:
        """The interpreter's own account of the system, e.g. ``wine-8.0 interp=1``."""
        proc = subprocess.run(
            [self.wine, str(self.exe), "--version"],
            env=self.env,
            capture_output=True,
            timeout=60,
            check=False,
        )
        return proc.stdout.decode("utf-8", "replace").strip()


def _init_prefix(wine: str, prefix: Path, env: dict[str, str]) -> None:
    prefix.parent.mkdir(parents=True, exist_ok=True)
    lock = prefix.parent / "wineprefix.lock"
    with lock.open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)  # two runs at once create the prefix once
        if (prefix / "system.reg").exists():
            return
        proc = subprocess.run(
            [wine, "wineboot", "--init"], env=env, capture_output=True, timeout=300, check=False
        )
        if proc.returncode != 0:
            err = proc.stderr.decode("utf-8", "replace").strip()[-2000:]
            raise WineUnavailable(f"creating the Wine prefix {prefix} failed: {err}")


@contextmanager
def wine_session() -> Iterator[Wine]:
    """Wine with a built interpreter and a ready prefix; a persistent wineserver while in
    use (it exits on its own a minute after the last run)."""
    wine_path = find_wine()
    exe = build_interpreter()
    prefix = cache_dir() / "wineprefix"
    wine = Wine(wine_path, exe, prefix)
    _init_prefix(wine_path, prefix, wine.env)
    server = _wineserver(wine_path)
    if server is not None:
        # the server daemonizes: it must not inherit pipes someone waits on
        subprocess.run(
            [server, "-p60"],
            env=wine.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
        )
    yield wine
