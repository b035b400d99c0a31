"""Mel spectrograms as stored in asp datasets.

Settings follow the multi-task ASP paper (Faronbi et al., ICASSP 2023): 128 mel bins, n_fft 2048, hop 512 at
44.1 kHz, so 5 s give 431 frames. Values are power in dB, ``10 log10(max(P, amin))`` with ``ref = 1`` (absolute
level is kept: loudness is part of a patch), floored at ``top_db`` below 0 dBFS-power; stored as float16.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np

from asp.features.lib import load_librosa
from asp.features.spectral import stft_power

if TYPE_CHECKING:
    import scipy.sparse


@dataclass(frozen=True)
class MelSettings:
    sample_rate: int = 44100
    n_fft: int = 2048
    hop_length: int = 512
    n_mels: int = 128
    fmin: float = 0.0
    fmax: float | None = None
    amin: float = 1e-10
    floor_db: float = -100.0

    def n_frames(self, n_samples: int) -> int:
        return 1 + n_samples // self.hop_length

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> MelSettings:
        """Settings as ``as_dict`` or a dataset plan records them (other keys, such as the normalisation text, are
        ignored)."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["normalisation"] = (
            f"power mel (slaney, librosa), dB = 10*log10(max(P, {self.amin:g})), ref 1.0, "
            f"clipped below at {self.floor_db:g} dB; stored float16"
        )
        return d


@lru_cache(maxsize=8)
def filterbank(settings: MelSettings) -> scipy.sparse.csr_matrix:
    """librosa's (slaney) mel filterbank as a sparse matrix: each FFT bin feeds at most two filters, so the
    product costs ~2 % of a dense one."""
    librosa = load_librosa()
    import scipy.sparse

    fb = librosa.filters.mel(
        sr=settings.sample_rate, n_fft=settings.n_fft, n_mels=settings.n_mels, fmin=settings.fmin, fmax=settings.fmax
    ).astype(np.float32)
    return scipy.sparse.csr_matrix(fb)


def mel_db(
    audio: np.ndarray | None, settings: MelSettings = MelSettings(), power: np.ndarray | None = None
) -> np.ndarray:
    """Mel spectrogram in dB.

    Args:
        audio: (..., n_samples) mono audio at ``settings.sample_rate``.
        power: optional precomputed ``stft_power`` with the same n_fft/hop (saves an STFT).

    Returns:
        (..., n_mels, n_frames) float32 dB values.
    """
    if power is None:
        if audio is None:
            raise ValueError("mel_db needs the audio or its power spectrum")
        power = stft_power(audio, settings.n_fft, settings.hop_length)
    p = np.asarray(power)
    lead, (n_bins, n_frames) = p.shape[:-2], p.shape[-2:]
    flat = np.moveaxis(p.reshape(-1, n_bins, n_frames), 1, 0).reshape(n_bins, -1)
    mel = np.asarray(filterbank(settings) @ flat, dtype=np.float32)
    mel = np.moveaxis(mel.reshape(settings.n_mels, -1, n_frames), 0, 1).reshape(*lead, settings.n_mels, n_frames)
    return np.maximum(10.0 * np.log10(np.maximum(mel, settings.amin)), settings.floor_db).astype(np.float32)


def mel_statistics(mel: np.ndarray) -> np.ndarray:
    """A clip's mel as one vector: the mean and the standard deviation over time of each band's dB value.

    Args:
        mel: (..., n_mels, n_frames) dB mel.

    Returns:
        (..., 2 * n_mels) float32: the means, then the standard deviations.
    """
    m = np.asarray(mel, dtype=np.float32)
    return np.concatenate([m.mean(axis=-1), m.std(axis=-1)], axis=-1).astype(np.float32)
