"""The built-in wavetable synth's tables, generated (deterministically) rather than shipped as audio.

8 tables x 16 frames x 256 samples; each frame is band-limited (built from its harmonic amplitudes with an inverse
FFT), DC-free and normalised to peak 1. The table index, frame (position) and phase are interpolated bilinearly
by the DSP.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

N_TABLES, N_FRAMES, TABLE_SIZE = 8, 16, 256
N_HARM = TABLE_SIZE // 2 - 1
TABLE_NAMES = ("basic", "pwm", "sync", "formant", "harmonic", "fm", "fold", "vowel")


def _from_harmonics(amp: np.ndarray, phase: np.ndarray | None = None) -> np.ndarray:
    spec = np.zeros(TABLE_SIZE // 2 + 1, dtype=np.complex128)
    ph = np.zeros_like(amp) if phase is None else phase
    spec[1 : 1 + len(amp)] = amp * np.exp(1j * (ph - np.pi / 2))
    return np.fft.irfft(spec, n=TABLE_SIZE) * TABLE_SIZE / 2


def _bandlimit(wave: np.ndarray) -> np.ndarray:
    spec = np.fft.rfft(wave)
    spec[0] = 0
    spec[N_HARM + 1 :] = 0
    return np.fft.irfft(spec, n=len(wave))


def _frame(table: int, t: float) -> np.ndarray:
    n = np.arange(1, N_HARM + 1)
    x = np.arange(TABLE_SIZE) / TABLE_SIZE
    if table == 0:  # sine -> triangle -> saw -> square
        shapes = [
            np.where(n == 1, 1.0, 0.0),
            np.where(n % 2 == 1, 1.0 / n**2, 0) * (-1) ** ((n - 1) // 2),
            1.0 / n,
            np.where(n % 2 == 1, 1.0 / n, 0),
        ]
        pos = t * 3
        i = min(int(pos), 2)
        amp = (1 - (pos - i)) * shapes[i] + (pos - i) * shapes[i + 1]
        return _from_harmonics(amp)
    if table == 1:  # pulse, width 0.5 -> 0.04
        w = 0.5 - 0.46 * t
        return _from_harmonics(2 / (np.pi * n) * np.sin(np.pi * n * w))
    if table == 2:  # hard-synced saw, ratio 1 -> 8
        ratio = 1 + 7 * t
        return _bandlimit(2 * ((x * ratio) % 1.0) - 1)
    if table == 3:  # decaying formant pulse
        k = 1 + 15 * t
        return _bandlimit(np.sin(2 * np.pi * k * x) * (1 - x) ** 2)
    if table == 4:  # brightness sweep of a harmonic series
        top = 1 + t * 40
        return _from_harmonics(np.clip(top - n + 1, 0, 1) / np.sqrt(n))
    if table == 5:  # two-operator FM, index 0 -> 6
        return _bandlimit(np.sin(2 * np.pi * x + 6 * t * np.sin(2 * np.pi * 3 * x)))
    if table == 6:  # sine wavefolder, gain 1 -> 8
        return _bandlimit(np.sin(np.pi / 2 * (1 + 7 * t) * np.sin(2 * np.pi * x)))
    # vowel-like: harmonics weighted by two moving formants
    f1, f2 = 3 + 5 * t, 10 + 14 * t
    amp = np.exp(-(((n - f1) / 2.0) ** 2)) + 0.6 * np.exp(-(((n - f2) / 3.0) ** 2)) + 0.02 / n
    return _from_harmonics(amp)


@lru_cache(maxsize=1)
def wavetables() -> np.ndarray:
    """(N_TABLES, N_FRAMES, TABLE_SIZE) float32 tables."""
    out = np.empty((N_TABLES, N_FRAMES, TABLE_SIZE), dtype=np.float64)
    for tb in range(N_TABLES):
        for f in range(N_FRAMES):
            w = _frame(tb, f / (N_FRAMES - 1))
            w -= w.mean()
            out[tb, f] = w / max(np.abs(w).max(), 1e-9)
    return out.astype(np.float32)


@lru_cache(maxsize=1)
def faust_waveform() -> str:
    """The tables as a Faust ``waveform{...}`` literal."""
    return "waveform{" + ",".join(f"{v:.5g}" for v in wavetables().reshape(-1)) + "}"
