"""Harmonic share and timbre groups (multi-task ASP paper, Faronbi et al., ICASSP 2023).

Harmonic share = mean |H| / mean |D|, where D is the STFT of the clip and H the harmonic part of librosa's
median-filtering HPSS with margin 3. Five timbre groups split the share at 0.2, 0.4, 0.6, 0.8 (the paper reports
that presets below 20 % harmonic match worst).

The median filters (the cost of HPSS) run as running medians (bottleneck's ``move_median`` on reflect-padded
input), which give the same values as librosa's ``scipy.ndimage.median_filter`` about 8x faster; the masks are
librosa's soft masks, so the result equals ``librosa.decompose.hpss`` (tests/features checks it).

``fast=True`` computes the same with half the time resolution (n_fft 2048, hop 1024, harmonic kernel 15 frames, so
the same span in seconds); ``scripts/bench_dataset.py`` measures its cost and how often its groups agree.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from asp.features.lib import load_librosa
from asp.features.spectral import stft_power

GROUP_EDGES = (0.2, 0.4, 0.6, 0.8)
GROUP_NAMES = ("<20%", "20-40%", "40-60%", "60-80%", ">=80%")
EXACT: dict[str, Any] = {"n_fft": 2048, "hop_length": 512, "kernel_size": (31, 31)}
FAST: dict[str, Any] = {"n_fft": 2048, "hop_length": 1024, "kernel_size": (15, 31)}


def harmonic_share(
    audio: np.ndarray | None, fast: bool = False, margin: float = 3.0, power: np.ndarray | None = None
) -> float:
    """mean |H| / mean |D| of one clip (0 for silence).

    Args:
        audio: (n_samples,) mono audio; or None when ``power`` is given.
        power: optional |STFT|^2 with n_fft 2048, hop 512, centred, as computed for the mel spectrogram
            (asp.features.stft_power): reused instead of a second STFT (fast mode takes every other frame).
    """
    cfg = FAST if fast else EXACT
    if power is not None:
        d = np.sqrt(np.asarray(power))[:, :: cfg["hop_length"] // EXACT["hop_length"]]
    else:
        d = np.sqrt(stft_power(np.asarray(audio, dtype=np.float32), cfg["n_fft"], cfg["hop_length"]))
    total = float(d.mean())
    if total <= 0:
        return 0.0
    h = harmonic_part(d, cfg["kernel_size"], margin)
    return float(h.mean() / total)


def _running_median(x: np.ndarray, width: int, axis: int) -> np.ndarray:
    """Centred running median with reflect edges, equal to ``scipy.ndimage.median_filter`` along one axis."""
    import bottleneck as bn

    half = width // 2
    pad = [(0, 0)] * x.ndim
    pad[axis] = (half, half)
    padded = np.pad(x, pad, mode="symmetric")  # ndimage's 'reflect' is numpy's 'symmetric'
    out = bn.move_median(padded, width, axis=axis)
    keep = [slice(None)] * x.ndim
    keep[axis] = slice(width - 1, width - 1 + x.shape[axis])
    return out[tuple(keep)]


def harmonic_part(mag: np.ndarray, kernel_size: tuple[int, int], margin: float = 3.0) -> np.ndarray:
    """The harmonic part H of a magnitude spectrogram (bins, frames), as librosa's HPSS with soft masks (power 2).

    Args:
        kernel_size: (harmonic kernel in frames, percussive kernel in bins).
    """
    librosa = load_librosa()

    harm = _running_median(mag, kernel_size[0], axis=1)
    perc = _running_median(mag, kernel_size[1], axis=0)
    mask = librosa.util.softmask(harm, perc * margin, power=2.0, split_zeros=margin == 1)
    return mag * mask


def timbre_group(share: float | np.ndarray) -> int | np.ndarray:
    """Group index 0-4 of a harmonic share (0: below 20 % harmonic)."""
    g = np.digitize(share, GROUP_EDGES)
    return int(g) if np.ndim(g) == 0 else g
