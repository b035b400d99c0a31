"""The multi-task VAE and its single-task baselines, by the paper's variant names.

* ``J-S``: joint (shared) encoder, separate parameter decoders;
* ``J-J``: joint encoder, one joint parameter decoder over padded one-hot vectors;
* ``S-S``: single-task baselines: an encoder, latent and decoders per synth.

Every variant has a spectrogram decoder from z (the VAE's reconstruction term).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from asp.models.components import (
    GaussianLatent,
    JointParamDecoder,
    SeparateParamDecoders,
    SpecDecoder,
    build_encoder,
)

VARIANTS = ("J-S", "J-J", "S-S")


class _Branch(nn.Module):
    """Encoder -> latent -> (spectrogram decoder, parameter decoder)."""

    def __init__(
        self,
        encoder: dict[str, Any],
        z_dim: int,
        sizes: Sequence[int],
        param_decoder: str,
        decoder_hidden: Sequence[int],
        dropout: float,
        n_mels: int,
        n_frames: int,
        condition: str,
    ) -> None:
        super().__init__()
        self.encoder = build_encoder(n_mels=n_mels, n_frames=n_frames, **encoder)
        self.latent = GaussianLatent(self.encoder.out_dim, z_dim)
        self.spec = SpecDecoder(z_dim, n_mels, n_frames)
        self.params: SeparateParamDecoders | JointParamDecoder
        if param_decoder == "separate":
            self.params = SeparateParamDecoders(z_dim, sizes, decoder_hidden, dropout)
        elif param_decoder == "joint":
            self.params = JointParamDecoder(z_dim, sizes, decoder_hidden, dropout, condition=condition)
        else:
            raise KeyError(f"unknown parameter decoder {param_decoder!r}; valid: separate, joint")


class MultiTaskVAE(nn.Module):
    """Mel spectrograms of several synths -> latent -> per-synth parameter logits and a reconstructed mel.

    Args:
        variant: ``J-S``, ``J-J`` or ``S-S``.
        sizes: one-hot size per synth (synth-index order).
        encoder: encoder config, ``{"name": "conv" | "faronbi2023", ...}``.
        z_dim: latent size.
        time_pool: the input mel is average-pooled over time by this factor before the encoder (1: not at all), and
            the spectrogram decoder reconstructs the pooled mel: 4 turns 431 frames of 11.6 ms into 108 of 46 ms,
            about 9 times less compute per clip on a CPU.
    """

    def __init__(
        self,
        variant: str,
        sizes: Sequence[int],
        encoder: dict[str, Any] | None = None,
        z_dim: int = 64,
        decoder_hidden: Sequence[int] = (512, 512),
        dropout: float = 0.0,
        n_mels: int = 128,
        n_frames: int = 431,
        condition: str = "mask",
        time_pool: int = 1,
    ) -> None:
        super().__init__()
        if variant not in VARIANTS:
            raise KeyError(f"unknown model variant {variant!r}; valid: {', '.join(VARIANTS)}")
        if time_pool < 1:
            raise ValueError(f"time_pool must be at least 1, got {time_pool}")
        self.variant = variant
        self.sizes = list(sizes)
        self.time_pool = int(time_pool)
        enc = dict(encoder or {"name": "conv"})
        kw: dict[str, Any] = dict(
            encoder=enc,
            z_dim=z_dim,
            decoder_hidden=decoder_hidden,
            dropout=dropout,
            n_mels=n_mels,
            n_frames=-(-n_frames // self.time_pool),
            condition=condition,
        )
        if variant == "S-S":
            self.branches = nn.ModuleList(_Branch(sizes=[s], param_decoder="separate", **kw) for s in self.sizes)
        else:
            self.branches = nn.ModuleList(
                [_Branch(sizes=self.sizes, param_decoder="joint" if variant == "J-J" else "separate", **kw)]
            )
        self.out_dim = max(self.sizes)

    def branch(self, k: int) -> _Branch:
        """The k-th encoder-decoder branch (one per synth for S-S, a single shared one otherwise)."""
        b = self.branches[k]
        assert isinstance(b, _Branch)
        return b

    def pool(self, mel: torch.Tensor) -> torch.Tensor:
        """(B, 1, n_mels, T) -> (B, 1, n_mels, ceil(T / time_pool)): what the encoder sees and the decoder rebuilds."""
        if self.time_pool == 1:
            return mel
        return F.avg_pool2d(mel, (1, self.time_pool), ceil_mode=True)

    def forward(self, mel: torch.Tensor, synth: torch.Tensor, sample: bool = False) -> dict[str, torch.Tensor]:
        """mel: (B, 1, n_mels, T); synth: (B,) synth indices.

        Returns:
            ``logits`` (B, max onehot; zero past each synth's size), ``mel_hat`` and ``mel_in`` (B, 1, n_mels,
            T / time_pool: the reconstruction and the pooled input it is compared with), ``mu`` and ``logvar``
            (B, z_dim).
        """
        mel = self.pool(mel)
        if self.variant != "S-S":
            b = self.branch(0)
            z, mu, logvar = b.latent(b.encoder(mel), sample)
            return {"logits": b.params(z, synth), "mel_hat": b.spec(z), "mel_in": mel, "mu": mu, "logvar": logvar}
        B = mel.shape[0]
        z_dim = self.branch(0).latent.z_dim
        logits = mel.new_zeros(B, self.out_dim)
        mel_hat = torch.zeros_like(mel)
        mu = mel.new_zeros(B, z_dim)
        logvar = mel.new_zeros(B, z_dim)
        for k in range(len(self.branches)):
            b = self.branch(k)
            rows = (synth == k).nonzero(as_tuple=True)[0]
            if not len(rows):
                continue
            zk, mk, lk = b.latent(b.encoder(mel[rows]), sample)
            logits[rows, : self.sizes[k]] = b.params.decode_as(zk, 0)
            mel_hat[rows] = b.spec(zk)
            mu[rows], logvar[rows] = mk, lk
        return {"logits": logits, "mel_hat": mel_hat, "mel_in": mel, "mu": mu, "logvar": logvar}

    @torch.no_grad()
    def predict(self, mel: torch.Tensor, synths: Sequence[int], samples: int = 0) -> dict[int, torch.Tensor]:
        """Decode every input as each synth in ``synths`` (cross-synth inference).

        Returns:
            synth index -> logits (B, size) from the posterior mean, or (samples, B, size) from posterior samples.
        """
        out: dict[int, torch.Tensor] = {}
        mel = self.pool(mel)
        for k in synths:
            b = self.branch(k if self.variant == "S-S" else 0)
            h = b.encoder(mel)
            head = 0 if self.variant == "S-S" else k
            if samples:
                out[k] = torch.stack([b.params.decode_as(b.latent(h, True)[0], head) for _ in range(samples)])
            else:
                out[k] = b.params.decode_as(b.latent(h, False)[0], head)
        return out
