"""Probe: how close are the training presets nearest a target in the model's latent space, against the one-shot?

For every file of a folder of targets in ``<true synth>/<file>`` folders (the quickstart's held-back folder), per synth:
the one-shot prediction rendered at the pitch rule's note, the training preset nearest in the encoder's posterior
mean (``asp.models.neighbours``, no render needed to pick it) and the best of the K nearest, each rendered at the
sound's own note; textbook LSD against the file, as ``asp infer`` loads it. Prints the own synth's mean, the best
synth's mean and how often the best synth is the true one, per kind of start.

With ``--proxies`` (the quickstart's ``runs/quickstart/proxies``): also the candidate (one-shot or one of the K
nearest) that the synth's neural proxy puts nearest the target's embedding, still picked without a render.

Usage: python scripts/probe_neighbours.py [--run runs/quickstart] [--k 8] [--proxies runs/quickstart/proxies]
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import asp.render  # noqa: F401  (DawDreamer before librosa)
from asp.eval.pipeline import dataset_of
from asp.features.audio_io import load_audio
from asp.features.pitch import estimate_pitch, note_in, own_note
from asp.metrics import lsd
from asp.models.inference import Predictor
from asp.models.neighbours import LatentIndex
from asp.render import get_renderer


def held_back(run: Path, pred: Predictor) -> Iterator[tuple[Path, Any, int, int, np.ndarray, dict]]:
    """Per file of ``run/targets/<true synth>/``: the file, its audio as ``asp infer`` loads it, the pitch rule's note,
    the sound's own note, its mel and the model's one-shot prediction."""
    rs = pred.render_settings
    for f in sorted((run / "targets").glob("*/*")):
        la = load_audio(f, rs.sample_rate, rs.n_samples)
        pitch = estimate_pitch(la.audio, rs.sample_rate)
        mel = pred.mels(la.audio[None])
        yield f, la, note_in(pitch.midi, rs.notes), own_note(pitch.midi), mel, pred.predict(mel)


def summarize(df: pd.DataFrame, kinds: Sequence[str]) -> None:
    """Per kind of start (a column of LSDs): the own synth's mean, the best synth's mean, how often it is the true."""
    print(f"{df.file.nunique()} files, {df.synth.nunique()} synths; textbook LSD (dB)")
    width = max(len(k) for k in kinds)
    for kind in kinds:
        own_lsd = df[df.synth == df.true][kind].mean()
        best = df.loc[df.groupby("file")[kind].idxmin()]
        print(
            f"{kind:{width}s} own synth {own_lsd:6.2f}  best synth {best[kind].mean():6.2f}  "
            f"true synth chosen {int(np.sum(best.synth == best.true))} of {len(best)}"
        )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--run", type=Path, default=Path("runs/quickstart"))
    ap.add_argument("--k", type=int, default=8)
    ap.add_argument("--proxies", type=Path, default=None, help="a folder of <synth>/mlp proxies")
    args = ap.parse_args()
    ckpt = args.run / "train-J-S" / "checkpoints" / "best.ckpt"
    pred = Predictor(ckpt)
    proxies = {}
    if args.proxies is not None:
        from asp.models.proxy_training import Proxy, proxy_dir

        proxies = {s: Proxy(proxy_dir(args.proxies, s)) for s in pred.synths}
    index = LatentIndex.cached(pred, dataset_of(ckpt))
    rs = pred.render_settings
    rows = []
    for f, la, model_note, own, mel, oneshot in held_back(args.run, pred):
        for s in pred.synths:
            r = get_renderer(s, rs)
            vectors = index.nearest(s, pred.latent(mel, s)[0], args.k)
            near = [lsd(r.render(v, own), la.audio) for v in vectors]
            row = {
                "file": f"{f.parent.name}/{f.name}",
                "true": f.parent.name,
                "synth": s,
                "one-shot": lsd(r.render(oneshot[s][0], model_note), la.audio),
                "nearest": near[0],
                f"best of {args.k} nearest": min(near),
            }
            if s in proxies:  # the proxy's pick among the one-shot (at its note) and the neighbours (at the own note)
                score = proxies[s].scorer(la.audio)
                first = float(score([np.asarray(oneshot[s][0])], model_note)[0])
                rest = score([np.asarray(v) for v in vectors], own)
                row["proxy's pick"] = row["one-shot"] if first <= rest.min() else near[int(np.argmin(rest))]
            rows.append(row)
    kinds = ["one-shot", "nearest", f"best of {args.k} nearest"] + (["proxy's pick"] if proxies else [])
    summarize(pd.DataFrame(rows), kinds)


if __name__ == "__main__":
    main()
