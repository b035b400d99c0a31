"""Latency of one effect step (selection, parameters, render, features and metrics) on CPU, with its breakdown.

Runs the SerumRNN system (and, for comparison, SerumCNN and Random) from test families' dry sounds toward their
full-chain targets with every step allowed (5 steps per run), 1 s clips at 44.1 kHz as in the paper, and prints the
mean and 95th percentile per step and per stage, and the ratios to the paper's claimed ~300 ms per step and to
asp's goal of 100 ms. The first run of each system warms up and is not timed. Latency does not depend on how well
the models are trained, so ``--quick`` trains tiny ones on a tiny dataset when no ``--models`` are given.

Usage: python scripts/bench_effects.py --data runs/fx/data --models runs/fx/models [--runs 20] [--threads 1]
       [--search-classes]  (also SerumRNN with the loop's class search, per effect)
       python scripts/bench_effects.py --quick
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

import asp.render  # noqa: F401  (DawDreamer before librosa)
from asp.data.effects import EffectDataConfig, EffectDataset, generate
from asp.effects.loop import EffectLoop
from asp.effects.systems import LABELS, Models, build
from asp.effects.training import train_models
from asp.render.effects import FaustRack
from asp.synths import effect_specs as specs

PAPER_MS = 300.0
GOAL_MS = 100.0
STAGES = ("select", "params", "render", "features")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=None)
    ap.add_argument("--models", type=Path, default=None)
    ap.add_argument("--quick", action="store_true", help="build a tiny dataset and tiny models in a temp folder")
    ap.add_argument("--runs", type=int, default=20, help="timed runs per system (5 steps each)")
    ap.add_argument("--threads", type=int, default=1, help="torch threads of the effect models (0: torch's default)")
    ap.add_argument("--systems", default="serumrnn,serumcnn,random")
    ap.add_argument(
        "--search-classes",
        action="store_true",
        help="also time SerumRNN with the loop's class search (every distortion mode rendered)",
    )
    args = ap.parse_args()
    tmp = tempfile.TemporaryDirectory()
    if args.quick and (args.data is None or args.models is None):
        root = Path(tmp.name)
        args.data = generate(
            EffectDataConfig(out=root / "data", groups=("basic_shapes",), draws=1, workers=2), log=lambda m: None
        )
        args.models = root / "models"
        train_models(args.data, args.models, epochs=1, limit=32, intermediate="true", log=lambda m: None)
    if args.data is None or args.models is None:
        ap.error("give --data and --models, or --quick")
    ds = EffectDataset(args.data)
    models = Models(args.models, threads=args.threads or None)
    rack = FaustRack(ds.sample_rate)
    fams = ds.rows("test")
    cases = []
    for i in range(args.runs + 1):
        fam = int(fams[i % len(fams)])
        dry = ds.dry(fam)
        cases.append((dry, rack.apply(dry, ds.chain(fam))))
    rows = []
    variants = [(s, False) for s in args.systems.split(",")] + ([("serumrnn", True)] if args.search_classes else [])
    for system, search in variants:
        label = LABELS[system] + (", class search" if search else "")
        for i, (dry, target) in enumerate(cases):
            policy, params = build(system, models, missing=specs.rack_order(), rng=i)
            t0 = time.perf_counter()
            res = EffectLoop(rack, policy, params, patience=5, search_classes=search).run(dry, target)
            wall = time.perf_counter() - t0
            if i == 0:
                continue  # warm-up
            for s in res.steps:
                rows.append(
                    {
                        "system": label,
                        "step": s.index,
                        "effect": s.effect,
                        **{k: s.seconds[k] * 1000 for k in STAGES},
                        "run_ms": wall * 1000 / len(res.steps),
                    }
                )
    df = pd.DataFrame(rows)
    df["total"] = df[list(STAGES)].sum(axis=1)
    print(
        f"machine: {platform.processor() or platform.machine()}, {args.threads or torch.get_num_threads()} torch "
        "thread(s), "
        f"torch {torch.__version__}; {args.runs} timed runs x 5 steps per system, 1 s clips at {ds.sample_rate} Hz; "
        f"models: {models.folder} ({models.features})"
    )
    table = df.groupby("system", sort=False).agg(
        **{f"{k} ms": (k, "mean") for k in (*STAGES, "total")},
        p95_ms=("total", lambda x: np.percentile(x, 95)),
        loop_ms=("run_ms", "mean"),
        steps=("total", "size"),
    )
    print(table.to_string(float_format=lambda v: f"{v:.1f}"))
    by_step = df[df.system == "SerumRNN"].groupby("step")[["select", "total"]].mean()
    print("\nSerumRNN per step number (the selector reads every step so far):")
    print(by_step.to_string(float_format=lambda v: f"{v:.1f}"))
    if args.search_classes:
        by_effect = df[df.system.str.startswith("SerumRNN")].pivot_table(
            index="effect", columns="system", values="total", aggfunc="mean"
        )
        print("\nSerumRNN per effect, without and with the class search (ms per step):")
        print(by_effect.to_string(float_format=lambda v: f"{v:.1f}"))
    rnn = table.loc["SerumRNN", "total ms"] if "SerumRNN" in table.index else table["total ms"].iloc[0]
    print(
        f"\nSerumRNN step: {rnn:.1f} ms; paper's claim / asp = x{PAPER_MS / rnn:.2f}; "
        f"asp / goal ({GOAL_MS:.0f} ms) = {rnn / GOAL_MS:.2f}"
    )
    tmp.cleanup()


if __name__ == "__main__":
    main()
