"""``asp eval``, ``asp analyze`` and ``asp reproduce``: the reports (``asp.eval``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from asp.cli.common import _notes, add_refine_args, proxies_arg, refine_options


def cmd_eval(args: argparse.Namespace) -> int:
    from asp.eval.pipeline import EvalOptions, evaluate, evaluate_presets

    if args.presets:
        if len(args.runs) != 1:
            raise ValueError("--presets scores one run: give exactly one run folder or checkpoint")
        md = evaluate_presets(
            args.runs[0],
            args.presets,
            args.out,
            limit=args.limit or 200,
            seed=args.seed,
            cross=not args.no_cross,
            refine=refine_options(args),
            workers=args.workers,
            neighbours=args.neighbours,
            proxies=proxies_arg(args.proxy),
            proxy_factor=args.proxy_factor,
        )
    else:
        notes = None if args.notes == "all" else "auto" if args.notes == "auto" else _notes(args.notes)
        md = evaluate(
            args.runs,
            args.out,
            dataset=args.dataset,
            sweep=args.sweep,
            options=EvalOptions(
                split=args.split,
                notes=notes,
                limit=args.limit or None,
                cross=not args.no_cross,
                baselines=not args.no_baselines,
                seed=args.seed,
                refine=refine_options(args),
                workers=args.workers,
                neighbours=args.neighbours,
                proxies=proxies_arg(args.proxy),
                proxy_factor=args.proxy_factor,
            ),
        )
    print(md.read_text())
    print(f"\nreport: {md} (tables as CSV, plots as PNG beside it)")
    return 0


def cmd_analyze(args: argparse.Namespace) -> int:
    from asp.eval.params import analyze

    summary = analyze(
        args.run,
        args.out,
        dataset=args.dataset,
        split=args.split,
        limit=args.limit or None,
        presets=args.presets,
        step=args.step,
        seed=args.seed,
        workers=args.workers,
    )
    import pandas as pd

    with pd.option_context("display.width", 200):
        print(summary.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    print(f"\nreport: {args.out / 'report.md'} (params.csv: every parameter; params.png)")
    return 0


def cmd_reproduce(args: argparse.Namespace) -> int:
    from asp.eval.reproduce import load_config, reproduce

    out = args.out or Path("runs/reproduce-quick" if args.quick else "runs/reproduce")
    config = load_config(args.config, quick=args.quick)
    report = reproduce(out, config, args.asp, log=lambda m: print(m, file=sys.stderr))
    print(report.read_text())
    print(f"report: {report}")
    return 0


def add_parsers(sub: Any) -> None:
    """The ``asp eval`` command line(s)."""
    e = sub.add_parser("eval", help="the paper's tables and plots for trained models (or a sweep), against baselines")
    e.add_argument("runs", type=Path, nargs="*", help="run folders or checkpoints")
    e.add_argument("--sweep", type=Path, default=None, help="an asp sweep folder (adds the latent-size plot)")
    e.add_argument("--dataset", type=Path, default=None, help="default: the dataset of the first run")
    e.add_argument("--out", type=Path, required=True, help="report folder (re-runs reuse scored systems)")
    e.add_argument(
        "--presets",
        default=None,
        metavar="SYNTH[=PATH]",
        help="score hand-made presets instead of a dataset split: the synth's factory presets (amsynth's "
        "banks) or the preset files at PATH",
    )
    e.add_argument("--split", default="test")
    e.add_argument(
        "--notes",
        default="auto",
        help="notes of the clips to score: '60', '60,64', 'all' or 'auto' (60 where every preset was "
        "rendered at 60, else all)",
    )
    e.add_argument("--limit", type=int, default=0, help="clips per synth at most (0: all; 200 with --presets)")
    e.add_argument("--no-cross", action="store_true", help="skip the cross-synth renders")
    e.add_argument("--no-baselines", action="store_true")
    e.add_argument("--seed", type=int, default=0)
    add_refine_args(e)
    e.set_defaults(fn=cmd_eval)

    a = sub.add_parser(
        "analyze",
        help="per-parameter analysis of a model: its error against the mean preset's, and "
        "each parameter's audible sensitivity",
    )
    a.add_argument("run", type=Path, help="a run folder or checkpoint")
    a.add_argument("--out", type=Path, required=True, help="report folder")
    a.add_argument("--dataset", type=Path, default=None, help="default: the run's dataset")
    a.add_argument("--split", default="test")
    a.add_argument("--limit", type=int, default=0, help="clips per synth at most (0: all)")
    a.add_argument("--presets", type=int, default=16, help="random presets per synth for the sensitivity probe")
    a.add_argument("--step", type=float, default=0.1, help="the probe's move of a continuous parameter")
    a.add_argument("--seed", type=int, default=0)
    a.add_argument("--workers", type=int, default=2)
    a.set_defaults(fn=cmd_analyze)

    r = sub.add_parser(
        "reproduce",
        help="the multi-task ASP paper's comparisons (S-S/J-S/J-J, ANOVA, latent sizes, "
        "timbre groups) with verdicts against the published findings",
    )
    r.add_argument(
        "--out",
        type=Path,
        default=None,
        help="folder (a re-run resumes; default runs/reproduce, or runs/reproduce-quick)",
    )
    r.add_argument("--config", type=Path, default=None, help="default: configs/reproduce/full.yaml")
    r.add_argument("--quick", action="store_true", help="configs/reproduce/quick.yaml: the pipeline in minutes")
    r.set_defaults(fn=cmd_reproduce)
