"""Training throughput (samples/s) and how long the step waits for data (loader wait share), on a dataset.

Usage: python scripts/bench_train.py --dataset DATA [--variant J-S] [--batch-size 32] [--workers 2] [--steps 30]
       [--time-pool 4]
       [--accelerator cpu|gpu] [--precision 32-true|bf16-mixed]

Also reports the process's peak memory against the size of the dataset's mel arrays on disk: training reads the
memory-mapped shards, so a dataset larger than memory trains without being loaded whole.
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

import lightning as L
import torch
from lightning.pytorch.callbacks import Callback

from asp.data.datamodule import AspDataModule
from asp.models.module import VAEModule


def rss_anon_mib(pid: int | str = "self") -> float:
    """Private (anonymous) resident memory of a process in MiB: file-backed pages of memory-mapped data excluded."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("RssAnon:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def tree_rss_anon_mib() -> float:
    """RssAnon of this process plus its children (the DataLoader workers)."""
    import os

    total = rss_anon_mib()
    for child in Path(f"/proc/{os.getpid()}/task").glob("*/children"):
        for pid in child.read_text().split():
            try:
                total += rss_anon_mib(pid)
            except OSError:
                pass
    return total


class Timer(Callback):
    """Wall time per step, split into waiting for the batch and computing on it."""

    def __init__(self, skip: int = 3) -> None:
        self.skip, self.wait, self.compute, self.samples, self.steps = skip, 0.0, 0.0, 0, 0
        self._end = None
        self._start = None
        self.peak_anon = 0.0

    def on_train_batch_start(self, trainer, module, batch, batch_idx) -> None:
        now = time.perf_counter()
        if self._end is not None and batch_idx >= self.skip:
            self.wait += now - self._end
        self._start = now

    def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx) -> None:
        now = time.perf_counter()
        if batch_idx >= self.skip:
            self.compute += now - self._start
            self.samples += len(batch["synth"])
            self.steps += 1
        self.peak_anon = max(self.peak_anon, tree_rss_anon_mib())
        self._end = time.perf_counter()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dataset", required=True)
    ap.add_argument("--synths", default=None, help="comma-separated (default: all in the dataset)")
    ap.add_argument("--variant", default="J-S")
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--accelerator", default="cpu")
    ap.add_argument("--precision", default="32-true")
    ap.add_argument("--encoder", default="conv")
    ap.add_argument("--limit", type=int, default=None, help="use only this many clips per split")
    ap.add_argument("--time-pool", type=int, default=1, help="model.time_pool: the mel pooled over time by this")
    args = ap.parse_args()
    L.seed_everything(0, verbose=False)
    from asp.data.store import Dataset

    synths = args.synths.split(",") if args.synths else Dataset(args.dataset).synths
    dm = AspDataModule(args.dataset, synths, batch_size=args.batch_size, num_workers=args.workers, limit=args.limit)
    module = VAEModule(
        synths,
        args.variant,
        encoder={"name": args.encoder},
        n_mels=dm.n_mels,
        n_frames=dm.n_frames,
        mel_floor_db=dm.floor_db,
        time_pool=args.time_pool,
    )
    timer = Timer()
    trainer = L.Trainer(
        accelerator=args.accelerator,
        devices=1,
        precision=args.precision,
        max_steps=args.steps,
        limit_val_batches=0,
        logger=False,
        enable_checkpointing=False,
        callbacks=[timer],
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    trainer.fit(module, datamodule=dm)
    total = timer.wait + timer.compute
    mel_bytes = sum(p.stat().st_size for p in Path(args.dataset).glob("shards/*/*/mels.npy"))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    device = torch.cuda.get_device_name() if args.accelerator == "gpu" else f"CPU ({torch.get_num_threads()} threads)"
    print(
        f"device: {device}; variant {args.variant}, encoder {args.encoder}, time pool {args.time_pool}, "
        f"batch {args.batch_size}, "
        f"{args.workers} loader workers, precision {args.precision}"
    )
    print(
        f"training: {timer.samples / total:.1f} samples/s over {timer.steps} steps "
        f"({1000 * total / max(1, timer.steps):.0f} ms/step)"
    )
    print(f"loader wait: {100 * timer.wait / total:.1f} % of step time")
    n_train = len(dm.split("train"))
    print(f"train clips {n_train}; mel arrays of the dataset on disk: {mel_bytes / 2**20:.0f} MiB")
    print(
        f"peak private memory (RssAnon, trainer + loader workers): {timer.peak_anon:.0f} MiB; "
        f"peak RSS of the trainer incl. mapped file pages: {peak / 2**20:.0f} MiB"
    )


if __name__ == "__main__":
    main()
