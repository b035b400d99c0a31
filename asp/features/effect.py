"""SerumRNN's features of a clip (Mitcheltree & Koike, EvoMUSART 2021): the normalised dB mel, its MFCCs and the
magnitude spectrograms of the multi-scale spectral MAE, computed once per clip (:func:`spectra`) for the effect
stage's models, datasets and metrics (``asp.metrics.effect_metrics``)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from asp.features.lib import load_librosa
from asp.features.mel import MelSettings, filterbank
from asp.features.spectral import stft_power


@dataclass(frozen=True)
class EffectFeatures:
    """SerumRNN's feature settings: a 128-bin mel (20 Hz-16 kHz, n_fft 2048, hop 512) in dB re 1, clipped 80 dB below
    the clip's peak and divided by 80; 30 MFCCs from that mel; spectral scales 64-2048 with 75 % overlap."""

    sample_rate: int = 44100
    n_fft: int = 2048
    hop_length: int = 512
    n_mels: int = 128
    fmin: float = 20.0
    fmax: float = 16000.0
    top_db: float = 80.0
    n_mfcc: int = 30
    scales: tuple[int, ...] = (64, 128, 256, 512, 1024, 2048)
    log_weight: float = 0.1


def effect_mel(
    audio: np.ndarray | None, f: EffectFeatures = EffectFeatures(), power: np.ndarray | None = None
) -> np.ndarray:
    """(n_samples,) -> (n_mels, n_frames) normalised dB mel: ``power_to_db(mel, ref=1, top_db) / top_db``.

    ``power``: the clip's ``stft_power`` with ``f.n_fft``/``f.hop_length``, if already computed.
    """
    librosa = load_librosa()

    if power is None:
        if audio is None:
            raise ValueError("effect_mel needs the audio or its power spectrum")
        power = stft_power(audio, f.n_fft, f.hop_length)
    p = power
    fb = filterbank(MelSettings(f.sample_rate, f.n_fft, f.hop_length, f.n_mels, f.fmin, f.fmax))
    return (librosa.power_to_db(np.asarray(fb @ p), ref=1.0, top_db=f.top_db) / f.top_db).astype(np.float32)


def effect_mfcc(mel: np.ndarray, f: EffectFeatures = EffectFeatures()) -> np.ndarray:
    """(n_mfcc, n_frames) MFCCs of a normalised dB mel (``effect_mel``), as SerumRNN computes them."""
    librosa = load_librosa()

    return librosa.feature.mfcc(S=np.asarray(mel) * f.top_db, sr=f.sample_rate, n_mfcc=f.n_mfcc).astype(np.float32)


def magnitudes(
    audio: np.ndarray, f: EffectFeatures = EffectFeatures(), power: np.ndarray | None = None
) -> dict[int, np.ndarray]:
    """Magnitude spectrograms per scale of :func:`mssmae` (``power``: the clip's n_fft/hop power, reused at the
    scale where they coincide)."""
    return {
        n: np.sqrt(
            power if power is not None and (n, n // 4) == (f.n_fft, f.hop_length) else stft_power(audio, n, n // 4)
        )
        for n in f.scales
    }


@dataclass
class Spectra:
    """Everything the audio metrics read from one clip, computed once (``spectra``), compared many times."""

    power: np.ndarray  # (1 + n_fft/2, frames) STFT power, n_fft 2048, hop 512
    mel: np.ndarray  # effect_mel
    mags: dict[int, np.ndarray]  # magnitudes per mssmae scale
    mfcc: np.ndarray  # effect_mfcc of the mel


def spectra(audio: np.ndarray, f: EffectFeatures = EffectFeatures()) -> Spectra:
    power = stft_power(audio, f.n_fft, f.hop_length)
    mel = effect_mel(None, f, power=power)
    return Spectra(power, mel, magnitudes(audio, f, power=power), effect_mfcc(mel, f))
