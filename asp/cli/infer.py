"""``asp infer``: presets for a folder of sounds (``asp.infer``)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from asp.cli.common import SEARCH_HELP, _names, add_refine_args, print_report, proxies_arg, refine_options


def cmd_infer(args: argparse.Namespace) -> int:
    from asp.infer import InferOptions, infer

    synths = None if args.synth == "all" else list(_names(args.synth))
    table = infer(
        args.audio,
        args.checkpoint,
        args.out,
        InferOptions(
            synths=synths,
            batch_size=args.batch_size,
            device=args.device,
            note=args.note,
            write_audio=not args.no_audio,
            effects=args.effects,
            effects_patience=args.effects_patience,
            effects_search_classes=args.effects_search_classes,
            refine=refine_options(args),
            samples=args.samples,
            workers=args.workers,
            proxies=proxies_arg(args.proxy),
            proxy_factor=args.proxy_factor,
            neighbours=args.neighbours,
        ),
    )
    print_report(table, args.out)
    return 0 if (table.status == "ok").any() or table.empty else 1


def add_parsers(sub: Any) -> None:
    """The ``asp infer`` command line(s)."""
    f = sub.add_parser("infer", help="presets for every sound in a folder, for each synth, re-rendered and scored")
    f.add_argument(
        "audio", type=Path, help="folder of sounds (wav, flac, ogg, mp3, aiff), searched recursively, or one file"
    )
    f.add_argument(
        "--checkpoint", type=Path, required=True, help="a .ckpt from asp train (e.g. RUN/checkpoints/best.ckpt)"
    )
    f.add_argument("--out", type=Path, required=True, help="output folder (mirrors the input tree; re-runs resume)")
    f.add_argument("--synth", default="all", help="'all' (every synth of the model) or names, comma-separated")
    f.add_argument("--note", type=int, default=None, help="render at this MIDI note instead of the pitch rule's")
    f.add_argument("--batch-size", type=int, default=16)
    f.add_argument("--device", default="cpu")
    f.add_argument("--no-audio", action="store_true", help="write no input.wav / <synth>.wav")
    f.add_argument(
        "--effects",
        type=Path,
        default=None,
        metavar="MODELS",
        help="effect-stage models (asp effects train): then infer the effect steps from the best synth's "
        "patch toward each sound",
    )
    f.add_argument("--effects-patience", type=int, default=1, help="bad effect steps tolerated")
    f.add_argument("--effects-search-classes", action="store_true", help=f"the effect stage: {SEARCH_HELP}")
    add_refine_args(f)
    f.set_defaults(fn=cmd_infer)
