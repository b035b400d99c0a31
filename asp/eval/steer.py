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
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from asp.atomic import atomic_write_bytes
from asp.effects.steer import SteeredEffect
from asp.features.loudness import lufs, t60

LUFS_TOLERANCE = 0.1  # dB: steps smaller than this do not break monotonicity
T60_TOLERANCE = 0.01  # s
SPANS = (1.0, 5.0)  # the grids asp effects steer measures: near the trained setting, and far from it
MEASURES = ("lufs", "lufs_peak", "t60")
TOLERANCES = {"lufs": LUFS_TOLERANCE, "lufs_peak": LUFS_TOLERANCE, "t60": T60_TOLERANCE}


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


def impulse_responses(effect: SteeredEffect, settings: np.ndarray, seconds: float) -> np.ndarray:
    """(len(settings), n): the effect's response to a unit impulse minus its response to silence, at each control
    setting, in one batch."""
    n = int(seconds * effect.sample_rate)
    delta = np.zeros(n, np.float32)
    delta[0] = 1.0
    return effect.process_many(delta, settings) - effect.process_many(np.zeros(n, np.float32), settings)


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


def control_grid(
    effect: SteeredEffect,
    dry: np.ndarray,
    options: GridOptions = GridOptions(),
    measures: Sequence[str] = MEASURES,
) -> dict[str, Any]:
    """LUFS of the output (as it is and at equal peak) and T60 of the impulse response at every point of the grid
    (or only the ``measures`` named): arrays (points, points), entry [i, j] at control_1 = values[i], control_2 =
    values[j] (further controls at 0). Each row of the grid goes through the effect as one batch."""
    unknown = sorted(set(measures) - set(MEASURES))
    if unknown:
        raise ValueError(f"unknown grid measure(s) {', '.join(unknown)}; valid: {', '.join(MEASURES)}")
    x = np.asarray(dry, np.float32)[: int(options.seconds * effect.sample_rate)]
    v = options.values
    out: dict[str, Any] = {"values": v, **{m: np.zeros((len(v), len(v))) for m in measures}}
    for i, a in enumerate(v):
        row = np.zeros((len(v), effect.n_controls), np.float32)
        row[:, 0], row[:, 1] = a, v
        if "lufs" in measures or "lufs_peak" in measures:
            ys = effect.process_many(x, row)
            for j, y in enumerate(ys):
                if "lufs" in measures:
                    out["lufs"][i, j] = lufs(y, effect.sample_rate)
                if "lufs_peak" in measures:
                    out["lufs_peak"][i, j] = peak_lufs(y, effect.sample_rate)
        if "t60" in measures:
            for j, ir in enumerate(impulse_responses(effect, row, options.impulse_seconds)):
                out["t60"][i, j] = t60(ir, effect.sample_rate)
    return out


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
            for what, tol in TOLERANCES.items()
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


@dataclass(frozen=True)
class ExploreOptions:
    """How ``explore_controls`` looks for control directions.

    ``draws`` control mappings are tried (draw 0: the model as trained); each is measured for ``measure`` on a
    ``grid`` of controls, on ``segments`` pieces of the dry input of ``grid.seconds`` each from ``offset`` seconds on,
    and scored by the segment where it is least ordered: a direction that orders the measure on one passage and not
    on another is the input's doing, not the control's. The chosen draw is then checked by the analysis on what it
    was not chosen on: the dry input's first 5 s (the probe listens past them where the input is long enough) and
    other control values (the probe's 6 x 6 grid over [-1, 1] shares only its corners with the analysis's 7 x 7).
    T60 is read off an impulse, one input for every segment and for the analysis, so for it only the control values
    differ.
    """

    draws: int = 16
    measure: str = "lufs"
    grid: GridOptions = GridOptions(span=1.0, points=6, seconds=3.5)
    segments: int = 2
    offset: float = 5.0

    def __post_init__(self) -> None:
        if self.draws < 1 or self.segments < 1:
            raise ValueError(f"need at least one draw and one segment; got {self.draws} and {self.segments}")
        if self.measure not in MEASURES:
            raise ValueError(f"unknown measure {self.measure!r}; valid: {', '.join(MEASURES)}")
        if self.offset < 0:
            raise ValueError(f"the probe's offset must be at least 0 s; got {self.offset}")

    def probes(self, dry: np.ndarray, sample_rate: int) -> list[np.ndarray]:
        """The passages the probe listens to: ``segments`` pieces from ``offset`` on, as many as the input holds
        (at least one: its start where it is too short)."""
        x = np.asarray(dry, np.float32).reshape(-1)
        n = int(self.grid.seconds * sample_rate)
        start = int(self.offset * sample_rate)
        count = 1 if self.measure == "t60" else self.segments  # an impulse: the input plays no part
        pieces = [x[start + k * n : start + (k + 1) * n] for k in range(count)]
        pieces = [p for p in pieces if len(p) == n]
        return pieces or [x[:n]]


def _consistency(grid: np.ndarray, axis: int) -> float:
    """Signed: the sum of every step along ``axis`` (all lines together) over the sum of the steps' sizes."""
    steps = np.diff(np.moveaxis(grid, axis, 0), axis=0)
    size = float(np.abs(steps).sum())
    return float(steps.sum()) / size if size > 0 else 0.0


def structure(values: np.ndarray, grids: Sequence[np.ndarray], tolerance: float) -> dict[str, Any]:
    """The more ordered axis of one or more grids of the same measure (one per passage of the input): its name, and
    on the grids' mean its Spearman, share of monotone lines and mean range along its lines; and a score, how
    consistently the measure moves one way along that axis: per grid, the sum of every step along it (all lines
    together) over the sum of the steps' sizes, the least of them over the grids, 0 where they go opposite ways.
    1 when every step of every line goes the same way; a small reversal costs little, a large one much, and unlike
    the share of monotone lines it does not saturate on lines whose steps are all within the tolerance."""
    mean = np.mean(np.stack(grids), axis=0)
    mono = monotonicity(values, mean, tolerance)
    rows = []
    for axis, name in ((0, "control_1"), (1, "control_2")):
        signed = [_consistency(g, axis) for g in grids]
        agree = all(c > 0 for c in signed) or all(c < 0 for c in signed)
        rows.append(
            {
                "axis": name,
                "spearman": mono[name]["spearman"],
                "monotone_share": mono[name]["monotone_share"],
                "range": float(np.ptp(mean, axis=axis).mean()),
                "score": min(abs(c) for c in signed) if agree else 0.0,
            }
        )
    return max(rows, key=lambda r: (r["score"], r["range"]))


def explore_controls(effect: SteeredEffect, dry: np.ndarray, options: ExploreOptions = ExploreOptions()) -> list[dict]:
    """Other directions for the controls of a trained effect, measured: one row per draw (``draw``, then
    ``structure``'s fields for ``options.measure``). The effect's control weights are restored afterwards.

    The control weights never train (``SteerableTCN.control_weights``), so each draw is the same trained effect
    steered along other directions, at no training cost."""
    probes = options.probes(dry, effect.sample_rate)
    weights = effect.model.control_weights()
    trained = [w.detach().clone() for w in weights]
    rows = []
    try:
        for draw in range(options.draws):
            with torch.no_grad():
                for w, w0 in zip(weights, trained, strict=True):
                    w.copy_(w0)
            effect.model.redraw_controls(draw)
            grids = [control_grid(effect, p, options.grid, (options.measure,)) for p in probes]
            values = grids[0]["values"]
            rows.append(
                {"draw": draw, **structure(values, [g[options.measure] for g in grids], TOLERANCES[options.measure])}
            )
    finally:
        with torch.no_grad():
            for w, w0 in zip(weights, trained, strict=True):
                w.copy_(w0)
    return rows


def best_draw(rows: Sequence[dict]) -> dict:
    """The draw whose measure moves most consistently one way along one control (``structure``'s score; ties: the
    wider range)."""
    return max(rows, key=lambda r: (r["score"], r["range"]))
