"""Loudness (LUFS) and T60 on signals whose answers are known."""

from __future__ import annotations

import numpy as np
import pytest

from asp.features.loudness import SILENCE_LUFS, energy_decay_db, lufs, t60

SR = 22050


def sine(db: float, seconds: float = 2.0, freq: float = 1000.0) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    return (10 ** (db / 20) * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def test_lufs_follows_gain_and_floors_silence() -> None:
    loud, quiet = lufs(sine(-6.0), SR), lufs(sine(-18.0), SR)
    assert loud - quiet == pytest.approx(12.0, abs=0.05)
    # a full-scale 1 kHz sine reads about -3 LUFS (BS.1770's calibration), so -6 dBFS peak about -9
    assert loud == pytest.approx(-9.0, abs=1.0)
    assert lufs(np.zeros(SR), SR) == SILENCE_LUFS


def test_lufs_refuses_a_clip_shorter_than_a_gating_block() -> None:
    with pytest.raises(ValueError, match="0.4 s"):
        lufs(sine(-6.0, seconds=0.2), SR)


@pytest.mark.parametrize("seconds", [0.3, 1.0, 2.5])
def test_t60_of_exponentially_decaying_noise(seconds: float) -> None:
    rng = np.random.default_rng(0)
    n = int(4 * seconds * SR)
    t = np.arange(n) / SR
    ir = rng.standard_normal(n) * 10 ** (-3 * t / seconds)  # amplitude -60 dB at t = seconds
    assert t60(ir, SR) == pytest.approx(seconds, rel=0.08)


def test_t60_is_zero_for_an_impulse_that_does_not_ring_and_for_silence() -> None:
    ir = np.zeros(SR)
    assert t60(ir, SR) == 0.0
    ir[0] = 1.0
    assert t60(ir, SR) == 0.0
    edc = energy_decay_db(ir)
    assert edc[0] == 0.0 and np.isneginf(edc[1:]).all()
