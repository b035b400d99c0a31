"""The distances a search minimises, prepared once per target and rate.

* ``lsd`` (default): the textbook log-spectral distance (:func:`asp.metrics.lsd`, window scaled with the rate),
  what the reports print. Chosen by measurement: on the quickstart's held-back folder (budget 300, docs/RESULTS.md)
  it ended 1.1 dB lower in best-synth LSD than ``spectral``.
* ``audible``: :func:`asp.metrics.audible_lsd`, the textbook LSD over the target's audible range (both spectra
  floored 80 dB below the target's strongest bin).
* ``spectral``: :func:`asp.metrics.match_distance`, multi-resolution log spectra plus the loudness envelope.

Given the band a target file carries (``band_hz``, ``asp.features.band``: a lower-rate file's pass band, a lossy
codec's low-pass), each compares the spectra below it only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from asp.features.spectral import stft_power
from asp.metrics import (
    MatchFeatures,
    audible_lsd_from_power,
    band_limit,
    fft_size,
    log_power,
    lsd_from_log_power,
    match_distance,
    match_features,
    match_loudness,
)


def _lsd_features(audio: np.ndarray, rate: int) -> np.ndarray:
    n = fft_size(rate, 2048 / 44100)
    return stft_power(audio, n, n // 4)


def _log_features(audio: np.ndarray, rate: int) -> np.ndarray:
    return log_power(_lsd_features(audio, rate))


OBJECTIVES: dict[str, tuple[Callable[[np.ndarray, int], Any], Callable[[Any, Any], float]]] = {
    "spectral": (match_features, match_distance),
    "lsd": (_log_features, lsd_from_log_power),  # the target's log spectrogram computed once
    "audible": (_lsd_features, audible_lsd_from_power),
}


POOL = 4  # frames averaged into one in :meth:`Objective.features` (about 46 ms at 44.1 kHz)
POOL_BINS = 8  # and bins (172 Hz at 44.1 kHz): about 10,000 numbers for a 3.5 s search render


def _in_band(features: Any, band_hz: float | None, rate: int) -> Any:
    """``features`` (a spectrogram, or :class:`MatchFeatures`' spectrogram per resolution) below ``band_hz``."""
    if band_hz is None:
        return features
    if isinstance(features, MatchFeatures):
        db = tuple(band_limit(d, band_hz, rate) for d in features.db)
        return MatchFeatures(db, match_loudness(db[len(db) // 2]))
    return band_limit(features, band_hz, rate)


class Objective:
    """``objective(audio)``: the named distance of a clip to the target (lower is closer).

    Args:
        name: a key of :data:`OBJECTIVES`.
        target: (n_samples,) mono target at ``rate``.
        rate: sample rate of the target and of every clip scored.
        band_hz: compare the spectra up to this frequency only (the band the target's file carries); None: all.

    Raises:
        KeyError: an unknown name, listing the valid ones.
    """

    def __init__(self, name: str, target: np.ndarray, rate: int, band_hz: float | None = None) -> None:
        if name not in OBJECTIVES:
            raise KeyError(f"unknown objective {name!r}; valid: {', '.join(OBJECTIVES)}")
        self.name, self.rate = name, rate
        self.band_hz = band_hz if band_hz is None or band_hz < rate / 2 else None
        self._features, self._distance = OBJECTIVES[name]
        self._target = self._prepare(target)
        self._target_audio = np.asarray(target, dtype=np.float32)
        self._target_spectrogram: np.ndarray | None = None

    def _prepare(self, audio: np.ndarray) -> Any:
        return _in_band(self._features(np.asarray(audio, dtype=np.float32), self.rate), self.band_hz, self.rate)

    def __call__(self, audio: np.ndarray) -> float:
        return self._score(self._prepare(audio))

    def _score(self, prepared: Any) -> float:
        d = self._distance(prepared, self._target)
        return d if np.isfinite(d) else float("inf")

    def _spectrogram(self, audio: np.ndarray, prepared: Any = None) -> np.ndarray:
        """The dB log spectrogram below the band (``lsd``'s own features where they are at hand), pooled."""
        log = prepared if self.name == "lsd" and prepared is not None else None
        if log is None:
            log = _in_band(_log_features(np.asarray(audio, dtype=np.float32), self.rate), self.band_hz, self.rate)
        n, b = log.shape[-1] // POOL * POOL, log.shape[-2] // POOL_BINS * POOL_BINS
        pooled = log[:b, :n].reshape(b // POOL_BINS, POOL_BINS, n // POOL, POOL).mean(axis=(1, 3))
        return (10.0 * pooled).astype(np.float32).ravel()

    def features(self, audio: np.ndarray) -> tuple[float, np.ndarray]:
        """The distance of ``audio`` and its dB log spectrogram (below the band, the mean of every ``POOL`` frames
        and ``POOL_BINS`` bins, flattened): what a method that ``wants_features`` learns from
        (``asp.search.methods``)."""
        prepared = self._prepare(audio)
        return self._score(prepared), self._spectrogram(audio, prepared)

    @property
    def target_features(self) -> np.ndarray:
        """:meth:`features`' spectrogram of the target."""
        if self._target_spectrogram is None:
            self._target_spectrogram = self._spectrogram(self._target_audio, self._target)
        return self._target_spectrogram
