"""Probe: does a neural proxy's gradient move a preset towards a target's sound, with no render?

For every file of the quickstart's held-back folder (``<true synth>/<file>``), per synth: the one-shot prediction and
the K training presets nearest the target in the model's latent space are relaxed (continuous and binary values
through a sigmoid, each categorical parameter as a softmax over its classes) and moved by Adam to bring the synth's
proxy embedding (``asp.models.proxy_training.Proxy``) of the preset towards the target's embedding. The steered
presets are snapped back to valid values and rendered at the sound's own note (the one-shot also at the pitch rule's
note, as ``asp infer`` plays it); textbook LSD against the file. The steered preset picked without a render is the one
with the smallest proxy distance after steering.

Usage: python scripts/probe_proxy_steer.py [--run runs/quickstart] [--k 8] [--steps 200] [--lr 0.05]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from probe_neighbours import held_back, summarize  # scripts/, on the path when run as a script

import asp.render  # noqa: F401  (DawDreamer before librosa)
from asp.eval.pipeline import dataset_of
from asp.metrics import lsd
from asp.models.inference import Predictor
from asp.models.neighbours import LatentIndex
from asp.models.proxy_training import Proxy, proxy_dir
from asp.render import get_renderer


def steer(proxy: Proxy, starts: np.ndarray, note: int, goal: np.ndarray, steps: int, lr: float) -> tuple:
    """(B, n_params) starts -> (steered (B, n_params), proxy distance before (B,), after (B,))."""
    schema = proxy.schema
    onehot = torch.from_numpy(schema.encode(starts).astype(np.float32))
    kinds = torch.from_numpy(schema.onehot_kinds.astype(np.int64))
    scalar = kinds != 1
    logits = torch.zeros_like(onehot)
    logits[:, scalar] = torch.logit(onehot[:, scalar].clamp(0.02, 0.98))
    groups = schema.categorical_groups
    for _, start, c in groups:
        logits[:, start : start + c] = torch.log(onehot[:, start : start + c] * 0.9 + 0.1 / c) * 2.0
    logits.requires_grad_(True)
    notes = torch.full((len(starts),), float(note))
    target = torch.from_numpy(goal.astype(np.float32))[None]
    for p in proxy.model.parameters():
        p.requires_grad_(False)

    def relaxed(lg: torch.Tensor) -> torch.Tensor:
        parts = torch.sigmoid(lg) * scalar
        for _, start, c in groups:
            soft = torch.softmax(lg[:, start : start + c], dim=1)
            parts = parts + torch.nn.functional.pad(soft, (start, lg.shape[1] - start - c))
        return parts

    def dist(x: torch.Tensor) -> torch.Tensor:
        return ((proxy.model(x, notes) - target) ** 2).mean(dim=1).sqrt()

    with torch.no_grad():
        before = dist(onehot).numpy()
    opt = torch.optim.Adam([logits], lr=lr)
    for _ in range(steps):
        opt.zero_grad()
        dist(relaxed(logits)).sum().backward()
        opt.step()
    with torch.no_grad():
        steered = schema.decode(relaxed(logits).numpy())
        after = dist(torch.from_numpy(schema.encode(steered).astype(np.float32))).numpy()
    return steered.astype(np.float64), before, after


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--run", type=Path, default=Path("runs/quickstart"))
    ap.add_argument("--k", type=int, default=8)
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--lr", type=float, default=0.05)
    ap.add_argument("--arch", default="mlp")
    ap.add_argument("--csv", type=Path, help="write the per-file, per-synth table here")
    args = ap.parse_args()
    torch.set_num_threads(1)
    ckpt = args.run / "train-J-S" / "checkpoints" / "best.ckpt"
    pred = Predictor(ckpt)
    index = LatentIndex.cached(pred, dataset_of(ckpt))
    proxies = {s: Proxy(proxy_dir(args.run / "proxies", s, args.arch)) for s in pred.synths}
    rs = pred.render_settings
    rows = []
    for f, la, model_note, own, mel, oneshot in held_back(args.run, pred):
        for s in pred.synths:
            r = get_renderer(s, rs)
            px = proxies[s]
            goal = px.embed_audio(la.audio)
            starts = np.concatenate([oneshot[s][:1], index.nearest(s, pred.latent(mel, s)[0], args.k)])
            steered, before, after = steer(px, starts, own, goal, args.steps, args.lr)
            pick = int(np.argmin(after))
            near = [lsd(r.render(v, own), la.audio) for v in starts[1:]]
            first = lsd(r.render(oneshot[s][0], model_note), la.audio)
            steered_first = lsd(r.render(steered[0], own), la.audio)
            rows.append(
                {
                    "file": f"{f.parent.name}/{f.name}",
                    "true": f.parent.name,
                    "synth": s,
                    "one-shot": first,
                    "one-shot steered": steered_first,
                    "nearest": near[0],
                    "steered, picked by proxy": lsd(r.render(steered[pick], own), la.audio),
                    "starts (one-shot, K nearest)": min(first, *near),
                    "starts + one-shot steered": min(first, steered_first, *near),
                    "proxy one-shot": before[0],
                    "proxy one-shot steered": after[0],
                }
            )
    df = pd.DataFrame(rows)
    if args.csv:
        df.to_csv(args.csv, index=False)
    summarize(
        df,
        (
            "one-shot",
            "one-shot steered",
            "nearest",
            "steered, picked by proxy",
            "starts (one-shot, K nearest)",
            "starts + one-shot steered",
        ),
    )
    print(df.groupby("synth")[["proxy one-shot", "proxy one-shot steered"]].mean().round(3))


if __name__ == "__main__":
    main()
