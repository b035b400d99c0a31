"""The band a file carries (asp.features.band) and the distances that stay inside it, on real renders and real
codecs (libsndfile's MP3 and Vorbis encoders, as the quickstart's held-back folder is written)."""

import numpy as np
import pytest

from asp.data.targets import write_target
from asp.features.audio_io import load_audio
from asp.features.band import PASSBAND
from asp.metrics import lsd
from asp.render import RenderSettings, get_renderer
from asp.search.objective import Objective
from asp.synths import load_schema

SR = 44100
SETTINGS = RenderSettings(note_seconds=1.0, render_seconds=1.5)


def _bright() -> np.ndarray:
    """A bright sound (subtractive's saw with the filter open), with content up to the top of the band."""
    s = load_schema("subtractive")
    v = s.from_natural({"cutoff": s["cutoff"].high, "noise_level": 0.3}, fill_defaults=True)
    return get_renderer("subtractive", SETTINGS).render(v, 60)


def _read(tmp_path, audio, rate, fmt):
    path = tmp_path / f"x_{rate}.{fmt}"
    write_target(path, audio, SR, rate, 1, fmt)
    return load_audio(path, SR, SETTINGS.n_samples)


def test_lossless_files_at_the_full_rate_carry_the_whole_band(tmp_path):
    for rate, fmt in ((SR, "wav"), (48000, "flac"), (96000, "aiff")):
        assert _read(tmp_path, _bright(), rate, fmt).band_hz is None


def test_a_lower_rate_file_carries_its_pass_band(tmp_path):
    got = _read(tmp_path, _bright(), 22050, "wav")
    assert got.band_hz == pytest.approx(PASSBAND * 11025)
    assert any("11.0 kHz" in n or "10.5 kHz" in n for n in got.notes)


@pytest.mark.parametrize(("fmt", "low", "high"), [("mp3", 14000, 20500), ("ogg", 14000, 21500)])
def test_a_lossy_codecs_low_pass_is_found(tmp_path, fmt, low, high):
    got = _read(tmp_path, _bright(), SR, fmt)
    assert got.band_hz is not None and low < got.band_hz < high, got.band_hz
    assert any("lossy codec" in n for n in got.notes)


def test_a_dark_sound_in_a_lossy_file_gets_no_band_invented(tmp_path):
    """A pure tone falls off a cliff of its own; below MIN_CLIFF_HZ that is the sound, not the codec."""
    t = np.arange(SETTINGS.n_samples) / SR
    tone = (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    got = _read(tmp_path, tone, SR, "mp3")
    assert got.band_hz is None  # its fall at 440 Hz is below MIN_CLIFF_HZ, and above that the file is all floor


def test_the_objective_ignores_what_lies_above_the_band():
    rng = np.random.default_rng(0)
    target = _bright()
    hiss = np.fft.irfft(
        np.where(np.fft.rfftfreq(len(target), 1 / SR) > 15000, 1.0, 0.0)
        * np.exp(2j * np.pi * rng.random(len(target) // 2 + 1)),
        n=len(target),
    ).astype(np.float32)
    other = target + 0.05 * hiss / np.abs(hiss).max()  # the same sound with hiss above 15 kHz
    assert lsd(other, target) > 1.0
    for name in ("lsd", "audible", "spectral"):
        assert Objective(name, target, SR, band_hz=14000.0)(other) < 0.05 * Objective(name, target, SR)(other) + 1e-3
        assert Objective(name, target, SR, band_hz=14000.0)(target) == pytest.approx(0.0, abs=1e-6)
