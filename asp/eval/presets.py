"""Preset-level evaluation: predicted presets re-rendered against the target sounds, with the two baselines the
VAE must beat (the mean preset and a random preset of the same synth).

Metrics per clip: LSD (textbook, dB; asp.metrics.lsd) between the re-rendered prediction and the target clip,
parameter MSE over continuous parameters (normalised units) and categorical accuracy (share of categorical parameters
whose class is right).
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import pandas as pd

from asp.metrics import lsd, preset_metrics
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
            pm = preset_metrics(schema, pred[i], t)
            rows.append({"synth": synth, "item": i, "method": name, "lsd": lsd(r.render(pred[i], note), target_audio),
                         **{k: float(v[0]) for k, v in pm.items()}})
        if progress:
            progress(1)
    return pd.DataFrame(rows)


def baselines(synth: str, train_native: np.ndarray | None, n: int, seed: int = 0) -> dict[str, np.ndarray]:
    """The mean preset (of ``train_native``; left out when None) and random presets (the synth's sampling spec),
    for n targets."""
    schema = load_schema(synth)
    rnd = sample_presets(schema, n, np.random.default_rng(seed), load_sampling(synth))
    out = {"random preset": rnd}
    if train_native is not None and len(train_native):
        out = {"mean preset": np.repeat(mean_preset(schema, train_native)[None], n, axis=0), **out}
    return out
