"""Training the effect stage's networks on an effect dataset (``asp effects dataset``).

* ``ParamExamples``: one effect's (current, target) feature pairs and its true setting, from every family of a split
  (16 per family: each input subset without the effect, and the same subset with it).
* ``SelectionExamples``: one per pair (211 per family): the steps from the dry sound to the input subset, each step
  as (current, target) features and the one-hot set of effects used before it, and the multi-hot label of the
  effects still missing. Every step of a sequence is an example of its own (the first included).
* ``EffectModule``: a LightningModule around either network, logging loss and (selectors) next-effect accuracy with
  torchmetrics.
* ``fit``: one network trained with Lightning, its best checkpoint kept.

The effect stage's training run (the five parameter models, the rollouts, the selectors) is
``asp.effects.training.train_models``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import torch
import torchmetrics
from torch.utils.data import DataLoader, Dataset

from asp.data.effects import KINDS, EffectDataset, next_label, param_examples, selection_examples
from asp.models.effects import EffectParamModel, EffectSelector
from asp.synths import effect_specs as specs
from asp.tracking import finish, make_loggers


class ParamExamples(Dataset):
    def __init__(self, data: EffectDataset, split: str, effect: str, features: str = "mel") -> None:
        self.data, self.spec, self.kind = data, specs.get(effect), KINDS[features]
        self.index = param_examples(data.rows(split), self.spec.name)
        self.targets = {int(f): self.spec.encode(data.chain(int(f))[self.spec.name]) for f in set(self.index.family)}

    def __len__(self) -> int:
        return len(self.index)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        fam, a, t = (int(v) for v in self.index.iloc[i][["family", "input", "target"]])
        feats = self.data.features(fam, self.kind)
        cont, cls = self.targets[fam]
        return (
            torch.from_numpy(np.stack([feats[a], feats[t]]).astype(np.float32)),
            torch.from_numpy(cont),
            torch.from_numpy(cls),
        )


class SelectionExamples(Dataset):
    """``one_shot``: SerumCNN 1S's examples, the first step of each pair only (the dry sound against the target, the
    label the target's whole set), no stop cases. ``order``: ``any`` (the paper: every missing effect is a right
    next step) or ``greedy`` (only the missing effect that brings the true audio closest to the target in
    ``metric``; see ``EffectDataset.distances``)."""

    def __init__(
        self,
        data: EffectDataset,
        split: str,
        features: str = "mel",
        seed: int = 0,
        one_shot: bool = False,
        order: str = "any",
        metric: str = "mssmae",
    ) -> None:
        self.data, self.kind, self.metric = data, KINDS[features], metric
        self.order = "any" if one_shot else order  # (labels on first use: a capped run renders less)
        index = selection_examples(data.rows(split), seed=seed, stop=not one_shot)
        self.index = index[index.step == 1].reset_index(drop=True) if one_shot else index

    def __len__(self) -> int:
        return len(self.index)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        row = self.index.iloc[i]
        feats = self.data.features(int(row.family), self.kind)
        target = feats[int(row.target)]
        steps = np.stack([np.stack([feats[m], target]) for m in row.path]).astype(np.float32)
        used = np.stack([specs.mask_vector(m) for m in row.path])
        label = next_label(self.data, int(row.family), int(row.input), int(row.target), self.order, self.metric)
        return torch.from_numpy(steps), torch.from_numpy(used), torch.from_numpy(specs.mask_vector(label))


def collate_steps(batch: Sequence[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]) -> tuple[torch.Tensor, ...]:
    """Pads sequences of steps to the longest in the batch: (steps, used, lengths, labels)."""
    lengths = torch.tensor([b[0].shape[0] for b in batch])
    s = int(lengths.max())
    steps = torch.zeros(len(batch), s, *batch[0][0].shape[1:])
    used = torch.zeros(len(batch), s, batch[0][1].shape[1])
    for i, (st, us, _) in enumerate(batch):
        steps[i, : st.shape[0]] = st
        used[i, : us.shape[0]] = us
    return steps, used, lengths, torch.stack([b[2] for b in batch])


class EffectModule(L.LightningModule):
    """Trains one network: ``kind="params"`` (with ``effect``) or ``kind="selector"`` (with ``variant``)."""

    def __init__(
        self,
        kind: str,
        effect: str | None = None,
        variant: str = "rnn",
        features: str = "mel",
        dim: int = 128,
        lr: float = 1e-3,
    ) -> None:
        super().__init__()
        self.save_hyperparameters()
        if kind == "params":
            self.net: EffectParamModel | EffectSelector = EffectParamModel(str(effect), features, dim)
        elif kind == "selector":
            self.net = EffectSelector(variant, features, dim)
        else:
            raise ValueError(f"unknown model kind {kind!r}; valid: params, selector")
        self.val_loss = torchmetrics.MeanMetric()
        self.val_acc = torchmetrics.MeanMetric()

    def _loss(self, batch: Any) -> dict[str, torch.Tensor]:
        if self.hparams["kind"] == "params":
            assert isinstance(self.net, EffectParamModel)
            x, cont, cls = batch
            return self.net.loss(x, cont, cls)
        assert isinstance(self.net, EffectSelector)
        steps, used, lengths, label = batch
        return self.net.loss(steps, used, lengths, label)

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        out = self._loss(batch)
        if not torch.isfinite(out["loss"]):
            raise FloatingPointError("the effect model's loss became NaN or infinite")
        self.log("train/loss", out["loss"], prog_bar=True)
        return out["loss"]

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        out = self._loss(batch)
        n = batch[0].shape[0]
        self.val_loss.update(out["loss"], weight=n)
        if "accuracy" in out:
            self.val_acc.update(out["accuracy"], weight=n)

    def on_validation_epoch_end(self) -> None:
        self.log("val/loss", self.val_loss.compute(), prog_bar=True)
        self.val_loss.reset()
        if self.val_acc.update_count:
            self.log("val/accuracy", self.val_acc.compute())
            self.val_acc.reset()

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.Adam(self.parameters(), lr=self.hparams["lr"])


def fit(
    module: EffectModule,
    train: Dataset,
    valid: Dataset,
    ckpt: Path,
    epochs: int,
    batch_size: int,
    collate: Any = None,
    loggers: list[Any] | None = None,
) -> dict[str, float]:
    from lightning.pytorch.callbacks import ModelCheckpoint

    ckpt.parent.mkdir(parents=True, exist_ok=True)
    best = ModelCheckpoint(
        dirpath=str(ckpt.parent),
        filename=ckpt.stem,
        monitor="val/loss",
        mode="min",
        save_top_k=1,
        enable_version_counter=False,
    )
    loggers = loggers or make_loggers(ckpt.parent, csv_name=ckpt.stem)
    trainer = L.Trainer(
        max_epochs=epochs,
        accelerator="cpu",
        logger=loggers,
        callbacks=[best],
        enable_progress_bar=False,
        enable_model_summary=False,
        deterministic=True,
    )
    kw = dict(batch_size=batch_size, num_workers=0, collate_fn=collate)
    try:
        trainer.fit(module, DataLoader(train, shuffle=True, **kw), DataLoader(valid, **kw))
    finally:  # one wandb run per model
        finish(loggers)
    return {k: float(v) for k, v in trainer.callback_metrics.items()}
