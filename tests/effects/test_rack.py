"""The built-in Faust rack, rendered in DawDreamer: every parameter audibly moves the sound, the twelve distortion
modes differ pairwise, bypass is exact, renders do not depend on what was processed before."""

import itertools

import numpy as np
import pytest

import asp.render  # noqa: F401
from asp.features.effect import EffectFeatures, effect_mel
from asp.render.effects import FaustRack, rack_controls
from asp.synths import effect_specs as specs

SR = 44100


@pytest.fixture(scope="module")
def rack():
    return FaustRack(SR)


@pytest.fixture(scope="module")
def tone():
    """A test tone: a 220 Hz saw-ish sum with a decaying envelope, 1 s (what a synth note looks like)."""
    t = np.arange(SR) / SR
    x = sum(np.sin(2 * np.pi * 220 * k * t) / k for k in range(1, 12)) * np.exp(-2.0 * t) * 0.4
    return x.astype(np.float32)


def mel_distance(a, b):
    """Mean absolute difference of the SerumRNN dB mels (asp.metrics), the scale the effect metrics use."""
    return float(np.mean(np.abs(effect_mel(a, EffectFeatures()) - effect_mel(b, EffectFeatures()))))


def base_setting(name):
    """A mid setting of an effect (continuous 0.5, class 0; EQ gain at its sampled edge, so the band is not flat)."""
    spec = specs.get(name)
    s = {p.name: 0.0 if p.categorical else 0.5 for p in spec.params}
    if name == "eq":
        s["gain"] = 0.8
    return s


def test_an_empty_chain_is_an_exact_bypass(rack, tone):
    np.testing.assert_array_equal(rack.apply(tone, {}), tone)
    assert set(rack_controls({})) == set(rack.rack.controls) - {
        p.control for n in specs.rack_order() for p in specs.get(n).params
    }


@pytest.mark.parametrize("effect", specs.rack_order())
def test_each_effect_changes_the_sound(rack, tone, effect):
    assert mel_distance(tone, rack.apply(tone, {effect: base_setting(effect)})) > 0.01


# (compressor.low is left out here: the 250 Hz band split sits next to the tone's 220 Hz fundamental, where summing the
# bands back is not monotonic in one band's level; the next test checks that it moves the sound)
@pytest.mark.parametrize(
    "effect,param,low,high",
    [
        ("distortion", "drive", 0.3, 1.0),
        ("compressor", "mid", 0.0, 1.0),
        ("compressor", "high", 0.0, 1.0),
        ("reverb_hall", "mix", 0.3, 0.7),
        ("eq", "gain", 0.6, 1.0),
    ],
)
def test_distance_from_dry_grows_with_the_amount(rack, tone, effect, param, low, high):
    base = base_setting(effect)
    if effect == "compressor":  # one band at a time: the other bands untouched
        base = {k: 0.0 for k in base}
    values = np.linspace(low, high, 4)
    d = [mel_distance(tone, rack.apply(tone, {effect: {**base, param: v}})) for v in values]
    assert all(b > a for a, b in zip(d, d[1:])), f"{effect}.{param}: {d}"


@pytest.mark.parametrize("effect", specs.rack_order())
def test_every_parameter_audibly_moves_the_output(rack, tone, effect):
    spec = specs.get(effect)
    for p in spec.params:
        lo, hi = (0.0, float(len(p.classes) - 1)) if p.categorical else (p.sample_ranges[0][0], p.sample_ranges[-1][1])
        a = rack.apply(tone, {effect: {**base_setting(effect), p.name: lo}})
        b = rack.apply(tone, {effect: {**base_setting(effect), p.name: hi}})
        assert mel_distance(a, b) > 0.005, f"{effect}.{p.name} does not move the sound"


def test_the_twelve_distortion_modes_differ_pairwise(rack, tone):
    outs = [rack.apply(tone, {"distortion": {"mode": float(m), "drive": 0.6}}) for m in range(12)]
    d = {(i, j): mel_distance(outs[i], outs[j]) for i, j in itertools.combinations(range(12), 2)}
    closest = min(d, key=d.get)
    assert d[closest] > 0.005, f"modes {closest} sound the same ({d[closest]:.4f})"


def test_renders_do_not_depend_on_history(rack, tone):
    chain = {"reverb_hall": base_setting("reverb_hall"), "compressor": base_setting("compressor")}
    first = rack.apply(tone, chain)
    rack.apply(np.ones_like(tone), {"reverb_hall": {"mix": 0.7, "low_cut": 0.0, "high_cut": 1.0}})  # a loud tail
    np.testing.assert_array_equal(rack.apply(tone, chain), first)


def test_rack_order_is_fixed_whatever_the_chain_order(rack, tone):
    a = {"distortion": {"mode": 2.0, "drive": 0.9}, "reverb_hall": base_setting("reverb_hall")}
    b = dict(reversed(list(a.items())))
    np.testing.assert_array_equal(rack.apply(tone, a), rack.apply(tone, b))


def test_unknown_controls_and_bad_values_are_refused(rack, tone):
    with pytest.raises(KeyError, match="unknown effect 'flanger'"):
        rack.apply(tone, {"flanger": {}})
    with pytest.raises(KeyError, match="unknown rack control"):
        rack.rack.process(tone, {"nope": 1.0})
    with pytest.raises(ValueError, match="eq.gain"):
        rack.apply(tone, {"eq": {"frequency": 0.7, "resonance": 0.5, "gain": 2.0}})
