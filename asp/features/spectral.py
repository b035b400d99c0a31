"""Spectral features on audio (pure numpy/librosa, no torch). Distances live in ``asp.metrics``."""

from __future__ import annotations

import numpy as np

from asp.features.lib import load_librosa


def stft_power(audio: np.ndarray, n_fft: int = 2048, hop_length: int = 512) -> np.ndarray:
    """|STFT|^2, Hann, centred (zero-padded): (..., n_samples) -> (..., 1 + n_fft // 2, n_frames)."""
    librosa = load_librosa()

    return (
        np.abs(
            librosa.stft(np.asarray(audio, dtype=np.float32), n_fft=n_fft, hop_length=hop_length, pad_mode="constant")
        )
        ** 2
    )


def rms(audio: np.ndarray) -> np.ndarray | float:
    """Root mean square over the last axis."""
    r = np.sqrt(np.mean(np.square(np.asarray(audio, dtype=np.float64)), axis=-1))
    return float(r) if np.ndim(r) == 0 else r
