"""A small effect dataset rendered once for the effect tests (real Faust renders, 2 draws per preset), and tiny
models trained on it once (1 epoch on 48 examples each: real networks, not good ones)."""

import pytest

from asp.data.effects import EffectDataConfig, generate


@pytest.fixture(scope="session")
def effect_data(tmp_path_factory):
    out = tmp_path_factory.mktemp("fx") / "ds"
    return generate(EffectDataConfig(out=out, draws=2, workers=2), log=lambda m: None)


@pytest.fixture(scope="session")
def effect_models(effect_data, tmp_path_factory):
    from asp.effects.training import train_models

    out = tmp_path_factory.mktemp("fxmodels")
    train_models(effect_data, out, epochs=1, batch_size=16, limit=48, intermediate="true", log=lambda m: None)
    return out
