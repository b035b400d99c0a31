"""Proxy-assisted refinement against plain refinement: distance against real renders and seconds, one run.

On one synth's hand-made presets (drawn as ``asp eval --presets`` draws them, rendered at ``--note`` with the model's
settings), each target is refined from the same start (the J-S model's one-shot prediction), with the default search
(``asp.search.refine``, sparse ES, 2.5 s search renders, textbook LSD), at several budgets:

* ``plain``: no screen;
* ``proxy xF``: every generation draws F times more children and renders only those the proxy ranks closest to the
  target's embedding (``Proxy.scorer``).

Prints, per system and budget, the mean final LSD (full-quality render), renders and seconds per target (one
process), and the smallest budget at which each proxy system reaches plain refinement's distance at its largest
budget (the "3x fewer renders" question); writes ``proxy_refine.csv`` and ``proxy_refine.png`` to ``--out``.

Usage: python scripts/bench_proxy_refine.py --checkpoint RUN/checkpoints/best.ckpt --proxy PROXY_DIR
       [--synth amsynth] [--targets 20] [--budgets 50,100,200,400] [--factors 4,8]
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd

import asp.render  # noqa: F401  (DawDreamer before librosa)
from asp.eval.presets import draw_hand_made
from asp.metrics import lsd
from asp.models.inference import Predictor
from asp.models.proxy_training import Proxy
from asp.render import get_renderer
from asp.search import Candidate, SearchOptions
from asp.search.refine import refine
from asp.synths import registry


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--checkpoint", type=Path, required=True)
    ap.add_argument("--proxy", type=Path, required=True, help="a folder written by asp proxy train (one arch)")
    ap.add_argument("--synth", default="amsynth")
    ap.add_argument("--targets", type=int, default=20)
    ap.add_argument("--note", type=int, default=60)
    ap.add_argument("--budgets", default="50,100,200,400")
    ap.add_argument("--factors", default="4,8")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=Path("runs/bench_proxy_refine"))
    a = ap.parse_args()
    a.out.mkdir(parents=True, exist_ok=True)
    pred, proxy = Predictor(a.checkpoint), Proxy(a.proxy)
    schema = registry.load_schema(a.synth)
    presets, _, _ = draw_hand_made(schema, registry.factory_presets(a.synth), a.targets, a.seed)
    settings = pred.render_settings
    renderer = get_renderer(a.synth, settings)
    targets = np.stack([renderer.render(p.vector, a.note) for p in presets])
    starts = pred.predict(pred.mels(targets), [a.synth])[a.synth]
    oneshot = np.mean([lsd(t, renderer.render(v, a.note)) for t, v in zip(targets, starts)])
    budgets = [int(b) for b in a.budgets.split(",")]
    systems = {"plain": 1} | {f"proxy x{f}": int(f) for f in a.factors.split(",")}
    rows = []
    for name, factor in systems.items():
        for b in budgets:
            opts = SearchOptions(budget=b, halving=False, seed=a.seed)
            dists, renders, secs = [], [], []
            for t, v in zip(targets, starts):
                t0 = time.perf_counter()
                screens = {a.synth: proxy.scorer(t)} if factor > 1 else None
                r = refine(t, {a.synth: [Candidate(v, a.note)]}, opts, settings, screens=screens, screen_factor=factor)[
                    a.synth
                ]
                secs.append(time.perf_counter() - t0)
                renders.append(r.renders)
                dists.append(lsd(t, r.audio) if r.audio is not None else np.inf)
            rows.append(
                {
                    "system": name,
                    "budget": b,
                    "lsd": float(np.mean(dists)),
                    "renders": float(np.mean(renders)),
                    "seconds": float(np.mean(secs)),
                }
            )
            print(
                f"{name:10s} budget {b:4d}: LSD {rows[-1]['lsd']:.2f} dB, {rows[-1]['renders']:.0f} renders, "
                f"{rows[-1]['seconds']:.2f} s per target",
                flush=True,
            )
    df = pd.DataFrame(rows)
    df.to_csv(a.out / "proxy_refine.csv", index=False)
    goal = df[(df.system == "plain") & (df.budget == max(budgets))].lsd.item()
    print(
        f"\n{len(targets)} {a.synth} hand-made presets at note {a.note}; one-shot LSD {oneshot:.2f} dB; "
        f"machine: {platform.machine()}, {platform.python_version()}"
    )
    print(f"plain refinement at {max(budgets)} renders: {goal:.2f} dB")
    for name in systems:
        reach = df[(df.system == name) & (df.lsd <= goal)]
        first = int(reach.budget.min()) if len(reach) else None
        print(
            f"  {name}: reaches it at budget {first}"
            + (f" ({max(budgets) / first:.1f}x fewer renders)" if first else " (not within the budgets tried)")
        )
    from asp.plotting import pyplot, save_png

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    for name in systems:
        d = df[df.system == name]
        ax.plot(d.renders, d.lsd, marker="o", label=name)
    ax.axhline(oneshot, ls=":", c="gray", label="one-shot")
    ax.set_xscale("log")
    ax.set_xlabel("real renders per target")
    ax.set_ylabel("LSD (dB)")
    ax.legend()
    save_png(fig, a.out / "proxy_refine.png")


if __name__ == "__main__":
    main()
