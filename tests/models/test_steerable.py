"""The FiLM-conditioned TCN: shapes, causality, its receptive field, and the controls steering it."""

from __future__ import annotations

import pytest
import torch

from asp.models.steerable import SteerableTCN, TCNSettings

SMALL = TCNSettings(layers=3, kernel=3, dilation_growth=4, channels=4, controls=2, cond_hidden=4)


def test_receptive_field_formula() -> None:
    assert SMALL.receptive_field == 1 + 2 * (1 + 4 + 16)
    assert TCNSettings().receptive_field == 1 + 12 * 1111  # the paper's 4 layers, kernel 13, growth 10


def test_output_is_causal_with_exactly_the_receptive_field() -> None:
    torch.manual_seed(0)
    net = SteerableTCN(SMALL).eval().double()  # double: the oldest tap's share is small
    rf = SMALL.receptive_field
    x = torch.randn(1, 1, 200, dtype=torch.float64)
    c = torch.zeros(1, 2, dtype=torch.float64)
    y = net(x, c)
    assert y.shape == x.shape
    t = 150
    later = x.clone()
    later[..., t + 1 :] += 1.0  # the future does not change the present
    assert torch.equal(net(later, c)[..., : t + 1], y[..., : t + 1])
    edge = x.clone()
    edge[..., t - rf + 1] += 1.0  # the oldest sample the output at t sees
    assert float((net(edge, c)[..., t] - y[..., t]).abs()) > 1e-12
    beyond = x.clone()
    beyond[..., : t - rf + 1] += 1.0  # everything older is out of reach
    assert torch.equal(net(beyond, c)[..., t], y[..., t])


def test_controls_steer_the_output_and_their_count_is_checked() -> None:
    torch.manual_seed(0)
    net = SteerableTCN(SMALL).eval()
    x = torch.randn(2, 1, 100)
    a = net(x, torch.zeros(2, 2))
    b = net(x, torch.tensor([[1.0, -1.0], [1.0, -1.0]]))
    assert not torch.allclose(a, b)
    with pytest.raises(ValueError, match="2 controls"):
        net(x, torch.zeros(2, 3))


def test_the_conditioning_network_has_the_asked_depth_and_old_models_load() -> None:
    """0 hidden layers (the paper's notebook): no conditioning network, each block's scale and shift affine in the
    controls; 1 (the default) is one hidden layer, and a settings dict saved before ``cond_layers`` existed loads
    as that design with its weights."""
    direct = SteerableTCN(TCNSettings(**{**SMALL.as_dict(), "cond_layers": 0}))
    assert len(direct.cond) == 0 and direct.blocks[0].film.in_features == SMALL.controls
    assert TCNSettings().cond_layers == 1
    legacy = {k: v for k, v in SMALL.as_dict().items() if k != "cond_layers"}
    old = TCNSettings.from_dict(legacy)
    assert old.cond_layers == 1
    torch.manual_seed(0)
    net = SteerableTCN(old)
    assert sorted(k for k in net.state_dict() if k.startswith("cond.")) == [
        "cond.0.bias",
        "cond.0.weight",
        "cond.1.weight",
        "cond.2.bias",
        "cond.2.weight",
    ]
    deeper = SteerableTCN(TCNSettings(**{**SMALL.as_dict(), "cond_layers": 2}))
    assert len(deeper.cond) == 5
    with pytest.raises(ValueError, match="cond_layers must be at least 0"):
        TCNSettings(cond_layers=-1)


def test_settings_round_trip_and_validation() -> None:
    assert TCNSettings.from_dict(SMALL.as_dict()) == SMALL
    with pytest.raises(KeyError, match="valid: channels"):
        TCNSettings.from_dict({"chanels": 3})
    with pytest.raises(ValueError, match="kernel"):
        TCNSettings(kernel=1)
