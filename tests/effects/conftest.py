"""A small effect dataset rendered once for the effect tests (real Faust renders, 2 draws per preset)."""

import pytest

from asp.effects.dataset import EffectDataConfig, generate


@pytest.fixture(scope="session")
def effect_data(tmp_path_factory):
    out = tmp_path_factory.mktemp("fx") / "ds"
    return generate(EffectDataConfig(out=out, draws=2, workers=0), log=lambda m: None)
