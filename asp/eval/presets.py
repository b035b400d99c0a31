"""The two baselines a model must beat: the mean preset of a training set and a random preset of the same synth
(scored like a model by ``asp.eval.evaluate``)."""

from __future__ import annotations

import numpy as np

from asp.synths import load_sampling, load_schema, sample_presets
from asp.synths.schema import SynthSchema


def mean_preset(schema: SynthSchema, native: np.ndarray) -> np.ndarray:
    """The "average" preset of a set: mean of each continuous parameter, most frequent class of each discrete one."""
    x = np.asarray(native, dtype=np.float64)
    out = x.mean(axis=0)
    for i, p in enumerate(schema.params):
        if p.discrete:
            k = p.class_of(x[:, i])
            out[i] = np.bincount(k, minlength=p.n_classes).argmax() / (p.n_classes - 1)
    return out.astype(np.float32)


def baselines(synth: str, train_native: np.ndarray | None, n: int, seed: int = 0) -> dict[str, np.ndarray]:
    """The mean preset (of ``train_native``; left out when None) and random presets (the synth's sampling spec),
    for n targets."""
    schema = load_schema(synth)
    rnd = sample_presets(schema, n, np.random.default_rng(seed), load_sampling(synth))
    out = {"random preset": rnd}
    if train_native is not None and len(train_native):
        out = {"mean preset": np.repeat(mean_preset(schema, train_native)[None], n, axis=0), **out}
    return out
