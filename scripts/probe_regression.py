"""Probe: how far a plain CNN regressor gets on one synth's continuous parameters, against the mean preset, as the
number of training presets grows (issue #16: is the VAE's collapse to the mean a modelling or a data problem?).

Usage: python scripts/probe_regression.py --dataset DATA [--synth subtractive] [--epochs 15]
       python scripts/probe_regression.py --dataset DATA --model boosting [--presets 400,800,1600]

``cnn`` (default): trains on the dataset's train split (mels pooled over time by 4, one thread), prints the validation
MSE per epoch, the mean preset's, and each parameter's validation MSE as a share of the mean preset's after the last
epoch. ``boosting``: another model family on hand-made summary features of the same mels (per band: mean, standard
deviation and maximum over time; the level in 24 time segments and its differences; 16 bands x 6 segments; the
note), one scikit-learn gradient-boosted tree ensemble per parameter, fitted on the first N training presets for each
N of ``--presets`` (a learning curve): if it also stops near the mean preset, the limit is the data, not the CNN.
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


def summary_features(mels: np.ndarray, notes: np.ndarray) -> np.ndarray:
    """(n, 528) per-clip summaries of (n, 128, frames) dB mels (see the module docstring)."""
    n, bands, frames = mels.shape
    level = 20 * np.log10((10 ** (mels / 20)).mean(1) + 1e-5)  # (n, frames)
    segs = np.stack([level[:, i].mean(1) for i in np.array_split(np.arange(frames), 24)], 1)
    grid = np.stack([mels[:, :, i].mean(2) for i in np.array_split(np.arange(frames), 6)], 2)
    grid = grid.reshape(n, 16, bands // 16, 6).mean(2).reshape(n, -1)
    return np.concatenate(
        [mels.mean(2), mels.std(2), mels.max(2), segs, grid, np.diff(segs, axis=1), notes[:, None] / 127.0], 1
    )


def share(val: float, base: float) -> str:
    return f"validation MSE {val:.4f} ({val / base:.0%} of the mean preset's)"


def print_per_parameter(pred: np.ndarray, yva: np.ndarray, ytr: np.ndarray, names: list[str]) -> None:
    """Each parameter's validation MSE as a share of the mean preset's."""
    per = ((pred - yva) ** 2).mean(0) / ((yva - ytr.mean(0)) ** 2).mean(0)
    print("per parameter (share of the mean preset's MSE): " + ", ".join(f"{n} {r:.2f}" for n, r in zip(names, per)))


def boosting_curve(ds: Dataset, t, synth: str, cont: list[int], sizes: list[int]) -> None:
    from sklearn.ensemble import HistGradientBoostingRegressor

    def load(split: str) -> tuple[np.ndarray, np.ndarray]:
        rows = t[(t.synth == synth) & (t.split == split)]
        x = summary_features(ds.mels(rows).astype(np.float32), rows.note.to_numpy(np.float32))
        return x, ds.array(rows, "native")[:, cont].astype(np.float32)

    xtr, ytr = load("train")
    xva, yva = load("valid")
    base = ((yva - ytr.mean(0)) ** 2).mean()
    print(f"{synth}: {len(xtr)} training clips; mean preset's validation MSE {base:.4f}")
    for n in sizes or [len(xtr)]:
        t0 = time.time()
        pred = np.zeros_like(yva)
        for j in range(yva.shape[1]):
            model = HistGradientBoostingRegressor(max_iter=300, learning_rate=0.05, early_stopping=True, random_state=0)
            pred[:, j] = np.clip(model.fit(xtr[:n], ytr[:n, j]).predict(xva), 0, 1)
        val = ((pred - yva) ** 2).mean()
        print(f"{min(n, len(xtr))} presets: {share(val, base)}, {time.time() - t0:.0f} s", flush=True)
    print_per_parameter(pred, yva, ytr, [registry.load_schema(synth).params[c].name for c in cont])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dataset", required=True)
    ap.add_argument("--synth", default="subtractive")
    ap.add_argument("--epochs", type=int, default=15)
    ap.add_argument("--model", default="cnn", choices=("cnn", "boosting"))
    ap.add_argument("--presets", default="", help="boosting: comma list of training-set sizes (default: all)")
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

    if args.model == "boosting":
        boosting_curve(ds, t, args.synth, cont, [int(n) for n in args.presets.split(",") if n.strip()])
        return
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
        print(f"epoch {epoch}: {share(val, base)}, {time.time() - t0:.1f} s", flush=True)
    print_per_parameter(pv.numpy(), yva.numpy(), ytr.numpy(), [schema.params[c].name for c in cont])


if __name__ == "__main__":
    main()
