"""Plain ``nn.Module`` components of the multi-task VAE (Faronbi et al., ICASSP 2023, improved).

Shapes: ``mel: (B, 1, n_mels, T)``, ``z: (B, z_dim)``, parameter logits ``(B, onehot_size)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F


# ---------------------------------------------------------------------- encoders
class PaperEncoder(nn.Module):
    """The multi-task paper's encoder: two strided conv layers, flattened into a dense layer.

    Args:
        n_mels, n_frames: input size.
        channels: channels of the two conv layers.
        hidden: size of the dense output.
    """

    def __init__(
        self, n_mels: int = 128, n_frames: int = 431, channels: Sequence[int] = (8, 16), hidden: int = 512
    ) -> None:
        super().__init__()
        c1, c2 = channels
        self.conv = nn.Sequential(
            nn.Conv2d(1, c1, 5, stride=2, padding=2),
            nn.ReLU(),
            nn.Conv2d(c1, c2, 5, stride=2, padding=2),
            nn.ReLU(),
        )
        with torch.no_grad():
            flat = self.conv(torch.zeros(1, 1, n_mels, n_frames)).numel()
        self.dense = nn.Sequential(nn.Flatten(), nn.Linear(flat, hidden), nn.ReLU())
        self.out_dim = hidden

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        """mel: (B, 1, n_mels, T) -> (B, hidden)."""
        return self.dense(self.conv(mel))


def conv_blocks(channels: Sequence[int], c_in: int = 1) -> nn.Sequential:
    """Per channel count: a strided 3x3 conv (halving both axes) and a 3x3 conv, each with batch norm and GELU."""
    layers: list[nn.Module] = []
    for c in channels:
        layers += [
            nn.Conv2d(c_in, c, 3, stride=2, padding=1),
            nn.BatchNorm2d(c),
            nn.GELU(),
            nn.Conv2d(c, c, 3, padding=1),
            nn.BatchNorm2d(c),
            nn.GELU(),
        ]
        c_in = c
    return nn.Sequential(*layers)


class ConvEncoder(nn.Module):
    """asp's default encoder: strided conv blocks with batch norm, then mean and max pooling over time and a dense
    layer. Its size does not depend on the clip length.

    Args:
        channels: channels per block (each block halves both axes).
        hidden: size of the output.
    """

    def __init__(
        self, n_mels: int = 128, n_frames: int = 431, channels: Sequence[int] = (16, 32, 64, 128), hidden: int = 512
    ) -> None:
        super().__init__()
        self.conv = conv_blocks(channels)
        c_in = channels[-1]
        freq = n_mels
        for _ in channels:
            freq = (freq + 1) // 2
        self.dense = nn.Sequential(nn.Linear(2 * c_in * freq, hidden), nn.GELU())
        self.out_dim = hidden

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        """mel: (B, 1, n_mels, T) -> (B, hidden)."""
        h = self.conv(mel)  # (B, C, F, T')
        pooled = torch.cat([h.mean(dim=-1), h.amax(dim=-1)], dim=1)  # (B, 2C, F)
        return self.dense(pooled.flatten(1))


ENCODERS: dict[str, type[PaperEncoder] | type[ConvEncoder]] = {"faronbi2023": PaperEncoder, "conv": ConvEncoder}


def build_encoder(name: str, **kw: Any) -> PaperEncoder | ConvEncoder:
    try:
        cls = ENCODERS[name]
    except KeyError:
        raise KeyError(f"unknown encoder {name!r}; valid: {', '.join(ENCODERS)}") from None
    return cls(**kw)


# ---------------------------------------------------------------------- latent
class GaussianLatent(nn.Module):
    """A diagonal Gaussian posterior q(z|x) with the reparameterisation trick.

    At inference the posterior mean is used unless sampling is asked for (the paper's code drew noise at inference).
    """

    def __init__(self, in_dim: int, z_dim: int) -> None:
        super().__init__()
        self.mu = nn.Linear(in_dim, z_dim)
        self.logvar = nn.Linear(in_dim, z_dim)
        self.z_dim = z_dim

    def forward(self, h: torch.Tensor, sample: bool) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """h: (B, in_dim) -> z, mu, logvar, each (B, z_dim)."""
        mu = self.mu(h)
        logvar = self.logvar(h).clamp(-30.0, 20.0)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar) if sample else mu
        return z, mu, logvar


def kl_divergence(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(q(z|x) || N(0, I)) per sample, summed over the latent axis: (B, z_dim) -> (B,)."""
    return 0.5 * torch.sum(mu.pow(2) + logvar.exp() - 1.0 - logvar, dim=1)


# ---------------------------------------------------------------------- decoders
def mlp(in_dim: int, out_dim: int, hidden: Sequence[int] = (512, 512), dropout: float = 0.0) -> nn.Sequential:
    layers: list[nn.Module] = []
    d = in_dim
    for h in hidden:
        layers += [nn.Linear(d, h), nn.GELU()]
        if dropout:
            layers.append(nn.Dropout(dropout))
        d = h
    layers.append(nn.Linear(d, out_dim))
    return nn.Sequential(*layers)


class SpecDecoder(nn.Module):
    """z -> mel spectrogram: a dense layer onto a coarse grid, then transposed convolutions (x2 each), cropped.

    Output: (B, 1, n_mels, n_frames), in the same normalised units as the input.
    """

    def __init__(
        self, z_dim: int, n_mels: int = 128, n_frames: int = 431, channels: Sequence[int] = (64, 32, 16, 8)
    ) -> None:
        super().__init__()
        self.n_mels, self.n_frames = n_mels, n_frames
        up = 2 ** len(channels)
        self.grid = (channels[0], -(-n_mels // up), -(-n_frames // up))
        self.dense = nn.Linear(z_dim, channels[0] * self.grid[1] * self.grid[2])
        layers: list[nn.Module] = []
        for c_in, c_out in zip(channels, list(channels[1:]) + [channels[-1]]):
            layers += [nn.ConvTranspose2d(c_in, c_out, 4, stride=2, padding=1), nn.GELU()]
        layers.append(nn.Conv2d(channels[-1], 1, 3, padding=1))
        self.deconv = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = self.dense(z).view(z.shape[0], *self.grid)
        return self.deconv(h)[:, :, : self.n_mels, : self.n_frames]


class SeparateParamDecoders(nn.Module):
    """One MLP per synth. Each sample goes through its own synth's MLP only, so a sample's loss reaches only that
    decoder; the output is padded with zeros to the largest one-hot size.

    Args:
        z_dim: latent size.
        sizes: one-hot size per synth, in synth-index order.
    """

    def __init__(
        self, z_dim: int, sizes: Sequence[int], hidden: Sequence[int] = (512, 512), dropout: float = 0.0
    ) -> None:
        super().__init__()
        self.sizes = list(sizes)
        self.heads = nn.ModuleList(mlp(z_dim, s, hidden, dropout) for s in self.sizes)

    @property
    def out_dim(self) -> int:
        return max(self.sizes)

    def forward(self, z: torch.Tensor, synth: torch.Tensor) -> torch.Tensor:
        """z: (B, z_dim), synth: (B,) synth indices -> (B, max onehot) logits, zero past each synth's size."""
        out = z.new_zeros(z.shape[0], self.out_dim)
        for k, head in enumerate(self.heads):
            rows = (synth == k).nonzero(as_tuple=True)[0]
            if len(rows):
                out[rows, : self.sizes[k]] = head(z[rows])
        return out

    def decode_as(self, z: torch.Tensor, k: int) -> torch.Tensor:
        """Every sample decoded as synth k: (B, sizes[k]) (cross-synth inference)."""
        return self.heads[k](z)


class JointParamDecoder(nn.Module):
    """One MLP over the largest one-hot size for every synth. As in the paper the synth's mask is given as an input
    (``condition='mask'``: the (max onehot,) 0/1 vector of its valid dims; ``'onehot'``: a one-hot synth id). The
    loss is masked to the valid dims, so the padding gets no gradient and its outputs are never read.
    """

    def __init__(
        self,
        z_dim: int,
        sizes: Sequence[int],
        hidden: Sequence[int] = (512, 512),
        dropout: float = 0.0,
        condition: str = "mask",
    ) -> None:
        super().__init__()
        if condition not in ("mask", "onehot"):
            raise KeyError(f"unknown joint decoder condition {condition!r}; valid: mask, onehot")
        self.sizes = list(sizes)
        self.condition = condition
        width = max(self.sizes)
        masks = torch.zeros(len(self.sizes), width)
        for k, s in enumerate(self.sizes):
            masks[k, :s] = 1
        self.masks: torch.Tensor
        self.register_buffer("masks", masks, persistent=False)
        cond_dim = width if condition == "mask" else len(self.sizes)
        self.net = mlp(z_dim + cond_dim, width, hidden, dropout)

    @property
    def out_dim(self) -> int:
        return max(self.sizes)

    def _cond(self, synth: torch.Tensor) -> torch.Tensor:
        if self.condition == "mask":
            return self.masks[synth]
        return F.one_hot(synth, len(self.sizes)).float()

    def forward(self, z: torch.Tensor, synth: torch.Tensor) -> torch.Tensor:
        """(B, z_dim), (B,) -> (B, max onehot) logits; dims past the synth's size are zeroed."""
        return self.net(torch.cat([z, self._cond(synth)], dim=1)) * self.masks[synth]

    def decode_as(self, z: torch.Tensor, k: int) -> torch.Tensor:
        synth = torch.full((z.shape[0],), k, dtype=torch.long, device=z.device)
        return self.forward(z, synth)[:, : self.sizes[k]]


PARAM_DECODERS = {"separate": SeparateParamDecoders, "joint": JointParamDecoder}
