"""Regenerate docs/timeline.png, the picture in the README.

Run: ``.venv/bin/python scripts/readme_figure.py``. It plots the pre-fork hand-off
scenario under both profiles with the same code as ``simnotify plot``.
"""

from __future__ import annotations

from pathlib import Path

import simnotify as sn

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    sc = sn.load(ROOT / "scenarios" / "prefork-handoff-inherited-read.toml")
    out = ROOT / "docs" / "timeline.png"
    sn.compare(sc).plot().savefig(out, dpi=80)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
