"""Render-in-the-loop refinement: distance against budget (renders and seconds), one run, baselines included.

Systems, each on the same target folders, through ``asp infer`` (``BatchInference``, 2 worker processes):

* ``oneshot``: the model's prediction (read from the refined runs' one-shot columns: no extra cost);
* ``random``: uniform random presets, budget split evenly over the synths, best kept (objective: textbook LSD);
* ``cma``: plain CMA-ES from the one-shot prediction at the pitch rule's note, over every normalised parameter,
  discrete ones snapped, budget split evenly, objective textbook LSD, no posterior draws (the issue's probe);
* ``asp``: the default search (``asp.search`` with ``asp infer --refine``'s defaults);
* the variants measured on the way there (``SYSTEMS``): method, shortened search renders, halving, draws;
* ``asp-proxy`` (``asp-proxy8``): the default search with the neural proxies of ``--proxies`` (one MLP per synth,
  as ``asp quickstart`` trains them) screening 4 (8) children per rendered one;
* ``asp-nnK`` (``asp-proxy-nnK``): the default search (screened by the proxies) with the K training presets nearest
  each target in the model's latent space among its starts (``asp infer --neighbours K``).
* ``<system>-audible`` (for ``asp``, ``asp-proxy``, ``asp-proxy-nn8``): the same search minimising the audible LSD
  (``asp.metrics.audible_lsd``, ``asp infer --objective audible``) instead of the textbook LSD.

Each system's best synth is the report's (``asp infer``: the lowest of the search's own distance at full quality).
Besides the textbook LSD, the table gives the audible LSD of the best and the true synth (``best_audible``,
``own_audible``).

Target folders: the quickstart's held-back folder (``--targets``) and ``--random N`` random presets per synth
(a fresh seed, so none is in the dataset), rendered at notes 48-72 as 44.1 kHz wav. Per system and budget it
prints the mean best-synth LSD, the own synth's LSD, how often the best synth is the true one, renders and wall
seconds per file, and writes ``refine.csv`` and ``refine_curve.png`` to ``--out``; for the held-back folder also
``floor.csv``, each file's true preset scored against it (textbook LSD, audible LSD at 80 and 60 dB, and a random
preset of the same synth for contrast).

Usage: python scripts/bench_refine.py --checkpoint RUN/checkpoints/best.ckpt [--budgets 150,450] [--random 0]
       [--systems asp,asp-proxy --proxies RUN/proxies]
"""

from __future__ import annotations

import argparse
import platform
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

import asp.render  # noqa: F401  (DawDreamer before librosa)
from asp.data.targets import write_target
from asp.infer import BatchInference, InferOptions
from asp.models.inference import Predictor
from asp.models.proxy_training import CARD_FILE, proxy_dir
from asp.render import get_renderer
from asp.search import SearchOptions
from asp.synths import load_sampling, load_schema, sample_presets

# name -> (search options, posterior draws, also search at the sound's own note). The systems with halving take the
# defaults they do not set, so since 2026-12-07's seventh session their last round is Gauss-Newton steps
# (``SearchOptions.polish``); numbers in docs/RESULTS.md from before then were measured without (``polish=None``).
SYSTEMS = {
    "random": (SearchOptions(method="random", objective="lsd", search_seconds=None, halving=False), 0, True),
    "cma": (
        SearchOptions(method="cma", objective="lsd", sigma=0.2, search_seconds=None, halving=False, finalists=2),
        0,
        False,
    ),
    "asp": (SearchOptions(), 0, True),
    # the variants measured on the way to the defaults (docs/RESULTS.md), each spelled out
    "cma-own-note": (SearchOptions(method="cma", sigma=0.2, halving=False, search_seconds=None, finalists=2), 0, True),
    "asp-es": (SearchOptions(method="es", sigma=0.15, halving=False, search_seconds=None, finalists=2), 0, True),
    "asp-es-short": (SearchOptions(method="es", sigma=0.15, halving=False, search_seconds=2.5, finalists=3), 0, True),
    "asp-es-halving": (SearchOptions(method="es", sigma=0.15, halving=True, search_seconds=None, finalists=2), 0, True),
    "asp-es-short-halving": (
        SearchOptions(method="es", sigma=0.15, halving=True, search_seconds=2.5, finalists=3),
        0,
        True,
    ),
    "asp-es-short15-halving": (
        SearchOptions(method="es", sigma=0.15, halving=True, search_seconds=1.5, finalists=3),
        0,
        True,
    ),
    "catcma-halving-draws": (
        SearchOptions(method="catcma", sigma=0.15, halving=True, search_seconds=None, finalists=2),
        4,
        True,
    ),
}
SYSTEMS["asp-noverify"] = (SearchOptions(verify=False), 0, True)  # before the full-quality check of children
# the default search screened by the neural proxies of --proxies (asp quickstart trains them): name -> factor
PROXY_SYSTEMS = {"asp-proxy": 4, "asp-proxy8": 8, "asp-proxy-noverify": 4}
for _name in PROXY_SYSTEMS:
    SYSTEMS[_name] = SYSTEMS["asp-noverify" if _name.endswith("noverify") else "asp"]
# the default search, also started from the K training presets nearest each target in the model's latent space
# (asp infer --neighbours K); the -proxy ones screened by the proxies as well: name -> K
NEIGHBOUR_SYSTEMS = {"asp-nn4": 4, "asp-nn8": 8, "asp-nn16": 16, "asp-proxy-nn8": 8, "asp-proxy-nn16": 16}
for _name in NEIGHBOUR_SYSTEMS:
    SYSTEMS[_name] = SYSTEMS["asp"]
PROXY_SYSTEMS.update({n: 4 for n in NEIGHBOUR_SYSTEMS if n.startswith("asp-proxy")})
# the same, the search minimising the audible LSD (asp.metrics.audible_lsd) instead of the textbook LSD
for _name in ("asp", "asp-proxy", "asp-proxy-nn8"):
    SYSTEMS[f"{_name}-audible"] = (replace(SYSTEMS[_name][0], objective="audible"), *SYSTEMS[_name][1:])
    if _name in PROXY_SYSTEMS:
        PROXY_SYSTEMS[f"{_name}-audible"] = PROXY_SYSTEMS[_name]
    if _name in NEIGHBOUR_SYSTEMS:
        NEIGHBOUR_SYSTEMS[f"{_name}-audible"] = NEIGHBOUR_SYSTEMS[_name]
# the main job's search with one option changed: search renders of 4 s or 3.5 s (into the release: the key is
# released at 3 s) or the whole clip (5 s), against the first 2.5 s that never hear one; or the budget split evenly
# over the synths (no successive halving); or mutations sent back to the synth's default with chance q (``dpQ``:
# dp0 is the search before default_pull, which ``-s35`` was until 2026-12-07's fifth session; dp25 the default now,
# with gn in the last round since the seventh session: ``-nopolish`` is dp25 before that)
_VARIANTS = {"s4": {"search_seconds": 4.0}, "s35": {"search_seconds": 3.5}, "full": {"search_seconds": None}}
_VARIANTS["even"] = {"halving": False}
_VARIANTS["fullband"] = {"file_band": False}  # the whole band, whatever the file carries (before 2026-12-07, 6th)
_VARIANTS["twins"] = {"octave_twins": True}  # octave twins of the best start (tried 2026-12-07, 6th; not kept)
_VARIANTS["esm"] = {"method": "esm"}  # the ES with two children a generation from a learnt linear model (7th)
_VARIANTS["gn"] = {"polish": "gn"}  # Levenberg-Marquardt in the halving's last round (2026-12-07, 7th: the default)
_VARIANTS["round"] = {"polish": "round"}  # round values, then gn, in the last round (2026-12-07, 8th; tried)
_VARIANTS["nopolish"] = {"polish": None}  # the evolution strategy to the end (the default until then)
_VARIANTS.update({f"dp{round(q * 100)}": {"default_pull": q} for q in (0.0, 0.1, 0.25, 0.5)})
_VARIANTS.update({f"rp{round(q * 100)}": {"round_pull": q} for q in (0.25, 0.5)})
for _suffix, _change in _VARIANTS.items():
    _name = f"asp-proxy-nn8-{_suffix}"
    SYSTEMS[_name] = (replace(SYSTEMS["asp"][0], **_change), *SYSTEMS["asp"][1:])
    PROXY_SYSTEMS[_name], NEIGHBOUR_SYSTEMS[_name] = 4, 8


def random_targets(folder: Path, synths: list[str], n: int, settings, seed: int = 12345) -> None:
    rng = np.random.default_rng(seed)
    for synth in synths:
        vs = sample_presets(load_schema(synth), n, rng, load_sampling(synth))
        for i, v in enumerate(vs):
            path = folder / synth / f"r{i:03d}.wav"
            if not path.is_file():
                audio = get_renderer(synth, settings).render(v, int(rng.integers(48, 73)))
                write_target(path, audio, settings.sample_rate, settings.sample_rate, 1, "wav")


def truth_floor(folder: Path, synths: list[str], settings, seed: int = 0) -> pd.DataFrame:
    """Per held-back file, its own true preset rendered at its true note against the file: the textbook LSD (what
    the best any system can score there is bounded by: the files went through resampling, lossy codecs and silence
    trimming), the audible LSD at 80 dB and at 60 dB under the file's peak; and for contrast a random preset of the
    same synth at the same note (``random_``)."""
    from asp.data.targets import VARIANTS
    from asp.features.audio_io import load_audio
    from asp.metrics import audible_lsd, lsd
    from asp.search.objective import Objective
    from asp.synths import registry
    from asp.synths.presets import read_presets

    rng = np.random.default_rng(seed)
    rows, k = [], 0
    for synth in synths:
        schema = load_schema(synth)
        for p in read_presets(registry.PRESETS_DIR / synth, schema):
            note, _, _, fmt = VARIANTS[k % len(VARIANTS)]
            k += 1
            f = folder / synth / f"{Path(p.source).stem}.{fmt}"
            if f.is_file():
                loaded = load_audio(f, settings.sample_rate, settings.n_samples)
                target = loaded.audio
                audio = get_renderer(synth, settings).render(p.vector, note)
                band = Objective("lsd", target, settings.sample_rate, loaded.band_hz)
                other = get_renderer(synth, settings).render(
                    sample_presets(schema, 1, rng, load_sampling(synth))[0], note
                )
                rows.append(
                    {
                        "file": f"{synth}/{f.name}",
                        "lsd": lsd(audio, target),
                        "band_lsd": band(audio),
                        "band_hz": loaded.band_hz,
                        "audible_lsd": audible_lsd(audio, target),
                        "audible_lsd_60": audible_lsd(audio, target, range_db=60.0),
                        "random_lsd": lsd(other, target),
                        "random_audible_lsd": audible_lsd(other, target),
                    }
                )
    return pd.DataFrame(rows)


def score(table: pd.DataFrame, prefix: str = "") -> dict[str, float]:
    """Means over the files of a report: the best synth's (the report's ``best``; for the one-shot, ``prefix``
    "oneshot_", the lowest textbook LSD) and the true synth's textbook and audible LSD, and how often the best synth
    is the true one."""
    ok = table[table.status == "ok"].copy()
    ok["true"] = ok.file.str.split("/").str[0]
    rank = f"{prefix}band_lsd" if f"{prefix}band_lsd" in ok else f"{prefix}lsd"
    best = ok[ok.best.astype(bool)] if not prefix else ok.loc[ok.groupby("file")[rank].idxmin()]
    own = ok[ok.synth == ok.true]
    out = {
        "best_lsd": best[f"{prefix}lsd"].mean(),
        "own_lsd": own[f"{prefix}lsd"].mean(),
        "true_chosen": int((best.synth == best.true).sum()),
        "files": len(best),
    }
    if rank != f"{prefix}lsd":  # the textbook LSD over the band each file carries (asp.features.band)
        out.update(best_band=best[rank].mean(), own_band=own[rank].mean())
    if f"{prefix}audible_lsd" in ok:
        out.update(best_audible=best[f"{prefix}audible_lsd"].mean(), own_audible=own[f"{prefix}audible_lsd"].mean())
    return out


def proxy_options(system: str, folder: Path | None, synths: list[str]) -> dict:
    """InferOptions' proxy fields for a system of ``PROXY_SYSTEMS`` (else none)."""
    if system not in PROXY_SYSTEMS:
        return {}
    if folder is None:
        raise SystemExit(f"{system} needs --proxies (a folder of <synth>/mlp proxies, as asp quickstart writes)")
    found = {s: proxy_dir(folder, s) for s in synths if (proxy_dir(folder, s) / CARD_FILE).is_file()}
    if not found:
        raise SystemExit(f"{folder}: no <synth>/mlp/{CARD_FILE} for {', '.join(synths)}")
    return {"proxies": found, "proxy_factor": PROXY_SYSTEMS[system]}


def plot_curves(df: pd.DataFrame, path: Path) -> None:
    """Best-synth LSD against renders and against wall seconds, a row per target folder of the table ``df``."""
    from asp.plotting import png_bytes, pyplot

    folders = list(dict.fromkeys(df.folder))
    floor = df[df.system == "true preset"].best_lsd.mean() if (df.system == "true preset").any() else float("nan")
    plt = pyplot()
    fig, axes = plt.subplots(len(folders), 2, figsize=(10, 3.6 * len(folders)), squeeze=False)
    for row, fname in zip(axes, folders):
        sub = df[(df.folder == fname) & ~df.system.isin(["oneshot", "true preset"])]
        for system, g in sub.groupby("system"):
            row[0].plot(g.renders_per_file, g.best_lsd, "o-", label=system)
            row[1].plot(g.wall_s_per_file, g.best_lsd, "o-", label=system)
        one = df[(df.folder == fname) & (df.system == "oneshot")].best_lsd.mean()
        for ax, xl in zip(row, ("renders per file", "wall seconds per file (2 workers)")):
            ax.axhline(one, color="grey", ls="--", label="one-shot")
            if fname == "held-back" and np.isfinite(floor):
                ax.axhline(floor, color="black", ls=":", label="true preset (floor)")
            ax.set_xlabel(xl)
            ax.set_ylabel("best-synth LSD (dB)")
            ax.set_title(fname)
            ax.legend()
    fig.tight_layout()
    path.write_bytes(png_bytes(fig))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--checkpoint", type=Path, default=Path("runs/quickstart/train-J-S/checkpoints/best.ckpt"))
    ap.add_argument("--targets", type=Path, default=Path("runs/quickstart/targets"))
    ap.add_argument("--random", type=int, default=0, help="random presets per synth as a second folder")
    ap.add_argument("--skip-held-back", action="store_true", help="only the random presets' folder")
    ap.add_argument("--tag", default="", help="appended to the table's name: refine<tag>.csv")
    ap.add_argument("--budgets", default="150,450")
    ap.add_argument("--systems", default="random,cma,asp")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", type=Path, default=Path("runs/bench_refine"))
    ap.add_argument(
        "--proxies", type=Path, default=None, help="for the asp-proxy systems: a folder of <synth>/mlp proxies"
    )
    ap.add_argument("--seed", type=int, default=0, help="added to every system's search seed (a second draw)")
    ap.add_argument("--replot", type=Path, default=None, help="only redraw the plot of a table this script wrote")
    args = ap.parse_args()
    if args.replot is not None:
        plot_curves(
            pd.read_csv(args.replot),
            args.replot.with_name(args.replot.stem.replace("refine", "refine_curve", 1) + ".png"),
        )
        return

    folders = {} if args.skip_held_back else {"held-back": args.targets}
    settings = Predictor(args.checkpoint).render_settings
    if args.random:
        folders["random"] = args.out / "random_targets"
        random_targets(folders["random"], Predictor(args.checkpoint).synths, args.random, settings)
    rows = []
    synths = Predictor(args.checkpoint).synths
    floor = float("nan")
    if folders.get("held-back"):
        truth = truth_floor(args.targets, synths, settings)
        args.out.mkdir(parents=True, exist_ok=True)
        truth.to_csv(args.out / f"floor{args.tag}.csv", index=False)
        print(truth.to_string(index=False, float_format=lambda v: f"{v:.2f}"))
        floor, audible, in_band = truth.lsd.mean(), truth.audible_lsd.mean(), truth.band_lsd.mean()
        print(
            f"held-back folder: the true presets at their true notes score {floor:.2f} dB (mean textbook LSD), "
            f"{audible:.2f} dB (mean audible LSD), {in_band:.2f} dB over the band each file carries; per file: "
            f"{args.out / f'floor{args.tag}.csv'}"
        )
        rows.append(
            {
                "folder": "held-back",
                "system": "true preset",
                "best_lsd": floor,
                "own_lsd": floor,
                "best_audible": audible,
                "own_audible": audible,
                "best_band": in_band,
                "own_band": in_band,
            }
        )
    for fname, folder in folders.items():
        for system in args.systems.split(","):
            base, samples, own = SYSTEMS[system]
            for budget in (int(b) for b in args.budgets.split(",")):
                out = args.out / fname / f"{system}-{budget}"
                opts = InferOptions(
                    refine=replace(base, budget=budget, seed=base.seed + args.seed),
                    samples=samples,
                    own_note=own,
                    workers=args.workers,
                    write_audio=False,
                    neighbours=NEIGHBOUR_SYSTEMS.get(system, 0),
                    **proxy_options(system, args.proxies, synths),
                )
                t = time.perf_counter()
                table = BatchInference(args.checkpoint, out, opts).run(folder, progress=False)
                wall = time.perf_counter() - t
                ok = table[table.status == "ok"]
                n = ok.file.nunique()
                common = {
                    "folder": fname,
                    "budget": budget,
                    "renders_per_file": ok.renders.sum() / n,
                    "wall_s_per_file": wall / n,
                    "search_cpu_s_per_file": ok.search_seconds.sum() / n,
                }
                rows.append({**common, "system": system, **score(table)})
                if system == args.systems.split(",")[0]:
                    rows.append({**common, "system": "oneshot", "renders_per_file": 0, **score(table, "oneshot_")})
                print(pd.DataFrame(rows[-1:]).to_string(index=False), flush=True)
    df = pd.DataFrame(rows)
    args.out.mkdir(parents=True, exist_ok=True)
    df.to_csv(args.out / f"refine{args.tag}.csv", index=False)
    print(f"\nmachine: {platform.machine()}, {platform.processor() or '?'}; python {platform.python_version()}")
    print(df.to_string(index=False, float_format=lambda v: f"{v:.2f}"))

    plot_curves(df, args.out / f"refine_curve{args.tag}.png")
    print(f"written: {args.out / f'refine{args.tag}.csv'}, {args.out / f'refine_curve{args.tag}.png'}")


if __name__ == "__main__":
    main()
