"""``asp train`` and ``asp sweep``: the VAE from the Hydra configs (``asp.models``)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from asp.cli.common import _names


def cmd_train(args: argparse.Namespace) -> int:
    from asp.models.training import compose, train

    cfg = compose(args.overrides)
    if args.print_config:
        from omegaconf import OmegaConf

        print(OmegaConf.to_yaml(cfg))
        return 0
    result = train(cfg)
    print(json.dumps(result, indent=1))
    return 0


def cmd_sweep(args: argparse.Namespace) -> int:
    from asp.models.sweep import sweep

    variants = list(_names(args.variants))
    latents = [int(z) for z in args.latents.split(",") if z.strip()]
    out = sweep(
        args.overrides,
        variants,
        latents,
        Path(args.out) if args.out else None,
        backend=args.backend,
        address=args.address,
        cpus_per_trial=args.cpus_per_trial,
        gpus_per_trial=args.gpus_per_trial,
        log=lambda m: print(m, file=sys.stderr),
    )
    import pandas as pd

    print(pd.read_csv(out / "results.csv").to_string(index=False))
    print(f"results: {out / 'results.csv'}")
    return 0


def add_parsers(sub: Any) -> None:
    """The ``asp train`` command line(s)."""
    t = sub.add_parser("train", help="train a model from the Hydra configs (configs/), e.g. experiment=J-S")
    t.add_argument("overrides", nargs="*", help="key=value or group=option overrides")
    t.add_argument("--print-config", action="store_true", help="print the composed config and exit")
    t.set_defaults(fn=cmd_train)
    w = sub.add_parser("sweep", help="train variant x latent size and write one results table")
    w.add_argument("overrides", nargs="*", help="overrides applied to every run")
    w.add_argument("--variants", default="J-S,J-J,S-S")
    w.add_argument("--latents", default="2,4,8,16,32,64,128,256,512")
    w.add_argument("--out", default=None, help="sweep folder (re-running it resumes: finished runs are kept)")
    w.add_argument(
        "--backend",
        choices=("local", "ray"),
        default="local",
        help="local: trials one after another here; ray: one Ray task per trial (pip install 'asp[cluster]')",
    )
    w.add_argument("--address", default=None, help="Ray cluster to join (auto, HOST:PORT); default: a local Ray")
    w.add_argument("--cpus-per-trial", type=float, default=1, help="Ray resources of each trial")
    w.add_argument(
        "--gpus-per-trial", type=float, default=0, help="Ray resources of each trial (e.g. 1 with trainer=gpu)"
    )
    w.set_defaults(fn=cmd_sweep)
