"""The LightningModule that trains a :class:`MultiTaskVAE`.

Loss = w_param * parameter loss + w_spec * mel MSE + beta(step) * w_kl * KL, where beta rises linearly from 0 to 1 over
``kl_warmup_steps`` (the KL term is really applied, unlike the published code where it never reached the loss).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import lightning as L
import numpy as np
import torch
import torchmetrics
from torch.nn import functional as F

from asp.metrics import categorical_accuracy, continuous_mse
from asp.models.components import kl_divergence
from asp.models.losses import ParamLoss, SynthLayout, logits_to_scores
from asp.models.vae import MultiTaskVAE
from asp.synths import registry

LR_SCHEDULES = ("constant", "cosine")
BAND_AUGMENT_HZ = (4000.0, 20000.0)  # the cut-offs ``band_augment`` draws from: 8 kHz files to Vorbis's low-pass
LR_FLOOR = 0.01  # the cosine schedule's last learning rate, as a share of ``lr``


class NonFiniteLoss(FloatingPointError):
    """Training produced a NaN or infinite loss."""


class SchemaMismatch(ValueError):
    """A checkpoint was trained with other schemas than the registry's."""


def cosine_factor(step: int, steps: int) -> float:
    """The cosine schedule's learning rate at ``step`` of ``steps``, as a share of the first: 1 down to LR_FLOOR."""
    t = min(max(step, 0), steps) / steps
    return LR_FLOOR + (1.0 - LR_FLOOR) * 0.5 * (1.0 + math.cos(math.pi * t))


class VAEModule(L.LightningModule):
    """Trains the multi-task VAE on batches from :class:`asp.data.datamodule.AspDataModule`.

    Args:
        synths: synth names, in the data module's order.
        variant: ``J-S``, ``J-J`` or ``S-S``.
        encoder: encoder config (``name`` and its arguments).
        loss: ``{"kind": "typed" | "paper", "continuous": w, "categorical": w, "binary": w}``.
        weights: ``{"param": w, "spec": w, "kl": w}``.
        mel_floor_db: the dB floor that maps input mels to [0, 1] (from the dataset card; None: used as stored).
        schema_hashes: the schema hashes trained with (filled from the registry when None).
        render, mel: the dataset's render and mel settings (its card), so inference can prepare audio the same way.
        sample_train: train through posterior samples of z (a VAE); False trains through the posterior mean, as
            inference uses it (an autoencoder whose KL term still regularises the means).
        lr_schedule: ``constant`` (the paper's), or ``cosine``: the learning rate falls from ``lr`` to
            ``lr * LR_FLOOR`` along half a cosine over the run's optimiser steps (``trainer.max_epochs``; a run
            resumed with more epochs stretches the cosine over the new total from the step it resumes at).
        band_augment: the chance that a training mel is cut at a random frequency (:meth:`band_limited`), so the
            encoder has heard sounds from lower-rate and lossy files (0: never).
    """

    def __init__(
        self,
        synths: Sequence[str],
        variant: str = "J-S",
        z_dim: int = 64,
        encoder: dict[str, Any] | None = None,
        decoder_hidden: Sequence[int] = (512, 512),
        dropout: float = 0.0,
        condition: str = "mask",
        loss: dict[str, Any] | None = None,
        weights: dict[str, float] | None = None,
        kl_warmup_steps: int = 1000,
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        n_mels: int = 128,
        n_frames: int = 431,
        time_pool: int = 1,
        mel_floor_db: float | None = -100.0,
        sample_train: bool = True,
        lr_schedule: str = "constant",
        band_augment: float = 0.0,
        schema_hashes: dict[str, str] | None = None,
        render: dict[str, Any] | None = None,
        mel: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        if lr_schedule not in LR_SCHEDULES:
            raise ValueError(f"model.lr_schedule: {lr_schedule!r} is not one of {', '.join(LR_SCHEDULES)}")
        schemas = [registry.load_schema(s) for s in synths]
        current = {s.name: s.content_hash for s in schemas}
        if schema_hashes is not None:
            bad = {s: (schema_hashes.get(s), h) for s, h in current.items() if schema_hashes.get(s) != h}
            if bad:
                raise SchemaMismatch(
                    "checkpoint schemas differ from the registry's: "
                    + "; ".join(f"{s}: trained with {a}, registry has {b}" for s, (a, b) in bad.items())
                )
        self.save_hyperparameters(
            {
                "synths": list(synths),
                "variant": variant,
                "z_dim": z_dim,
                "encoder": dict(encoder or {"name": "conv"}),
                "decoder_hidden": list(decoder_hidden),
                "dropout": dropout,
                "condition": condition,
                "loss": dict(loss or {"kind": "typed"}),
                "weights": {"param": 1.0, "spec": 1.0, "kl": 1e-3, **(weights or {})},
                "kl_warmup_steps": kl_warmup_steps,
                "lr": lr,
                "weight_decay": weight_decay,
                "n_mels": n_mels,
                "n_frames": n_frames,
                "time_pool": time_pool,
                "mel_floor_db": mel_floor_db,
                "sample_train": sample_train,
                "lr_schedule": lr_schedule,
                "band_augment": band_augment,
                "schema_hashes": current,
                "render": dict(render) if render else None,
                "mel": dict(mel) if mel else None,
            }
        )
        self.synths = list(synths)
        self.schemas = schemas
        self.layouts = [SynthLayout.from_schema(s) for s in schemas]
        self.model = MultiTaskVAE(
            variant,
            [s.onehot_size for s in schemas],
            self.hparams["encoder"],
            z_dim,
            decoder_hidden,
            dropout,
            n_mels,
            n_frames,
            condition,
            time_pool,
        )
        lcfg = dict(self.hparams["loss"])
        self.loss_kind = lcfg.pop("kind", "typed")
        self.param_loss = ParamLoss(self.layouts, self.loss_kind, **lcfg)
        self.metrics: dict[str, dict[str, torchmetrics.MeanMetric]]
        self.metrics = torch.nn.ModuleDict(  # type: ignore[assignment]  # a ModuleDict, typed by what it holds
            {
                stage: torch.nn.ModuleDict(
                    {f"{m}/{s}": torchmetrics.MeanMetric() for s in self.synths for m in ("param_mse", "cat_acc")}
                )
                for stage in ("val", "test")
            }
        )

    # ------------------------------------------------------------------ loss
    def kl_beta(self) -> float:
        """The KL weight now: the configured weight times a linear warm-up over ``kl_warmup_steps``."""
        warm = self.hparams["kl_warmup_steps"]
        ramp = 1.0 if warm <= 0 else min(1.0, self.global_step / warm)
        return ramp * self.hparams["weights"]["kl"]

    def losses(self, batch: dict[str, torch.Tensor], sample: bool) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        out = self.model(batch["mel"], batch["synth"], sample=sample)
        w = self.hparams["weights"]
        param = self.param_loss(out["logits"], batch["target"], batch["synth"])
        spec = F.mse_loss(out["mel_hat"], out["mel_in"])
        kl = kl_divergence(out["mu"], out["logvar"]).mean()
        total = w["param"] * param + w["spec"] * spec + self.kl_beta() * kl
        return total, {"loss": total, "param": param, "spec": spec, "kl": kl, "logits": out["logits"]}

    def band_limited(self, mel: torch.Tensor, chance: float) -> torch.Tensor:
        """Training mels (B, 1, n_mels, T; normalised, the floor at 0), each with ``chance`` cut at a random
        frequency between ``BAND_AUGMENT_HZ``: the mel bands whose filters lie mostly above it set to the floor, as a
        lower-rate or lossy file reaches the model (``asp.features.band``)."""
        if not hasattr(self, "_mel_centres"):
            from asp.features.mel import MelSettings, filterbank

            settings = MelSettings.from_dict(self.hparams.get("mel") or {})
            fb = np.asarray(filterbank(settings).todense())
            hz = np.linspace(0.0, settings.sample_rate / 2, fb.shape[1])
            self._mel_centres = torch.as_tensor((fb @ hz) / np.maximum(fb.sum(axis=1), 1e-12), dtype=mel.dtype)
        b = mel.shape[0]
        lo, hi = BAND_AUGMENT_HZ
        cut = torch.where(
            torch.rand(b, device=mel.device) < chance,
            lo + (hi - lo) * torch.rand(b, device=mel.device),
            torch.full((b,), float("inf"), device=mel.device),
        )
        above = self._mel_centres.to(mel.device)[None, :] > cut[:, None]  # (B, n_mels)
        return mel.masked_fill(above[:, None, :, None], 0.0)

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        chance = float(self.hparams.get("band_augment", 0.0) or 0.0)
        if chance > 0:
            batch = {**batch, "mel": self.band_limited(batch["mel"], chance)}
        total, parts = self.losses(batch, sample=bool(self.hparams.get("sample_train", True)))
        if not torch.isfinite(total):
            raise NonFiniteLoss(
                f"non-finite loss at step {self.global_step}: parameter {parts['param'].item():.4g}, "
                f"spectrogram {parts['spec'].item():.4g}, KL {parts['kl'].item():.4g}; "
                "training stopped (the last good checkpoint is kept)"
            )
        self.log_dict(
            {f"train/{k}": v for k, v in parts.items() if k != "logits"}, prog_bar=False, batch_size=len(batch["synth"])
        )
        self.log("train/kl_beta", self.kl_beta(), batch_size=len(batch["synth"]))
        return total

    def _eval_step(self, batch: dict[str, torch.Tensor], stage: str) -> None:
        total, parts = self.losses(batch, sample=False)
        n = len(batch["synth"])
        self.log_dict({f"{stage}/{k}": v for k, v in parts.items() if k != "logits"}, batch_size=n, sync_dist=True)
        for k, lay in enumerate(self.layouts):
            rows = (batch["synth"] == k).nonzero(as_tuple=True)[0]
            if not len(rows):
                continue
            scores = logits_to_scores(parts["logits"][rows, : lay.size], lay, self.loss_kind)
            target = batch["target"][rows, : lay.size]
            mse = continuous_mse(scores, target, lay.continuous.to(scores.device))
            self.metrics[stage][f"param_mse/{self.synths[k]}"].update(mse)
            acc = categorical_accuracy(scores, target, lay.groups)
            if not torch.isnan(acc).all():
                self.metrics[stage][f"cat_acc/{self.synths[k]}"].update(acc)

    def validation_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        self._eval_step(batch, "val")

    def test_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        self._eval_step(batch, "test")

    def _log_metrics(self, stage: str) -> None:
        for name, metric in self.metrics[stage].items():
            if metric.update_count:
                self.log(f"{stage}/{name}", metric.compute())
            metric.reset()

    def on_validation_epoch_end(self) -> None:
        self._log_metrics("val")

    def on_test_epoch_end(self) -> None:
        self._log_metrics("test")

    def configure_optimizers(self) -> Any:
        opt = torch.optim.AdamW(self.parameters(), lr=self.hparams["lr"], weight_decay=self.hparams["weight_decay"])
        if self.hparams.get("lr_schedule", "constant") == "constant":  # checkpoints from before the option: constant
            return opt
        total = float(self.trainer.estimated_stepping_batches)
        if not math.isfinite(total):
            raise ValueError(
                "model.lr_schedule=cosine needs a run of known length: set trainer.max_epochs or trainer.max_steps"
            )
        steps = max(1, int(total))
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda step: cosine_factor(step, steps))
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}

    # ------------------------------------------------------------------ checkpoints
    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint["asp"] = {
            "synths": self.synths,
            "schema_hashes": dict(self.hparams["schema_hashes"]),
            "onehot_sizes": {s.name: s.onehot_size for s in self.schemas},
            "variant": self.hparams["variant"],
        }
