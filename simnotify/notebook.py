"""Jupyter: how results show in a notebook (an IPython kernel), kept apart from the
results themselves. Nothing here imports IPython unless a kernel is running."""

from __future__ import annotations

import sys
from io import BytesIO
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def kernel() -> Any:
    """The running IPython kernel's shell, or None (a terminal, a script, plain IPython)."""
    if "IPython" not in sys.modules:  # not imported: certainly no kernel
        return None
    from IPython import get_ipython

    shell = get_ipython()
    return shell if shell is not None and getattr(shell, "kernel", None) is not None else None


def show_at_end_of_cell(fig: Figure) -> None:
    """Display ``fig`` when the current cell has run, unless the cell's value, shown by
    Jupyter already, was this figure. So ``res.plot()`` shows one picture and
    ``res.plot();`` (the ``;`` hides the cell's value) shows it too, as pyplot's figures
    do. Outside a kernel: nothing."""
    shell = kernel()
    if shell is None:
        return

    def after_cell(result: Any) -> None:
        shell.events.unregister("post_run_cell", after_cell)
        value = getattr(result, "result", None)
        if value is fig and _has_figure_formatter(shell, fig):
            return
        display_figure(fig)

    shell.events.register("post_run_cell", after_cell)


def _has_figure_formatter(shell: Any, fig: Figure) -> bool:
    try:
        shell.display_formatter.formatters["image/png"].lookup(fig)
    except KeyError:
        return False
    return True


def display_figure(fig: Figure) -> None:
    """Show ``fig`` in the notebook as a PNG image."""
    from IPython.display import Image, display

    from .plot import save

    png = BytesIO()
    save(fig, png, format="png", dpi=100)
    display(Image(data=png.getvalue(), format="png"))  # type: ignore[no-untyped-call]


def progress_default() -> bool:
    """Whether a sweep shows its progress when not told: in a notebook, yes."""
    return kernel() is not None
