"""``asp proxy``: neural synth proxies (preset -> audio embedding), trained and scored by retrieval."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from asp.cli.common import _names


def cmd_proxy_train(args: argparse.Namespace) -> int:
    from asp.models.proxy import ProxySettings
    from asp.models.proxy_training import train_proxy

    for arch in _names(args.arch):
        card = train_proxy(
            args.data,
            args.synth,
            args.out / arch,
            ProxySettings(arch=arch),
            epochs=args.epochs,
            batch_size=args.batch_size,
            lr=args.lr,
            seed=args.seed,
            log=lambda m: print(m, file=sys.stderr),
        )
        print(
            f"{args.synth} {arch}: best valid MSE {card['best_valid_mse']:.4f} (the mean embedding's "
            f"{card.get('mean_valid_mse', float('nan')):.4f}) in {card['train_seconds']} s"
        )
    print(f"proxies: {args.out}")
    return 0


def cmd_proxy_eval(args: argparse.Namespace) -> int:
    from asp.eval.proxy import evaluate_retrieval, write_retrieval
    from asp.models.proxy_training import Proxy

    folders = [p for f in args.proxies for p in ([f] if (f / "proxy.json").is_file() else sorted(f.glob("*/")))]
    proxies = [Proxy(f) for f in folders if (f / "proxy.json").is_file()]
    if not proxies:
        raise FileNotFoundError(f"no proxy folders (with proxy.json) in {', '.join(map(str, args.proxies))}")
    result = evaluate_retrieval(
        proxies, args.presets, limit=args.limit, distractors=args.distractors, note=args.note, seed=args.seed
    )
    md = write_retrieval(result, args.out)
    print(md.read_text())
    print(f"report: {md}")
    return 0


def add_parsers(sub: Any) -> None:
    """The ``asp proxy`` command lines."""
    px = sub.add_parser("proxy", help="neural synth proxies: preset -> audio embedding").add_subparsers(
        dest="verb", required=True
    )
    d = px.add_parser("train", help="train one proxy per architecture for a synth on a rendered dataset")
    d.add_argument("--data", type=Path, required=True, help="an asp dataset holding the synth")
    d.add_argument("--synth", required=True)
    d.add_argument("--arch", default="mlp,transformer", help="architectures (asp.models.proxy.ARCHS)")
    d.add_argument("--out", type=Path, required=True, help="folder; one subfolder per architecture")
    d.add_argument("--epochs", type=int, default=40)
    d.add_argument("--batch-size", type=int, default=64)
    d.add_argument("--lr", type=float, default=1e-3)
    d.add_argument("--seed", type=int, default=0)
    d.set_defaults(fn=cmd_proxy_train)
    d = px.add_parser("eval", help="retrieval of hand-made presets (MRR, top-k) per proxy")
    d.add_argument("proxies", type=Path, nargs="+", help="proxy folders, or folders of them")
    d.add_argument("--out", type=Path, required=True)
    d.add_argument("--presets", default=None, help="preset file or folder (default: the synth's hand-made presets)")
    d.add_argument("--limit", type=int, default=200, help="hand-made presets drawn as queries (0: all)")
    d.add_argument("--distractors", type=int, default=1000, help="random presets added to the candidates")
    d.add_argument("--note", type=int, default=60)
    d.add_argument("--seed", type=int, default=0)
    d.set_defaults(fn=cmd_proxy_eval)
