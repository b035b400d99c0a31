"""Harmonic share and timbre groups (multi-task ASP paper, Faronbi et al., ICASSP 2023).

Harmonic share = mean |H| / mean |D|, where D is the STFT of the clip and H the harmonic part of librosa's
median-filtering HPSS with margin 3. Five timbre groups split the share at 0.2, 0.4, 0.6, 0.8 (the paper reports
that presets below 20 % harmonic match worst).

``fast=True`` computes the same on a coarser STFT (n_fft 1024, hop 1024) with proportionally shorter median
kernels; ``scripts/bench_dataset.py`` measures how often its groups agree with the exact ones.
"""

from __future__ import annotations

import numpy as np

GROUP_EDGES = (0.2, 0.4, 0.6, 0.8)
GROUP_NAMES = ("<20%", "20-40%", "40-60%", "60-80%", ">=80%")
EXACT = {"n_fft": 2048, "hop_length": 512, "kernel_size": 31}
FAST = {"n_fft": 1024, "hop_length": 1024, "kernel_size": (15, 9)}


def harmonic_share(audio: np.ndarray, fast: bool = False, margin: float = 3.0) -> float:
    """mean |H| / mean |D| of one clip (0 for silence)."""
    import librosa

    cfg = FAST if fast else EXACT
    d = np.abs(librosa.stft(np.asarray(audio, dtype=np.float32), n_fft=cfg["n_fft"], hop_length=cfg["hop_length"]))
    total = float(d.mean())
    if total <= 0:
        return 0.0
    h, _ = librosa.decompose.hpss(d, kernel_size=cfg["kernel_size"], margin=margin)
    return float(h.mean() / total)


def timbre_group(share: float | np.ndarray) -> int | np.ndarray:
    """Group index 0-4 of a harmonic share (0: below 20 % harmonic)."""
    g = np.digitize(share, GROUP_EDGES)
    return int(g) if np.ndim(g) == 0 else g
