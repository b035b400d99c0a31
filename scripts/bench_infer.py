"""Throughput of ``asp infer`` on CPU, and where a file's time goes.

Renders a folder of target sounds (random presets of the model's synths at random notes, cycling through wav, flac,
ogg, mp3 and aiff at several rates), runs batch inference on it once, and prints files per second and the share of
time per stage: loading audio, the input mel, the model, pitch and input features, writing presets, rendering,
metrics, writing audio and results. Rendering the targets is not timed.

Usage: python scripts/bench_infer.py --checkpoint RUN/checkpoints/best.ckpt [--files 48] [--synth all]
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time
from pathlib import Path

import numpy as np

import asp.render  # noqa: F401  (DawDreamer before librosa)
from asp.data.targets import VARIANTS, write_target
from asp.infer import BatchInference, InferOptions
from asp.render import get_renderer
from asp.synths import load_sampling, load_schema, sample_presets


def make_targets(folder: Path, synths: list[str], n: int, settings, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    for i in range(n):
        synth = synths[i % len(synths)]
        v = sample_presets(load_schema(synth), 1, rng, load_sampling(synth))[0]
        note, rate, channels, fmt = VARIANTS[i % len(VARIANTS)]
        audio = get_renderer(synth, settings).render(v, note)
        write_target(folder / synth / f"t{i:04d}.{fmt}", audio, settings.sample_rate, rate, channels, fmt)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--checkpoint", type=Path, default=Path("runs/quickstart/train-J-S/checkpoints/best.ckpt"))
    ap.add_argument("--files", type=int, default=48)
    ap.add_argument("--synth", default="all")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out"
        synths = None if args.synth == "all" else args.synth.split(",")
        job = BatchInference(args.checkpoint, out, InferOptions(synths=synths))
        make_targets(Path(tmp) / "in", job.synths, args.files, job.render)
        t0 = time.perf_counter()
        table = job.run(Path(tmp) / "in", progress=False)
        wall = time.perf_counter() - t0
    ok = table[table.status == "ok"]
    print(
        f"machine: {platform.machine()}, {platform.processor() or ''} {__import__('os').cpu_count()} CPUs; "
        f"checkpoint {args.checkpoint}; synths {', '.join(job.synths)}"
    )
    print(
        f"{ok.file.nunique()} files x {len(job.synths)} synths in {wall:.1f} s: "
        f"{ok.file.nunique() / wall:.2f} files/s, {len(ok) / wall:.2f} presets/s"
    )
    total = sum(job.timings.seconds.values())
    print(f"{'stage':28s} {'s/file':>8s} {'share':>7s}")
    for stage, sec in sorted(job.timings.seconds.items(), key=lambda kv: -kv[1]):
        print(f"{stage:28s} {sec / max(1, ok.file.nunique()):8.3f} {sec / total:7.1%}")
    print(
        f"{'untimed (bookkeeping)':28s} {(wall - total) / max(1, ok.file.nunique()):8.3f} {(wall - total) / wall:7.1%}"
        f" of wall"
    )


if __name__ == "__main__":
    main()
