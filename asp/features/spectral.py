"""Spectral features on audio (pure numpy/scipy, no torch). Distances live in ``asp.metrics``."""

from __future__ import annotations

import numpy as np

FRAME_BYTES = 256 << 10  # windowed frames per FFT call (bytes): cache-sized, 2x faster than 64 MiB blocks


def stft_power(audio: np.ndarray, n_fft: int = 2048, hop_length: int = 512) -> np.ndarray:
    """|STFT|^2, periodic Hann, centred (zero-padded): (..., n_samples) -> (..., 1 + n_fft // 2, n_frames).

    The same frames, window and values as ``librosa.stft(..., pad_mode="constant")`` (to float32 rounding), computed
    with ``scipy.fft`` on strided frames in cache-sized blocks (FRAME_BYTES): about half librosa's time per clip,
    which matters where the render is cheaper than its features (dexed; docs/PERFORMANCE.md).
    """
    import scipy.fft

    x = np.asarray(audio, dtype=np.float32)
    lead, n = x.shape[:-1], x.shape[-1]
    rows = x.reshape(-1, n)
    pad = n_fft // 2
    n_frames = 1 + n // hop_length
    window = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n_fft) / n_fft)).astype(np.float32)
    out = np.empty((rows.shape[0], 1 + n_fft // 2, n_frames), np.float32)
    per_frame = n_fft * 4
    per_block = max(1, FRAME_BYTES // (per_frame * n_frames))  # rows per block
    for i in range(0, rows.shape[0], per_block):
        part = rows[i : i + per_block]
        frames = np.lib.stride_tricks.sliding_window_view(np.pad(part, [(0, 0), (pad, pad)]), n_fft, axis=-1)
        frames = frames[:, ::hop_length][:, :n_frames]
        step = max(1, FRAME_BYTES // (per_frame * len(part)))  # frames per FFT call when one row is long
        for j in range(0, n_frames, step):
            spec = scipy.fft.rfft(frames[:, j : j + step] * window, axis=-1)
            out[i : i + len(part), :, j : j + step] = np.swapaxes(spec.real**2 + spec.imag**2, -1, -2)
    return out.reshape(*lead, 1 + n_fft // 2, n_frames)


def rms(audio: np.ndarray) -> np.ndarray | float:
    """Root mean square over the last axis."""
    a = np.asarray(audio)
    a = a if a.dtype in (np.float32, np.float64) else a.astype(np.float64)
    r = np.sqrt(np.einsum("...i,...i->...", a, a, dtype=np.float64) / a.shape[-1])  # summed in float64
    return float(r) if np.ndim(r) == 0 else r
