"""A steered effect joins the rack as a sixth effect: played after the five by its processor (the real TCN, the real
Faust rack), recorded by the effect dataset it was rendered into (64 subsets), seen again by every stage that reads
the dataset or the models trained on it, and refused when its weights change."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from asp.data.effects import EffectDataConfig, EffectDataset, generate, pairs, pairs_per_family
from asp.effects.steer import RackSteered, SteeredEffect, rack_spec, train_steerable
from asp.render.effects import FaustRack
from asp.render.serum_rack import serum_parameters
from asp.synths import effect_specs as specs

from .test_steer import SR
from .test_steer import TINY as STEER_TINY

TINY = replace(STEER_TINY, steps=30, batch_size=2, checkpoint_every=30)


@pytest.fixture(scope="module")
def steered(tmp_path_factory) -> Path:
    """A tiny steered effect fitted (briefly) to a gain of 0.5 on noise."""
    rng = np.random.default_rng(0)
    dry = (0.3 * rng.standard_normal(2 * SR)).astype(np.float32)
    folder = tmp_path_factory.mktemp("steered") / "half"
    train_steerable(dry, 0.5 * dry, folder, TINY, progress=False)
    return folder


@pytest.fixture(autouse=True)
def built_in_rack_after():
    yield
    specs.use_extra(())  # the other tests see the built-in five


def test_the_steered_effect_plays_after_the_five(steered: Path) -> None:
    spec = rack_spec("half", steered)
    assert spec.extra and [p.name for p in spec.params] == ["control_1", "control_2"]
    specs.use_extra([spec])
    assert specs.rack_order()[-1] == "half" and len(specs.subsets()) == 64
    rng = np.random.default_rng(1)
    dry = (0.2 * rng.standard_normal(22050)).astype(np.float32)
    rack = FaustRack(22050)
    chain = {"compressor": specs.get("compressor").sample(rng), "half": {"control_1": 0.5, "control_2": 0.9}}
    wet = rack.apply(dry, chain)
    # the Faust rack's compressor, then the TCN with controls (0, 0.8): the same computation done by hand
    by_hand = SteeredEffect(steered).apply(rack.apply(dry, {"compressor": chain["compressor"]}), 22050, [0.0, 0.8])
    np.testing.assert_allclose(wet, by_hand, atol=1e-6)
    assert not np.allclose(wet, rack.apply(dry, {"compressor": chain["compressor"]}), atol=1e-3)
    # the controls steer it: another setting, another sound
    other = rack.apply(dry, {**chain, "half": {"control_1": 0.0, "control_2": 0.1}})
    assert np.abs(other - wet).max() > 1e-4
    with pytest.raises(ValueError, match="not one of Serum's"):
        serum_parameters({"half": {"control_1": 0.5, "control_2": 0.5}})
    assert serum_parameters({"eq": specs.get("eq").sample(rng)})  # the five still map onto Serum
    with pytest.raises(ValueError, match="name of a built-in effect"):
        specs.use_extra([specs.steered_spec("eq", str(steered), 2)])


def test_an_effect_dataset_with_a_steered_effect(steered: Path, tmp_path: Path) -> None:
    spec = rack_spec("half", steered)
    out = generate(
        EffectDataConfig(out=tmp_path / "ds", groups=("basic_shapes",), draws=1, workers=0, extra=(spec,)),
        log=lambda m: None,
    )
    specs.use_extra(())  # a later process: the dataset brings its rack back
    ds = EffectDataset(out)
    assert specs.rack_order()[-1] == "half"
    assert ds.features(0).shape[0] == 64 and ds.card["renders"] == 64 * len(ds.families)
    assert pairs_per_family() == 3**6 - 2**6 and len(pairs(np.array([0]))) == 665
    assert set(ds.chain(0)["half"]) == {"control_1", "control_2"}
    # the subsets with the steered effect differ from the same subsets without it
    bit = specs.mask_of(("half",))
    mels = ds.features(0).astype(np.float32)
    assert np.abs(mels[bit | 1] - mels[1]).max() > 0.01
    d = ds.distances(0)
    assert d.shape == (64, 64) and d[0, bit] > 0 and d[bit, bit] == pytest.approx(0.0, abs=1e-6)

    # the models trained on it know six effects, and the loop can choose and set the steered one
    from asp.effects.systems import Models, build
    from asp.effects.training import train_models

    models = tmp_path / "models"
    train_models(
        out, models, epochs=1, batch_size=8, selectors=("rnn",), limit=16, intermediate="true", log=lambda m: None
    )
    specs.use_extra(())
    m = Models(models)
    assert specs.rack_order()[-1] == "half"
    assert m.selector("rnn").n_out == 7 and m.params("half").spec.extra
    setting = m.predict_settings("half", torch.zeros(1, 2, 128, 87))[0]
    assert set(setting) == {"control_1", "control_2"} and all(0 <= v <= 1 for v in setting.values())
    policy, _ = build("serumrnn", m)
    assert policy is not None

    # new weights in the folder: not the effect the dataset was made with
    (steered / "model.pt").write_bytes((steered / "model.pt").read_bytes() + b"\0")
    try:
        with pytest.raises(ValueError, match="weights changed"):
            RackSteered(steered, spec.fingerprint)
    finally:
        (steered / "model.pt").write_bytes((steered / "model.pt").read_bytes()[:-1])


def test_the_dataset_command_takes_steered_effects(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from asp.cli import main

    assert main(["effects", "dataset", "--out", str(tmp_path / "x"), "--steered", "half"]) != 0
    assert "'half' is not NAME=FOLDER" in capsys.readouterr().err
    assert main(["effects", "dataset", "--out", str(tmp_path / "x"), "--steered", f"half={tmp_path}"]) != 0
    assert f"{tmp_path}: no steer.json" in capsys.readouterr().err
