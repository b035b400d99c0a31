"""The effect stage's networks (plain ``nn.Module``s; training lives in ``asp.effects.training``).

Inputs are two-channel feature maps: channel 0 the current sound, channel 1 the target, either SerumRNN's
normalised dB mel (128 bins) or its MFCCs (30), both (bins, frames).

* ``EffectParamModel``: one per effect. A CNN over (current, target), then a continuous head (sigmoid, one output
  per continuous parameter, in the effect spec's order) and one softmax head per categorical parameter.
* ``EffectSelector``: picks the next effect. Per step, CNN features of (current, target) and the one-hot set of
  effects already used go into a bidirectional LSTM over the steps so far; its last output scores the rack's
  effects (the five, and any extra effect of the rack in use: ``asp.synths.effect_specs``), the used ones masked
  out. Variants (the paper's systems):
  ``rnn`` (SerumRNN), ``rnn_ni`` (SerumRNN NI: every step sees the *initial* sound instead of the intermediate one,
  so it plans from the input and its own history), ``cnn`` (SerumCNN: the CNN on the current step alone, no
  history or recurrence; used effects are still masked), ``cnn_1s`` (SerumCNN 1S: one shot, a multi-label CNN on the
  initial pair that predicts the whole effect set at once).

The sequential variants (``rnn``, ``rnn_ni``, ``cnn``) score one more choice, *stop* (index ``stop``, after the
effects): the right answer when the
current sound already has every effect of the target. SerumRNN's selector had no such output and always chose
another effect, so only the metric-based stopping rule ended a run, after the damage of an effect the target does
not have (asp's own evaluation found those overshoot steps to be most of the later steps' losses).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from asp.synths import effect_specs as specs

SELECTORS = ("rnn", "rnn_ni", "cnn", "cnn_1s")
FEATURES = ("mel", "mfcc")
MFCC_SCALE = 0.01  # MFCCs of the dB mel reach a few hundred; scaled to about the mel's range


def prepare(x: torch.Tensor, features: str) -> torch.Tensor:
    """Stored features (float16 allowed) to network input (float32, MFCCs scaled)."""
    x = x.float()
    return x * MFCC_SCALE if features == "mfcc" else x


class FeatureCNN(nn.Module):
    """(B, 2, bins, frames) -> (B, dim): four conv blocks, adaptive pooling (any clip length), a linear layer."""

    def __init__(self, dim: int = 128, channels: tuple[int, ...] = (16, 32, 64, 64)) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        c_in = 2
        for i, c in enumerate(channels):
            layers += [nn.Conv2d(c_in, c, 3, padding=1), nn.BatchNorm2d(c), nn.ReLU()]
            if i < len(channels) - 1:
                layers.append(nn.MaxPool2d(2))
            c_in = c
        self.conv = nn.Sequential(*layers, nn.AdaptiveAvgPool2d((4, 4)), nn.Flatten())
        self.fc = nn.Sequential(nn.Linear(c_in * 16, dim), nn.ReLU())
        self.dim = dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.conv(x))


class EffectParamModel(nn.Module):
    """Predicts one effect's parameters from (current, target) features."""

    def __init__(self, effect: str, features: str = "mel", dim: int = 128, dropout: float = 0.2) -> None:
        super().__init__()
        if features not in FEATURES:
            raise ValueError(f"unknown features {features!r}; valid: {', '.join(FEATURES)}")
        self.spec = specs.get(effect)
        self.effect, self.features = self.spec.name, features
        self.cnn = FeatureCNN(dim)
        self.drop = nn.Dropout(dropout)
        self.continuous = nn.Linear(dim, len(self.spec.continuous)) if self.spec.continuous else None
        self.categorical = nn.ModuleList(nn.Linear(dim, len(p.classes)) for p in self.spec.categorical)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor | None, list[torch.Tensor]]:
        """(B, 2, bins, frames) -> (continuous values in [0, 1] (B, n_cont) or None, [logits (B, classes)])."""
        h = self.drop(self.cnn(prepare(x, self.features)))
        cont = torch.sigmoid(self.continuous(h)) if self.continuous is not None else None
        return cont, [head(h) for head in self.categorical]

    def loss(self, x: torch.Tensor, continuous: torch.Tensor, classes: torch.Tensor) -> dict[str, torch.Tensor]:
        """MSE on the continuous values plus cross-entropy per categorical parameter."""
        cont, logits = self(x)
        parts: dict[str, torch.Tensor] = {}
        if cont is not None:
            parts["mse"] = nn.functional.mse_loss(cont, continuous)
        for i, lg in enumerate(logits):
            parts[f"ce_{self.spec.categorical[i].name}"] = nn.functional.cross_entropy(lg, classes[:, i])
        parts["loss"] = torch.stack(list(parts.values())).sum()
        return parts

    @torch.no_grad()
    def predict(self, x: torch.Tensor) -> list[dict[str, float]]:
        """Settings for a batch (continuous values clipped into the sampling ranges' hull)."""
        self.eval()
        cont, logits = self(x)
        classes = torch.stack([lg.argmax(-1) for lg in logits], 1) if logits else None
        out = []
        for b in range(x.shape[0]):
            c = cont[b].cpu().numpy() if cont is not None else np.zeros(0)
            k = classes[b].cpu().numpy() if classes is not None else np.zeros(0, dtype=np.int64)
            setting = self.spec.decode(c, k)
            for p in self.spec.continuous:
                lo, hi = p.sample_ranges[0][0], p.sample_ranges[-1][1]
                setting[p.name] = float(min(max(setting[p.name], lo), hi))
            out.append(setting)
        return out


class EffectSelector(nn.Module):
    """Scores the next effect from the steps so far (see the module docstring for the variants)."""

    def __init__(
        self,
        variant: str = "rnn",
        features: str = "mel",
        dim: int = 128,
        hidden: int = 64,
        n_effects: int | None = None,
    ) -> None:
        super().__init__()
        if variant not in SELECTORS:
            raise ValueError(f"unknown selector {variant!r}; valid: {', '.join(SELECTORS)}")
        self.variant, self.features = variant, features
        self.n_effects = n_effects or len(specs.rack_order())  # default: the rack in use
        self.stop = self.n_effects  # the index of the stop choice in a sequential selector's logits
        self.n_out = self.n_effects if variant == "cnn_1s" else self.n_effects + 1  # + stop
        self.cnn = FeatureCNN(dim)
        if variant in ("rnn", "rnn_ni"):
            self.rnn = nn.LSTM(dim + self.n_effects, hidden, batch_first=True, bidirectional=True)
            self.head = nn.Linear(2 * hidden, self.n_out)
        else:
            self.head = nn.Linear(dim, self.n_out)

    def forward(self, steps: torch.Tensor, used: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """Logits for the next effect.

        Args:
            steps: (B, S, 2, bins, frames) features of each step so far (current, target); for ``rnn_ni``, ``cnn``
                and ``cnn_1s`` only some steps are read (the first, or the last).
            used: (B, S, effects) one-hot sets of the effects used before each step.
            lengths: (B,) steps per sequence (padding after them), default all S.
        Returns:
            (B, effects + 1) logits, the effects and stop, ``-inf`` for effects already used; ``cnn_1s``:
            (B, effects), a multi-label set.
        """
        b, s = steps.shape[:2]
        lengths = lengths if lengths is not None else torch.full((b,), s, dtype=torch.long, device=steps.device)
        last = (lengths - 1).clamp(min=0)
        idx = torch.arange(b, device=steps.device)
        if self.variant == "cnn_1s":
            return self.head(self.cnn(prepare(steps[:, 0], self.features)))
        if self.variant == "cnn":
            logits = self.head(self.cnn(prepare(steps[idx, last], self.features)))
        else:
            if self.variant == "rnn_ni":  # the initial sound's features at every step, computed once
                feats = self.cnn(prepare(steps[:, 0], self.features))[:, None].expand(-1, s, -1)
            else:
                feats = self.cnn(prepare(steps.reshape(b * s, *steps.shape[2:]), self.features)).reshape(b, s, -1)
            packed = nn.utils.rnn.pack_padded_sequence(
                torch.cat([feats, used.float()], -1), lengths.cpu(), batch_first=True, enforce_sorted=False
            )
            out, _ = self.rnn(packed)
            out, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=s)
            logits = self.head(out[idx, last])
        mask = nn.functional.pad(used[idx, last] > 0, (0, 1))  # stop is never masked
        return logits.masked_fill(mask, float("-inf"))

    def loss(
        self, steps: torch.Tensor, used: torch.Tensor, lengths: torch.Tensor, label: torch.Tensor
    ) -> dict[str, torch.Tensor]:
        """``label``: (B, effects) multi-hot set of the effects still missing. Selectors: cross-entropy against the
        uniform distribution over that set (any missing effect is a right next step), or against stop where the set is
        empty; ``cnn_1s``: binary cross-entropy per effect against the whole set (``label`` of the first step).
        Returns the loss and the accuracy (the top choice is right)."""
        logits = self(steps, used, lengths)
        label = label.float()
        if self.variant == "cnn_1s":
            loss = nn.functional.binary_cross_entropy_with_logits(logits, label)
        else:
            label = torch.cat([label, (label.sum(-1, keepdim=True) == 0).float()], -1)
            target = label / label.sum(-1, keepdim=True).clamp(min=1)
            logp = torch.log_softmax(logits, -1).masked_fill(~torch.isfinite(logits), 0.0)
            loss = -(target * logp).sum(-1).mean()
        acc = label.gather(1, logits.argmax(-1, keepdim=True)).squeeze(1).mean()
        return {"loss": loss, "accuracy": acc}
