"""The effect stage end to end on real renders: tiny models trained on the session's small effect dataset, every
system run by the loop, the paper's tables written; the stopping-rule replay matches live runs."""

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import torch

from asp.data.effects import EffectDataset
from asp.effects.loop import EffectLoop, replay
from asp.effects.systems import SYSTEMS, Models, SelectorPolicy, build
from asp.eval.effects import EvalConfig, evaluate, outcomes
from asp.render.effects import FaustRack
from asp.synths import effect_specs as specs


def test_every_system_runs_and_the_tables_are_written(effect_data, effect_models, tmp_path):
    out = tmp_path / "eval"
    cfg = EvalConfig(groups=("basic_shapes",), pairs_per_length=3)
    first = tuple(s for s in SYSTEMS if s != "exact")
    evaluate(effect_data, effect_models, out, replace(cfg, systems=first), log=lambda m: None)
    stamp = (out / "runs" / "basic_shapes" / "serumrnn.parquet").stat().st_mtime_ns
    # a system added to a finished evaluation: only its runs are made, the others' are read back
    md = evaluate(effect_data, effect_models, out, cfg, log=lambda m: None)
    assert (out / "runs" / "basic_shapes" / "serumrnn.parquet").stat().st_mtime_ns == stamp
    text = md.read_text()
    for title in (
        "Overall change per system",
        "Change per step",
        "Change of mssmae per step, by the target's chain",
        "Next-effect accuracy",
        "Change per effect",
        "Error against tolerated bad steps",
        "Latency per step",
    ):
        assert title in text
    overall = pd.read_csv(out / "basic_shapes_overall.csv", index_col=0)
    assert list(overall.index) == ["SerumRNN", "SerumRNN NI", "SerumCNN", "SerumCNN 1S", "Oracle", "Random", "Exact"]
    # 2 test families: lengths 1-4 have >= 3 pairs to draw from, length 5 only 2 (one per family)
    assert overall.pairs.unique().tolist() == [14]
    assert overall.loc["Random", "own stops"] == 0 and 0 <= overall.loc["Oracle", "own stops"] <= 1
    np.testing.assert_allclose(overall["mssmae Δ"], overall["mssmae final"] - overall["mssmae start"], atol=1e-9)
    # every system starts from the same pairs
    assert overall["mssmae start"].nunique() == 1
    runs = pd.read_parquet(out / "runs" / "basic_shapes" / "oracle.parquet")
    assert runs[runs.step > 0].correct.all()  # the oracle only chooses missing effects
    exact = pd.read_parquet(out / "runs" / "basic_shapes" / "exact.parquet")
    last = exact.sort_values("step").groupby("pair").last()  # every step allowed: the last one reaches the target
    assert (last.step == last.length).all() and (last.mssmae < 1e-9).all() and (last.mse < 1e-9).all()
    # by chain length, the steps add up to the pooled per-step table
    ps = pd.read_csv(out / "basic_shapes_per_step.csv", index_col=[0, 1])
    pl = pd.read_csv(out / "basic_shapes_per_step_length.csv", index_col=[0, 1, 2])
    pooled = (pl.mssmae * pl.runs).groupby(level=[0, 2]).sum() / pl.runs.groupby(level=[0, 2]).sum()
    np.testing.assert_allclose(pooled.loc[ps.index], ps.mssmae, rtol=1e-9)
    assert (pl.runs.groupby(level=[0, 2]).sum().loc[ps.index] == ps.runs).all()
    acc = pd.read_csv(out / "basic_shapes_accuracy.csv", index_col=0)
    assert "Oracle" not in acc.index and ((acc["all steps"] >= 0) & (acc["all steps"] <= 1)).all()
    lat = pd.read_csv(out / "basic_shapes_latency.csv", index_col=0)
    assert (lat["render ms"] > 0).all() and (lat["total ms"] >= lat["render ms"]).all()
    assert (out / "basic_shapes.png").stat().st_size > 1000
    pe = pd.read_csv(out / "basic_shapes_param_errors.csv", index_col=[0, 1, 2])
    assert len(pe) == sum(2 if not p.categorical else 1 for e in specs.rack_order() for p in specs.get(e).params)
    assert pe.notna().all().all() and ((pe >= 0) & (pe <= 1)).all().all()
    assert "Parameter models alone" in text
    # resume: a second run reads the raw runs back instead of running the loops again
    stamp = (out / "runs" / "basic_shapes" / "exact.parquet").stat().st_mtime_ns
    evaluate(effect_data, effect_models, out, cfg, log=lambda m: None)
    assert (out / "runs" / "basic_shapes" / "exact.parquet").stat().st_mtime_ns == stamp
    with pytest.raises(ValueError, match="other settings"):
        evaluate(effect_data, effect_models, out, EvalConfig(groups=("basic_shapes",), pairs_per_length=4))


@pytest.mark.parametrize("patience,rollback", [(0, False), (1, False), (1, True), (2, False)])
def test_replay_of_a_patient_run_equals_a_live_run(effect_data, effect_models, patience, rollback):
    ds = EffectDataset(effect_data)
    fam = int(ds.rows("test")[0])
    dry = ds.dry(fam)
    rack = FaustRack(ds.sample_rate)
    target = rack.apply(dry, specs.subchain(ds.chain(fam), specs.subsets()[0b10110]))
    m = Models(effect_models)

    def run(p, rb):
        policy, params = build("random", m, rng=3)
        return EffectLoop(rack, policy, params, patience=p, rollback=rb).run(dry, target)

    full = run(5, False)
    live = run(patience, rollback)
    final, applied = replay(full.start, full.steps, "mssmae", patience, rollback)
    assert final == live.final and applied == len(live.chain)
    o = outcomes(
        pd.DataFrame(
            [{"pair": 0, "length": 3, "step": 0, **full.start}]
            + [
                {"pair": 0, "length": 3, "step": s.index, "effect": s.effect, "kept": s.kept, **s.metrics}
                for s in full.steps
            ]
        ),
        "mssmae",
        patience,
        rollback,
    )
    assert o.final_mssmae.iloc[0] == live.final["mssmae"] and o.applied.iloc[0] == applied


def test_model_backed_systems_choose_unused_effects(effect_data, effect_models):
    ds = EffectDataset(effect_data)
    fam = int(ds.rows("test")[0])
    dry = ds.dry(fam)
    rack = FaustRack(ds.sample_rate)
    target = rack.apply(dry, ds.chain(fam))
    m = Models(effect_models)
    for system in SYSTEMS:
        policy, params = build(system, m, missing=ds.chain(fam))
        res = EffectLoop(rack, policy, params, patience=5).run(dry, target)
        effects = [s.effect for s in res.steps]
        assert len(effects) == len(set(effects)), system
        if system in ("oracle", "random", "exact"):  # none stops before every effect is used
            assert sorted(effects) == sorted(specs.rack_order()), system
        if system == "exact":
            assert res.final["mssmae"] < 1e-9 < res.start["mssmae"]
        elif len(effects) < 5:  # a selector's stop (or the one-shot set) ended the run
            assert res.stopped == "the policy stopped", system
        for s in res.steps:
            specs.get(s.effect).check(s.setting)
    assert isinstance(build("serumrnn", m)[0], SelectorPolicy)
    with torch.no_grad():  # a selector that always stops: the loop ends before any step, the input unchanged
        m.selector("cnn").head.bias.copy_(torch.tensor([0.0, 0, 0, 0, 0, 1e6]))
    policy, params = build("serumcnn", m)
    res = EffectLoop(rack, policy, params).run(dry, target)
    assert res.steps == [] and res.stopped == "the policy stopped" and np.array_equal(res.audio, dry)
    with pytest.raises(KeyError, match="unknown system 'serumgru'; valid: serumrnn"):
        build("serumgru", m)
    with pytest.raises(ValueError, match="with their settings"):
        build("exact", m, missing=specs.rack_order())


def test_a_larger_test_set_for_trained_models_and_no_leak(effect_data, effect_models, tmp_path):
    from asp.data.effects import EffectDataConfig, generate

    small = EffectDataset(effect_data)
    big = EffectDataset(
        generate(EffectDataConfig(out=tmp_path / "test3", draws=3, workers=0, only=("test",)), log=lambda m: None)
    )
    assert set(big.families.split) == {"test"} and len(big.families) == 3 * len(small.rows("test")) // 2
    assert set(big.families.preset) == set(small.families.preset[small.families.split == "test"])
    for fam in small.rows("test"):  # the same presets and the same first draws as in the smaller dataset
        row = small.families.iloc[fam]
        other = int(np.nonzero((big.families.family == row.family).to_numpy())[0][0])
        np.testing.assert_array_equal(big.features(other), small.features(fam))
    cfg = EvalConfig(groups=("basic_shapes",), systems=("exact",), pairs_per_length=2)
    evaluate(big.root, effect_models, tmp_path / "eval", cfg, log=lambda m: None)
    assert pd.read_csv(tmp_path / "eval" / "basic_shapes_overall.csv").pairs.iloc[0] == 10
    valid = generate(EffectDataConfig(out=tmp_path / "valid1", draws=1, workers=0, only=("valid",)), log=lambda m: None)
    with pytest.raises(ValueError, match="the valid presets .* are in the training or validation data"):
        evaluate(valid, effect_models, tmp_path / "eval2", EvalConfig(split="valid", systems=("exact",)))
    with pytest.raises(ValueError, match="unknown split 'dev'; valid: train, valid, test"):
        generate(EffectDataConfig(out=tmp_path / "x", only=("dev",)))


def test_parameter_errors_measure_the_settings(effect_data):
    """A predictor that knows the true settings makes no error; one that is off by 0.1 everywhere and always names
    class 0 has a mean absolute error of 0.1 and the share of class 0 as its accuracy."""
    from asp.eval.effects import PARAM_CASES, param_errors

    ds = EffectDataset(effect_data)
    fams = [int(f) for f in ds.rows("test")]
    truth = {e: [ds.chain(f)[e] for f in fams] for e in specs.rack_order()}
    exact = param_errors(ds, fams, lambda e, x: truth[e][: len(x)])
    assert list(exact.columns) == list(PARAM_CASES)
    assert (exact.xs("accuracy", level="measure") == 1).all().all()
    assert (exact.xs("mae", level="measure") == 0).all().all()

    def off(e, x):
        spec = specs.get(e)
        return [{p.name: 0.0 if p.categorical else s[p.name] + 0.1 for p in spec.params} for s in truth[e][: len(x)]]

    wrong = param_errors(ds, fams, off)
    np.testing.assert_allclose(wrong.xs("mae", level="measure"), 0.1, atol=1e-6)
    np.testing.assert_allclose(wrong.xs("mse", level="measure"), 0.01, atol=1e-6)
    mode = [s["mode"] == 0 for s in truth["distortion"]]
    assert wrong.loc[("distortion", "mode", "accuracy")].tolist() == [np.mean(mode)] * 2


def test_class_search_is_a_setting_of_the_evaluation(effect_data, effect_models, tmp_path):
    import json

    out = tmp_path / "eval"
    cfg = EvalConfig(groups=("basic_shapes",), systems=("oracle",), pairs_per_length=1, search_classes=True)
    md = evaluate(effect_data, effect_models, out, cfg, log=lambda m: None)
    assert json.loads((out / "plan.json").read_text())["search_classes"] is True
    assert "categorical classes searched by ear" in md.read_text()
    with pytest.raises(ValueError, match="other settings"):
        evaluate(effect_data, effect_models, out, replace(cfg, search_classes=False), log=lambda m: None)
    # without the search, the plan is written as before the option existed (earlier evaluations still resume)
    plain = tmp_path / "plain"
    evaluate(effect_data, effect_models, plain, replace(cfg, search_classes=False), log=lambda m: None)
    assert "search_classes" not in json.loads((plain / "plan.json").read_text())
