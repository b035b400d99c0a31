"""The VAE's pieces: KL term, masked losses, joint decoder padding."""

import numpy as np
import pytest
import torch

from asp.metrics import categorical_accuracy
from asp.models.components import JointParamDecoder, SeparateParamDecoders, kl_divergence
from asp.models.losses import ParamLoss, SynthLayout, logits_to_scores
from asp.models.module import VAEModule
from asp.synths import load_schema

SYNTHS = ["subtractive", "vapoly"]


def _batch(n=4, frames=87):
    torch.manual_seed(0)
    schemas = [load_schema(s) for s in SYNTHS]
    synth = torch.tensor([0, 1] * (n // 2))
    target = torch.zeros(n, max(s.onehot_size for s in schemas))
    for i, k in enumerate(synth.tolist()):
        target[i, : schemas[k].onehot_size] = torch.from_numpy(schemas[k].encode(schemas[k].default_vector()))
    return {"mel": torch.rand(n, 1, 128, frames), "target": target, "synth": synth}


def test_kl_divergence_values():
    mu = torch.zeros(2, 3)
    assert torch.allclose(kl_divergence(mu, torch.zeros(2, 3)), torch.zeros(2))
    assert kl_divergence(torch.ones(1, 2), torch.zeros(1, 2)).item() == pytest.approx(1.0)


def test_kl_term_changes_gradients_and_follows_warmup():
    def grads(kl_weight, step):
        torch.manual_seed(1)
        m = VAEModule(SYNTHS, "J-S", z_dim=8, n_frames=87, weights={"kl": kl_weight}, kl_warmup_steps=100)
        m._fake_step = step
        type(m).global_step = property(lambda self: self._fake_step)
        try:
            torch.manual_seed(2)
            loss, parts = m.losses(_batch(), sample=True)
            loss.backward()
            return m.kl_beta(), m.model.branches[0].latent.logvar.weight.grad.clone()
        finally:
            del type(m).global_step

    beta0, g0 = grads(1.0, 0)
    beta_half, g_half = grads(1.0, 50)
    beta_full, g_full = grads(1.0, 500)
    _, g_off = grads(0.0, 500)
    assert (beta0, beta_half, beta_full) == (0.0, 0.5, 1.0)
    assert torch.allclose(g0, g_off)  # warm-up start: no KL yet
    assert not torch.allclose(g_full, g_off)  # the KL term really reaches the encoder's logvar


def test_masked_loss_gives_no_gradient_to_another_synths_decoder():
    schemas = [load_schema(s) for s in SYNTHS]
    dec = SeparateParamDecoders(8, [s.onehot_size for s in schemas], hidden=(16,))
    loss = ParamLoss([SynthLayout.from_schema(s) for s in schemas])
    b = _batch()
    only_synth0 = b["synth"] == 0
    z = torch.randn(int(only_synth0.sum()), 8)
    out = dec(z, b["synth"][only_synth0])
    loss(out, b["target"][only_synth0], b["synth"][only_synth0]).backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in dec.heads[0].parameters())
    assert all(p.grad is None or p.grad.abs().sum() == 0 for p in dec.heads[1].parameters())


@pytest.mark.parametrize("kind", ["typed", "paper"])
def test_joint_decoder_ignores_padding(kind):
    schemas = [load_schema(s) for s in SYNTHS]
    sizes = [s.onehot_size for s in schemas]
    dec = JointParamDecoder(8, sizes, hidden=(16,))
    loss = ParamLoss([SynthLayout.from_schema(s) for s in schemas], kind)
    z = torch.randn(2, 8, requires_grad=True)
    synth = torch.tensor([0, 0])  # the smaller synth: dims past its size are padding
    out = dec(z, synth)
    assert torch.all(out[:, sizes[0] :] == 0)
    target = torch.zeros(2, max(sizes))
    target[:, : sizes[0]] = torch.from_numpy(schemas[0].encode(schemas[0].default_vector()))
    garbage = target.clone()
    garbage[:, sizes[0] :] = 7.0  # whatever sits in the padding of the target does not matter
    assert loss(out, target, synth).item() == pytest.approx(loss(out, garbage, synth).item())
    last = dec.net[-1]
    loss(out, garbage, synth).backward()
    assert torch.all(last.weight.grad[sizes[0] :] == 0) and torch.all(last.bias.grad[sizes[0] :] == 0)


def test_typed_loss_scores_decode_to_the_target():
    s = load_schema("vapoly")
    lay = SynthLayout.from_schema(s)
    target = torch.from_numpy(s.encode(s.default_vector()))[None]
    logits = torch.where(target > 0.5, 8.0, -8.0)
    cont = lay.continuous
    logits[:, cont] = torch.logit(target[:, cont].clamp(1e-4, 1 - 1e-4))
    scores = logits_to_scores(logits, lay)
    assert torch.allclose(torch.from_numpy(s.decode(scores.numpy())), torch.from_numpy(s.default_vector()), atol=1e-3)
    assert categorical_accuracy(scores, target, lay.groups).item() == 1.0


def test_l1_continuous_loss_learns_the_median_where_mse_learns_the_mean():
    """A parameter at its default (0) in 3 samples of 5 and at 1 in the others, from the same input: a free
    continuous head settles at the mean (0.4) under MSE and at the median, the default, under L1."""
    s = load_schema("subtractive")
    lay = SynthLayout.from_schema(s)
    j = int(lay.continuous[0])
    target = torch.zeros(5, s.onehot_size)
    target[3:, j] = 1.0
    synth = torch.zeros(5, dtype=torch.long)
    for kind, want in (("mse", 0.4), ("l1", 0.0)):
        x = torch.zeros(1, s.onehot_size, requires_grad=True)
        opt = torch.optim.Adam([x], lr=0.1)
        loss = ParamLoss([lay], continuous_loss=kind, categorical=0.0, binary=0.0)
        for _ in range(400):
            opt.zero_grad()
            loss(x.expand(5, -1), target, synth).backward()
            opt.step()
        assert torch.sigmoid(x[0, j]).item() == pytest.approx(want, abs=0.05), kind
    with pytest.raises(KeyError, match="huber"):
        ParamLoss([lay], continuous_loss="huber")


@pytest.mark.parametrize("variant", ["J-S", "J-J", "S-S"])
def test_time_pooled_model_rebuilds_the_pooled_mel(variant):
    from asp.models.vae import MultiTaskVAE

    sizes = [load_schema(s).onehot_size for s in SYNTHS]
    b = _batch(frames=87)
    m = MultiTaskVAE(variant, sizes, {"name": "conv", "channels": [8, 16]}, z_dim=8, n_frames=87, time_pool=4)
    out = m(b["mel"], b["synth"])
    assert out["mel_in"].shape == out["mel_hat"].shape == (4, 1, 128, 22)  # ceil(87 / 4)
    # each pooled frame is the mean of its 4 input frames (the last of the 3 that are left)
    torch.testing.assert_close(out["mel_in"][..., 0], b["mel"][..., :4].mean(-1))
    torch.testing.assert_close(out["mel_in"][..., -1], b["mel"][..., 84:].mean(-1))
    assert m.predict(b["mel"], [0, 1])[1].shape == (4, sizes[1])
    with pytest.raises(ValueError, match="time_pool"):
        MultiTaskVAE(variant, sizes, n_frames=87, time_pool=0)


def test_band_augmentation_floors_the_mel_bands_above_a_random_cut():
    """``band_augment``: with chance 1 every mel loses the bands above a cut between 4 and 20 kHz (set to the
    floor, 0), keeps those below 4 kHz, and the cut differs between clips; with chance 0 nothing changes."""
    from asp.features.mel import MelSettings, filterbank

    m = VAEModule(SYNTHS, "J-S", z_dim=8, n_frames=87, band_augment=1.0)
    mel = torch.ones(16, 1, 128, 87)
    torch.manual_seed(0)
    out = m.band_limited(mel, 1.0)
    fb = np.asarray(filterbank(MelSettings()).todense())
    centre = (fb @ np.linspace(0, 22050, fb.shape[1])) / fb.sum(axis=1)
    assert torch.all(out[:, :, centre < 4000] == 1.0) and torch.all(out[:, :, centre > 20000] == 0.0)
    kept = (out[:, 0, :, 0] == 1.0).sum(dim=1)
    assert len(set(kept.tolist())) > 4  # a cut of its own per clip
    assert torch.equal(m.band_limited(mel, 0.0), mel)
