"""Training the effect stage's networks on an effect dataset (``asp effects dataset``).

* ``ParamExamples``: one effect's (current, target) feature pairs and its true setting, from every family of a split
  (16 per family: each input subset without the effect, and the same subset with it).
* ``SelectionExamples``: one per pair (211 per family): the steps from the dry sound to the input subset, each step
  as (current, target) features and the one-hot set of effects used before it, and the multi-hot label of the
  effects still missing. Every step of a sequence is an example of its own (the first included).
* ``EffectModule``: a LightningModule around either network, logging loss and (selectors) next-effect accuracy with
  torchmetrics.
* ``train_models``: trains the five parameter models and the chosen selectors one after another into
  ``OUT/params/<effect>.ckpt`` and ``OUT/selectors/<variant>.ckpt``; a re-run skips finished ones.
"""

from __future__ import annotations

import json
import zlib
from pathlib import Path
from typing import Any, Callable, Sequence

import lightning as L
import numpy as np
import torch
import torchmetrics
from torch.utils.data import DataLoader, Dataset

from asp.atomic import atomic_write_bytes
from asp.effects import specs
from asp.effects.dataset import KINDS, ORDERS, EffectDataset, next_label, param_examples, selection_examples
from asp.effects.models import SELECTORS, EffectParamModel, EffectSelector
from asp.metrics import check_metric
from asp.tracking import check, finish, make_loggers



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
        return torch.from_numpy(np.stack([feats[a], feats[t]]).astype(np.float32)), torch.from_numpy(cont), \
            torch.from_numpy(cls)


class SelectionExamples(Dataset):
    """``one_shot``: SerumCNN 1S's examples, the first step of each pair only (the dry sound against the target, the
    label the target's whole set), no stop cases. ``order``: ``any`` (the paper: every missing effect is a right
    next step) or ``greedy`` (only the missing effect that brings the true audio closest to the target in
    ``metric``; see ``EffectDataset.distances``)."""

    def __init__(self, data: EffectDataset, split: str, features: str = "mel", seed: int = 0,
                 one_shot: bool = False, order: str = "any", metric: str = "mssmae") -> None:
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

    def __init__(self, kind: str, effect: str | None = None, variant: str = "rnn", features: str = "mel",
                 dim: int = 128, lr: float = 1e-3) -> None:
        super().__init__()
        self.save_hyperparameters()
        if kind == "params":
            self.net: torch.nn.Module = EffectParamModel(str(effect), features, dim)
        elif kind == "selector":
            self.net = EffectSelector(variant, features, dim)
        else:
            raise ValueError(f"unknown model kind {kind!r}; valid: params, selector")
        self.val_loss = torchmetrics.MeanMetric()
        self.val_acc = torchmetrics.MeanMetric()

    def _loss(self, batch: Any) -> dict[str, torch.Tensor]:
        if self.hparams.kind == "params":
            x, cont, cls = batch
            return self.net.loss(x, cont, cls)
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
        return torch.optim.Adam(self.parameters(), lr=self.hparams.lr)


def _fit(module: EffectModule, train: Dataset, valid: Dataset, ckpt: Path, epochs: int, batch_size: int,
         collate: Any = None, loggers: list[Any] | None = None) -> dict[str, float]:
    from lightning.pytorch.callbacks import ModelCheckpoint

    ckpt.parent.mkdir(parents=True, exist_ok=True)
    best = ModelCheckpoint(dirpath=str(ckpt.parent), filename=ckpt.stem, monitor="val/loss", mode="min",
                           save_top_k=1, enable_version_counter=False)
    loggers = loggers or make_loggers(ckpt.parent, csv_name=ckpt.stem)
    trainer = L.Trainer(max_epochs=epochs, accelerator="cpu", logger=loggers, callbacks=[best],
                        enable_progress_bar=False, enable_model_summary=False, deterministic=True)
    kw = dict(batch_size=batch_size, num_workers=0, collate_fn=collate)
    try:
        trainer.fit(module, DataLoader(train, shuffle=True, **kw), DataLoader(valid, **kw))
    finally:  # one wandb run per model
        finish(loggers)
    return {k: float(v) for k, v in trainer.callback_metrics.items()}


INTERMEDIATE = ("true", "model", "both")


def train_models(data: str | Path, out: str | Path, features: str = "mel", epochs: int = 10, batch_size: int = 32,
                 selectors: Sequence[str] = ("rnn", "rnn_ni", "cnn", "cnn_1s"), effects: Sequence[str] | None = None,
                 seed: int = 0, lr: float = 1e-3, limit: int | None = None, intermediate: str = "both",
                 selector_epochs: int | None = None, order: str = "any", order_metric: str = "mssmae",
                 logger: str = "csv", wandb_mode: str = "offline",
                 wandb_project: str = "asp", log: Callable[[str], None] = print) -> dict[str, Any]:
    """Train the parameter models and the selectors; returns (and writes to ``OUT/results.json``) their final
    validation metrics and settings. Finished checkpoints are kept and skipped on a re-run; a re-run that would
    train a finished model with other settings is refused (settings of models still to train may change: e.g.
    ``selector_epochs``, the selectors' epochs, default ``epochs``). ``limit``: at most this many examples per split and model (a seeded subset; quick runs).
    ``intermediate``: the selectors' training steps on true intermediate audio (``true``), on audio produced by the
    trained parameter models (``model``, see ``asp.effects.rollouts``; needs all five), or both (the default).
    Validation always uses true audio, so the settings compare. ``order``: the selectors' label, ``any`` missing
    effect (the paper) or the ``greedy`` one (the largest step toward the target in ``order_metric`` on true audio
    first; validation uses the same label). ``logger``: ``csv`` (``OUT/logs/<model>/
    metrics.csv``) or ``wandb`` (also one wandb run per model, under ``OUT/logs/wandb``, grouped by ``OUT``'s name;
    ``wandb_mode`` offline, online or disabled)."""
    from torch.utils.data import ConcatDataset, Subset

    from asp.effects import rollouts
    from asp.effects.systems import Models

    def cap(d: Dataset) -> Dataset:
        if limit is None or len(d) <= limit:
            return d
        return Subset(d, np.random.default_rng(seed).permutation(len(d))[:limit].tolist())

    if features not in KINDS:
        raise ValueError(f"unknown features {features!r}; valid: {', '.join(KINDS)}")
    check(logger, wandb_mode)
    if order not in ORDERS:
        raise ValueError(f"unknown order {order!r}; valid: {', '.join(ORDERS)}")
    check_metric(order_metric)
    if intermediate not in INTERMEDIATE:
        raise ValueError(f"unknown intermediate audio {intermediate!r}; valid: {', '.join(INTERMEDIATE)}")
    for v in selectors:
        if v not in SELECTORS:
            raise ValueError(f"unknown selector {v!r}; valid: {', '.join(SELECTORS)}")
    L.seed_everything(seed, workers=True, verbose=False)
    ds = EffectDataset(data)
    out = Path(out)
    results_file = out / "results.json"
    results: dict[str, Any] = json.loads(results_file.read_text()) if results_file.is_file() else {}
    shared = {"data": str(Path(data).resolve()), "data_plan_crc32": zlib.crc32((ds.root / "plan.json").read_bytes()),
              "features": features}
    have = results.get("_config")
    if have is not None and {k: have.get(k) for k in ("data_plan_crc32", "features")} != {
            k: shared[k] for k in ("data_plan_crc32", "features")}:
        raise ValueError(f"{out} holds effect models of another dataset or features; use another folder or delete it")
    settings = {"params": {"epochs": epochs, "batch_size": batch_size, "seed": seed, "lr": lr, "limit": limit},
                "selectors": {"epochs": selector_epochs or epochs, "batch_size": batch_size, "seed": seed, "lr": lr,
                              "limit": limit, "intermediate": intermediate, "order": order,
                              **({"order_metric": order_metric} if order == "greedy" else {})}}
    before_orders = {"order": "any"}  # selectors trained before the option existed

    def todo(name: str) -> bool:
        """Whether a model still has to be trained; a finished one trained with other settings is refused."""
        if not ((out / f"{name}.ckpt").is_file() and name in results):
            return True
        want, got = settings[name.split("/")[0]], results[name].get("settings", {})
        diff = sorted(k for k in want if got.get(k, before_orders.get(k)) != want[k])
        if diff:
            raise ValueError(f"{out}: {name} was trained with other settings ({', '.join(diff)}); use another "
                             "folder or delete it")
        return False

    def fit(name: str, module: EffectModule, train: Dataset, valid: Dataset, collate: Any = None) -> None:
        kind = name.split("/")[0]
        log(f"training {name} on {len(train)} examples ({len(valid)} to validate)")
        loggers = make_loggers(out / "logs", logger, csv_name=Path(name).name, run_name=f"effects/{name}",
                               project=wandb_project, mode=wandb_mode, group=out.resolve().name,
                               config={"model": name, "train_examples": len(train), "valid_examples": len(valid),
                                       **settings[kind], **shared})
        metrics = _fit(module, train, valid, out / f"{name}.ckpt", settings[kind]["epochs"], batch_size, collate,
                       loggers)
        results[name] = {**metrics, "settings": settings[kind]}
        results["_config"] = shared
        atomic_write_bytes(results_file, json.dumps(results, indent=1).encode())

    for e in specs.parse_names(list(effects or specs.rack_order())):
        if todo(f"params/{e}"):
            fit(f"params/{e}", EffectModule("params", effect=e, features=features, lr=lr),
                cap(ParamExamples(ds, "train", e, features)), cap(ParamExamples(ds, "valid", e, features)))
    selectors = [v for v in selectors if todo(f"selectors/{v}")]
    if not selectors:
        return results
    rollout_folder = rollout_rows = None
    if intermediate in ("model", "both"):
        missing = [e for e in specs.rack_order() if todo(f"params/{e}")]
        if missing:
            raise ValueError(f"training on model-produced audio needs all five parameter models; not trained: "
                             f"{', '.join(missing)} (or use intermediate='true')")
        rollout_rows = ds.rows("train")
        if limit is not None:  # only as many families as the capped examples need
            rollout_rows = np.sort(np.random.default_rng(seed).permutation(rollout_rows)[
                :-(-limit // rollouts.PER_FAMILY)])
        rollout_folder = rollouts.build(ds, Models(out), rollout_rows, out / "rollouts", seed, log)
    if order == "greedy":
        log(f"greedy labels: each family's {order_metric} distances on true audio are computed on first use and "
            f"kept in {ds.root / 'distances'}")
    for v in selectors:
        one_shot = v == "cnn_1s"
        kw = dict(one_shot=one_shot, order=order, metric=order_metric)
        train_sets: list[Dataset] = []
        if intermediate in ("true", "both"):
            train_sets.append(cap(SelectionExamples(ds, "train", features, seed, **kw)))
        if rollout_folder is not None:
            train_sets.append(cap(rollouts.RolloutExamples(ds, rollout_folder, rollout_rows, features, **kw)))
        train = train_sets[0] if len(train_sets) == 1 else ConcatDataset(train_sets)
        valid = cap(SelectionExamples(ds, "valid", features, seed, **kw))
        fit(f"selectors/{v}", EffectModule("selector", variant=v, features=features, lr=lr), train, valid,
            collate_steps)
    return results
