"""Training the effect models on a real (small) effect dataset: examples have the right shapes and labels, a short
run writes checkpoints and validation metrics, a re-run skips finished models."""

import json

import numpy as np
import pytest
import torch
from torch.utils.data import default_collate

from asp.data.effects import EffectDataset
from asp.effects.rollouts import RolloutExamples
from asp.effects.training import train_models
from asp.models.effect_training import EffectModule, ParamExamples, SelectionExamples, collate_steps
from asp.models.effects import EffectParamModel
from asp.synths import effect_specs as specs


def test_param_examples_pair_a_subset_with_the_effect_added(effect_data):
    ds = EffectDataset(effect_data)
    ex = ParamExamples(ds, "train", "distortion")
    assert len(ex) == 16 * len(ds.rows("train"))
    x, cont, cls = ex[0]
    fam, a, t = ex.index.iloc[0][["family", "input", "target"]]
    assert x.shape == (2, 128, 87) and t == a | 1
    np.testing.assert_array_equal(x[1].numpy(), ds.features(int(fam))[t].astype(np.float32))
    chain = ds.chain(int(fam))["distortion"]
    assert cont.tolist() == [np.float32(chain["drive"])] and cls.tolist() == [int(chain["mode"])]


def test_selection_examples_carry_their_steps(effect_data):
    ds = EffectDataset(effect_data)
    ex = SelectionExamples(ds, "valid", "mfcc")
    i = int(np.nonzero(ex.index.step.to_numpy() == 3)[0][0])
    steps, used, label = ex[i]
    row = ex.index.iloc[i]
    assert steps.shape == (3, 2, 30, 87) and used.shape == (3, 5)
    assert used[0].sum() == 0 and used[-1].sum() == 2  # dry first; two effects used before the third choice
    assert label.tolist() == [float((row.label >> k) & 1) for k in range(5)]
    batch = collate_steps([ex[0], ex[i]])
    assert batch[0].shape == (2, 3, 2, 30, 87) and batch[2].tolist() == [ex.index.step.iloc[0], 3]


def test_a_short_run_trains_and_resumes(effect_data, tmp_path):
    out = tmp_path / "models"
    kw = dict(epochs=2, batch_size=16, selectors=("rnn", "cnn_1s"), effects=("eq",), limit=64, intermediate="true")
    res = train_models(effect_data, out, **kw)
    assert {"params/eq", "selectors/rnn", "selectors/cnn_1s"} <= set(res)
    assert 0.0 <= res["selectors/rnn"]["val/accuracy"] <= 1.0 and np.isfinite(res["params/eq"]["val/loss"])
    module = EffectModule.load_from_checkpoint(out / "params" / "eq.ckpt")
    assert isinstance(module.net, EffectParamModel) and module.net.effect == "eq"
    setting = module.net.predict(torch.zeros(1, 2, 128, 87))[0]
    specs.get("eq").check(setting)
    # it learned: on validation examples, its loss is below the same network untrained (2 epochs: about 10 % lower)
    valid = ParamExamples(EffectDataset(effect_data), "valid", "eq")
    x, cont, cls = default_collate([valid[i] for i in range(0, len(valid), max(1, len(valid) // 64))])
    torch.manual_seed(0)
    untrained = EffectModule(kind="params", effect="eq")
    with torch.no_grad():
        before, after = (float(m.net.loss(x, cont, cls)["loss"]) for m in (untrained, module))
    assert after < before, (before, after)
    stamp = (out / "params" / "eq.ckpt").stat().st_mtime_ns
    again = train_models(effect_data, out, **kw)
    assert (out / "params" / "eq.ckpt").stat().st_mtime_ns == stamp and again == json.loads(
        (out / "results.json").read_text()
    )
    with pytest.raises(ValueError, match="other settings .*epochs"):
        train_models(effect_data, out, **{**kw, "epochs": 3, "selectors": ("rnn",)})
    with pytest.raises(ValueError, match="needs every effect.s parameter model; not trained: distortion"):
        other = {**kw, "epochs": 1, "selectors": ("rnn",), "intermediate": "model"}
        train_models(effect_data, tmp_path / "other", **other)


def test_selectors_train_on_model_produced_audio(effect_data, tmp_path):
    out = tmp_path / "models"
    train_models(effect_data, out, epochs=1, batch_size=16, selectors=("cnn", "cnn_1s"), limit=150, intermediate="both")
    ds = EffectDataset(effect_data)
    fams = sorted(p.parent for p in (out / "rollouts").rglob("examples.json"))
    assert len(fams) == 2  # ceil(150 / 111) families rolled out for a capped run
    fam = int(np.nonzero(ds.families.folder.to_numpy() == str(fams[0].relative_to(out / "rollouts")))[0][0])
    examples = json.loads((fams[0] / "examples.json").read_text())
    mels = np.load(fams[0] / "mels.npy")
    assert len(examples) == 111 and mels.shape == (81, 128, 87)
    # state 0 is the dry sound, rendered again from the preset file: the dataset's own dry features
    np.testing.assert_array_equal(mels[0], ds.features(fam)[0])
    for ex in examples:
        assert ex["label"] == ex["target"] & ~ex["used"][-1]
        assert len(ex["path"]) == len(ex["used"]) and ex["used"][0] == 0
    stops = [ex for ex in examples if ex["label"] == 0]  # one per target, after its last effect
    assert len(stops) == 31 and all(ex["used"][-1] == ex["target"] for ex in stops)
    # a model-produced state is the predicted settings' sound, not the true one of the same subset
    ex = next(e for e in examples if len(e["path"]) == 2)
    assert np.abs(mels[ex["path"][1]].astype(np.float32) - ds.features(fam)[ex["used"][1]]).max() > 0.01
    rx = RolloutExamples(ds, out / "rollouts", [fam], "mfcc")
    steps, used, label = rx[examples.index(ex)]
    assert steps.shape == (2, 2, 30, 87) and used.shape == (2, 5) and label.sum() == bin(ex["label"]).count("1")
    one_shot = RolloutExamples(ds, out / "rollouts", [fam], "mel", one_shot=True)
    assert len(one_shot) == 31 and all(len(e["path"]) == 1 and e["label"] == e["target"] for _, e in one_shot.index)


def test_one_shot_examples_are_first_steps_with_the_whole_set(effect_data):
    ds = EffectDataset(effect_data)
    ex = SelectionExamples(ds, "valid", one_shot=True)
    assert len(ex) == 31 * len(ds.rows("valid"))
    assert (ex.index.step == 1).all() and (ex.index.label == ex.index.target).all() and (ex.index.label > 0).all()
    seq = SelectionExamples(ds, "valid")
    assert len(seq) == 243 * len(ds.rows("valid")) and (seq.index.label == 0).sum() == 32 * len(ds.rows("valid"))


def test_wandb_tracks_each_model_in_a_run_of_its_own(effect_data, tmp_path, monkeypatch):
    monkeypatch.setenv("WANDB_SILENT", "true")
    out = tmp_path / "models"
    with pytest.raises(ValueError, match="unknown wandb mode 'cloud'; valid: offline, online, disabled"):
        train_models(effect_data, out, epochs=1, effects=("eq",), selectors=(), logger="wandb", wandb_mode="cloud")
    with pytest.raises(ValueError, match="unknown logger 'tensorboard'; valid: csv, wandb"):
        train_models(effect_data, out, epochs=1, effects=("eq",), selectors=(), logger="tensorboard")
    assert not (out / "params").exists()  # refused before any training
    train_models(
        effect_data,
        out,
        epochs=1,
        batch_size=16,
        effects=("eq", "phaser"),
        selectors=(),
        limit=32,
        logger="wandb",
        log=lambda m: None,
    )
    runs = sorted((out / "logs" / "wandb").glob("offline-run-*"))
    assert len(runs) == 2 and all(list(r.glob("run-*.wandb")) for r in runs)
    assert len({r.name.rsplit("-", 1)[1] for r in runs}) == 2  # two run ids, not one run reused
    for effect in ("eq", "phaser"):  # the CSV log is kept beside wandb
        assert "val/loss" in (out / "logs" / effect / "metrics.csv").read_text()


@pytest.mark.slow  # about 36 s: the greedy labels of every step, then a selector trained on them
def test_greedy_order_labels_the_largest_step_first(effect_data, tmp_path):
    ds = EffectDataset(effect_data)
    fam = ds.rows("valid")[1]
    ex = SelectionExamples(ds, "valid", order="greedy")
    rows = np.nonzero((ex.index.family == fam).to_numpy())[0]
    d = ds.distances(int(fam))
    for i in rows[::7]:
        row = ex.index.iloc[i]
        label = int(np.dot(ex[i][2].numpy(), 2 ** np.arange(5)))
        missing = int(row.target) & ~int(row.input)
        if not missing:
            assert label == 0
            continue
        assert bin(label).count("1") == 1 and label & missing  # one missing effect
        best = min(d[int(row.input) | (1 << k), int(row.target)] for k in range(5) if missing >> k & 1)
        assert d[int(row.input) | label, int(row.target)] == best
    out = tmp_path / "models"
    kw = dict(epochs=1, batch_size=16, selectors=("rnn",), effects=("eq",), limit=32, intermediate="true")
    res = train_models(effect_data, out, **kw, order="greedy", log=lambda m: None)
    assert res["selectors/rnn"]["settings"]["order"] == "greedy"
    with pytest.raises(ValueError, match="selectors/rnn was trained with other settings .*order"):
        train_models(effect_data, out, **kw, log=lambda m: None)
    with pytest.raises(ValueError, match="unknown order 'best'; valid: any, greedy"):
        train_models(effect_data, out, epochs=1, selectors=("rnn",), order="best")
    with pytest.raises(ValueError, match="unknown metric 'snr'; valid: mse"):
        train_models(effect_data, out, epochs=1, selectors=("rnn",), order="greedy", order_metric="snr")
