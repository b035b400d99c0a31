"""The steerable-effect analyses (Steinmetz & Reiss 2021): what moving the two controls does.

Over a square grid of control values, the model's output for the dry input is measured for loudness (integrated
LUFS as it comes out, and at equal peak: the output scaled to a peak of 1 first, as the paper's own code measures
its compressor, so that a control that only changes the level does not count and one that changes how dense the
sound is does) and its impulse response for reverberation time (T60, the reverb analysis).
Both are measured for every model, whatever effect steered it; the reference beside them is the same measurement
of the pair (the dry input's and the target's LUFS, the steering effect's T60 where an impulse through it is given).

The impulse response is the response to a unit impulse minus the response to silence (the network's biases give
silence a constant output, which would otherwise read as an endless tail).

Monotone structure along an axis is measured by the Spearman correlation between the control's value and the
measurement along each line of the grid parallel to that axis (the mean over lines), and by the share of those
lines that are monotone (non-decreasing or non-increasing within a tolerance).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from asp.atomic import atomic_write_bytes
from asp.effects.steer import SteeredEffect
from asp.features.loudness import lufs, t60

LUFS_TOLERANCE = 0.1  # dB: steps smaller than this do not break monotonicity
T60_TOLERANCE = 0.01  # s
SPANS = (1.0, 5.0)  # the grids asp effects steer measures: near the trained setting, and far from it


@dataclass(frozen=True)
class GridOptions:
    """The control grid: ``points`` values per axis, evenly over [-span, span]; ``seconds`` of the dry input.

    Training holds the controls at 0, so nothing fixes their scale: over [-1, 1] the measured models moved loudness
    by at most 1.5 LU, over [-5, 5] by 3-25 LU, while a hall's T60 was ordered along a control near zero and rang
    without order beyond about 2 (docs/RESULTS.md, "Steerable neural effects"); ``asp effects steer`` measures both
    spans of ``SPANS``."""

    span: float = 5.0
    points: int = 7
    seconds: float = 5.0
    impulse_seconds: float = 3.0

    def __post_init__(self) -> None:
        if self.points < 2 or not self.span > 0:
            raise ValueError(f"the grid needs at least 2 points and a positive span; got {self.points}, {self.span}")

    @property
    def values(self) -> np.ndarray:
        return np.linspace(-self.span, self.span, self.points)


def impulse_response(effect: SteeredEffect, controls: np.ndarray, seconds: float) -> np.ndarray:
    """(n,) the effect's response to a unit impulse minus its response to silence."""
    n = int(seconds * effect.sample_rate)
    delta = np.zeros(n, np.float32)
    delta[0] = 1.0
    return effect.process(delta, controls) - effect.process(np.zeros(n, np.float32), controls)


def monotonicity(values: np.ndarray, grid: np.ndarray, tolerance: float) -> dict[str, dict[str, float]]:
    """Per axis (``control_1`` runs along rows, axis 0; ``control_2`` along columns, axis 1): the mean Spearman
    correlation over the lines parallel to it and the share of those lines that are monotone."""
    from scipy.stats import spearmanr

    out: dict[str, dict[str, float]] = {}
    for axis, name in ((0, "control_1"), (1, "control_2")):
        lines = np.moveaxis(grid, axis, 0).T  # each row: the measurement as this control moves
        rhos, mono = [], []
        for line in lines:
            d = np.diff(line)
            mono.append(bool(np.all(d >= -tolerance) or np.all(d <= tolerance)))
            rho = spearmanr(values, line).statistic if np.ptp(line) > 0 else 0.0
            rhos.append(float(0.0 if not np.isfinite(rho) else rho))
        out[name] = {"spearman": float(np.mean(rhos)), "monotone_share": float(np.mean(mono))}
    return out


def peak_lufs(audio: np.ndarray, sample_rate: int) -> float:
    """LUFS of ``audio`` scaled to a peak of 1 (silence: the floor)."""
    x = np.asarray(audio, np.float64).reshape(-1)
    peak = float(np.max(np.abs(x), initial=0.0))
    return lufs(x / peak if peak > 0 else x, sample_rate)


def control_grid(effect: SteeredEffect, dry: np.ndarray, options: GridOptions = GridOptions()) -> dict[str, Any]:
    """LUFS of the output (as it is and at equal peak) and T60 of the impulse response at every point of the grid:
    arrays (points, points), entry [i, j] at control_1 = values[i], control_2 = values[j] (further controls at 0)."""
    x = np.asarray(dry, np.float32)[: int(options.seconds * effect.sample_rate)]
    v = options.values
    loud, dense, decay = (np.zeros((len(v), len(v))) for _ in range(3))
    for i, a in enumerate(v):
        for j, b in enumerate(v):
            c = np.zeros(effect.n_controls, np.float32)
            c[:2] = (a, b)
            y = effect.process(x, c)
            loud[i, j] = lufs(y, effect.sample_rate)
            dense[i, j] = peak_lufs(y, effect.sample_rate)
            decay[i, j] = t60(impulse_response(effect, c, options.impulse_seconds), effect.sample_rate)
    return {"values": v, "lufs": loud, "lufs_peak": dense, "t60": decay}


def span_folder(out: str | Path, span: float) -> Path:
    """Where the analysis over [-span, span] is written: ``out/span_<span>``."""
    return Path(out) / f"span_{span:g}"


def _heatmap(values: np.ndarray, grid: np.ndarray, title: str, unit: str, path: Path) -> None:
    from asp.plotting import pyplot, save_png

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(4.6, 3.9))
    step = values[1] - values[0]
    ext = (values[0] - step / 2, values[-1] + step / 2, values[0] - step / 2, values[-1] + step / 2)
    im = ax.imshow(grid.T, origin="lower", extent=ext, cmap="viridis", aspect="auto")
    for i, a in enumerate(values):
        for j, b in enumerate(values):
            ax.text(
                a,
                b,
                f"{grid[i, j]:.1f}" if unit == "LUFS" else f"{grid[i, j]:.2f}",
                ha="center",
                va="center",
                fontsize=6,
                color="w",
            )
    ax.set_xlabel("control 1")
    ax.set_ylabel("control 2")
    ax.set_title(title, fontsize=9)
    fig.colorbar(im, ax=ax, label=unit)
    save_png(fig, path)


def write_analysis(
    effect: SteeredEffect,
    dry: np.ndarray,
    wet: np.ndarray,
    out: str | Path,
    options: GridOptions = GridOptions(),
    reference_ir: np.ndarray | None = None,
) -> dict[str, Any]:
    """The grid, its plots (``lufs_grid.png``, ``lufs_peak_grid.png``, ``t60_grid.png``), ``grid.csv`` and
    ``analysis.json`` in ``out``.

    Args:
        reference_ir: the steering effect's own impulse response at the model's rate, if known (its T60 is reported).
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    g = control_grid(effect, dry, options)
    v = g["values"]
    n = int(options.seconds * effect.sample_rate)
    ref = {
        "dry_lufs": lufs(np.asarray(dry)[:n], effect.sample_rate),
        "wet_lufs": lufs(np.asarray(wet)[:n], effect.sample_rate),
        "dry_lufs_peak": peak_lufs(np.asarray(dry)[:n], effect.sample_rate),
        "wet_lufs_peak": peak_lufs(np.asarray(wet)[:n], effect.sample_rate),
    }
    zero = np.flatnonzero(np.isclose(v, 0.0))
    if zero.size:  # the grid's centre is the trained setting (controls at zero)
        ref["model_lufs_at_zero"] = float(g["lufs"][zero[0], zero[0]])
        ref["model_lufs_peak_at_zero"] = float(g["lufs_peak"][zero[0], zero[0]])
        ref["model_t60_at_zero"] = float(g["t60"][zero[0], zero[0]])
    if reference_ir is not None:
        ref["effect_t60"] = t60(reference_ir, effect.sample_rate)
    summary = {
        "grid": {"span": options.span, "points": options.points, "seconds": options.seconds},
        "reference": ref,
        **{
            what: {"min": float(g[what].min()), "max": float(g[what].max()), **monotonicity(v, g[what], tol)}
            for what, tol in (("lufs", LUFS_TOLERANCE), ("lufs_peak", LUFS_TOLERANCE), ("t60", T60_TOLERANCE))
        },
    }
    rows = ["control_1,control_2,lufs,lufs_peak,t60"] + [
        f"{a:.4f},{b:.4f},{g['lufs'][i, j]:.3f},{g['lufs_peak'][i, j]:.3f},{g['t60'][i, j]:.4f}"
        for i, a in enumerate(v)
        for j, b in enumerate(v)
    ]
    atomic_write_bytes(out / "grid.csv", ("\n".join(rows) + "\n").encode())
    atomic_write_bytes(out / "analysis.json", json.dumps(summary, indent=2).encode())
    _heatmap(
        v,
        g["lufs"],
        f"loudness of the output (target {ref['wet_lufs']:.1f}, dry {ref['dry_lufs']:.1f})",
        "LUFS",
        out / "lufs_grid.png",
    )
    _heatmap(
        v,
        g["lufs_peak"],
        f"loudness at equal peak (target {ref['wet_lufs_peak']:.1f}, dry {ref['dry_lufs_peak']:.1f})",
        "LUFS",
        out / "lufs_peak_grid.png",
    )
    t_ref = f" (effect {ref['effect_t60']:.2f} s)" if "effect_t60" in ref else ""
    _heatmap(v, g["t60"], f"T60 of the impulse response{t_ref}", "s", out / "t60_grid.png")
    return summary
