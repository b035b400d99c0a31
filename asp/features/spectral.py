"""Spectral features and distances on audio (pure numpy/librosa, no torch)."""

from __future__ import annotations

import numpy as np

EPS_POWER = 1e-10


def stft_power(audio: np.ndarray, n_fft: int = 2048, hop_length: int = 512) -> np.ndarray:
    """|STFT|^2, Hann, centred (zero-padded): (..., n_samples) -> (..., 1 + n_fft // 2, n_frames)."""
    import librosa

    return np.abs(librosa.stft(np.asarray(audio, dtype=np.float32), n_fft=n_fft, hop_length=hop_length,
                               pad_mode="constant")) ** 2


def lsd(a: np.ndarray, b: np.ndarray, n_fft: int = 2048, hop_length: int = 512, eps: float = EPS_POWER) -> float:
    """Textbook log-spectral distance in dB between two clips of equal length.

    Per frame the RMS over frequency bins of ``10 log10((P_a + eps) / (P_b + eps))``, averaged over frames.
    (Not the multi-task ASP paper's "LSD", which is a mean squared difference of log10 power; see
    ``docs`` and ``asp.eval``.)
    """
    pa = stft_power(a, n_fft, hop_length)
    pb = stft_power(b, n_fft, hop_length)
    return lsd_from_power(pa, pb, eps)


def lsd_from_power(pa: np.ndarray, pb: np.ndarray, eps: float = EPS_POWER) -> float:
    """LSD (dB) from two (..., bins, frames) power spectrograms."""
    d = 10.0 * (np.log10(pa + eps) - np.log10(pb + eps))
    return float(np.mean(np.sqrt(np.mean(d ** 2, axis=-2))))


def rms(audio: np.ndarray) -> np.ndarray | float:
    """Root mean square over the last axis."""
    r = np.sqrt(np.mean(np.square(np.asarray(audio, dtype=np.float64)), axis=-1))
    return float(r) if np.ndim(r) == 0 else r
