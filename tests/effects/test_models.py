"""The effect stage's networks: shapes, masking of used effects, losses that train, each variant."""

import numpy as np
import pytest
import torch

from asp.models.effects import SELECTORS, EffectParamModel, EffectSelector
from asp.synths import effect_specs as specs

torch.manual_seed(0)


@pytest.mark.parametrize("features,bins", [("mel", 128), ("mfcc", 30)])
@pytest.mark.parametrize("effect", specs.rack_order())
def test_param_model_shapes_and_settings(effect, features, bins):
    m = EffectParamModel(effect, features)
    x = torch.randn(3, 2, bins, 87)
    cont, logits = m(x)
    spec = specs.get(effect)
    assert cont.shape == (3, len(spec.continuous)) and ((cont >= 0) & (cont <= 1)).all()
    assert [lg.shape for lg in logits] == [(3, len(p.classes)) for p in spec.categorical]
    for s in m.predict(x):
        spec.check(s)  # a valid setting, inside the sampled ranges
        for p in spec.continuous:
            assert p.sample_ranges[0][0] <= s[p.name] <= p.sample_ranges[-1][1]


def test_param_model_learns_a_mapping():
    """A few hundred steps fit the distortion drive and mode of 8 fixed examples (the loss can go down)."""
    m = EffectParamModel("distortion", "mel", dim=32)
    x = torch.randn(8, 2, 128, 20)
    cont = torch.rand(8, 1) * 0.7 + 0.3
    cls = torch.arange(8)[:, None] % 12
    opt = torch.optim.Adam(m.parameters(), 3e-3)
    first = m.loss(x, cont, cls)["loss"].item()
    m.train()
    for _ in range(150):
        opt.zero_grad()
        loss = m.loss(x, cont, cls)["loss"]
        loss.backward()
        opt.step()
    assert loss.item() < 0.2 * first


@pytest.mark.parametrize("variant", SELECTORS)
def test_selector_masks_used_effects_and_handles_padding(variant):
    sel = EffectSelector(variant, dim=32, hidden=16)
    sel.eval()
    steps = torch.randn(2, 3, 2, 128, 20)
    used = torch.zeros(2, 3, 5)
    used[0, 1, 2] = 1  # sequence 0: 2 steps, effect 2 used before step 2
    used[1, 1, 0] = used[1, 2, 0] = used[1, 2, 4] = 1  # sequence 1: 3 steps, effects 0 and 4 used
    lengths = torch.tensor([2, 3])
    logits = sel(steps, used, lengths)
    if variant == "cnn_1s":
        assert logits.shape == (2, 5) and torch.isfinite(logits).all()
        return
    assert logits.shape == (2, 6)  # five effects and stop
    assert torch.isinf(logits[0, 2]) and torch.isfinite(logits[0, [0, 1, 3, 4, 5]]).all()
    assert torch.isinf(logits[1, [0, 4]]).all()
    # padding after a sequence's length does not change its prediction
    steps2 = steps.clone()
    steps2[0, 2] = torch.randn_like(steps2[0, 2]) * 10
    torch.testing.assert_close(sel(steps2, used, lengths)[0], logits[0])


def test_rnn_ni_reads_only_the_initial_sound():
    sel = EffectSelector("rnn_ni", dim=16, hidden=8).eval()
    steps = torch.randn(1, 3, 2, 128, 20)
    used = torch.zeros(1, 3, 5)
    used[0, 1, 1] = used[0, 2, 1] = used[0, 2, 3] = 1
    other = steps.clone()
    other[0, 1:] = torch.randn_like(other[0, 1:])
    torch.testing.assert_close(sel(other, used), sel(steps, used))
    rnn = EffectSelector("rnn", dim=16, hidden=8).eval()
    assert not torch.allclose(rnn(other, used), rnn(steps, used))


def test_selector_loss_rewards_any_missing_effect():
    sel = EffectSelector("rnn", dim=16, hidden=8)
    steps = torch.randn(4, 2, 2, 128, 20)
    used = torch.zeros(4, 2, 5)
    label = torch.tensor([[1, 0, 1, 0, 0]] * 4)
    out = sel.loss(steps, used, torch.tensor([2, 2, 1, 1]), label)
    assert np.isfinite(out["loss"].item()) and 0 <= out["accuracy"].item() <= 1
    out["loss"].backward()
    assert sel.cnn.fc[0].weight.grad.abs().sum() > 0


def test_selector_loss_wants_stop_when_nothing_is_missing():
    sel = EffectSelector("cnn", dim=16)
    steps = torch.randn(2, 1, 2, 128, 20)
    used = torch.zeros(2, 1, 5)
    nothing = torch.zeros(2, 5)
    with torch.no_grad():
        sel.head.bias.copy_(torch.tensor([0.0, 0, 0, 0, 0, 50.0]))  # a selector that always stops
    out = sel.loss(steps, used, torch.tensor([1, 1]), nothing)
    assert out["accuracy"].item() == 1.0 and out["loss"].item() < 1e-3
    out = sel.loss(steps, used, torch.tensor([1, 1]), torch.tensor([[0, 1, 0, 0, 0]] * 2))
    assert out["accuracy"].item() == 0.0 and out["loss"].item() > 10  # stopping with an effect missing is wrong
