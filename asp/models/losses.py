"""Parameter losses over one-hot vectors, masked to each sample's own synth.

* ``paper``: MSE between sigmoid(logits) and the one-hot target over the synth's valid dims, as published
  (Faronbi et al., ICASSP 2023);
* ``typed`` (default): MSE on sigmoid for continuous dims (or L1: ``continuous_loss="l1"``), cross-entropy per
  categorical group, BCE for binary dims.

With MSE a continuous head learns the conditional mean; with L1, the conditional median. Where the training presets
keep their defaults half the time (``asp dataset generate --default-share 0.5``) and the sound does not reveal a
parameter, the median is the default and the mean a blend of the default and a random value that no hand-made patch
has (noise at a quarter of its range where a patch has none, say).

Logits past a synth's one-hot size never enter the loss, so they get no gradient.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from asp.synths.schema import SynthSchema

CONTINUOUS_LOSSES = {"mse": F.mse_loss, "l1": F.l1_loss}


@dataclass(frozen=True)
class SynthLayout:
    """Where each kind of parameter sits in one synth's one-hot vector (index tensors, built from its schema)."""

    size: int
    continuous: torch.Tensor  # (n_cont,) one-hot positions
    binary: torch.Tensor  # (n_bin,)
    groups: tuple[tuple[int, int], ...]  # (start, n_classes) per categorical parameter

    @classmethod
    def from_schema(cls, schema: SynthSchema) -> SynthLayout:
        kinds = torch.as_tensor(schema.onehot_kinds)
        return cls(
            size=schema.onehot_size,
            continuous=(kinds == 0).nonzero(as_tuple=True)[0],
            binary=(kinds == 2).nonzero(as_tuple=True)[0],
            groups=tuple((start, c) for _, start, c in schema.categorical_groups),
        )


class ParamLoss(nn.Module):
    """Masked parameter loss over a batch that mixes synths.

    Args:
        layouts: one per synth, in synth-index order.
        kind: ``typed`` or ``paper``.
        weights: weights of the continuous / categorical / binary terms (typed loss).
        continuous_loss: ``mse`` (the conditional mean) or ``l1`` (the conditional median) for continuous dims.
    """

    def __init__(
        self,
        layouts: Sequence[SynthLayout],
        kind: str = "typed",
        continuous: float = 1.0,
        categorical: float = 1.0,
        binary: float = 1.0,
        continuous_loss: str = "mse",
    ) -> None:
        super().__init__()
        if kind not in ("typed", "paper"):
            raise KeyError(f"unknown parameter loss {kind!r}; valid: typed, paper")
        if continuous_loss not in CONTINUOUS_LOSSES:
            raise KeyError(f"unknown continuous loss {continuous_loss!r}; valid: {', '.join(CONTINUOUS_LOSSES)}")
        self.continuous_loss = CONTINUOUS_LOSSES[continuous_loss]
        self.layouts = list(layouts)
        self.kind = kind
        self.w = {"continuous": continuous, "categorical": categorical, "binary": binary}

    def forward(self, logits: torch.Tensor, target: torch.Tensor, synth: torch.Tensor) -> torch.Tensor:
        """logits, target: (B, max onehot) (target zero-padded); synth: (B,) -> scalar, mean over samples."""
        total = logits.new_zeros(())
        for k, lay in enumerate(self.layouts):
            rows = (synth == k).nonzero(as_tuple=True)[0]
            if not len(rows):
                continue
            x, y = logits[rows, : lay.size], target[rows, : lay.size]
            total = total + self._synth_loss(x, y, lay).sum()
        return total / max(1, logits.shape[0])

    def _synth_loss(self, x: torch.Tensor, y: torch.Tensor, lay: SynthLayout) -> torch.Tensor:
        """Per-sample loss (n,) for samples of one synth."""
        if self.kind == "paper":
            return F.mse_loss(torch.sigmoid(x), y, reduction="none").mean(dim=1)
        out = x.new_zeros(x.shape[0])
        if len(lay.continuous):
            c = lay.continuous.to(x.device)
            out = out + self.w["continuous"] * self.continuous_loss(
                torch.sigmoid(x[:, c]), y[:, c], reduction="none"
            ).mean(1)
        if len(lay.binary):
            b = lay.binary.to(x.device)
            out = out + self.w["binary"] * F.binary_cross_entropy_with_logits(x[:, b], y[:, b], reduction="none").mean(
                1
            )
        if lay.groups:
            ce = torch.stack(
                [F.cross_entropy(x[:, s : s + n], y[:, s : s + n].argmax(1), reduction="none") for s, n in lay.groups],
                dim=1,
            )
            out = out + self.w["categorical"] * ce.mean(1)
        return out


def logits_to_scores(logits: torch.Tensor, lay: SynthLayout, kind: str = "typed") -> torch.Tensor:
    """Logits (n, size) -> scores that ``SynthSchema.decode`` reads: sigmoid on continuous and binary dims (and on
    everything for the paper loss); categorical logits are left as they are (decode takes the argmax)."""
    if kind == "paper":
        return torch.sigmoid(logits)
    out = logits.clone()
    idx = torch.cat([lay.continuous, lay.binary]).to(logits.device)
    out[:, idx] = torch.sigmoid(logits[:, idx])
    return out
