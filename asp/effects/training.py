"""``asp effects train``: the effect stage's networks trained one after another on an effect dataset.

``train_models`` trains the five parameter models and the chosen selectors into ``OUT/params/<effect>.ckpt`` and
``OUT/selectors/<variant>.ckpt`` (the networks and their Lightning module: ``asp.models.effects`` and
``asp.models.effect_training``); a re-run skips finished ones. The selectors' training steps may use audio produced
by the trained parameter models (``asp.effects.rollouts``).
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
from torch.utils.data import ConcatDataset, Dataset, Subset

from asp.atomic import atomic_write_bytes
from asp.data.effects import KINDS, ORDERS, EffectDataset
from asp.effects import rollouts
from asp.effects.systems import Models
from asp.metrics import check_metric
from asp.models.effect_training import EffectModule, ParamExamples, SelectionExamples, collate_steps
from asp.models.effect_training import fit as fit_one
from asp.models.effects import SELECTORS
from asp.paths import recorded
from asp.synths import effect_specs as specs
from asp.tracking import check, make_loggers

INTERMEDIATE = ("true", "model", "both")


def train_models(
    data: str | Path,
    out: str | Path,
    features: str = "mel",
    epochs: int = 10,
    batch_size: int = 32,
    selectors: Sequence[str] = ("rnn", "rnn_ni", "cnn", "cnn_1s"),
    effects: Sequence[str] | None = None,
    seed: int = 0,
    lr: float = 1e-3,
    limit: int | None = None,
    intermediate: str = "both",
    selector_epochs: int | None = None,
    order: str = "any",
    order_metric: str = "mssmae",
    logger: str = "csv",
    wandb_mode: str = "offline",
    wandb_project: str = "asp",
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Train the parameter models and the selectors; returns (and writes to ``OUT/results.json``) their final
    validation metrics and settings. Finished checkpoints are kept and skipped on a re-run; a re-run that would
    train a finished model with other settings is refused (settings of models still to train may change: e.g.
    ``selector_epochs``, the selectors' epochs, default ``epochs``). ``limit``: at most this many examples per split
    and model (a seeded subset; quick runs).
    ``intermediate``: the selectors' training steps on true intermediate audio (``true``), on audio produced by the
    trained parameter models (``model``, see ``asp.effects.rollouts``; needs all five), or both (the default).
    Validation always uses true audio, so the settings compare. ``order``: the selectors' label, ``any`` missing
    effect (the paper) or the ``greedy`` one (the largest step toward the target in ``order_metric`` on true audio
    first; validation uses the same label). ``logger``: ``csv`` (``OUT/logs/<model>/
    metrics.csv``) or ``wandb`` (also one wandb run per model, under ``OUT/logs/wandb``, grouped by ``OUT``'s name;
    ``wandb_mode`` offline, online or disabled)."""

    def cap(d: Any) -> Any:
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
    shared = {
        "data": recorded(data),
        "folder": recorded(out),
        "data_plan_crc32": zlib.crc32((ds.root / "plan.json").read_bytes()),
        "features": features,
        **({"extra_effects": ds.card["config"]["extra_effects"]} if "extra_effects" in ds.card["config"] else {}),
        **({"backend": ds.backend} if ds.backend != "faust" else {}),
    }
    have = results.get("_config")
    if have is not None and {k: have.get(k) for k in ("data_plan_crc32", "features")} != {
        k: shared[k] for k in ("data_plan_crc32", "features")
    }:
        raise ValueError(f"{out} holds effect models of another dataset or features; use another folder or delete it")
    settings: dict[str, dict[str, Any]] = {
        "params": {"epochs": epochs, "batch_size": batch_size, "seed": seed, "lr": lr, "limit": limit},
        "selectors": {
            "epochs": selector_epochs or epochs,
            "batch_size": batch_size,
            "seed": seed,
            "lr": lr,
            "limit": limit,
            "intermediate": intermediate,
            "order": order,
            **({"order_metric": order_metric} if order == "greedy" else {}),
        },
    }
    before_orders = {"order": "any"}  # selectors trained before the option existed

    def todo(name: str) -> bool:
        """Whether a model still has to be trained; a finished one trained with other settings is refused."""
        if not ((out / f"{name}.ckpt").is_file() and name in results):
            return True
        want, got = settings[name.split("/")[0]], results[name].get("settings", {})
        diff = sorted(k for k in want if got.get(k, before_orders.get(k)) != want[k])
        if diff:
            raise ValueError(
                f"{out}: {name} was trained with other settings ({', '.join(diff)}); use another folder or delete it"
            )
        return False

    def fit(name: str, module: EffectModule, train: Any, valid: Any, collate: Any = None) -> None:
        kind = name.split("/")[0]
        log(f"training {name} on {len(train)} examples ({len(valid)} to validate)")
        loggers = make_loggers(
            out / "logs",
            logger,
            csv_name=Path(name).name,
            run_name=f"effects/{name}",
            project=wandb_project,
            mode=wandb_mode,
            group=out.resolve().name,
            config={
                "model": name,
                "train_examples": len(train),
                "valid_examples": len(valid),
                **settings[kind],
                **shared,
            },
        )
        metrics = fit_one(
            module, train, valid, out / f"{name}.ckpt", settings[kind]["epochs"], batch_size, collate, loggers
        )
        results[name] = {**metrics, "settings": settings[kind]}
        results["_config"] = shared
        atomic_write_bytes(results_file, json.dumps(results, indent=1).encode())

    for e in specs.parse_names(list(effects or specs.rack_order())):
        if todo(f"params/{e}"):
            fit(
                f"params/{e}",
                EffectModule("params", effect=e, features=features, lr=lr),
                cap(ParamExamples(ds, "train", e, features)),
                cap(ParamExamples(ds, "valid", e, features)),
            )
    selectors = [v for v in selectors if todo(f"selectors/{v}")]
    if not selectors:
        return results
    rollout_folder = rollout_rows = None
    if intermediate in ("model", "both"):
        missing = [e for e in specs.rack_order() if todo(f"params/{e}")]
        if missing:
            raise ValueError(
                f"training on model-produced audio needs every effect's parameter model; not trained: "
                f"{', '.join(missing)} (or use intermediate='true')"
            )
        rollout_rows = ds.rows("train")
        if limit is not None:  # only as many families as the capped examples need
            rollout_rows = np.sort(
                np.random.default_rng(seed).permutation(rollout_rows)[: -(-limit // rollouts.per_family())]
            )
        rollout_folder = rollouts.build(ds, Models(out), rollout_rows, out / "rollouts", seed, log)
    if order == "greedy":
        log(
            f"greedy labels: each family's {order_metric} distances on true audio are computed on first use and "
            f"kept in {ds.root / 'distances'}"
        )
    for v in selectors:
        one_shot = v == "cnn_1s"
        kw: dict[str, Any] = dict(one_shot=one_shot, order=order, metric=order_metric)
        train_sets: list[Dataset] = []
        if intermediate in ("true", "both"):
            train_sets.append(cap(SelectionExamples(ds, "train", features, seed, **kw)))
        if rollout_folder is not None:
            assert rollout_rows is not None
            train_sets.append(cap(rollouts.RolloutExamples(ds, rollout_folder, rollout_rows, features, **kw)))
        train = train_sets[0] if len(train_sets) == 1 else ConcatDataset(train_sets)
        valid = cap(SelectionExamples(ds, "valid", features, seed, **kw))
        fit(
            f"selectors/{v}", EffectModule("selector", variant=v, features=features, lr=lr), train, valid, collate_steps
        )
    return results
