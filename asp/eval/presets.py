"""Preset-level evaluation: predicted presets re-rendered against the target sounds, with the two baselines the
VAE must beat (the mean preset and a random preset of the same synth).

Metrics per clip: LSD (textbook, dB; asp.features.lsd) between the re-rendered prediction and the target clip,
parameter MSE over continuous parameters (normalised units) and categorical accuracy (share of categorical parameters
whose class is right).
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import pandas as pd

from asp.features.spectral import lsd
from asp.render import RenderSettings, get_renderer
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


def param_metrics(schema: SynthSchema, pred: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(param MSE over continuous parameters, categorical accuracy) per row."""
    pred, target = np.atleast_2d(pred), np.atleast_2d(target)
    kinds = np.array([p.kind for p in schema.params])
    cont = kinds == "continuous"
    mse = ((pred[:, cont] - target[:, cont]) ** 2).mean(axis=1) if cont.any() else np.zeros(len(pred))
    cat = np.array([i for i, p in enumerate(schema.params) if p.kind == "categorical"])
    if len(cat):
        c = np.array([schema.params[i].n_classes for i in cat])
        acc = (np.round(pred[:, cat] * (c - 1)) == np.round(target[:, cat] * (c - 1))).mean(axis=1)
    else:
        acc = np.full(len(pred), np.nan)
    return mse, acc


def evaluate_methods(synth: str, targets: np.ndarray, methods: dict[str, np.ndarray], note: int = 60,
                     settings: RenderSettings | None = None,
                     progress: Callable[[int], None] | None = None) -> pd.DataFrame:
    """Render each target preset and each method's prediction at ``note``; one row per (preset, method).

    Args:
        targets: (N, n_params) ground-truth native vectors.
        methods: name -> (N, n_params) predicted native vectors.
    """
    schema = load_schema(synth)
    settings = settings or RenderSettings()
    r = get_renderer(synth, settings)
    rows = []
    for i, t in enumerate(targets):
        target_audio = r.render(t, note)
        for name, pred in methods.items():
            mse, acc = param_metrics(schema, pred[i], t)
            rows.append({"synth": synth, "item": i, "method": name, "lsd": lsd(r.render(pred[i], note), target_audio),
                         "param_mse": float(mse[0]), "cat_acc": float(acc[0])})
        if progress:
            progress(1)
    return pd.DataFrame(rows)


def baselines(synth: str, train_native: np.ndarray, n: int, seed: int = 0) -> dict[str, np.ndarray]:
    """The mean preset (from the training split) and random presets (the synth's sampling spec), for n targets."""
    schema = load_schema(synth)
    rnd = sample_presets(schema, n, np.random.default_rng(seed), load_sampling(synth))
    return {"mean preset": np.repeat(mean_preset(schema, train_native)[None], n, axis=0), "random preset": rnd}
