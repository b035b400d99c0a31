"""Training runs from Hydra configs: compose, build, fit, test, and a run folder.

A run folder holds ``config.yaml`` (resolved), ``checkpoints/best.ckpt`` and ``last.ckpt``, ``metrics.csv``,
``schema_hashes.json``, ``dataset_card.json`` (the card of the dataset it used), ``results.json`` (test metrics),
and ``wandb/`` (offline unless ``logger.mode=online``).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from asp.atomic import atomic_write_bytes
from asp.paths import config_dir, recorded
from asp.tracking import finish, make_loggers

CONFIG_DIR = config_dir()
GROUPS = ("data", "model", "encoder", "loss", "trainer", "logger", "experiment")


def _plain(node: Any) -> dict[str, Any]:
    """A config node as plain, resolved data."""
    out = OmegaConf.to_container(node, resolve=True)
    assert isinstance(out, dict)
    return {str(k): v for k, v in out.items()}


def compose(overrides: Sequence[str] = ()) -> DictConfig:
    """The training config with command-line style overrides (``key=value``, ``group=option``).

    Raises:
        ValueError: an unknown key or option, naming the valid ones.
    """
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from hydra.errors import ConfigCompositionException, MissingConfigException

    if not CONFIG_DIR.is_dir():
        raise FileNotFoundError(f"{CONFIG_DIR}: no config folder (set ASP_CONFIG_DIR)")
    try:
        with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base=None):
            return hydra_compose("train", overrides=list(overrides))
    except (ConfigCompositionException, MissingConfigException) as err:
        msg = str(err)
        for group in GROUPS:
            if f"'{group}'" in msg or f"{group}/" in msg or f"{group}=" in msg:
                msg += f"; valid {group} options: {', '.join(options(group))}"
                break
        raise ValueError(msg) from None


def options(group: str) -> list[str]:
    """The config options of a group (file names without .yaml)."""
    return sorted(p.stem for p in (CONFIG_DIR / group).glob("*.yaml"))


def _run_dir(cfg: DictConfig) -> Path:
    """``run_dir``, else a new timestamped folder. Under DDP, Lightning starts the other ranks by re-running this
    command later; they take rank 0's folder from ``ASP_RUN_DIR`` (several nodes: set ``run_dir`` on a shared disk)."""
    if cfg.run_dir:
        return Path(cfg.run_dir)
    inherited = os.environ.get("ASP_RUN_DIR")
    if inherited and os.environ.get("LOCAL_RANK", "0") != "0":
        return Path(inherited)
    run_dir = Path("runs") / str(cfg.name) / dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S-%f")
    if "ddp" in str(cfg.trainer.get("strategy", "")):
        os.environ["ASP_RUN_DIR"] = str(run_dir)
    return run_dir


def build(cfg: DictConfig) -> tuple[Any, Any, Any, Path]:
    """(data module, LightningModule, Trainer, run folder) from a composed config (nothing is trained)."""
    import lightning as L
    from lightning.pytorch.callbacks import ModelCheckpoint

    from asp.data.datamodule import AspDataModule
    from asp.models.module import VAEModule

    L.seed_everything(int(cfg.seed), workers=True, verbose=False)
    run_dir = _run_dir(cfg)
    run_dir.mkdir(parents=True, exist_ok=True)
    d = cfg.data
    dm = AspDataModule(
        d.root,
        list(d.synths),
        batch_size=int(d.batch_size),
        num_workers=int(d.num_workers),
        balance=bool(d.balance),
        limit=d.limit,
        seed=int(cfg.seed),
    )
    m = _plain(cfg.model)
    module = VAEModule(
        synths=list(d.synths),
        encoder=_plain(cfg.encoder),
        loss=_plain(cfg.loss),
        n_mels=dm.n_mels,
        n_frames=dm.n_frames,
        mel_floor_db=dm.floor_db,
        render=(dm.store.card.get("settings") or {}).get("render"),
        mel=(dm.store.card.get("settings") or {}).get("mel"),
        **m,
    )
    lg = cfg.logger
    loggers = make_loggers(
        run_dir,
        str(lg.kind),
        run_name=str(cfg.name),
        project=str(lg.get("project", "asp")),
        mode=str(lg.get("mode", "offline")),
        config=_plain(cfg),
    )
    best = ModelCheckpoint(
        dirpath=str(run_dir / "checkpoints"),
        filename="best",
        monitor="val/loss",
        mode="min",
        save_top_k=1,
        enable_version_counter=False,
    )
    # last.ckpt after every epoch (at validation end), improved or not: what a resumed or NaN-stopped run continues from
    last = ModelCheckpoint(
        dirpath=str(run_dir / "checkpoints"),
        filename="last",
        monitor=None,
        save_top_k=1,
        every_n_epochs=1,
        enable_version_counter=False,
    )
    t = _plain(cfg.trainer)
    trainer = L.Trainer(
        logger=loggers,
        callbacks=[best, last],
        default_root_dir=str(run_dir),
        enable_progress_bar=True,
        enable_model_summary=False,
        **t,
    )
    return dm, module, trainer, run_dir


def train(cfg: DictConfig) -> dict[str, Any]:
    """Fit (and test) one run. Returns the run's summary (also written to ``results.json``).

    Raises:
        NonFiniteLoss: the loss became NaN/inf (the last good checkpoint stays in the run folder).
    """
    dm, module, trainer, run_dir = build(cfg)
    saved = _plain(cfg)  # the paths it depends on absolute: the run folder works from any folder (asp.paths.relocate)
    saved["data"]["root"], saved["run_dir"] = recorded(cfg.data.root), recorded(run_dir)
    atomic_write_bytes(run_dir / "config.yaml", OmegaConf.to_yaml(OmegaConf.create(saved)).encode())
    atomic_write_bytes(run_dir / "schema_hashes.json", json.dumps(module.hparams["schema_hashes"], indent=1).encode())
    shutil.copyfile(Path(cfg.data.root) / "card.json", run_dir / "dataset_card.json")
    last = run_dir / "checkpoints" / "last.ckpt"
    try:
        trainer.fit(module, datamodule=dm, ckpt_path=str(last) if cfg.get("resume", True) and last.is_file() else None)
        results: dict[str, Any] = {
            "run_dir": str(run_dir),
            "name": str(cfg.name),
            "variant": cfg.model.variant,
            "z_dim": int(cfg.model.z_dim),
            "steps": int(trainer.global_step),
            "world_size": int(trainer.world_size),
        }
        best = run_dir / "checkpoints" / "best.ckpt"
        if cfg.test_after_fit:
            metrics = trainer.test(module, datamodule=dm, ckpt_path=str(best) if best.exists() else None, verbose=False)
            results.update({k: float(v) for k, v in (metrics[0] if metrics else {}).items()})
    finally:  # the next trial of a sweep in this process gets a wandb run of its own
        finish(trainer.loggers)
    if trainer.is_global_zero:  # under DDP every rank runs this function; one writes
        atomic_write_bytes(run_dir / "results.json", json.dumps(results, indent=1).encode())
    return results
