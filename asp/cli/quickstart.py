"""``asp quickstart``: the main job on the built-in default, from dataset to report."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from asp.cli.common import LOGGERS, QUICKSTART_OUT, _synth_list, print_report
from asp.synths import registry

TARGETS_PER_SYNTH = 4  # the built-in synths' hand-made presets: 4 each; a synth with a factory bank gives 4 of it


def cmd_quickstart(args: argparse.Namespace) -> int:
    """The main job on the built-in default: dataset (random presets that keep each parameter's default value with
    ``--default-share`` chance, as hand-made presets mostly do), a short J-S training run, held-back target sounds
    rendered from the hand-made presets, a neural proxy per synth to screen the search, ``asp infer --refine`` on the
    targets (the search also starting from the 8 training presets nearest each target, ``--neighbours``), and the
    report table. Every step resumes."""
    from asp.cli import dataset

    synths = _synth_list(args.synths)
    run_dir = args.out / "train-J-S"
    cfg = None
    if args.epochs > 0:  # composed first: a mistyped --train-set fails now, not after the dataset
        from asp.models.training import compose

        cfg = compose(
            [
                "experiment=quickstart",
                f"data.root={args.out / 'dataset'}",
                f"trainer.max_epochs={args.epochs}",
                f"run_dir={run_dir}",
                f"seed={args.seed}",
                f"logger={args.logger}",
                f"data.num_workers={min(args.workers, 1)}",
            ]
            # the built-in three keep the config's order (the documented numbers); others are named
            + ([] if set(synths) == set(registry.builtin_names()) else [f"data.synths=[{','.join(synths)}]"])
            + list(args.train_set)
        )
    parser = argparse.ArgumentParser(prog="asp")
    dataset.add_parsers(parser.add_subparsers())
    dataset.cmd_dataset_generate(
        parser.parse_args(
            [
                "dataset",
                "generate",
                "--out",
                str(args.out / "dataset"),
                "--synths",
                ",".join(synths),
                "--presets",
                str(args.presets),
                "--notes",
                args.notes,
                "--notes-per-preset",
                "1",
                "--no-hpss-train",
                "--seed",
                str(args.seed),
                "--workers",
                str(args.workers),
                "--shard-size",
                "32",
                "--default-share",
                str(args.default_share),
            ]
        )
    )
    if cfg is None:
        return 0
    from asp.models.training import train

    if (run_dir / "results.json").is_file():
        result = json.loads((run_dir / "results.json").read_text())
        print(f"training already done: {run_dir}")
    else:
        result = train(cfg)
    print("\nJ-S on the test split (continuous-parameter MSE and categorical accuracy per synth):")
    for key, value in sorted(result.items()):
        if key.startswith("test/"):
            print(f"  {key[5:]:28s} {value:.4f}")
    print(f"run folder: {result['run_dir']}")

    from asp.data.targets import render_targets
    from asp.infer import InferOptions, infer
    from asp.models.inference import Predictor

    ckpt = run_dir / "checkpoints" / "best.ckpt"
    targets = render_targets(args.out / "targets", synths, Predictor(ckpt).render_settings, per_synth=TARGETS_PER_SYNTH)
    print(f"\n{len(targets)} held-back target sounds (each synth's hand-made presets) in {args.out / 'targets'}")
    from asp.search import SearchOptions

    refine = None if args.no_refine else SearchOptions(budget=args.budget)
    proxies = {} if args.no_refine or args.no_proxy else train_proxies(args.out / "dataset", synths, args.out)
    table = infer(
        args.out / "targets",
        ckpt,
        args.out / "inferred",
        InferOptions(
            refine=refine,
            workers=args.workers,
            proxies=proxies or None,
            neighbours=0 if args.no_refine else args.neighbours,
        ),
    )
    print_report(table, args.out / "inferred")
    print_match_summary(table)
    return 0


def train_proxies(dataset: Path, synths: Sequence[str], out: Path) -> dict[str, Path]:
    """One MLP neural proxy per synth on the quickstart's dataset (seconds each), ``out/proxies/<synth>/mlp``: the
    refinement's search screens its children with them. A synth whose proxy cannot be trained (e.g. no validation
    clips in a tiny dataset) is searched without one, and the reason printed."""
    from asp.models.proxy import ProxySettings
    from asp.models.proxy_training import proxy_dir, train_proxy

    found: dict[str, Path] = {}
    print("\nneural proxies (preset -> mel statistics) to screen the search, validation MSE (the mean embedding's):")
    for synth in synths:
        folder = proxy_dir(out / "proxies", synth)
        try:
            card = train_proxy(dataset, synth, folder, ProxySettings(arch="mlp"), epochs=40, log=lambda m: None)
        except ValueError as err:
            print(f"  {synth:12s} none: {err}")
            continue
        print(f"  {synth:12s} {card['best_valid_mse']:.3f} ({card.get('mean_valid_mse', float('nan')):.3f})  {folder}")
        found[synth] = folder
    return found


def _mean(frame: Any, col: str) -> float:
    """A column's mean, NaN where a report (resumed from an older version) lacks the column."""
    return float(frame[col].mean()) if col in frame else float("nan")


def print_match_summary(table: Any) -> None:
    """For targets in ``<true synth>/...`` folders: the own synth's LSD, the best synth's LSD (textbook and audible,
    ``asp.metrics``) and how often the best synth is the true one, one-shot and (where refined) refined."""
    ok = table[table.status == "ok"].copy()
    if not len(ok):
        return
    ok["true_synth"] = ok.file.str.split("/").str[0]
    refined = ok.get("oneshot_lsd") is not None and ok.oneshot_lsd.notna().any()
    stages = [("one-shot", "oneshot_"), ("refined", "")] if refined else [("one-shot", "")]
    print()
    for name, prefix in stages:
        col, audible, band = f"{prefix}lsd", f"{prefix}audible_lsd", f"{prefix}band_lsd"
        own = ok[ok.synth == ok.true_synth]
        # the refined best synth is the report's (ranked by the search's distance); one-shot: the lowest LSD over
        # the band each file carries
        rank = band if band in ok and ok[band].notna().all() else col
        best = ok[ok.best.astype(bool)] if name == "refined" else ok.loc[ok.groupby("file")[rank].idxmin()]
        print(
            f"{name:9s} LSD of the target's own synth: mean {own[col].mean():.2f} dB "
            f"(audible {_mean(own, audible):.2f}, in the file's band {_mean(own, band):.2f}) over {len(own)} files; "
            f"best-matching synth: mean {best[col].mean():.2f} dB (audible {_mean(best, audible):.2f}, in the "
            f"file's band {_mean(best, band):.2f}), the true one for {(best.synth == best.true_synth).sum()} of "
            f"{len(best)}"
        )
    if "renders" in ok and ok.renders.notna().any():
        per_file = ok.groupby("file").agg(renders=("renders", "sum"), seconds=("search_seconds", "sum"))
        print(
            f"refinement: {per_file.renders.mean():.0f} renders and {per_file.seconds.mean():.1f} s of search "
            f"(one core) per file"
        )


def add_parsers(sub: Any) -> None:
    """The ``asp quickstart`` command line(s)."""
    q = sub.add_parser("quickstart", help="the main job on the built-in default")
    q.add_argument("--out", type=Path, default=QUICKSTART_OUT)
    q.add_argument(
        "--synths",
        default="builtin",
        help="the synths (default: the built-in three; e.g. builtin,dexed adds Dexed, pip install 'asp[dexed]')",
    )
    q.add_argument("--presets", type=int, default=2000, help="random presets per synth, one note each")
    q.add_argument("--notes", default="36-84", help="the notes a preset's one note is drawn from (C2-C6)")
    q.add_argument(
        "--default-share",
        type=float,
        default=0.5,
        help="in the random presets, the chance that a parameter keeps its default value (0: uniform presets, the "
        "paper's)",
    )
    q.add_argument("--workers", type=int, default=2)
    q.add_argument("--seed", type=int, default=0)
    q.add_argument("--epochs", type=int, default=8, help="J-S training epochs (0: dataset only)")
    q.add_argument(
        "--train-set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a training config override, as for asp train (repeatable; e.g. model.lr_schedule=cosine)",
    )
    q.add_argument("--logger", default="wandb", choices=LOGGERS, help="wandb runs offline by default")
    from asp.search import SearchOptions

    q.add_argument(
        "--budget", type=int, default=SearchOptions.budget, help="refinement: renders per target sound, all synths"
    )
    q.add_argument("--no-refine", action="store_true", help="one-shot predictions only")
    q.add_argument("--no-proxy", action="store_true", help="refine without the neural proxies' screening")
    q.add_argument(
        "--neighbours",
        type=int,
        default=8,
        help="refinement: the K training presets nearest each sound in the model's latent space join each synth's "
        "starts (0: none)",
    )
    q.set_defaults(fn=cmd_quickstart)
