"""``asp dataset``: generate, inspect and import datasets (``asp.data``)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from asp.cli.common import _notes, _synth_list
from asp.synths import registry


def _generate_config(args: argparse.Namespace):
    from asp.data.generate import GenerateConfig
    from asp.render.settings import RenderSettings

    files = {}
    for item in args.preset_files or []:
        if "=" not in item:
            raise SystemExit(f"error: --preset-files takes SYNTH=PATH, got {item!r}")
        synth, path = item.split("=", 1)
        registry.get(synth)
        files[synth] = path
    return GenerateConfig(
        out=Path(args.out),
        synths=_synth_list(args.synths),
        presets_per_synth=args.presets,
        preset_files=files,
        seed=args.seed,
        workers=args.workers,
        shard_size=args.shard_size,
        silence_db=args.silence_db,
        hpss=args.hpss,
        render=RenderSettings(notes=_notes(args.notes)),
        save_audio=args.save_audio,
        self_distance_presets=args.floor_presets,
        backend=args.backend,
        address=args.address,
        notes_per_preset=args.notes_per_preset,
        hpss_train=not args.no_hpss_train,
        default_share=args.default_share,
    )


def cmd_dataset_generate(args: argparse.Namespace) -> int:
    from asp.data.generate import clear, generate, summary_frame
    from asp.data.layout import read_card

    cfg = _generate_config(args)
    if args.overwrite:
        clear(cfg.out)
    out = generate(cfg, progress=not args.no_progress)
    print(summary_frame(read_card(out) or {}).to_string(index=False))
    print(f"dataset: {out}")
    return 0


def cmd_dataset_info(args: argparse.Namespace) -> int:
    from asp.data.generate import summary_frame
    from asp.data.layout import read_card

    card = read_card(Path(args.path))
    if card is None:
        print(f"error: {args.path}: no card.json (not a finished asp dataset)", file=sys.stderr)
        return 2
    print(json.dumps(card, indent=1) if args.json else summary_frame(card).to_string(index=False))
    return 0


def cmd_dataset_import(args: argparse.Namespace) -> int:
    from asp.data.importers import import_multitask

    out = import_multitask(Path(args.src), Path(args.out), shard_size=args.shard_size)
    print(f"imported into {out}")
    return 0


def add_parsers(sub: Any) -> None:
    """The ``asp dataset`` command line(s)."""
    data = sub.add_parser("dataset", help="build and inspect datasets").add_subparsers(dest="verb", required=True)
    g = data.add_parser("generate", help="render a multi-synth dataset")
    g.add_argument("--synths", default="builtin", help="comma-separated names, or 'builtin' (default)")
    g.add_argument("--presets", type=int, default=100, help="random presets per synth (cap when reading files)")
    g.add_argument(
        "--preset-files",
        action="append",
        metavar="SYNTH=PATH",
        help="read this synth's presets from a file or folder instead of sampling (repeatable)",
    )
    g.add_argument("--notes", default="60-71", help="MIDI notes, e.g. 60-71 or 60,64")
    g.add_argument(
        "--notes-per-preset",
        type=int,
        default=0,
        help="render each preset at this many notes drawn from --notes (seeded); 0: at every note",
    )
    g.add_argument(
        "--default-share",
        type=float,
        default=0.0,
        help="in random presets, the chance that a parameter keeps its default value (hand-made presets keep "
        "many); 0: sample every parameter",
    )
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--out", required=True)
    g.add_argument(
        "--workers",
        type=int,
        default=2,
        help="render processes (0 = this process); with --backend ray, actors (one CPU each)",
    )
    g.add_argument(
        "--backend",
        choices=("local", "ray"),
        default="local",
        help="local process pool (default) or Ray actors (pip install 'asp[cluster]'); same shards",
    )
    g.add_argument(
        "--address",
        default=None,
        help="Ray cluster to join (auto, HOST:PORT, ray://HOST:10001); default: start a local Ray",
    )
    g.add_argument("--shard-size", type=int, default=16, help="presets per shard")
    g.add_argument("--silence-db", type=float, default=-60.0, help="drop clips whose RMS is below this (dBFS)")
    g.add_argument(
        "--hpss",
        choices=("exact", "fast"),
        default="exact",
        help="harmonic share: exact (paper settings) or fast (hop 1024)",
    )
    g.add_argument(
        "--no-hpss-train",
        action="store_true",
        help="skip the harmonic share (and the extra C4 render) of training presets: evaluation reads it "
        "on the valid and test splits only",
    )
    g.add_argument("--save-audio", action="store_true", help="also store the audio of every clip")
    g.add_argument("--floor-presets", type=int, default=4, help="presets per synth for the self-distance floor")
    g.add_argument("--overwrite", action="store_true", help="delete the output folder first")
    g.add_argument("--no-progress", action="store_true")
    g.set_defaults(fn=cmd_dataset_generate)
    i = data.add_parser("info", help="summary of a dataset")
    i.add_argument("path")
    i.add_argument("--json", action="store_true")
    i.set_defaults(fn=cmd_dataset_info)
    m = data.add_parser("import", help="import the published multi-task dataset layout (*.npy)")
    m.add_argument("src")
    m.add_argument("out")
    m.add_argument("--shard-size", type=int, default=4096, help="clips per shard")
    m.set_defaults(fn=cmd_dataset_import)
