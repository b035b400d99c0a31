"""Training the effect models on a real (small) effect dataset: examples have the right shapes and labels, a short
run writes checkpoints and validation metrics, a re-run skips finished models."""

import json

import numpy as np
import torch

from asp.effects import specs
from asp.effects.dataset import EffectDataset
from asp.effects.models import EffectParamModel
from asp.effects.training import EffectModule, ParamExamples, SelectionExamples, collate_steps, train_models


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
    res = train_models(effect_data, out, epochs=2, batch_size=16, selectors=("rnn", "cnn_1s"), effects=("eq",),
                       limit=64)
    assert {"params/eq", "selectors/rnn", "selectors/cnn_1s"} <= set(res)
    assert 0.0 <= res["selectors/rnn"]["val/accuracy"] <= 1.0 and np.isfinite(res["params/eq"]["val/loss"])
    module = EffectModule.load_from_checkpoint(out / "params" / "eq.ckpt")
    assert isinstance(module.net, EffectParamModel) and module.net.effect == "eq"
    setting = module.net.predict(torch.zeros(1, 2, 128, 87))[0]
    specs.get("eq").check(setting)
    stamp = (out / "params" / "eq.ckpt").stat().st_mtime_ns
    again = train_models(effect_data, out, epochs=2, batch_size=16, selectors=("rnn", "cnn_1s"), effects=("eq",),
                         limit=64)
    assert (out / "params" / "eq.ckpt").stat().st_mtime_ns == stamp and again == json.loads(
        (out / "results.json").read_text())
