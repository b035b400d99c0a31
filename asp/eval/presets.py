"""The two baselines a model must beat: the mean preset of a training set and a random preset of the same synth
(scored like a model by ``asp.eval.evaluate``); and the hand-made presets an evaluation draws."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from asp.synths import load_sampling, load_schema, sample_presets
from asp.synths.schema import Preset, SynthSchema


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


def draw_hand_made(schema: SynthSchema, path: str | Path, limit: int | None, seed: int = 0) -> tuple[list[Preset], int]:
    """The distinct presets at ``path`` other than the schema's default (init patches), ``limit`` of them drawn
    (seeded; 0 or None: all), in file order; and how many distinct non-default presets there were.

    Raises:
        ValueError: nothing but the default there (naming the path).
    """
    from asp.synths.presets import read_presets

    seen, unique = {schema.default_vector().round(6).tobytes()}, []
    for p in read_presets(path, schema):
        key = np.asarray(p.vector).round(6).tobytes()
        if key not in seen:
            seen.add(key)
            unique.append(p)
    rng = np.random.default_rng(seed)
    chosen = [unique[i] for i in sorted(rng.permutation(len(unique))[: limit or len(unique)])]
    if not chosen:
        raise ValueError(f"{path}: no presets of {schema.name} other than the default")
    return chosen, len(unique)
