"""Figures for every report: matplotlib on the Agg backend (no display), written as PNG atomically.

Used by the evaluation reports (``asp.eval``), the listening report and the effect stage's step-by-step output.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from asp.atomic import atomic_write_bytes


def pyplot() -> Any:
    """matplotlib's pyplot on the Agg backend (no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def png_bytes(fig: Any, dpi: int = 120) -> bytes:
    """A figure as PNG bytes; the figure is closed."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    pyplot().close(fig)
    return buf.getvalue()


def save_png(fig: Any, path: str | Path, dpi: int = 120) -> None:
    """Write a figure to ``path`` as PNG (atomically) and close it."""
    atomic_write_bytes(path, png_bytes(fig, dpi))
