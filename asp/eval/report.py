"""The paper's tables and figures from scored clips (``asp.eval.evaluate``): a report folder of markdown, CSV and PNG.

* Tables 1-4 (Faronbi et al., ICASSP 2023): per system, overall and per synth, mean and std of the textbook LSD, the
  paper's "LSD", parameter MSE (ours: mean over continuous parameters; the paper's: their sum) and categorical
  accuracy, on each clip's own synth.
* A one-way ANOVA across systems on LSD (scipy), for the trained models and for every system.
* The HPSS timbre-group box plot of LSD (groups by harmonic share, as in the paper).
* The cross-synth matrix: mean LSD of each decoder's preset, rendered on its synth, against targets of each synth.
* For a latent sweep: LSD, parameter MSE and accuracy against latent size, each curve min-max normalised, with the
  saturation point by the paper's rule (:func:`saturation_point`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from asp.atomic import atomic_write_bytes
from asp.eval.evaluate import BASELINES
from asp.features.hpss import GROUP_NAMES
from asp.plotting import pyplot, save_png

METRIC_LABELS = {
    "lsd": "LSD (dB)",
    "paper_lsd": 'paper "LSD"',
    "param_mse": "param MSE",
    "paper_param_mse": "paper param MSE (sum)",
    "cat_acc": "cat. acc. %",
}


def saturation_point(sizes: Sequence[int], values: Sequence[float], threshold: float = 0.1) -> int | None:
    """The paper's rule: min-max normalise the curve, and return the first size whose step to the next size changes it
    by less than ``threshold`` (absolute first finite difference); None if no step is that small."""
    v = np.asarray(values, dtype=float)
    lo, hi = np.nanmin(v), np.nanmax(v)
    if not np.isfinite(lo) or hi == lo:
        return int(sizes[0]) if len(sizes) else None
    norm = (v - lo) / (hi - lo)
    for i, d in enumerate(np.abs(np.diff(norm))):
        if d < threshold:
            return int(sizes[i])
    return None


def own(clips: pd.DataFrame) -> pd.DataFrame:
    """Rows where the decoder is the clip's own synth (what Tables 1-4 score)."""
    return clips[clips.decoder == clips.synth]


def summary(clips: pd.DataFrame, by: Sequence[str]) -> pd.DataFrame:
    """Mean and std per group of every metric on the clips' own synths (accuracy in %)."""
    o = own(clips).copy()
    o["cat_acc"] = 100 * o["cat_acc"]
    agg = {}
    for m in METRIC_LABELS:
        agg[f"{m}_mean"] = (m, "mean")
        agg[f"{m}_std"] = (m, "std")
    agg["n"] = ("lsd", "size")
    return o.groupby(list(by), sort=False).agg(**agg).reset_index()


def anova(clips: pd.DataFrame, systems: Sequence[str]) -> dict[str, float] | None:
    """One-way ANOVA of own-synth LSD across ``systems`` (F, p, groups, n); None with fewer than two."""
    from scipy.stats import f_oneway

    o = own(clips)
    groups = [o.loc[o.system == s, "lsd"].to_numpy() for s in systems]
    groups = [g for g in groups if len(g) > 1]
    if len(groups) < 2:
        return None
    res = f_oneway(*groups)
    return {
        "F": float(res.statistic),
        "p": float(res.pvalue),
        "systems": len(groups),
        "n": int(sum(len(g) for g in groups)),
    }


def cross_matrix(clips: pd.DataFrame, system: str) -> pd.DataFrame:
    """Mean LSD, rows: target synth, columns: decoder synth, for one system."""
    c = clips[clips.system == system]
    return c.pivot_table(index="synth", columns="decoder", values="lsd", aggfunc="mean")


def markdown_table(df: pd.DataFrame, digits: int = 3) -> str:
    def fmt(v: object) -> str:
        if isinstance(v, (float, np.floating)):
            return "" if math.isnan(v) else f"{v:.{digits}f}"
        return str(v)

    cols = [str(c) for c in df.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(fmt(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join(lines)


# ---------------------------------------------------------------------- plots
def timbre_boxplot(clips: pd.DataFrame, systems: Sequence[str], path: Path) -> None:
    """LSD per HPSS timbre group (x), one box per system."""
    plt = pyplot()
    o = own(clips)
    fig, ax = plt.subplots(figsize=(max(6, 1.6 * len(GROUP_NAMES) * max(1, len(systems)) / 2), 4))
    width = 0.8 / max(1, len(systems))
    for k, s in enumerate(systems):
        data = [o.loc[(o.system == s) & (o.timbre_group == g), "lsd"].to_numpy() for g in range(len(GROUP_NAMES))]
        pos = [g + (k - (len(systems) - 1) / 2) * width for g in range(len(GROUP_NAMES))]
        present = [(p, d) for p, d in zip(pos, data) if len(d)]
        if present:
            bp = ax.boxplot(
                [d for _, d in present],
                positions=[p for p, _ in present],
                widths=width * 0.9,
                patch_artist=True,
                showfliers=False,
            )
            for patch in bp["boxes"]:
                patch.set_facecolor(f"C{k}")
            ax.plot([], [], color=f"C{k}", lw=8, label=s)
    ax.set_xticks(
        range(len(GROUP_NAMES)),
        [
            f"{n}\n(n={int(((o.timbre_group == g) & (o.system == systems[0])).sum())})"
            for g, n in enumerate(GROUP_NAMES)
        ],
    )
    ax.set_xlabel("harmonic share of the target (HPSS)")
    ax.set_ylabel("LSD (dB)")
    ax.legend(fontsize=8)
    save_png(fig, path)


def matrix_plot(matrix: pd.DataFrame, title: str, path: Path) -> None:
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(1.2 * matrix.shape[1] + 2, 1.0 * matrix.shape[0] + 1.5))
    im = ax.imshow(matrix.to_numpy(), cmap="viridis_r")
    ax.set_xticks(range(matrix.shape[1]), matrix.columns, rotation=30)
    ax.set_yticks(range(matrix.shape[0]), matrix.index)
    vals = matrix.to_numpy(dtype=float)
    lo, span = np.nanmin(vals), max(np.nanmax(vals) - np.nanmin(vals), 1e-9)
    for (i, j), v in np.ndenumerate(vals):
        if np.isfinite(v):  # dark text on the light (low) end of the reversed colour map
            ax.text(j, i, f"{v:.1f}", ha="center", va="center", color="k" if (v - lo) / span < 0.5 else "w", fontsize=9)
    ax.set_xlabel("decoder (preset rendered on this synth)")
    ax.set_ylabel("target synth")
    ax.set_title(title)
    fig.colorbar(im, ax=ax, label="mean LSD (dB)")
    save_png(fig, path)


def latent_plot(curves: pd.DataFrame, path: Path) -> pd.DataFrame:
    """curves: variant, z_dim, lsd, param_mse, cat_acc (one row per run). Plots the normalised curves; returns the
    saturation point per variant and metric."""
    plt = pyplot()
    metrics = ["lsd", "param_mse", "cat_acc"]
    variants = list(dict.fromkeys(curves.variant))
    fig, axes = plt.subplots(1, len(variants), figsize=(5 * len(variants), 3.6), squeeze=False)
    rows = []
    for ax, v in zip(axes[0], variants):
        c = curves[curves.variant == v].sort_values("z_dim")
        for k, m in enumerate(metrics):
            vals = c[m].to_numpy(dtype=float)
            span = np.nanmax(vals) - np.nanmin(vals)
            norm = (vals - np.nanmin(vals)) / span if span > 0 else np.zeros_like(vals)
            sat = saturation_point(c.z_dim.tolist(), vals)
            rows.append({"variant": v, "metric": m, "saturation_z": sat})
            ax.plot(c.z_dim, norm, "o-", color=f"C{k}", label=f"{m} (saturates at {sat})")
            if sat is not None:
                ax.axvline(sat, color=f"C{k}", ls=":", lw=1)
        ax.set_xscale("log", base=2)
        ax.set_xlabel("latent size")
        ax.set_ylabel("min-max normalised")
        ax.set_title(v)
        ax.legend(fontsize=7)
    save_png(fig, path)
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------- the report
def write_report(
    clips: pd.DataFrame,
    out: Path,
    curves: pd.DataFrame | None = None,
    floors: dict[str, float] | None = None,
    title: str = "asp evaluation",
) -> Path:
    """Write ``out/report.md`` with every table and plot (CSV beside each table). Returns the markdown path."""
    out.mkdir(parents=True, exist_ok=True)
    systems = list(dict.fromkeys(clips.system))
    models = [s for s in systems if s not in BASELINES]
    atomic_write_bytes(out / "clips.csv", clips.to_csv(index=False).encode())
    counts = own(clips)[lambda o: o.system == systems[0]].groupby("synth").size()
    md = [
        f"# {title}",
        "",
        f"{counts.sum()} clips per system ({', '.join(f'{s}: {n}' for s, n in counts.items())}); "
        "metrics of each clip's own synth. LSD is the textbook log-spectral distance in dB; the paper's \"LSD\" and "
        "its summed parameter MSE are given to compare with the published tables (see docs/RESULTS.md).",
        "",
    ]
    t1 = summary(clips, ["system"])
    atomic_write_bytes(out / "table1_overall.csv", t1.to_csv(index=False).encode())
    md += ["## Table 1: all synths", "", markdown_table(t1), ""]
    per = summary(clips, ["synth", "system"])
    if floors:
        per["self_distance_lsd"] = per.synth.map(floors)
    atomic_write_bytes(out / "table2_per_synth.csv", per.to_csv(index=False).encode())
    for k, (synth, part) in enumerate(per.groupby("synth", sort=True), start=2):
        md += [f"## Table {k}: {synth}", "", markdown_table(part.drop(columns="synth")), ""]
    tests = {"trained models": anova(clips, models), "all systems": anova(clips, systems)}
    arows = [{"compared": k, **v} for k, v in tests.items() if v]
    md += ["## One-way ANOVA on LSD", ""]
    if arows:
        a = pd.DataFrame(arows)
        atomic_write_bytes(out / "anova.csv", a.to_csv(index=False).encode())
        md += [markdown_table(a, 4), ""]
    else:
        md += ["(needs two systems with scores)", ""]
    timbre_boxplot(clips, systems, out / "timbre_groups.png")
    tg = own(clips).groupby(["system", "timbre_group"]).lsd.agg(["mean", "median", "count"]).reset_index()
    tg["group"] = tg.timbre_group.map(dict(enumerate(GROUP_NAMES)))
    atomic_write_bytes(out / "timbre_groups.csv", tg.to_csv(index=False).encode())
    md += [
        "## LSD by HPSS timbre group",
        "",
        "![timbre groups](timbre_groups.png)",
        "",
        markdown_table(tg[["system", "group", "mean", "median", "count"]]),
        "",
    ]
    for m in models:
        mat = cross_matrix(clips, m)
        if mat.shape[1] > 1:
            slug = m.replace("/", "_").replace(" ", "_").replace("=", "")
            atomic_write_bytes(out / f"cross_synth_{slug}.csv", mat.to_csv().encode())
            matrix_plot(mat, f"{m}: cross-synth LSD", out / f"cross_synth_{slug}.png")
            md += [
                f"## Cross-synth matrix: {m}",
                "",
                f"![cross-synth](cross_synth_{slug}.png)",
                "",
                markdown_table(mat.reset_index().rename(columns={"synth": "target \\ decoder"}), 2),
                "",
            ]
    if curves is not None and len(curves):
        sat = latent_plot(curves, out / "latent_size.png")
        atomic_write_bytes(out / "latent_curves.csv", curves.to_csv(index=False).encode())
        atomic_write_bytes(out / "latent_saturation.csv", sat.to_csv(index=False).encode())
        md += [
            "## Latent size",
            "",
            "Each curve min-max normalised; saturation: the first size whose step to the "
            "next changes the curve by less than 0.1 (the paper's rule).",
            "",
            "![latent size](latent_size.png)",
            "",
            markdown_table(curves),
            "",
            markdown_table(sat),
            "",
        ]
    path = out / "report.md"
    atomic_write_bytes(path, "\n".join(md).encode())
    return path
