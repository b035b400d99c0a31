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

    def _prepare(self, audio: np.ndarray) -> Any:
        return _in_band(self._features(np.asarray(audio, dtype=np.float32), self.rate), self.band_hz, self.rate)

    def __call__(self, audio: np.ndarray) -> float:
        d = self._distance(self._prepare(audio), self._target)
        return d if np.isfinite(d) else float("inf")
