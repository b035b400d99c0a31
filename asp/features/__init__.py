"""Pure functions on audio: mel spectrograms, HPSS harmonic share, RMS, log-spectral distance."""

from asp.features.hpss import GROUP_NAMES, harmonic_share, timbre_group
from asp.features.mel import MelSettings, mel_db
from asp.features.spectral import rms, stft_power

__all__ = ["GROUP_NAMES", "MelSettings", "harmonic_share", "mel_db", "rms", "stft_power", "timbre_group"]
