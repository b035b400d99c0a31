"""A steerable neural audio effect: a FiLM-conditioned temporal convolutional network.

After Steinmetz & Reiss 2021 ("Steerable discovery of neural audio effects", NeurIPS workshop on ML for creativity
and design): a stack of blocks, each a dilated 1-D convolution, FiLM conditioning (a per-channel scale and shift
computed from a small control vector) and a PReLU, with a residual path. It is trained on a single dry/wet pair
with the controls held at zero; afterwards, moving the controls away from zero steers the learned effect into
variations of it. Convolutions are causal (the output at sample t sees the input up to t), so the network processes
audio of any length and its memory is its receptive field.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, cast

import numpy as np
import torch
from torch import nn


@dataclass(frozen=True)
class TCNSettings:
    """The network's shape (saved beside its weights as plain data).

    ``layers``, ``kernel`` and ``dilation_growth`` set the receptive field: ``1 + (kernel - 1) * sum(growth**i)``
    samples. The paper: 4-5 layers, dilation growth 10, about 300 ms for a compressor and 2 s for a reverb.

    ``cond_layers``: hidden layers (``cond_hidden`` wide, PReLU) between the controls and the blocks' FiLM layers.
    1, the default, is one hidden layer. 0 feeds the controls to each block's FiLM layer directly, as the paper's
    own notebook does: the scale and shift are then affine in the controls, and since training holds the controls
    at zero, how far a control moves them is the FiLM layer's initial weights. On the compressor pair 1 layer fitted
    better and gave the more structured loudness grid (docs/RESULTS.md, "Steerable neural effects"). Models saved
    before this setting existed had 1 (``from_dict`` reads a missing entry so).
    """

    layers: int = 4
    kernel: int = 13
    dilation_growth: int = 10
    channels: int = 16
    controls: int = 2
    cond_hidden: int = 16
    cond_layers: int = 1

    def __post_init__(self) -> None:
        for f in fields(self):
            least = 0 if f.name == "cond_layers" else 1
            if int(getattr(self, f.name)) < least:
                raise ValueError(f"TCNSettings.{f.name} must be at least {least}; got {getattr(self, f.name)!r}")
        if self.kernel < 2:
            raise ValueError("TCNSettings.kernel must be at least 2")

    @property
    def receptive_field(self) -> int:
        """In samples."""
        return 1 + (self.kernel - 1) * sum(self.dilation_growth**i for i in range(self.layers))

    def as_dict(self) -> dict[str, int]:
        return {k: int(v) for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TCNSettings:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise KeyError(f"unknown TCN setting(s) {', '.join(unknown)}; valid: {', '.join(sorted(known))}")
        values = {k: int(v) for k, v in data.items()}
        values.setdefault("cond_layers", 1)  # saved before the setting existed: one hidden layer
        return cls(**values)


class FiLMBlock(nn.Module):
    """Causal dilated conv -> FiLM -> PReLU, plus a 1x1 residual path.

    Args: in/out channels, kernel size, dilation, and the size of the conditioning embedding.
    """

    def __init__(self, c_in: int, c_out: int, kernel: int, dilation: int, cond: int) -> None:
        super().__init__()
        self.pad = (kernel - 1) * dilation
        self.conv = nn.Conv1d(c_in, c_out, kernel, dilation=dilation)
        self.film = nn.Linear(cond, 2 * c_out)
        self.act = nn.PReLU(c_out)
        self.res = nn.Conv1d(c_in, c_out, 1, bias=False)

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        """x: (B, C_in, T), emb: (B, cond) -> (B, C_out, T)."""
        y = self.conv(nn.functional.pad(x, (self.pad, 0)))
        gamma, beta = self.film(emb).unsqueeze(-1).chunk(2, dim=1)
        y = self.act(y * gamma + beta)
        return y + self.res(x)


class SteerableTCN(nn.Module):
    """The steerable effect: mono audio and a control vector in, mono audio out.

    Args:
        settings: the network's shape.
    """

    def __init__(self, settings: TCNSettings = TCNSettings()) -> None:
        super().__init__()
        self.settings = settings
        s = settings
        layers: list[nn.Module] = []
        if s.cond_layers:  # Linear + PReLU per hidden layer, then a Linear into the FiLM layers' input
            for i in range(s.cond_layers):
                layers += [nn.Linear(s.controls if i == 0 else s.cond_hidden, s.cond_hidden), nn.PReLU()]
            layers.append(nn.Linear(s.cond_hidden, s.cond_hidden))
        self.cond = nn.Sequential(*layers)  # empty: the identity
        emb = s.cond_hidden if s.cond_layers else s.controls
        self.blocks = nn.ModuleList(
            FiLMBlock(1 if i == 0 else s.channels, s.channels, s.kernel, s.dilation_growth**i, emb)
            for i in range(s.layers)
        )
        self.out = nn.Conv1d(s.channels, 1, 1)

    def control_weights(self) -> list[torch.Tensor]:
        """The weights that multiply the controls themselves: the first hidden layer's, or with no hidden layer each
        FiLM layer's. Training holds the controls at zero, so their gradient is zero and they keep their random
        initial values: they alone decide in which directions the trained effect can be steered."""
        if self.settings.cond_layers:
            first = self.cond[0]
            assert isinstance(first, nn.Linear)
            return [first.weight]
        return [cast(FiLMBlock, block).film.weight for block in self.blocks]

    def redraw_controls(self, draw: int) -> None:
        """Give the controls new directions: the control weights drawn again, uniform within +-1/sqrt(controls) (the
        bound PyTorch's ``nn.Linear`` initialises them with), from a generator seeded by ``draw`` mixed with a
        constant (seeded by ``draw`` alone, draw S would repeat the weights a model trained with seed S started from).
        The effect at zero controls, the trained one, does not change; draw 0 is left as trained."""
        if draw == 0:
            return
        mixed = np.random.SeedSequence([0x57EE2, int(draw)]).generate_state(1, dtype=np.uint64)[0]
        gen = torch.Generator().manual_seed(int(mixed))
        bound = 1.0 / float(self.settings.controls) ** 0.5
        with torch.no_grad():
            for w in self.control_weights():
                w.copy_(torch.rand(w.shape, generator=gen) * (2 * bound) - bound)

    def forward(self, audio: torch.Tensor, controls: torch.Tensor) -> torch.Tensor:
        """audio: (B, 1, T), controls: (B, controls) -> (B, 1, T)."""
        if controls.shape[-1] != self.settings.controls:
            raise ValueError(f"expected {self.settings.controls} controls per item; got {controls.shape[-1]}")
        emb = self.cond(controls)
        x = audio
        for block in self.blocks:
            x = block(x, emb)
        return torch.tanh(self.out(x))
