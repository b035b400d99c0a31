import numpy as np
import pytest

from asp.features import MelSettings, harmonic_share, mel_db, rms, timbre_group
from asp.features.lib import load_librosa

SR = 44100


def tone(f=261.63, seconds=1.0):
    t = np.arange(int(SR * seconds)) / SR
    return (0.5 * np.sin(2 * np.pi * f * t)).astype(np.float32)


def test_mel_shape_for_five_seconds():
    m = mel_db(np.zeros(5 * SR, np.float32))
    assert m.shape == (128, 431)
    assert np.all(m == MelSettings().floor_db)


def test_mel_is_power_in_db():
    m = mel_db(tone())
    assert m.max() > 20 and m.max() < 80  # a 0.5-amplitude sine, power in dB re 1


def test_harmonic_share_separates_tones_from_noise():
    noise = np.random.default_rng(0).standard_normal(SR).astype(np.float32) * 0.3
    assert harmonic_share(tone()) > 0.8
    assert harmonic_share(noise) < 0.4
    assert harmonic_share(np.zeros(SR, np.float32)) == 0.0


def test_timbre_groups():
    assert timbre_group(0.1) == 0 and timbre_group(0.2) == 1 and timbre_group(0.95) == 4
    np.testing.assert_array_equal(timbre_group(np.array([0.0, 0.45, 0.79])), [0, 2, 3])


def test_rms():
    assert rms(np.ones(10)) == 1.0
    np.testing.assert_allclose(rms(np.stack([np.ones(4), np.zeros(4)])), [1, 0])


@pytest.mark.parametrize("fast", [False, True])
def test_harmonic_share_equals_librosa_hpss(fast):
    """Our running-median HPSS gives librosa's result (mean |H| / mean |D|, margin 3)."""
    librosa = load_librosa()

    from asp.features.hpss import EXACT, FAST

    rng = np.random.default_rng(2)
    x = (tone(330, 2.0) + 0.2 * rng.standard_normal(2 * SR)).astype(np.float32)
    x[SR // 2 : SR // 2 + 200] += 0.8  # a click
    cfg = FAST if fast else EXACT
    d = np.abs(librosa.stft(x, n_fft=cfg["n_fft"], hop_length=cfg["hop_length"], pad_mode="constant"))
    h, _ = librosa.decompose.hpss(d, kernel_size=cfg["kernel_size"], margin=3.0)
    assert harmonic_share(x, fast=fast) == pytest.approx(float(h.mean() / d.mean()), rel=1e-5)


def test_mel_equals_librosa_melspectrogram():
    librosa = load_librosa()

    x = np.random.default_rng(3).standard_normal((2, SR)).astype(np.float32) * 0.1
    ours = mel_db(x)
    ref = librosa.feature.melspectrogram(
        y=x, sr=SR, n_fft=2048, hop_length=512, n_mels=128, power=2.0, pad_mode="constant"
    )
    np.testing.assert_allclose(ours, 10 * np.log10(np.maximum(ref, 1e-10)), atol=1e-3)


def test_note_in_moves_a_pitch_by_octaves_into_the_trained_notes():
    import math

    from asp.features.pitch import note_for, note_in

    for midi in (30.2, 47.6, 48.0, 59.5, 60, 66.4, 71, 72, 90):
        assert note_in(midi, range(60, 72)) == note_for(midi)  # the paper's C4-B4 rule is the special case
    assert note_in(48.2, range(36, 85)) == 48  # a 131 Hz bass is a C3 for a model trained on C2-C6
    assert note_in(30, range(36, 85)) == 42 and note_in(96, range(36, 85)) == 84
    assert note_in(math.nan, range(36, 85)) == 60
    assert note_in(45, (60, 62)) == 69  # a few notes of one octave: the pitch class in that octave
    assert note_in(61, (48,)) == 49 and note_in(math.nan, (36, 40)) == 36


@pytest.mark.parametrize(
    ("shape", "n_fft", "hop"), [((22050,), 2048, 512), ((2, 3, 5001), 2048, 512), ((4, 10001), 2048, 1024)]
)
def test_stft_power_is_librosas_centred_stft(shape, n_fft, hop, monkeypatch):
    """The same frames and values as librosa's zero-padded centred STFT, also when the frames are taken in blocks."""
    import asp.features.spectral as spectral

    librosa = load_librosa()
    x = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
    want = np.abs(librosa.stft(x, n_fft=n_fft, hop_length=hop, pad_mode="constant")) ** 2
    for frame_bytes in (64 << 20, spectral.FRAME_BYTES, 3 * n_fft * 4):  # all rows at once; row and frame blocks
        monkeypatch.setattr(spectral, "FRAME_BYTES", frame_bytes)
        got = spectral.stft_power(x, n_fft, hop)
        assert got.shape == want.shape and got.dtype == np.float32
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-6 * want.max())
