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


def draw_hand_made(
    schema: SynthSchema,
    path: str | Path,
    limit: int | None,
    seed: int = 0,
    exclude: np.ndarray | None = None,
    atol: float = 1e-4,
) -> tuple[list[Preset], int, int]:
    """The distinct presets at ``path`` other than the schema's default (init patches) and other than those in
    ``exclude`` (rows of native vectors, e.g. the presets a model was trained and validated on: a preset within
    ``atol`` of one on every parameter is left out), ``limit`` of them drawn (seeded; 0 or None: all), in file order;
    how many there were to draw from; and how many ``exclude`` left out.

    Raises:
        ValueError: nothing but the default there, or nothing but excluded presets (naming the path).
    """
    from asp.synths.presets import read_presets

    seen, unique = {schema.default_vector().round(6).tobytes()}, []
    for p in read_presets(path, schema):
        key = np.asarray(p.vector).round(6).tobytes()
        if key not in seen:
            seen.add(key)
            unique.append(p)
    left_out = 0
    if exclude is not None and len(exclude) and unique:
        pool = np.asarray(exclude, dtype=np.float64)
        keep = [p for p in unique if np.abs(pool - np.asarray(p.vector, dtype=np.float64)).max(axis=1).min() > atol]
        left_out, unique = len(unique) - len(keep), keep
    rng = np.random.default_rng(seed)
    chosen = [unique[i] for i in sorted(rng.permutation(len(unique))[: limit or len(unique)])]
    if not chosen:
        why = "other than the default" if not left_out else f"that the model was not trained on ({left_out} were)"
        raise ValueError(f"{path}: no presets of {schema.name} {why}")
    return chosen, len(unique), left_out
