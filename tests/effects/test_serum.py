"""The Serum backend's mapping of effect chains onto Serum's FX parameters (no plugin needed)."""

import numpy as np
import pytest

from asp.render.serum_rack import SerumRack, chain_from_serum, serum_parameters
from asp.synths import effect_specs as specs
from asp.synths import registry

ENABLES = {"distortion": 154, "phaser": 156, "compressor": 159, "reverb_hall": 160, "eq": 161}


def test_a_chain_switches_its_effects_on_and_the_others_off():
    chain = {"distortion": {"mode": 11.0, "drive": 0.7}, "eq": {"frequency": 0.6, "resonance": 0.2, "gain": 0.1}}
    v = serum_parameters(chain)
    assert {n: v[i] for n, i in ENABLES.items()} == {
        "distortion": 1.0,
        "phaser": 0.0,
        "compressor": 0.0,
        "reverb_hall": 0.0,
        "eq": 1.0,
    }
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
    expected = {
        97: "Dist_Drv",
        99: "Dist_Mode",
        112: "Phs_Dpth",
        113: "Phs_Frq",
        114: "Phs_Feed",
        270: "CompMB L",
        271: "CompMB M",
        272: "CompMB H",
        81: "Verb Wet",
        84: "VerbLoCt",
        86: "VerbHiCt",
        89: "EQ FrqH",
        91: "EQ Q H",
        93: "EQ VolH",
    }
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


class FaustStandIn:
    """Stands in for Serum in the wiring tests below (no plugin here): it reads the five effects back from the
    parameter vector it is given (``chain_from_serum``) and plays them on the built-in Faust rack after a fixed
    tone. It records every vector it renders."""

    def __init__(self, seconds: float = 1.0):
        from asp.render.effects import FaustRack

        self.schema = registry.load_schema("serum")
        self.rack = FaustRack(44100)
        t = np.arange(int(seconds * 44100)) / 44100
        self.tone = (0.3 * np.sign(np.sin(2 * np.pi * 110 * t))).astype(np.float32)
        self.vectors: list[np.ndarray] = []

    def render(self, vector, note):
        self.vectors.append(np.array(vector))
        values = {p.index: float(vector[i]) for i, p in enumerate(self.schema.params)}
        return self.rack.apply(self.tone, chain_from_serum(values))


def test_patch_rack_plays_the_chain_on_the_patchs_own_fx():
    from asp.render.serum_rack import SerumPatchRack
    from asp.render.settings import RenderSettings

    fake = FaustStandIn()
    schema = registry.load_schema("serum")
    patch = schema.default_vector()
    patch[[schema.params.index(p) for p in schema.params if p.index == ENABLES["reverb_hall"]]] = 1.0
    settings = RenderSettings(note_seconds=0.5, render_seconds=0.5, notes=(48,))
    rack = SerumPatchRack(patch, 48, settings, fake)
    dry = rack.dry()
    assert len(dry) == 22050  # cut to the settings' length
    # the patch's own reverb is switched off for the dry sound
    np.testing.assert_allclose(dry, fake.tone[:22050], atol=1e-6)
    chain = specs.sample_chain(specs.rack_order(), np.random.default_rng(3))
    wet = rack.apply(dry, chain)
    np.testing.assert_allclose(wet, fake.rack.apply(fake.tone, chain)[:22050], atol=1e-5)
    assert not np.allclose(wet, dry, atol=1e-3)
    # only the five effects' parameters differ from the patch
    changed = set(np.nonzero(fake.vectors[-1] != patch)[0])
    fx = {schema.params.index(p) for p in schema.params if p.index in serum_parameters(chain)}
    assert changed <= fx


def test_steps_on_the_serum_backend(effect_models, tmp_path):
    """``asp effects steps --backend serum``'s path, Serum stood in for by the Faust rack (see FaustStandIn)."""
    import json

    import soundfile as sf

    from asp.effects.steps import patch_pair, run_steps
    from asp.effects.systems import Models
    from asp.synths.presets import write_json_preset

    fake = FaustStandIn()
    schema = registry.load_schema("serum")
    write_json_preset(tmp_path / "patch.json", schema, schema.default_vector(), "init")
    chain = specs.sample_chain(("distortion", "reverb_hall"), np.random.default_rng(5))
    sf.write(tmp_path / "target.wav", fake.rack.apply(fake.tone, chain), 44100)
    pair, rack = patch_pair(tmp_path / "patch.json", tmp_path / "target.wav", renderer=fake)
    assert "rendered in Serum at note 48" in " ".join(pair.notes())
    res = run_steps(
        pair, Models(effect_models), tmp_path / "out", system="random", patience=5, rack=rack, log=lambda m: None
    )
    doc = json.loads((tmp_path / "out" / "steps.json").read_text())
    assert doc["backend"] == "serum" and len(doc["steps"]) == len(res.steps) == 5
    # each step rendered the patch with the effects chosen so far switched on in Serum's parameters
    on = {name: [schema.params.index(p) for p in schema.params if p.index == i][0] for name, i in ENABLES.items()}
    used: list[str] = []
    for step, vector in zip(res.steps, fake.vectors[1:]):
        used.append(step.effect)
        assert {n for n, k in on.items() if vector[k] >= 0.5} == set(used)


def test_steps_serum_backend_refuses_bad_input(effect_models, tmp_path, capsys, monkeypatch):
    import soundfile as sf

    from asp.cli import main
    from asp.synths.presets import write_json_preset

    monkeypatch.setenv("ASP_PLUGIN_SERUM", str(tmp_path / "no" / "Serum.so"))
    t = np.arange(44100) / 44100
    sf.write(tmp_path / "target.wav", (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), 44100)
    serum, other = registry.load_schema("serum"), registry.load_schema("amsynth")
    write_json_preset(tmp_path / "patch.json", serum, serum.default_vector(), "init")
    write_json_preset(tmp_path / "amsynth.json", other, other.default_vector(), "init")
    base = [str(tmp_path / "target.wav"), "--models", str(effect_models), "--out", str(tmp_path / "o")]
    assert main(["effects", "steps", str(tmp_path / "patch.json"), *base, "--backend", "serum"]) == 2
    err = capsys.readouterr().err
    assert "Serum.so" in err  # where asp looked for the plugin
    assert main(["effects", "steps", str(tmp_path / "amsynth.json"), *base, "--backend", "serum"]) == 2
    assert "amsynth.json" in capsys.readouterr().err
    assert main(["effects", "steps", str(tmp_path / "patch.json"), *base, "--note", "60"]) == 2
    assert "needs --backend serum" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_a_silent_serum_patch_is_refused(tmp_path):
    import soundfile as sf

    from asp.effects.steps import patch_pair
    from asp.features.audio_io import AudioError
    from asp.synths.presets import write_json_preset

    fake = FaustStandIn()
    sf.write(tmp_path / "target.wav", fake.tone, 44100)
    fake.tone = np.zeros_like(fake.tone)  # the patch plays nothing
    schema = registry.load_schema("serum")
    write_json_preset(tmp_path / "patch.json", schema, schema.default_vector(), "init")
    with pytest.raises(AudioError, match="patch.json: the patch is silent at note 48"):
        patch_pair(tmp_path / "patch.json", tmp_path / "target.wav", renderer=fake)
