import numpy as np
import pandas as pd

from asp.eval.evaluate import Evaluator
from asp.eval.presets import baselines, mean_preset
from asp.render import RenderSettings
from asp.synths.schema import schema_from_records

SCHEMA = schema_from_records(
    "toy", [{"name": "x"}, {"name": "c", "kind": "categorical", "n_classes": 3}, {"name": "b", "kind": "binary"}]
)


def test_mean_preset_takes_means_and_modes():
    native = np.array([[0.0, 0.0, 1.0], [0.5, 0.5, 1.0], [1.0, 0.5, 0.0]])
    np.testing.assert_allclose(mean_preset(SCHEMA, native), [0.5, 0.5, 1.0])


def test_evaluator_renders_real_audio():
    from asp.synths import load_sampling, load_schema, sample_presets

    s = load_schema("subtractive")
    targets = sample_presets(s, 3, np.random.default_rng(5), load_sampling("subtractive"))  # not the baseline seed
    methods = {"oracle": targets.copy(), **baselines("subtractive", targets, 3)}
    rows = pd.DataFrame(
        {"synth": "subtractive", "preset_id": range(3), "note": 60, "harmonic_share": 0.5, "timbre_group": 2}
    )
    ev = Evaluator(rows, list(targets), RenderSettings(note_seconds=0.5, render_seconds=1.0))
    res = pd.concat([ev.score(name, {"subtractive": pred}).assign(method=name) for name, pred in methods.items()])
    oracle = res[res.method == "oracle"]
    assert (oracle.lsd == 0).all() and (oracle.cat_acc == 1).all() and (oracle.param_mse == 0).all()
    assert res[res.method == "random preset"].lsd.mean() > 1.0
