"""Loudness and decay: integrated loudness (LUFS, ITU-R BS.1770-4) and reverberation time from an impulse response.

The steerable-effect analyses (Steinmetz & Reiss 2021, "Steerable discovery of neural audio effects") report the
loudness of a compressor-steered model's output over a grid of controls and the T60 of a reverb-steered one.
"""

from __future__ import annotations

import numpy as np

SILENCE_LUFS = -70.0  # BS.1770's absolute gate: anything quieter reads as this


def lufs(audio: np.ndarray, sample_rate: int) -> float:
    """Integrated loudness of mono audio in LUFS (``pyloudnorm``), floored at -70 LUFS for silence.

    Args:
        audio: (n,) float samples in [-1, 1]; at least 0.4 s (one gating block).
        sample_rate: Hz.

    Raises:
        ValueError: the clip is shorter than one 400 ms gating block.
    """
    import pyloudnorm

    x = np.asarray(audio, np.float64).reshape(-1)
    if x.shape[0] < int(0.4 * sample_rate):
        raise ValueError(f"loudness needs at least 0.4 s of audio; got {x.shape[0] / sample_rate:.3f} s")
    value = float(pyloudnorm.Meter(sample_rate).integrated_loudness(x))
    return max(value, SILENCE_LUFS) if np.isfinite(value) else SILENCE_LUFS


def energy_decay_db(ir: np.ndarray) -> np.ndarray:
    """Schroeder's backward-integrated energy decay curve of an impulse response, in dB re its start: (n,)."""
    e = np.asarray(ir, np.float64).reshape(-1) ** 2
    edc = np.cumsum(e[::-1])[::-1]
    if edc[0] <= 0:
        return np.full_like(edc, -np.inf)
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10(edc / edc[0])


def t60(ir: np.ndarray, sample_rate: int, start_db: float = -5.0, stop_db: float = -25.0) -> float:
    """Reverberation time in seconds: the decay from ``start_db`` to ``stop_db`` of the energy decay curve, fitted by
    least squares and extrapolated to 60 dB (``-5``/``-25``: the T20 estimate, robust for short tails).

    Returns 0.0 where the curve never reaches ``stop_db`` above the float floor (an impulse that does not ring) and
    where the response is silent.
    """
    edc = energy_decay_db(ir)
    if not np.isfinite(edc[0]):
        return 0.0
    idx = np.flatnonzero((edc <= start_db) & (edc >= stop_db))
    if idx.size < 2 or edc.min() > stop_db:
        return 0.0
    t = idx / float(sample_rate)
    slope = np.polyfit(t, edc[idx], 1)[0]  # dB per second (negative)
    return float(-60.0 / slope) if slope < 0 else 0.0
