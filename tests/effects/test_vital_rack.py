"""The effect stage on Vital's own effects: chains mapped onto Vital's controls (plain data), a Vital patch as the
loop's rack (the real engine), and an effect dataset, models and evaluation made on it end to end."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from asp.render.vital_rack import vital_controls, vital_value
from asp.synths import effect_specs as specs
from asp.synths import registry

HAS_VITAL = registry.render_status("vital")[0]
needs_vital = pytest.mark.skipif(not HAS_VITAL, reason="pip install 'asp[vital]'")
SWITCHES = {
    "distortion": "distortion_on",
    "phaser": "phaser_on",
    "compressor": "compressor_on",
    "reverb_hall": "reverb_on",
    "eq": "eq_on",
}


def test_a_chain_switches_vitals_effects_and_maps_each_setting_into_its_range():
    chain = {"distortion": {"mode": 11.0, "drive": 0.5}, "eq": {"frequency": 0.0, "resonance": 0.2, "gain": 1.0}}
    v = vital_controls(chain)
    assert {n: v[c] for n, c in SWITCHES.items()} == {
        "distortion": 1.0,
        "phaser": 0.0,
        "compressor": 0.0,
        "reverb_hall": 0.0,
        "eq": 1.0,
    }
    assert v["distortion_type"] == 4.0  # bit crush -> Vital's "Bit Crush"
    assert v["distortion_drive"] == pytest.approx(15.0)  # half of 0-30 dB
    assert v["eq_high_cutoff"] == pytest.approx(15.5) and v["eq_high_gain"] == pytest.approx(15.0)
    assert v["distortion_mix"] == 1.0 and v["eq_low_gain"] == 0.0  # held while the effect is on
    assert "phaser_mod_depth" not in v and "reverb_dry_wet" not in v  # off effects: their switch alone
    for name in specs.builtin_order():  # every parameter names a Vital control, every class a Vital option
        spec = specs.get(name)
        assert spec.vital_enable == SWITCHES[name]
        for p in spec.params:
            assert p.vital, p.name
            if p.categorical:
                assert len(p.vital_classes) == len(p.classes) and set(p.vital_classes) <= set(range(6))
            else:
                lo, hi = p.vital_range
                assert (vital_value(p, 0.0), vital_value(p, 1.0)) == pytest.approx((lo, hi)) and lo < hi
    with pytest.raises(ValueError, match="not one of Vital's"):
        specs.use_extra([specs.steered_spec("half", "x", 2)])
        try:
            vital_controls({"half": {"control_1": 0.5, "control_2": 0.5}})
        finally:
            specs.use_extra(())


@needs_vital
def test_the_mapped_controls_exist_in_vital_and_their_ranges_fit():
    from asp.synths import vital

    details = {r["name"]: r for r in vital.call("all_control_records")}
    for name in specs.builtin_order():
        spec = specs.get(name)
        for control, value in [(spec.vital_enable, 1.0), *spec.vital_fixed]:
            assert details[control]["low"] <= value <= details[control]["high"], control
        for p in spec.params:
            d = details[p.vital]
            if p.categorical:
                assert d["kind"] == "categorical" and max(p.vital_classes) < d["n_classes"]
            else:
                assert d["low"] <= p.vital_range[0] < p.vital_range[1] <= d["high"], p.vital


@needs_vital
def test_a_vital_patch_is_the_rack_its_own_effects_play_on():
    from asp.data.effects import NOTE, RENDER
    from asp.render.factory import get_renderer
    from asp.render.vital_rack import VitalPatchRack
    from asp.synths.presets import read_json_preset

    schema = registry.load_schema("vital")
    preset = read_json_preset(registry.PRESETS_DIR / "vital" / "saw_lead.json", schema)
    rack = VitalPatchRack(preset.vector, NOTE, RENDER)
    dry = rack.dry()
    # the dry sound is the patch with its five effects switched off
    off = schema.from_natural({**schema.to_natural(preset.vector), **{c: 0.0 for c in SWITCHES.values()}})
    np.testing.assert_allclose(dry, get_renderer("vital", RENDER).render(off, NOTE), atol=1e-6)
    assert len(dry) == int(RENDER.render_seconds * RENDER.sample_rate) and np.abs(dry).max() > 0.01
    chain = specs.sample_chain(specs.rack_order(), np.random.default_rng(3))
    wet = rack.apply(dry, chain)
    for name in specs.builtin_order():  # each effect alone changes the sound
        assert np.sqrt(np.mean((rack.apply(dry, {name: chain[name]}) - dry) ** 2)) > 1e-3, name
    rack.apply(dry, {"reverb_hall": chain["reverb_hall"]})  # something else in between
    np.testing.assert_array_equal(rack.apply(None, chain), wet)  # no memory of what it played before


@pytest.fixture(scope="module")
def vital_effect_data(tmp_path_factory) -> Path:
    """Four hand-made Vital patches through Vital's own effects, one draw each (split 2/1/1)."""
    from asp.data.effects import EffectDataConfig, generate

    tmp = tmp_path_factory.mktemp("vitalfx")
    group = tmp / "presets" / "vital"
    group.mkdir(parents=True)
    for p in sorted((registry.PRESETS_DIR / "vital").glob("*.json"))[:4]:
        shutil.copy(p, group / p.name)
    cfg = EffectDataConfig(
        out=tmp / "ds",
        groups=("vital",),
        presets_dir=tmp / "presets",
        draws=1,
        splits=(0.5, 0.25, 0.25),
        workers=0,
        backend="vital",
    )
    return generate(cfg, log=lambda m: None)


@needs_vital
def test_an_effect_dataset_on_vitals_own_effects(vital_effect_data: Path, tmp_path: Path) -> None:
    from asp.data.effects import EffectDataConfig, EffectDataset, generate

    ds = EffectDataset(vital_effect_data)
    assert ds.backend == "vital" and ds.card["config"]["backend"] == "vital"
    assert "effects_yaml_crc32" in ds.card["config"] and "rack_dsp_crc32" not in ds.card["config"]
    assert sorted(ds.families.split) == ["test", "train", "train", "valid"]
    mels = ds.features(0).astype(np.float32)
    assert mels.shape[0] == 32 and all(np.abs(mels[1 << k] - mels[0]).max() > 0.01 for k in range(5))
    np.testing.assert_allclose(ds.dry(0), ds.rack(0).dry(), atol=0)  # the dry sound: the patch, five effects off
    d = ds.distances(0)
    assert d[0, 31] > 0 and d[31, 31] == pytest.approx(0.0, abs=1e-6)
    # a preset of another synth in a Vital dataset is refused, naming the file; so are extra effects
    group = tmp_path / "vital"
    group.mkdir()
    (group / "buzz.json").write_text(json.dumps({"synth": "subtractive", "name": "buzz", "params": {}}))
    cfg = EffectDataConfig(out=tmp_path / "ds", groups=("vital",), presets_dir=tmp_path, workers=0, backend="vital")
    with pytest.raises(ValueError, match="buzz.json: a subtractive preset; --backend vital"):
        generate(cfg, log=lambda m: None)
    with pytest.raises(ValueError, match="extra effects play after the built-in rack only"):
        generate(EffectDataConfig(out=tmp_path / "ds3", backend="vital", extra=(specs.steered_spec("half", "x", 2),)))
    with pytest.raises(ValueError, match="unknown effect backend 'serum'; valid: faust, vital"):
        generate(EffectDataConfig(out=tmp_path / "ds4", backend="serum"))


@pytest.mark.slow
@needs_vital
def test_the_effect_stage_on_vitals_own_effects_end_to_end(vital_effect_data: Path, tmp_path: Path) -> None:
    """Models trained on Vital's effects, evaluated there, and used by ``asp infer --effects`` on a Vital patch."""
    import pandas as pd
    import soundfile as sf

    from asp.data.effects import EffectDataset
    from asp.data.generate import GenerateConfig, generate
    from asp.effects.systems import Models
    from asp.effects.training import train_models
    from asp.eval.effects import EvalConfig, evaluate
    from asp.infer import InferOptions, infer
    from asp.models import training
    from asp.render import RenderSettings
    from asp.synths.vital import read_preset_file

    from ..conftest import overrides

    models = tmp_path / "models"
    train_models(
        vital_effect_data,
        models,
        epochs=1,
        batch_size=8,
        selectors=("rnn",),
        limit=16,
        intermediate="true",
        log=lambda m: None,
    )
    assert Models(models).backend == "vital"
    md = evaluate(
        vital_effect_data,
        models,
        tmp_path / "eval",
        EvalConfig(systems=("serumrnn", "random"), pairs_per_length=1, split="test"),
        log=lambda m: None,
    )
    text = md.read_text()
    assert "vital effects" in text and "SerumRNN" in text and "Random" in text
    for s in ("serumrnn", "random"):  # every pair started from the dry patch and took steps on Vital's rack
        r = pd.read_parquet(tmp_path / "eval" / "runs" / "vital" / f"{s}.parquet")
        assert (r[r.step == 0].mssmae > 0).all() and (r.step > 0).any()

    # a tiny Vital model; the input: a Vital patch with its effects on
    vae_data = generate(
        GenerateConfig(
            out=tmp_path / "vae",
            synths=("vital",),
            presets_per_synth=10,
            workers=0,
            shard_size=5,
            seed=1,
            self_distance_presets=0,
            render=RenderSettings(note_seconds=0.5, render_seconds=1.0, notes=(48,)),
        ),
        progress=False,
    )
    run = tmp_path / "run"
    cfg = overrides(vae_data, run)
    training.train(training.compose([cfg[0], "data.synths=[vital]", *cfg[2:]]))
    ds = EffectDataset(vital_effect_data)
    (tmp_path / "in").mkdir()
    sf.write(tmp_path / "in" / "wet.wav", ds.rack(0).apply(None, ds.chain(0)), ds.sample_rate)
    table = infer(
        tmp_path / "in",
        run / "checkpoints" / "best.ckpt",
        tmp_path / "out",
        InferOptions(effects=models),
        progress=False,
    )
    row = table[table.best.astype(bool)].iloc[0]
    assert row.status == "ok" and row.synth == "vital" and pd.isna(row.error)
    report = json.loads((tmp_path / "out" / "wet.wav" / "effects.json").read_text())
    assert report["backend"] == "vital" and row.mssmae_effects == pytest.approx(report["final"]["mssmae"])
    # the exported patch carries the chosen effects on Vital's own rack, and Vital loads it
    name, vector = read_preset_file(tmp_path / "out" / "wet.wav" / "vital+effects.vital", registry.load_schema("vital"))
    on = {n for n, c in SWITCHES.items() if registry.load_schema("vital").to_natural(vector)[c] >= 0.5}
    assert name == "wet" and on == set(report["chain"])


@needs_vital
def test_steps_start_from_a_vital_patch_on_its_own_rack(effect_models, tmp_path, capsys):
    import soundfile as sf

    from asp.cli import main
    from asp.data.effects import RENDER
    from asp.render.vital_rack import VitalPatchRack
    from asp.synths.presets import read_json_preset

    patch = registry.PRESETS_DIR / "vital" / "pluck.json"

    preset = read_json_preset(patch, registry.load_schema("vital"))
    chain = {"distortion": {"mode": 2.0, "drive": 0.8}, "reverb_hall": {"mix": 0.6, "low_cut": 0.2, "high_cut": 0.8}}
    sf.write(tmp_path / "target.wav", VitalPatchRack(preset.vector, 48, RENDER).apply(None, chain), 44100)
    out = tmp_path / "steps"
    args = ["effects", "steps", str(patch), str(tmp_path / "target.wav"), "--models", str(effect_models)]
    assert main([*args, "--out", str(out), "--backend", "vital"]) == 0
    report = json.loads((out / "steps.json").read_text())
    assert report["backend"] == "vital" and report["steps"]
    assert any("rendered in Vital at note 48" in n for n in report["notes"])
    kept = [s for s in report["steps"] if s["kept"]]
    assert (out / "final.wav").is_file()
    assert report["final"]["mssmae"] == (kept[-1]["after"] if kept else report["start"])["mssmae"]
    # a Vital patch needs the Vital backend: the Faust rack takes audio, and refuses the JSON file
    assert main([*args, "--out", str(tmp_path / "x")]) == 2
    assert "pluck.json" in capsys.readouterr().err
