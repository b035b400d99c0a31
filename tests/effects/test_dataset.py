"""The effect dataset with real renders (built-in synths through the Faust rack): counts, pair construction, splits
by preset without leakage, stored features equal fresh renders, resuming."""

import json
import shutil

import numpy as np
import pytest

from asp.data.effects import (
    NOTE,
    EffectDataConfig,
    EffectDataset,
    generate,
    pairs,
    pairs_per_family,
    param_examples,
    selection_examples,
)
from asp.features.effect import effect_mel, effect_mfcc
from asp.render import get_renderer
from asp.render.effects import FaustRack
from asp.synths import effect_specs as specs
from asp.synths import registry
from asp.synths.presets import read_json_preset


def test_counts_and_shapes(effect_data):
    ds = EffectDataset(effect_data)
    n_presets = sum(len(list((registry.PRESETS_DIR / "effects" / g).glob("*.json"))) for g in specs.PRESET_GROUPS)
    assert len(ds.families) == n_presets * 2 == ds.card["families"]
    assert ds.card["renders"] == 32 * len(ds.families)
    assert ds.features(0).shape == (32, 128, 87) and ds.features(0, "mfccs").shape == (32, 30, 87)
    assert set(ds.families.group) == set(specs.PRESET_GROUPS)


def test_pair_construction_counts():
    assert pairs_per_family() == 211
    p = pairs(np.array([4, 9]))
    assert len(p) == 422 and set(p.family) == {4, 9}
    assert ((p.input & p.target) == p.input).all() and (p.input != p.target).all()
    per_target = p[p.family == 4].groupby("target").size()
    assert all(per_target[t] == 2 ** bin(t).count("1") - 1 for t in per_target.index)
    e = param_examples(np.array([4]), "eq")
    assert len(e) == 16 and ((e.target - e.input) == 16).all()  # eq is the 5th effect in the rack: bit 4
    assert sum(len(param_examples(np.array([4]), n)) for n in specs.rack_order()) == 80
    s = selection_examples(np.array([4]), seed=0)
    assert len(s) == 211 + 32 and (s.label == s.target - s.input).all()
    assert ((s.label == 0) == (s.input == s.target)).all()  # the 32 stop cases
    assert len(selection_examples(np.array([4]), seed=0, stop=False)) == 211
    for path, a in zip(s.path, s.input):
        assert path[0] == 0 and path[-1] == a
        assert all(bin(b - x).count("1") == 1 and b & x == x for x, b in zip(path, path[1:]))  # one effect per step
    assert set(s.step) == {1, 2, 3, 4, 5, 6}  # the first step is trained, not only the last (6: stop after five)


def test_splits_by_preset_no_render_on_both_sides(effect_data):
    ds = EffectDataset(effect_data)
    f = ds.families
    assert (f.groupby(["group", "preset"]).split.nunique() == 1).all()
    for group in specs.PRESET_GROUPS:
        g = f[f.group == group]
        assert set(g.split) == {"train", "valid", "test"}, "every group has presets in every split"
    train, test = set(ds.rows("train")), set(ds.rows("test"))
    assert not train & test
    assert set(pairs(ds.rows("test")).family) <= test
    dry = {s: {(r.group, r.preset) for r in f[f.split == s].itertuples()} for s in ("train", "valid", "test")}
    assert not dry["train"] & dry["test"] and not dry["train"] & dry["valid"]  # the shared dry render too


def test_stored_features_are_the_renders(effect_data):
    ds = EffectDataset(effect_data)
    row = int(ds.rows("test")[0])
    fam = ds.families.iloc[row]
    path = registry.PRESETS_DIR / "effects" / fam.group / f"{fam.preset}.json"
    preset = read_json_preset(path, registry.load_schema(fam.synth))
    from asp.data.effects import RENDER

    dry = get_renderer(fam.synth, RENDER).render(preset.vector, NOTE)
    chain = ds.chain(row)
    for mask in (0, 5, 31):
        audio = FaustRack().apply(dry, specs.subchain(chain, specs.subsets()[mask]))
        mel = effect_mel(audio)
        np.testing.assert_allclose(ds.features(row)[mask].astype(np.float32), mel, atol=2e-3)
        np.testing.assert_allclose(
            ds.features(row, "mfccs")[mask].astype(np.float32), effect_mfcc(mel), rtol=2e-3, atol=0.5
        )
    assert not np.allclose(ds.features(row)[0], ds.features(row)[31])
    stored = json.loads((effect_data / fam.folder / "family.json").read_text())
    assert (
        stored["chain"]["distortion"]["mode_name"]
        == specs.get("distortion").param("mode").classes[int(chain["distortion"]["mode"])]
    )


def test_resume_renders_only_what_is_missing(effect_data, tmp_path):
    copy = tmp_path / "ds"
    shutil.copytree(effect_data, copy)
    ds = EffectDataset(copy)
    gone = copy / ds.families.folder.iloc[3]
    before = np.array(ds.features(3))
    shutil.rmtree(gone)
    (copy / "families.parquet").unlink()
    logs = []
    generate(EffectDataConfig(out=copy, draws=2, workers=0), log=logs.append)
    assert logs == [f"resuming: {len(ds.families) - 1} of {len(ds.families)} families already rendered"]
    np.testing.assert_array_equal(EffectDataset(copy).features(3), before)
    with pytest.raises(ValueError, match="other settings.*draws"):
        generate(EffectDataConfig(out=copy, draws=3, workers=0), log=logs.append)


def test_a_missing_group_names_the_groups_there(tmp_path):
    with pytest.raises(FileNotFoundError, match="no preset group 'leads'; groups there: advanced_modulating_shapes"):
        generate(EffectDataConfig(out=tmp_path / "ds", groups=("leads",), workers=0))


def test_greedy_label_picks_the_closest_missing_effect():
    from asp.data.effects import greedy_label

    dist = np.full((32, 32), np.nan)
    dist[0b00001 | 0b00100, 0b10101] = 0.2  # from {bit 0}, adding bit 2 leaves 0.2
    dist[0b00001 | 0b10000, 0b10101] = 0.5
    assert greedy_label(dist, 0b00001, 0b10101) == 0b00100
    assert greedy_label(dist, 0b10101, 0b10101) == 0  # nothing missing: stop


def test_distances_on_true_audio(effect_data):
    from asp.features.effect import EffectFeatures
    from asp.metrics import effect_metrics

    ds = EffectDataset(effect_data)
    fam = int(ds.rows("valid")[0])
    d = ds.distances(fam)
    sub = np.array([[x & t == x for t in range(32)] for x in range(32)])
    assert np.isnan(d[~sub]).all() and np.isfinite(d[sub]).all()
    assert (np.diag(d) == 0).all() and (d[sub & ~np.eye(32, dtype=bool)] > 0).all()
    # one entry against a fresh render: the distortion alone against distortion + reverb
    dry, chain, rack = ds.dry(fam), ds.chain(fam), FaustRack(ds.sample_rate)
    a = rack.apply(dry, specs.subchain(chain, ["distortion"]))
    b = rack.apply(dry, specs.subchain(chain, ["distortion", "reverb_hall"]))
    want = effect_metrics(a, b, EffectFeatures(sample_rate=ds.sample_rate))["mssmae"]
    assert d[specs.mask_of(["distortion"]), specs.mask_of(["distortion", "reverb_hall"])] == pytest.approx(want)
    assert (effect_data / "distances" / "mssmae" / f"{ds.families.folder.iloc[fam]}.npy").is_file()
    assert np.array_equal(ds.distances(fam), d, equal_nan=True)  # kept, read back
    with pytest.raises(ValueError, match="unknown metric 'snr'"):
        ds.distances(fam, "snr")
