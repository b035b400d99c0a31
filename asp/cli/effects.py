"""``asp effects``: the effect stage's data, models, evaluation and steps (``asp.effects``)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from asp.cli.common import LOGGERS, SEARCH_HELP, WANDB_MODES, _names, add_config_arg


def cmd_effects_list(args: argparse.Namespace) -> int:
    from asp.synths import effect_specs as specs

    for name in specs.rack_order():
        spec = specs.get(name)
        print(f"{name} ({spec.label})")
        for p in spec.params:
            what = (
                f"{len(p.classes)} classes: {', '.join(p.classes)}"
                if p.categorical
                else " or ".join(f"[{lo:g}, {hi:g}]" for lo, hi in p.sample_ranges)
            )
            print(f"  {p.name:<10} {what}")
    return 0


def cmd_effects_dataset(args: argparse.Namespace) -> int:
    from asp.data.effects import GROUPS_DIR, EffectDataConfig, generate

    cfg = EffectDataConfig(
        out=args.out,
        groups=_names(args.groups),
        presets_dir=args.presets_dir or GROUPS_DIR,
        draws=args.draws,
        seed=args.seed,
        workers=args.workers,
        only=_names(args.splits),
    )
    out = generate(cfg)
    card = json.loads((out / "card.json").read_text())
    import pandas as pd

    print(pd.DataFrame(card["per_split"]).T.to_string())
    print(f"{card['families']} families, {card['renders']} renders: {out}")
    return 0


def cmd_effects_train(args: argparse.Namespace) -> int:
    from asp.effects.training import train_models

    res = train_models(
        args.data,
        args.out,
        features=args.features,
        epochs=args.epochs,
        batch_size=args.batch_size,
        selectors=_names(args.selectors),
        seed=args.seed,
        lr=args.lr,
        limit=args.limit or None,
        intermediate=args.intermediate,
        selector_epochs=args.selector_epochs or None,
        order=args.order,
        order_metric=args.order_metric,
        logger=args.logger,
        wandb_mode=args.wandb_mode,
        wandb_project=args.wandb_project,
        log=lambda m: print(m, file=sys.stderr),
    )
    import pandas as pd

    table = pd.DataFrame({k: v for k, v in res.items() if not k.startswith("_")}).T
    print(table[[c for c in ("val/loss", "val/accuracy") if c in table]].to_string())
    print(f"models: {args.out}")
    return 0


def cmd_effects_eval(args: argparse.Namespace) -> int:
    from asp.eval.effects import EvalConfig, evaluate

    cfg = EvalConfig(
        groups=_names(args.groups) or None,
        systems=_names(args.systems) or EvalConfig.systems,
        pairs_per_length=args.pairs_per_length,
        split=args.split,
        metric=args.metric,
        patience=args.patience,
        seed=args.seed,
        search_classes=args.search_classes,
    )
    md = evaluate(args.data, args.models, args.out, cfg, log=lambda m: print(m, file=sys.stderr))
    print(md.read_text())
    print(f"\nreport: {md} (tables as CSV, plots as PNG beside it)")
    return 0


def cmd_effects_steps(args: argparse.Namespace) -> int:
    from asp.effects.steps import load_pair, run_steps, serum_pair, summary
    from asp.effects.systems import Models

    models = Models(args.models)
    rack = None
    if args.backend == "serum":
        pair, rack = serum_pair(args.input, args.target, note=args.note, max_seconds=args.max_seconds)
    elif args.note is not None:
        raise ValueError("--note sets the note a Serum patch plays; it needs --backend serum")
    else:
        pair = load_pair(args.input, args.target, max_seconds=args.max_seconds)
    for note in pair.notes():
        print(f"note: {note}", file=sys.stderr)
    res = run_steps(
        pair,
        models,
        args.out,
        system=args.system,
        patience=args.patience,
        rollback=args.rollback,
        metric=args.metric,
        rack=rack,
        search_classes=args.search_classes,
    )
    print(f"stopped: {res.stopped}")
    print(summary(res))
    print(f"steps, audio and spectrograms: {args.out}")
    return 0


def add_parsers(sub: Any) -> None:
    """The ``asp effects`` command line(s)."""
    fx = sub.add_parser("effects", help="the effect stage (SerumRNN): data, models, steps").add_subparsers(
        dest="verb", required=True
    )
    d = fx.add_parser("dataset", help="render the preset groups through all 32 effect subsets")
    d.add_argument("--out", type=Path, required=True)
    from asp.synths.effect_specs import PRESET_GROUPS

    d.add_argument("--groups", default=",".join(PRESET_GROUPS), help="preset groups (folders of preset JSON files)")
    d.add_argument("--presets-dir", type=Path, default=None, help="where the groups live (default: presets/effects)")
    d.add_argument("--draws", type=int, default=8, help="random effect settings per preset")
    d.add_argument("--seed", type=int, default=0)
    d.add_argument("--workers", type=int, default=2, help="render processes (0 = this process)")
    d.add_argument(
        "--splits",
        default="train,valid,test",
        help="render these splits only (e.g. test with more --draws: a larger test set, same presets)",
    )
    add_config_arg(d, "configs/effects/dataset.yaml")
    d.set_defaults(fn=cmd_effects_dataset)
    d = fx.add_parser("train", help="train the parameter models and the effect selectors")
    d.add_argument("--data", type=Path, required=True, help="an effect dataset (asp effects dataset)")
    d.add_argument("--out", type=Path, required=True)
    d.add_argument("--features", default="mel", choices=("mel", "mfcc"))
    d.add_argument("--epochs", type=int, default=10)
    d.add_argument("--selector-epochs", type=int, default=0, help="the selectors' epochs (0: --epochs)")
    d.add_argument("--batch-size", type=int, default=32)
    d.add_argument("--selectors", default="rnn,rnn_ni,cnn,cnn_1s", help="selector variants to train")
    d.add_argument(
        "--intermediate",
        default="both",
        choices=("true", "model", "both"),
        help="selectors' steps on true intermediate audio, on the parameter models' own, or both",
    )
    d.add_argument("--limit", type=int, default=0, help="at most this many examples per split and model (0: all)")
    d.add_argument("--lr", type=float, default=1e-3)
    d.add_argument("--seed", type=int, default=0)
    d.add_argument(
        "--order",
        default="any",
        choices=("any", "greedy"),
        help="selectors' label: any missing effect (the paper) or the one that helps most first",
    )
    d.add_argument("--order-metric", default="mssmae", help="the metric of --order greedy")
    d.add_argument(
        "--logger",
        default="wandb",
        choices=LOGGERS,
        help="wandb (offline by default; a run per model, beside metrics.csv) or csv only",
    )
    d.add_argument("--wandb-mode", default="offline", choices=WANDB_MODES)
    d.add_argument("--wandb-project", default="asp")
    add_config_arg(d, "configs/effects/train.yaml")
    d.set_defaults(fn=cmd_effects_train)
    d = fx.add_parser("eval", help="the paper's tables per preset group: every system on test pairs")
    d.add_argument("--data", type=Path, required=True)
    d.add_argument("--models", type=Path, required=True, help="a folder written by asp effects train")
    d.add_argument("--out", type=Path, required=True)
    d.add_argument("--groups", default="", help="preset groups (default: all in the dataset)")
    d.add_argument("--systems", default="", help="comma list of systems (default: all; asp.effects.systems)")
    d.add_argument("--pairs-per-length", type=int, default=200, help="pairs per chain length 1-5 (the paper: 200)")
    d.add_argument("--split", default="test", choices=("train", "valid", "test"))
    d.add_argument("--metric", default="mssmae", help="the stopping rule's metric")
    d.add_argument("--patience", type=int, default=1, help="bad steps tolerated by the main tables' rule")
    d.add_argument("--seed", type=int, default=0)
    d.add_argument("--search-classes", action="store_true", help=SEARCH_HELP)
    add_config_arg(d, "configs/effects/eval.yaml")
    d.set_defaults(fn=cmd_effects_eval)
    d = fx.add_parser("steps", help="move INPUT toward TARGET one effect at a time")
    d.add_argument("input", type=Path, help="audio (built-in rack) or a Serum JSON preset (--backend serum)")
    d.add_argument("target", type=Path)
    d.add_argument("--models", type=Path, required=True, help="a folder written by asp effects train")
    d.add_argument("--out", type=Path, required=True, help="folder for the steps' audio, PNGs and steps.json")
    d.add_argument("--system", default="serumrnn", help="serumrnn, serumrnn_ni, serumcnn, serumcnn_1s or random")
    d.add_argument("--patience", type=int, default=1, help="bad steps tolerated before stopping")
    d.add_argument("--rollback", action="store_true", help="end on the best step instead of the last kept one")
    d.add_argument("--metric", default="mssmae", help="the stopping rule's metric")
    d.add_argument("--max-seconds", type=float, default=5.0, help="use at most this much of the target")
    d.add_argument(
        "--backend",
        choices=("faust", "serum"),
        default="faust",
        help="faust: the built-in rack after INPUT's audio; serum: Serum's own FX on the patch INPUT "
        "(needs the plugin)",
    )
    d.add_argument("--search-classes", action="store_true", help=SEARCH_HELP)
    d.add_argument(
        "--note",
        type=int,
        default=None,
        help="--backend serum: the MIDI note the patch plays (default: the effect datasets' note, 48)",
    )
    add_config_arg(d, "configs/effects/steps.yaml")
    d.set_defaults(fn=cmd_effects_steps)
    d = fx.add_parser("list", help="the effects, their parameters and sampling ranges, in rack order")
    d.set_defaults(fn=cmd_effects_list)
