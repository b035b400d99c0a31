"""Each shared metric against a small case computed by hand (asp.metrics)."""

import numpy as np
import pytest
import torch

from asp.features.effect import EffectFeatures, effect_mel
from asp.features.lib import load_librosa
from asp.features.spectral import stft_power
from asp.metrics import (
    audible_lsd,
    audible_lsd_from_power,
    categorical_accuracy,
    continuous_mse,
    effect_metrics,
    lsd,
    lsd_from_power,
    mel_lsd,
    mel_mae,
    mel_mse,
    mfcc_distance,
    mssmae,
    paper_lsd,
    pcc,
    preset_metrics,
)
from asp.synths.schema import schema_from_records

SR = 44100
TOY = schema_from_records(
    "toy",
    [
        {"name": "x"},
        {"name": "c", "kind": "categorical", "n_classes": 3},
        {"name": "y"},
        {"name": "b", "kind": "binary"},
        {"name": "d", "kind": "categorical", "n_classes": 2},
    ],
)


def noise(seconds=1.0, seed=1):
    return np.random.default_rng(seed).standard_normal(int(SR * seconds)).astype(np.float32)


def test_lsd_hand_computed_case():
    """Two constant spectrograms 10 dB apart in every bin and frame have LSD exactly 10 dB."""
    pa = np.full((5, 3), 1.0)
    pb = np.full((5, 3), 0.1)
    assert lsd_from_power(pa, pb, eps=0) == pytest.approx(10.0)
    # frame-wise RMS: one frame differs by 20 dB in 1 of 4 bins -> sqrt(400/4) = 10, other frame 0 -> mean 5
    pa = np.ones((4, 2))
    pb = np.ones((4, 2))
    pb[0, 0] = 0.01
    assert lsd_from_power(pa, pb, eps=0) == pytest.approx(5.0)


def test_lsd_of_identical_audio_is_zero_and_grows_with_difference():
    x = np.random.default_rng(1).standard_normal(SR).astype(np.float32)  # power in every bin, far above eps
    assert lsd(x, x) == 0
    assert lsd(x, 0.5 * x) == pytest.approx(20 * np.log10(2), abs=0.01)


def test_audible_lsd_counts_only_what_lies_within_80_db_of_the_references_peak():
    # by hand: reference peak power 1 -> floor 1e-8; a bin 10 dB apart above it counts, bins below it do not
    pref = np.array([[1.0, 1.0], [1e-12, 1e-3], [1e-11, 1e-12]])
    pa = np.array([[0.1, 1.0], [1e-10, 1e-3], [0.0, 1e-9]])
    # frame 0: bins differ by 10, 0 (both floored), 0 (both floored) dB -> sqrt(100 / 3); frame 1: all 0
    assert audible_lsd_from_power(pa, pref) == pytest.approx(np.sqrt(100 / 3) / 2)
    # the textbook LSD (floor 1e-10) also counts frame 1's last bin, 100 dB down, as 10 dB: 5.9 dB in all
    assert lsd_from_power(pa, pref) > 5.5
    x = noise()
    assert audible_lsd(x, x) == 0
    assert audible_lsd(0.5 * x, x) == pytest.approx(20 * np.log10(2), abs=0.01)  # all of it audible: as lsd
    # a clip whose release ends in digital silence against the same clip with 16-bit noise after it: the textbook
    # LSD is dominated by the tail, the audible LSD hardly moves
    ref = np.concatenate([x, 2.0**-16 * noise(1.0, seed=3)])
    clip = np.concatenate([x, np.zeros(SR, dtype=np.float32)])
    assert lsd(clip, ref) > 10 and audible_lsd(clip, ref) < 0.1


def test_paper_lsd_is_mean_squared_log10_power_difference():
    x = noise()
    # 10x the amplitude is 100x the power: log10 differs by exactly 2 in every bin, squared 4, no root, no dB
    assert paper_lsd(x, 10 * x) == pytest.approx(4.0, rel=1e-4)
    assert paper_lsd(x, x) == 0
    # digital silence against sound: no epsilon, so the floor of float32 makes it enormous, unlike the textbook LSD
    assert paper_lsd(x, np.zeros_like(x)) > 1000 > lsd(x, np.zeros_like(x))


def test_mel_mse_mae_lsd_hand_computed():
    a = np.array([[0.0, -0.5], [0.0, -0.5]])  # 2 mel bins x 2 frames, normalised dB (x80 = dB)
    b = np.zeros((2, 2))
    assert mel_mse(a, b) == pytest.approx(0.125)
    assert mel_mae(a, b) == pytest.approx(0.25)
    # frame 0 identical, frame 1 off by 40 dB in both bins: mean of (0, 40)
    assert mel_lsd(a, b) == pytest.approx(20.0)


def test_pcc_hand_computed():
    a = np.array([[1.0, 2.0, 3.0]])
    assert pcc(a, 2 * a + 1) == pytest.approx(1.0)
    assert pcc(a, a[:, ::-1]) == pytest.approx(-1.0)
    assert np.isnan(pcc(a, np.ones_like(a)))


def test_mfcc_distance_of_a_constant_offset():
    """A dB offset c in every mel bin moves only the 0th (orthonormal DCT) coefficient, by c * sqrt(n_mels)."""
    rng = np.random.default_rng(0)
    a = -rng.random((128, 5))
    assert mfcc_distance(a, a) == 0
    assert mfcc_distance(a, a - 0.1) == pytest.approx(8.0 * np.sqrt(128), rel=1e-5)


def test_mssmae_of_a_doubled_signal():
    """|S - 2S| = S, and |log S - log 2S| = ln 2 wherever S is far above the epsilon."""
    x = noise(0.5)
    f = EffectFeatures(scales=(256,))
    s = np.sqrt(stft_power(x, 256, 64))
    assert mssmae(x, x, f) == 0
    assert mssmae(x, 2 * x, f) == pytest.approx(s.mean() + 0.1 * np.log(2), rel=1e-4)


def test_effect_mel_is_absolute_db_over_top_db_clipped_at_top_db():
    x = noise(0.5)
    x[len(x) // 2 :] *= 1e-6  # a 120 dB drop: the quiet half lies below the top_db floor
    m = effect_mel(x)
    assert m.shape[0] == 128
    assert m.max() - m.min() == pytest.approx(1.0, abs=1e-5)  # clipped exactly top_db (80 dB) below the peak, / 80
    assert (m[:, -5:] == m.min()).all()  # the quiet frames sit on the floor
    # ref=1 (absolute dB, not relative to the clip's peak): 20 dB quieter is 20 / 80 lower everywhere
    np.testing.assert_allclose(effect_mel(0.1 * x), m - 0.25, atol=1e-4)


def test_effect_metrics_zero_for_identical_clips_and_grow_with_difference():
    x = noise(0.5)
    same = effect_metrics(x, x)
    assert same["mse"] == same["mae"] == same["lsd"] == same["mfccd"] == same["mssmae"] == 0
    assert same["pcc"] == pytest.approx(1.0)
    lowpassed = np.convolve(x, np.ones(16) / 16, mode="same").astype(np.float32)
    diff = effect_metrics(x, lowpassed)
    assert all(diff[k] > 0 for k in ("mse", "mae", "lsd", "mfccd", "mssmae")) and diff["pcc"] < 1


def test_parameter_metrics_hand_computed():
    # toy one-hot layout: x | c0 c1 c2 | y | b | d0 d1
    pred = np.array([[0.2, 1, 0, 0, 0.5, 1, 0, 1], [0.5, 0, 1, 0, 0.0, 0, 1, 0]])
    target = np.array([[0.0, 1, 0, 0, 0.8, 0, 0, 1], [0.5, 1, 0, 0, 0.0, 0, 1, 0]])
    cont = np.array([0, 4])
    groups = [(1, 3), (6, 2)]
    np.testing.assert_allclose(continuous_mse(pred, target, cont), [(0.04 + 0.09) / 2, 0.0])
    np.testing.assert_allclose(continuous_mse(pred, target, cont, "sum"), [0.13, 0.0])
    np.testing.assert_allclose(categorical_accuracy(pred, target, groups), [1.0, 0.5])
    # the same numbers from torch tensors (the training loop's path)
    tp, tt = torch.tensor(pred), torch.tensor(target)
    np.testing.assert_allclose(continuous_mse(tp, tt, torch.tensor(cont)).numpy(), [0.065, 0.0])
    np.testing.assert_allclose(categorical_accuracy(tp, tt, groups).numpy(), [1.0, 0.5])
    with pytest.raises(KeyError, match="mean, sum"):
        continuous_mse(pred, target, cont, "max")


def test_preset_metrics_on_native_vectors():
    # native: x, c (class k/2), y, b, d (class k)
    pred = np.array([[0.2, 0.5, 0.5, 1.0, 1.0]])
    target = np.array([[0.0, 0.5, 0.8, 0.0, 0.0]])
    m = preset_metrics(TOY, pred, target)
    assert m["param_mse"][0] == pytest.approx(0.065)
    assert m["paper_param_mse"][0] == pytest.approx(0.13)
    assert m["cat_acc"][0] == pytest.approx(0.5)  # c right, d wrong; the binary b is not categorical


def test_accuracy_is_nan_without_categoricals_and_mse_zero_without_continuous():
    x = np.zeros((3, 4))
    assert np.isnan(categorical_accuracy(x, x, [])).all()
    assert (continuous_mse(x, x, np.array([], dtype=int)) == 0).all()


def test_spectra_reuse_gives_the_same_numbers():
    librosa = load_librosa()

    from asp.metrics import audio_metrics, mssmae

    x, y = noise(0.5, 1), np.convolve(noise(0.5, 2), np.ones(8) / 8, mode="same").astype(np.float32)
    m = audio_metrics(x, y)
    assert m["lsd"] == pytest.approx(lsd(x, y)) and m["paper_lsd"] == pytest.approx(paper_lsd(x, y))
    assert m["audible_lsd"] == pytest.approx(audible_lsd(x, y))
    assert m["mssmae"] == pytest.approx(mssmae(x, y))
    em = effect_metrics(x, y)
    assert m["mel_lsd"] == em["lsd"] and m["pcc"] == em["pcc"]
    # the effect mel from a reused STFT equals librosa's melspectrogram -> power_to_db(top_db 80) / 80
    f = EffectFeatures()
    ref = (
        librosa.power_to_db(
            librosa.feature.melspectrogram(y=x, sr=SR, n_fft=2048, hop_length=512, n_mels=128, fmin=20, fmax=16000),
            ref=1.0,
            top_db=80,
        )
        / 80
    )
    np.testing.assert_allclose(effect_mel(x, f), ref, atol=1e-4)
