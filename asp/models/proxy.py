"""Neural proxies for a synth: a preset encoder that predicts where the preset's sound lands in an audio embedding.

After Combes et al. (JAES 2025, "Neural proxies for sound synthesizers"): per synth, a network from a preset (and
here the note it plays, since asp's datasets play each preset at its own note) to the embedding of its rendered
audio, trained by regression; the paper compares preset-encoder architectures and finds a transformer over
parameter tokens best. Two of them here, chosen by name (``ARCHS``):

* ``mlp``: the one-hot preset vector and the note into a 3-layer MLP.
* ``transformer``: one token per parameter (its one-hot block through a per-parameter linear map, plus a learnt
  embedding of the parameter), one token for the note, a transformer encoder, mean-pooled.

The audio embedding this project owns (no pretrained audio model can be downloaded here) is the mel's statistics
over time (``asp.features.mel.mel_statistics``: mean and standard deviation of each of 128 bands in dB),
standardised per dimension on the training split; see ``asp.models.proxy_training``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from asp.synths.schema import SynthSchema

ARCHS = ("mlp", "transformer")
NOTE_SCALE = 127.0


@dataclass(frozen=True)
class ProxySettings:
    arch: str = "mlp"
    embedding: int = 256
    hidden: int = 256  # the MLP's width
    d_model: int = 64  # the transformer's
    layers: int = 2
    heads: int = 4
    dropout: float = 0.1

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class MLPProxy(nn.Module):
    """(B, onehot) presets and (B,) notes -> (B, embedding)."""

    def __init__(self, schema: SynthSchema, s: ProxySettings) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(schema.onehot_size + 1, s.hidden),
            nn.GELU(),
            nn.Dropout(s.dropout),
            nn.Linear(s.hidden, s.hidden),
            nn.GELU(),
            nn.Dropout(s.dropout),
            nn.Linear(s.hidden, s.embedding),
        )

    def forward(self, onehot: torch.Tensor, notes: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([onehot, notes[:, None] / NOTE_SCALE], dim=1))


class TokenProxy(nn.Module):
    """A transformer over parameter tokens: (B, onehot), (B,) notes -> (B, embedding)."""

    def __init__(self, schema: SynthSchema, s: ProxySettings) -> None:
        super().__init__()
        off = schema.onehot_offsets
        sizes = np.diff(off)
        width = int(sizes.max())
        # gather index (n_params, width) into the one-hot vector padded with a zero at its end
        index = np.full((schema.n_params, width), schema.onehot_size, np.int64)
        for i, (start, size) in enumerate(zip(off[:-1], sizes)):
            index[i, :size] = np.arange(start, start + size)
        self.register_buffer("index", torch.from_numpy(index), persistent=False)
        self.weight = nn.Parameter(torch.randn(schema.n_params, width, s.d_model) / np.sqrt(width))
        self.param_embedding = nn.Parameter(torch.randn(schema.n_params, s.d_model) * 0.02)
        self.note = nn.Linear(1, s.d_model)
        layer = nn.TransformerEncoderLayer(
            s.d_model, s.heads, dim_feedforward=2 * s.d_model, dropout=s.dropout, batch_first=True, norm_first=True
        )
        self.encoder = nn.TransformerEncoder(layer, s.layers, enable_nested_tensor=False)
        self.head = nn.Sequential(nn.LayerNorm(s.d_model), nn.Linear(s.d_model, s.embedding))

    def forward(self, onehot: torch.Tensor, notes: torch.Tensor) -> torch.Tensor:
        padded = torch.cat([onehot, onehot.new_zeros(onehot.shape[0], 1)], dim=1)
        index: torch.Tensor = self.index  # type: ignore[assignment]
        blocks = padded[:, index]  # (B, n_params, width)
        tokens = torch.einsum("bpw,pwd->bpd", blocks, self.weight) + self.param_embedding
        note = self.note(notes[:, None, None] / NOTE_SCALE)  # (B, 1, d)
        h = self.encoder(torch.cat([note, tokens], dim=1))
        return self.head(h.mean(dim=1))


def build_proxy(schema: SynthSchema, settings: ProxySettings) -> nn.Module:
    """The preset encoder named by ``settings.arch`` (KeyError listing the valid names)."""
    table = {"mlp": MLPProxy, "transformer": TokenProxy}
    if settings.arch not in table:
        raise KeyError(f"unknown proxy architecture {settings.arch!r}; valid: {', '.join(ARCHS)}")
    return table[settings.arch](schema, settings)
