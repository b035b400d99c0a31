"""Pure functions on audio, below the metrics in the layering.

* :mod:`~asp.features.mel`: mel spectrograms; :mod:`~asp.features.hpss`: the HPSS harmonic share;
  :mod:`~asp.features.spectral`: STFT power and RMS; :mod:`~asp.features.pitch`: a sound's note;
  :mod:`~asp.features.lib`: librosa, imported under a lock shared by every process (its numba cache).
* :mod:`~asp.features.effect`: SerumRNN's effect-stage features (normalised dB mel, MFCCs, multi-scale magnitudes).
* :mod:`~asp.features.audio_io`: reading and writing audio files.

Distances between clips are in :mod:`asp.metrics`.
"""

from asp.features.hpss import GROUP_NAMES, harmonic_share, timbre_group
from asp.features.mel import MelSettings, mel_db
from asp.features.spectral import rms, stft_power

__all__ = ["GROUP_NAMES", "MelSettings", "harmonic_share", "mel_db", "rms", "stft_power", "timbre_group"]
