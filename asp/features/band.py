"""The band a sound file carries: the frequencies above which it holds no information about the sound.

A file at a lower rate than the renders has nothing above its Nyquist frequency; a lossy codec (MP3, Vorbis, Opus)
cuts the band at a low-pass of its own (16-18 kHz for libsndfile's MP3 encoder in the held-back folder, 19-20 kHz
for its Vorbis), which shows in the file's spectrum as a cliff: the level falls by tens of dB within a few hundred
Hz and stays at the codec's floor above. A distance that compares a render with such a file over the whole band
rewards renders that are silent where the file is silent for the codec's reasons, not the sound's: darker patches
than the sound (measured on the quickstart's held-back folder, docs/RESULTS.md). :func:`information_band` finds the
top of the band, and the search's objective and the report's ``band_lsd`` compare spectra below it only.

The cliff is looked for in lossy files only, and only above ``MIN_CLIFF_HZ``: a lossless file carries its whole
band, silence included (a pure tone is a cliff, and a bright render against it must score badly).
"""

from __future__ import annotations

import numpy as np

MIN_CLIFF_HZ = 8000.0  # codec low-passes sit above this; a sound's own spectrum may fall off anywhere below it
CLIFF_DB = 30.0  # how far everything above a cliff lies below the kilohertz just under it
PASSBAND = 0.95  # of a lower-rate file's Nyquist frequency: the resampler's pass band
LOSSY_FORMATS = ("MP3", "OGG", "OPUS", "MPEG")  # soundfile's format names (Vorbis and Opus both come as OGG)


def cliff_hz(audio: np.ndarray, rate: int, n_fft: int = 2048) -> float | None:
    """The highest frequency (Hz) from ``MIN_CLIFF_HZ`` up where the clip's long-term spectrum falls off a cliff:
    the 90th percentile of the level above (from half a kilohertz on) lies at least ``CLIFF_DB`` below the mean
    level of the kilohertz under it. None: no cliff."""
    from asp.features.spectral import stft_power

    power = np.asarray(stft_power(np.asarray(audio, dtype=np.float32), n_fft, n_fft // 4)).mean(axis=-1)
    level = 10.0 * np.log10(power + 1e-20)
    hz = np.arange(len(level)) * rate / n_fft
    below, gap = int(round(1000 * n_fft / rate)), int(round(500 * n_fft / rate))
    top = int(0.98 * (len(level) - 1))
    for i in range(top - gap - 3, int(np.ceil(MIN_CLIFF_HZ * n_fft / rate)) - 1, -1):  # from the top down
        if level[i - below : i].mean() - np.percentile(level[i + gap : top], 90) >= CLIFF_DB:
            return float(hz[i])
    return None


def information_band(audio: np.ndarray, rate: int, source_rate: int, lossy: bool) -> float | None:
    """The top of the band (Hz) a file read into ``audio`` (mono at ``rate``) carries: ``PASSBAND`` of the file's
    Nyquist frequency where its rate is below ``rate``, and no higher than a lossy codec's cliff
    (:func:`cliff_hz`). None: the whole band up to ``rate / 2``."""
    band = PASSBAND * source_rate / 2 if source_rate < rate else None
    if lossy:
        cliff = cliff_hz(audio, rate)
        if cliff is not None:
            band = cliff if band is None else min(band, cliff)
    return band
