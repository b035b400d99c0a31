"""Probe: can a classifier tell which synth made a sound, where the refined distances cannot?

Fits a logistic regression (scikit-learn) from three feature sets of the quickstart's dataset to the synth that
rendered each clip: the J-S encoder's output, its posterior mean, and plain mel summaries (per band mean, spread and
maximum over time). Scores each on the dataset's test split (random presets) and on the quickstart's held-back folder
(the hand-made presets), printing the class probabilities per held-back file.

Usage: python scripts/probe_synth_id.py --run runs/quickstart
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

import asp.render  # noqa: F401  (DawDreamer before librosa)
from asp.data.store import Dataset
from asp.features.audio_io import load_audio
from asp.features.mel import mel_statistics
from asp.models.inference import Predictor


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--run", type=Path, default=Path("runs/quickstart"), help="an asp quickstart output folder")
    args = ap.parse_args()
    pred = Predictor(args.run / "train-J-S" / "checkpoints" / "best.ckpt")
    ds = Dataset(args.run / "dataset")
    model = pred.module.model

    def features(mel_db: np.ndarray) -> list[np.ndarray]:
        branch = model.branch(0)
        with torch.no_grad():
            h = branch.encoder(model.pool(pred.model_input(mel_db)))
            mu = branch.latent(h, False)[1]
        m = np.asarray(mel_db, dtype=np.float32)
        return [h.numpy(), mu.numpy(), np.concatenate([mel_statistics(m), m.max(2)], 1)]

    def split(name: str) -> tuple[list[np.ndarray], np.ndarray]:
        rows = ds.split(name)
        parts = [features(ds.mels(rows.iloc[i : i + 256])) for i in range(0, len(rows), 256)]
        return [np.concatenate(p) for p in zip(*parts)], rows.synth.map(pred.synths.index).to_numpy()

    (train, y_train), (test, y_test) = split("train"), split("test")
    files = sorted(p for p in (args.run / "targets").glob("*/*") if p.suffix != ".json")
    rs = pred.render_settings
    held = features(pred.mels(np.stack([load_audio(f, rs.sample_rate, rs.n_samples).audio for f in files])))
    y_held = np.array([pred.synths.index(f.parent.name) for f in files])
    for k, name in enumerate(("encoder output", "posterior mean", "mel summary")):
        scale = StandardScaler().fit(train[k])
        clf = LogisticRegression(max_iter=3000).fit(scale.transform(train[k]), y_train)
        acc = float((clf.predict(scale.transform(test[k])) == y_test).mean())
        p = clf.predict_proba(scale.transform(held[k]))
        print(f"{name}: test split accuracy {acc:.3f}; held-back {(p.argmax(1) == y_held).sum()} of {len(files)}")
        for f, q in zip(files, p):
            probs = ", ".join(f"{s} {v:.2f}" for s, v in zip(pred.synths, q))
            print(f"    {f.parent.name}/{f.name}: {probs}")


if __name__ == "__main__":
    main()
