"""The Serum backend's mapping of effect chains onto Serum's FX parameters (no plugin needed)."""

import numpy as np
import pytest

from asp.effects import specs
from asp.effects.serum import SerumRack, chain_from_serum, serum_parameters
from asp.synths import registry

ENABLES = {"distortion": 154, "phaser": 156, "compressor": 159, "reverb_hall": 160, "eq": 161}


def test_a_chain_switches_its_effects_on_and_the_others_off():
    chain = {"distortion": {"mode": 11.0, "drive": 0.7}, "eq": {"frequency": 0.6, "resonance": 0.2, "gain": 0.1}}
    v = serum_parameters(chain)
    assert {n: v[i] for n, i in ENABLES.items()} == {"distortion": 1.0, "phaser": 0.0, "compressor": 0.0,
                                                     "reverb_hall": 0.0, "eq": 1.0}
    assert v[99] == pytest.approx(13 / 13) and v[97] == pytest.approx(0.7)  # asp's mode 11 = Serum class 13 of 14
    assert (v[89], v[91], v[93]) == pytest.approx((0.6, 0.2, 0.1))
    assert v[96] == 1.0 and v[88] == pytest.approx(0.333)  # fixed values of the effects that are on
    assert 135 not in v and 112 not in v  # nothing of the effects that are off beyond their switch


def test_mapping_round_trips_for_random_chains():
    rng = np.random.default_rng(1)
    for mask in range(32):
        chain = specs.sample_chain(specs.subsets()[mask], rng)
        back = chain_from_serum(serum_parameters(chain))
        assert list(back) == list(chain)
        for n in chain:
            assert back[n] == pytest.approx(chain[n])


def test_indices_name_the_serum_schemas_parameters():
    schema = registry.load_schema("serum")
    by_index = {p.index: p for p in schema.params}
    expected = {97: "Dist_Drv", 99: "Dist_Mode", 112: "Phs_Dpth", 113: "Phs_Frq", 114: "Phs_Feed", 270: "CompMB L",
                271: "CompMB M", 272: "CompMB H", 81: "Verb Wet", 84: "VerbLoCt", 86: "VerbHiCt", 89: "EQ FrqH",
                91: "EQ Q H", 93: "EQ VolH"}
    got = {p.serum: by_index[p.serum].name for n in specs.rack_order() for p in specs.get(n).params}
    assert got == expected


def test_apply_vector_sets_only_fx_parameters():
    rack = SerumRack()
    dry = rack.schema.default_vector()
    wet = rack.apply_vector(dry, {"phaser": {"depth": 0.9, "frequency": 0.1, "feedback": 0.4}})
    changed = set(np.nonzero(wet != dry)[0])
    allowed = set(serum_parameters({"phaser": {"depth": 0.9, "frequency": 0.1, "feedback": 0.4}}))
    assert changed <= allowed and {112, 113, 114} <= changed | {i for i in allowed if dry[i] == wet[i]}
    with pytest.raises(ValueError, match="315 parameters"):
        rack.apply_vector(dry[:10], {})
