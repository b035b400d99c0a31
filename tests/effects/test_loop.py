"""The step loop on real renders (a built-in synth through the Faust rack): an oracle reaches the target exactly, the
stopping rule tolerates one bad step and refuses the next, rollback returns the best state."""

import numpy as np
import pytest

from asp.data.effects import NOTE, RENDER
from asp.effects.loop import EffectLoop, OraclePolicy, RandomPolicy, TrueParams
from asp.render import get_renderer
from asp.render.effects import FaustRack
from asp.synths import effect_specs as specs
from asp.synths import registry
from asp.synths.presets import read_json_preset


@pytest.fixture(scope="module")
def dry():
    path = registry.PRESETS_DIR / "effects" / "advanced_shapes" / "power_fifths.json"
    preset = read_json_preset(path, registry.load_schema("vapoly"))
    return get_renderer("vapoly", RENDER).render(preset.vector, NOTE)


@pytest.fixture(scope="module")
def rack():
    return FaustRack(RENDER.sample_rate)


CHAIN = {
    "distortion": {"mode": 3.0, "drive": 0.62},
    "reverb_hall": {"mix": 0.5, "low_cut": 0.2, "high_cut": 0.7},
    "eq": {"frequency": 0.7, "resonance": 0.3, "gain": 0.9},
}


def test_oracle_with_true_parameters_reaches_the_target(dry, rack):
    target = rack.apply(dry, CHAIN)
    res = EffectLoop(rack, OraclePolicy(CHAIN), TrueParams(CHAIN)).run(dry, target)
    assert [s.effect for s in res.steps] == ["distortion", "reverb_hall", "eq"] and all(s.kept for s in res.steps)
    assert res.chain == specs.check_chain(CHAIN)
    np.testing.assert_array_equal(res.audio, target)
    assert res.final["mssmae"] == pytest.approx(0.0, abs=1e-9) and res.start["mssmae"] > 0.1
    assert res.stopped == "the policy stopped"
    assert res.steps[0].describe().startswith("Step 1: Distortion, mode diode 1, drive 0.62 (mssmae ")
    assert set(res.steps[0].seconds) == {"select", "params", "render", "features"}


class LouderRack:
    """A stand-in rack for the stopping rule alone: every effect makes the sound 6 dB louder, so against the dry
    target every step is worse than the one before."""

    def apply(self, dry, chain):
        return dry * 2.0 ** len(chain)


def test_one_bad_step_is_tolerated_the_next_is_refused(dry):
    loop = EffectLoop(LouderRack(), OraclePolicy(specs.rack_order()), TrueParams(CHAIN), patience=1)
    res = loop.run(dry, dry)
    assert [s.kept for s in res.steps] == [True, False]
    assert list(res.chain) == [res.steps[0].effect]
    assert res.stopped == "2 bad steps (patience 1)"
    assert res.final == res.steps[0].metrics
    assert "not applied, stopped" in res.steps[1].describe()


def test_patience_zero_and_rollback(dry):
    rack = LouderRack()
    res = EffectLoop(rack, OraclePolicy(specs.rack_order()), TrueParams(CHAIN), patience=0).run(dry, dry)
    assert [s.kept for s in res.steps] == [False] and res.chain == {}
    np.testing.assert_array_equal(res.audio, dry)
    res = EffectLoop(rack, OraclePolicy(specs.rack_order()), TrueParams(CHAIN), patience=3, rollback=True).run(dry, dry)
    assert sum(s.kept for s in res.steps) == 3 and res.chain == {}  # three kept bad steps, all rolled back
    assert res.final == res.start and res.stopped.endswith("rolled back to the best step")


def test_random_policy_uses_each_effect_once(dry, rack):
    target = rack.apply(dry, CHAIN)
    res = EffectLoop(rack, RandomPolicy(1), TrueParams(CHAIN), patience=5).run(dry, target)
    effects = [s.effect for s in res.steps]
    assert len(effects) == len(set(effects)) == 5


def test_bad_arguments():
    with pytest.raises(ValueError, match="unknown metric 'snr'"):
        EffectLoop(None, RandomPolicy(), TrueParams({}), metric="snr")


def test_class_search_finds_the_distortion_mode_by_ear(dry, rack):
    """Settings that are right but for the distortion mode: the loop keeps the wrong mode as told, and finds the
    true one when it may search the classes (renders are deterministic, so the true mode matches exactly)."""
    true = {"distortion": CHAIN["distortion"]}
    wrong = {"distortion": {"mode": 9.0, "drive": 0.62}}
    target = rack.apply(dry, true)
    plain = EffectLoop(rack, OraclePolicy(true), TrueParams(wrong)).run(dry, target)
    assert plain.chain == wrong and plain.final["mssmae"] > 1e-3
    loop = EffectLoop(rack, OraclePolicy(true), TrueParams(wrong), search_classes=True)
    assert len(loop.candidates(specs.get("distortion"), wrong["distortion"])) == 12
    assert loop.candidates(specs.get("eq"), CHAIN["eq"]) == [CHAIN["eq"]]  # nothing to search
    res = loop.run(dry, target)
    assert res.chain == true and res.final["mssmae"] == pytest.approx(0.0, abs=1e-9)
    assert res.steps[0].seconds["render"] > plain.steps[0].seconds["render"]  # twelve renders, counted
    # on the PCC (higher is better) the search keeps the best class too
    pcc = EffectLoop(rack, OraclePolicy(true), TrueParams(wrong), metric="pcc", search_classes=True).run(dry, target)
    assert pcc.chain == true and pcc.final["pcc"] == pytest.approx(1.0, abs=1e-9)
