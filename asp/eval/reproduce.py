"""The multi-task ASP paper's comparisons reproduced at this machine's scale (``asp reproduce``).

One command, resumable (every step is: datasets, sweeps and evaluations skip what is done), driven by a config with
a section per part (``configs/reproduce/full.yaml``, ``quick.yaml``):

1. ``dataset``: a multi-synth dataset (``asp dataset generate``);
2. ``compare``: S-S, J-S and J-J trained on the same data and splits at one latent size (``asp sweep``);
3. ``latent``: one variant over latent sizes (the size of ``compare`` is reused, not trained twice);
4. ``eval``: the comparison scored on the test split (LSD, parameter MSE, accuracy, ANOVA, HPSS timbre groups) and
   the latent-size curves with their saturation points (``asp eval``).

``REPORT.md`` then puts the paper's published numbers (Faronbi et al., ICASSP 2023) beside ours and gives each of its
four findings a verdict by a coded rule (:func:`verdicts`): replicated, refuted, or inconclusive, with the reason.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from asp.atomic import atomic_write_bytes

VARIANTS = ("S-S", "J-S", "J-J")
ALPHA = 0.05

# the paper's Table 1 (all synths), and its findings
PUBLISHED = pd.DataFrame(
    [
        {"system": "S-S", "paper_lsd_mean": 86.8, "paper_param_mse_mean": 5.0, "cat_acc_mean": 75.3},
        {"system": "J-S", "paper_lsd_mean": 72.9, "paper_param_mse_mean": 4.9, "cat_acc_mean": 75.1},
        {"system": "J-J", "paper_lsd_mean": 74.2, "paper_param_mse_mean": 5.3, "cat_acc_mean": 75.1},
    ]
)
FINDINGS = {
    "audio": "J-S matches best on audio error (one-way ANOVA on LSD across S-S, J-S, J-J: p = 0.0313)",
    "accuracy": "S-S is best on categorical accuracy",
    "timbre": "presets whose HPSS harmonic share is below 20 % match worst",
    "latent": "the latent size saturates at 64 (min-max normalised curves, first step below 0.1)",
}


def load_config(path: Path | None = None, quick: bool = False) -> dict[str, Any]:
    """A reproduction config: ``path``, else ``configs/reproduce/quick.yaml`` or ``full.yaml``."""
    from asp.models.training import CONFIG_DIR

    path = Path(path) if path else CONFIG_DIR / "reproduce" / ("quick.yaml" if quick else "full.yaml")
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such reproduction config")
    return yaml.safe_load(path.read_text())


def _welch(a: np.ndarray, b: np.ndarray) -> float:
    from scipy.stats import ttest_ind

    if len(a) < 2 or len(b) < 2:
        return float("nan")
    return float(ttest_ind(a, b, equal_var=False).pvalue)


def _oneway(groups: list[np.ndarray]) -> float:
    from scipy.stats import f_oneway

    groups = [g[np.isfinite(g)] for g in groups]
    groups = [g for g in groups if len(g) > 1]
    if len(groups) < 2:
        return float("nan")
    return float(f_oneway(*groups).pvalue)


def _best_of(scores: dict[str, np.ndarray], claimed: str, what: str, ours: str, low: bool) -> dict[str, str]:
    """The verdict on "``claimed`` is best": replicated when the models differ (one-way ANOVA) and ``claimed`` is
    best; refuted when another model is best and significantly better than ``claimed`` (Welch t-test); otherwise
    inconclusive."""
    mean = {s: float(np.nanmean(v)) for s, v in scores.items()}
    best = (min if low else max)(mean, key=mean.__getitem__)
    p = _oneway(list(scores.values()))
    ours += f"; ANOVA p = {p:.4f}"
    if best == claimed:
        if p < ALPHA:
            return {"ours": ours, "verdict": "replicated", "reason": f"the models differ and {claimed} has {what}"}
        return {
            "ours": ours,
            "verdict": "inconclusive",
            "reason": f"{claimed} has {what}, but the models do not differ significantly (p >= {ALPHA})",
        }
    a, b = scores[best], scores[claimed]
    pw = _welch(a[np.isfinite(a)], b[np.isfinite(b)])
    ours += f"; {best} against {claimed}: Welch p = {pw:.4f}"
    if pw < ALPHA:
        return {"ours": ours, "verdict": "refuted", "reason": f"{best} has {what}, significantly beyond {claimed}'s"}
    return {
        "ours": ours,
        "verdict": "inconclusive",
        "reason": f"{best} has {what}, but not significantly beyond {claimed}'s (p >= {ALPHA})",
    }


def verdicts(
    clips: pd.DataFrame, saturation: pd.DataFrame | None, latent_variant: str = "J-S", min_group: int = 5
) -> pd.DataFrame:
    """Each published finding, tested on our scored clips.

    Args:
        clips: ``asp eval``'s ``clips.csv`` for the three variants (rows with decoder == synth are scored).
        saturation: ``latent_saturation.csv`` (variant, metric, saturation_z), or None if no sweep was run.
        min_group: the fewest clips a timbre group needs to be compared.

    Returns:
        One row per finding: ``finding``, ``published``, ``ours`` (the numbers behind it), ``verdict``, ``reason``.
    """
    own = clips[(clips.decoder == clips.synth) & clips.system.isin(VARIANTS)]
    rows = []
    lsd = {s: own.loc[own.system == s, "lsd"].to_numpy(float) for s in VARIANTS if (own.system == s).any()}
    if len(lsd) == 3:
        ours = ", ".join(f"{s} {v.mean():.2f} dB" for s, v in lsd.items())
        rows.append({"finding": FINDINGS["audio"], **_best_of(lsd, "J-S", "the lowest mean LSD", ours, low=True)})
        acc = {s: own.loc[own.system == s, "cat_acc"].to_numpy(float) for s in VARIANTS}
        ours = ", ".join(f"{s} {100 * np.nanmean(v):.1f} %" for s, v in acc.items())
        rows.append(
            {"finding": FINDINGS["accuracy"], **_best_of(acc, "S-S", "the highest mean accuracy", ours, low=False)}
        )
    js = own[(own.system == "J-S") & (own.timbre_group >= 0)]
    if len(js):
        low, rest = (
            js.loc[js.timbre_group == 0, "lsd"].to_numpy(float),
            js.loc[js.timbre_group > 0, "lsd"].to_numpy(float),
        )
        means = js.groupby("timbre_group").lsd.agg(["mean", "size"])
        ours = "J-S mean LSD per group: " + ", ".join(
            f"{int(g)}: {r['mean']:.2f} dB (n={int(r['size'])})" for g, r in means.iterrows()
        )
        if len(low) < min_group or len(rest) < min_group:
            verdict, reason = "inconclusive", f"fewer than {min_group} test clips under 20 % harmonic share, or above"
        else:
            p = _welch(low, rest)
            ours += f"; Welch t-test under 20 % against the rest: p = {p:.4f}"
            worst = int(means[means["size"] >= min_group]["mean"].idxmax())
            if p < ALPHA and low.mean() > rest.mean() and worst == 0:
                verdict, reason = "replicated", "the group under 20 % has the highest mean LSD, significantly"
            elif p < ALPHA and low.mean() < rest.mean():
                verdict, reason = "refuted", "the group under 20 % matches significantly better than the rest"
            else:
                verdict, reason = (
                    "inconclusive",
                    (f"no significant difference (p >= {ALPHA}) or another group is worse"),
                )
        rows.append({"finding": FINDINGS["timbre"], "ours": ours, "verdict": verdict, "reason": reason})
    if saturation is not None and len(saturation):
        sat = saturation[saturation.variant == latent_variant].set_index("metric").saturation_z
        ours = ", ".join(f"{m}: {'none' if pd.isna(z) else int(z)}" for m, z in sat.items())
        z = sat.get("lsd")
        if z is None or pd.isna(z):
            verdict, reason = "inconclusive", "the LSD curve never flattens by the rule"
        elif int(z) == 64:
            verdict, reason = "replicated", "the LSD curve saturates at 64"
        else:
            verdict, reason = "refuted", f"the LSD curve saturates at {int(z)}, not 64"
        rows.append(
            {
                "finding": FINDINGS["latent"],
                "ours": f"{latent_variant} saturation: {ours}",
                "verdict": verdict,
                "reason": reason,
            }
        )
    return pd.DataFrame(rows, columns=["finding", "ours", "verdict", "reason"])


def _merge_latent(compare: Path, latent: Path, variant: str, z_compare: int, out: Path) -> Path:
    """A sweep table for the latent curve: the latent sweep's runs plus ``compare``'s run at its size."""
    parts = [pd.read_csv(latent / "results.csv")] if (latent / "results.csv").is_file() else []
    c = pd.read_csv(compare / "results.csv")
    parts.append(c[(c.variant == variant) & (c.z_dim == z_compare)])
    table = pd.concat(parts, ignore_index=True).sort_values("z_dim")
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(out / "results.csv", table.to_csv(index=False).encode())
    return out


def reproduce(
    out: Path, config: dict[str, Any], main: Callable[[list[str]], int], log: Callable[[str], None] = print
) -> Path:
    """Run every part of ``config`` into ``out`` (resuming what is done) and write ``out/REPORT.md``.

    Args:
        main: runs one ``asp`` command line and returns its exit status (``asp.cli.main``; passed in, so this
            layer does not import the CLI above it).
    """
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(out / "config.yaml", yaml.safe_dump(config, sort_keys=False).encode())
    times: dict[str, float] = json.loads((out / "times.json").read_text()) if (out / "times.json").is_file() else {}

    def step(name: str, argv: list[str]) -> None:
        log(f"\n== {name}: asp {' '.join(argv)}")
        t = time.perf_counter()
        if main(argv) != 0:
            raise RuntimeError(f"the step {name!r} failed (asp {' '.join(argv)}); re-run to resume")
        times[name] = times.get(name, 0.0) + time.perf_counter() - t
        atomic_write_bytes(out / "times.json", json.dumps(times, indent=1).encode())

    d = config["dataset"]
    data = out / "dataset"
    step(
        "dataset",
        [
            "dataset",
            "generate",
            "--out",
            str(data),
            "--synths",
            str(d.get("synths", "builtin")),
            "--presets",
            str(d["presets"]),
            "--notes",
            str(d.get("notes", "60-71")),
            "--notes-per-preset",
            str(d.get("notes_per_preset", 0)),
            "--seed",
            str(d.get("seed", 0)),
            "--workers",
            str(d.get("workers", 2)),
            "--shard-size",
            str(d.get("shard_size", 16)),
            "--no-progress",
        ]
        + (["--no-hpss-train"] if not d.get("hpss_train", True) else []),
    )
    c = config["compare"]
    train = [
        f"data.root={data}",
        f"trainer.max_epochs={c['epochs']}",
        "logger=csv",
        "data.num_workers=0",
        *c.get("overrides", []),
    ]  # later overrides win
    step(
        "compare",
        [
            "sweep",
            *train,
            "--variants",
            ",".join(VARIANTS),
            "--latents",
            str(c["z_dim"]),
            "--out",
            str(out / "compare"),
        ],
    )
    lat = config.get("latent")
    sweep_dir = None
    if lat:
        sizes = [int(z) for z in lat["sizes"] if int(z) != int(c["z_dim"])]
        if sizes:
            step(
                "latent",
                [
                    "sweep",
                    *train,
                    "--variants",
                    lat.get("variant", "J-S"),
                    "--latents",
                    ",".join(map(str, sizes)),
                    "--out",
                    str(out / "latent"),
                ],
            )
        sweep_dir = _merge_latent(
            out / "compare", out / "latent", lat.get("variant", "J-S"), int(c["z_dim"]), out / "latent-all"
        )
    e = config.get("eval", {})
    limit = ["--limit", str(e["limit"])] if e.get("limit") else []
    runs = [str(out / "compare" / f"{v}-z{c['z_dim']}") for v in VARIANTS]
    step(
        "eval compare",
        ["eval", *runs, "--out", str(out / "eval-compare"), *limit] + ([] if e.get("cross", True) else ["--no-cross"]),
    )
    if sweep_dir is not None:
        step(
            "eval latent",
            [
                "eval",
                "--sweep",
                str(sweep_dir),
                "--out",
                str(out / "eval-latent"),
                "--no-cross",
                "--no-baselines",
                *limit,
            ],
        )
    return write_report(out, config, times, lat.get("variant", "J-S") if lat else "J-S")


def write_report(out: Path, config: dict[str, Any], times: dict[str, float], latent_variant: str = "J-S") -> Path:
    """``out/REPORT.md``: budgets, our tables beside the published ones, the verdicts, and links to the full reports."""
    from asp.eval.report import markdown_table, summary

    clips = pd.read_csv(out / "eval-compare" / "clips.csv")
    sat_path = out / "eval-latent" / "latent_saturation.csv"
    sat = pd.read_csv(sat_path) if sat_path.is_file() else None
    v = verdicts(clips, sat, latent_variant)
    atomic_write_bytes(out / "verdicts.csv", v.to_csv(index=False).encode())
    t1 = summary(clips, ["system"])
    cols = [
        "system",
        "lsd_mean",
        "lsd_std",
        "paper_lsd_mean",
        "param_mse_mean",
        "paper_param_mse_mean",
        "cat_acc_mean",
        "n",
    ]
    ours = t1[cols]
    side = ours[ours.system.isin(VARIANTS)][["system", "paper_lsd_mean", "paper_param_mse_mean", "cat_acc_mean"]]
    side = side.merge(PUBLISHED, on="system", suffixes=(" (ours)", " (published)"))
    d, c, lat = config["dataset"], config["compare"], config.get("latent") or {}
    budget = pd.DataFrame(
        [
            {
                "part": "dataset",
                "budget": f"{d['presets']} presets per synth ({d.get('synths', 'builtin')}), notes "
                f"{d.get('notes', '60-71')}, {d.get('notes_per_preset') or 'all'} per preset",
                "minutes": times.get("dataset", float("nan")) / 60,
            },
            {
                "part": "compare",
                "budget": f"S-S, J-S, J-J at z={c['z_dim']}, {c['epochs']} epochs each",
                "minutes": times.get("compare", float("nan")) / 60,
            },
            {
                "part": "latent",
                "budget": f"{lat.get('variant', 'J-S')} at z in {lat.get('sizes')}, {c['epochs']} epochs"
                if lat
                else "not run",
                "minutes": times.get("latent", float("nan")) / 60,
            },
            {
                "part": "eval",
                "budget": f"test split, {config.get('eval', {}).get('limit') or 'all'} clips per synth",
                "minutes": (times.get("eval compare", 0.0) + times.get("eval latent", 0.0)) / 60,
            },
        ]
    )
    md = [
        "# The multi-task ASP paper, reproduced at this scale",
        "",
        "Written by `asp reproduce` (asp/eval/reproduce.py). The paper's synths (Serum, Diva, TyrellN6) do not render "
        "here; ours are the built-in Faust synths, so absolute numbers are not comparable: what can be compared is "
        "the ordering of the models and the shape of the curves.",
        "",
        "## Budget of each part",
        "",
        markdown_table(budget, 1),
        "",
        "## Findings",
        "",
        "Each verdict by the rule in `asp.eval.reproduce.verdicts`: LSD is the textbook log-spectral distance (dB) of "
        "each test clip's own synth (the table below also has the paper's \"LSD\"); accuracy per clip; p < 0.05.",
        "",
        markdown_table(v),
        "",
        "## Table 1 (all synths): ours",
        "",
        markdown_table(ours),
        "",
        "## Beside the published Table 1",
        "",
        'Published: 6,069 presets of Serum, Diva and TyrellN6; "LSD" and param MSE are the paper\'s definitions '
        "(no square root or dB; a sum over continuous parameters), computed the same way on ours.",
        "",
        markdown_table(side, 2),
        "",
        "Full reports: [comparison](eval-compare/report.md)"
        + (
            ", [latent sizes](eval-latent/report.md) (![latent](eval-latent/latent_size.png))"
            if sat is not None
            else ""
        ),
        "",
    ]
    path = out / "REPORT.md"
    atomic_write_bytes(path, "\n".join(md).encode())
    return path
