"""Probe: how far a plain CNN regressor gets on one synth's continuous parameters, against the mean preset, as the
number of training presets grows (issue #16: is the VAE's collapse to the mean a modelling or a data problem?).

Usage: python scripts/probe_regression.py --dataset DATA [--synth subtractive] [--epochs 15]

Trains on the dataset's train split (mels pooled over time by 4, one thread), prints the validation MSE per epoch,
the mean preset's, and each parameter's validation MSE as a share of the mean preset's after the last epoch.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from asp.data.store import Dataset
from asp.models.components import conv_blocks
from asp.synths import registry


class Encoder(nn.Module):
    """asp's strided conv blocks, pooled to an 8 x 8 grid, then a dense layer."""

    def __init__(self, channels: tuple[int, ...] = (16, 32, 64, 128)) -> None:
        super().__init__()
        self.conv = conv_blocks(channels)  # asp's conv encoder's blocks
        self.pool = nn.AdaptiveAvgPool2d((8, 8))
        self.fc = nn.Sequential(nn.Flatten(), nn.Linear(channels[-1] * 64, 256), nn.GELU())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.pool(self.conv(x)))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dataset", required=True)
    ap.add_argument("--synth", default="subtractive")
    ap.add_argument("--epochs", type=int, default=15)
    args = ap.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(1)
    ds = Dataset(args.dataset)
    t = ds.table
    schema = registry.load_schema(args.synth)
    cont = [i for i, p in enumerate(schema.params) if not p.discrete]

    def load(split: str) -> tuple[torch.Tensor, torch.Tensor]:
        rows = t[(t.synth == args.synth) & (t.split == split)]
        x = (torch.from_numpy(ds.mels(rows).astype(np.float32)) + 100) / 100
        x = F.avg_pool2d(x[:, None], (1, 4), ceil_mode=True)
        return x, torch.from_numpy(ds.array(rows, "native")[:, cont].astype(np.float32))

    xtr, ytr = load("train")
    xva, yva = load("valid")
    base = ((yva - ytr.mean(0)) ** 2).mean().item()
    print(f"{args.synth}: {len(xtr)} training clips; mean preset's validation MSE {base:.4f}")
    model = nn.Sequential(Encoder(), nn.Dropout(0.2), nn.Linear(256, len(cont)))
    opt = torch.optim.AdamW(model.parameters(), 1e-3, weight_decay=1e-2)
    for epoch in range(args.epochs):
        model.train()
        perm = torch.randperm(len(xtr))
        t0 = time.time()
        for i in range(0, len(xtr), 32):
            b = perm[i : i + 32]
            loss = F.mse_loss(torch.sigmoid(model(xtr[b])), ytr[b])
            opt.zero_grad()
            loss.backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            pv = torch.sigmoid(model(xva))
        val = ((pv - yva) ** 2).mean().item()
        print(
            f"epoch {epoch}: validation MSE {val:.4f} ({val / base:.0%} of the mean preset's), "
            f"{time.time() - t0:.1f} s",
            flush=True,
        )
    per = ((pv - yva) ** 2).mean(0) / ((yva - ytr.mean(0)) ** 2).mean(0)
    print(
        "per parameter (share of the mean preset's MSE): "
        + ", ".join(f"{schema.params[c].name} {float(r):.2f}" for c, r in zip(cont, per))
    )


if __name__ == "__main__":
    main()
