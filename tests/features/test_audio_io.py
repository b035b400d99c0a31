"""Reading user audio (asp.features.audio_io) and the pitch rule (asp.features.pitch), on real renders."""

import numpy as np
import pytest
import soundfile as sf

from asp.features.audio_io import AudioError, load_audio
from asp.features.pitch import estimate_pitch, note_for
from asp.render import RenderSettings, get_renderer
from asp.synths import load_schema

SR = 44100


def test_note_rule_folds_the_pitch_class_into_c4_b4():
    assert note_for(60.2) == 60 and note_for(71.4) == 71
    assert note_for(48.0) == 60 and note_for(83.0) == 71 and note_for(59.6) == 60 and note_for(59.4) == 71
    assert note_for(float("nan")) == 60


@pytest.mark.parametrize("note", [52, 64, 69, 76])
def test_pitch_of_a_rendered_note(note):
    s = load_schema("subtractive")
    audio = get_renderer("subtractive", RenderSettings(note_seconds=1.0, render_seconds=1.0)).render(
        s.default_vector(), note
    )
    p = estimate_pitch(audio, SR)
    assert round(p.midi) == note and p.note == note_for(note)


@pytest.mark.parametrize("seed", range(6))
def test_noise_has_no_pitch_and_plays_c4(seed):
    p = estimate_pitch(np.random.default_rng(seed).standard_normal(SR).astype(np.float32) * 0.2, SR)
    assert np.isnan(p.hz) and p.note == 60


def test_leading_silence_is_skipped_and_short_clips_padded(tmp_path):
    x = np.concatenate([np.zeros(SR // 2), 0.5 * np.ones(SR // 4)])
    sf.write(tmp_path / "late.wav", x, SR)
    la = load_audio(tmp_path / "late.wav", SR, SR)
    assert la.lead_seconds == pytest.approx(0.5, abs=1e-3)
    assert la.audio.shape == (SR,) and np.all(la.audio[: SR // 4 - 10] > 0.4) and np.all(la.audio[SR // 4 + 10 :] == 0)
    assert any("padded" in n for n in la.notes) and any("leading silence" in n for n in la.notes)


def test_channels_are_averaged_not_summed(tmp_path):
    x = np.stack([0.2 * np.ones(SR), 0.4 * np.ones(SR)], axis=1)
    sf.write(tmp_path / "st.wav", x, SR, subtype="FLOAT")
    assert load_audio(tmp_path / "st.wav", SR, SR).audio == pytest.approx(np.full(SR, 0.3), abs=1e-6)


def test_resampling_keeps_a_tone_at_its_frequency(tmp_path):
    for rate in (8000, 96000):
        t = np.arange(rate) / rate
        sf.write(tmp_path / f"r{rate}.wav", 0.5 * np.sin(2 * np.pi * 440 * t), rate)
        a = load_audio(tmp_path / f"r{rate}.wav", SR, SR).audio
        spectrum = np.abs(np.fft.rfft(a[1000:-1000]))
        assert abs(np.argmax(spectrum) * SR / len(a[1000:-1000]) - 440) < 2


def test_non_finite_and_missing_files(tmp_path):
    sf.write(tmp_path / "nan.wav", np.array([0.1, np.nan, 0.2] * 1000), SR, subtype="FLOAT")
    with pytest.raises(AudioError, match="NaN"):
        load_audio(tmp_path / "nan.wav", SR, SR)
    with pytest.raises(FileNotFoundError):
        load_audio(tmp_path / "nope.wav", SR, SR)
