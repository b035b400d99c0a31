"""Experiment tracking for every training in asp (the VAE runs, the effect stage's models).

Each run always writes Lightning's ``metrics.csv`` (so a run can be read back with pandas without any account), and
with ``kind="wandb"`` also a wandb run: offline by default (no account or network needed; ``wandb sync`` uploads
it later), ``mode="online"`` to stream, ``"disabled"`` to build the logger without starting wandb.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

LOGGERS = ("csv", "wandb")
WANDB_MODES = ("offline", "online", "disabled")


def check(kind: str, mode: str = "offline") -> None:
    """Refuses an unknown logger kind or wandb mode, naming the valid ones (before any training starts)."""
    if kind not in LOGGERS:
        raise ValueError(f"unknown logger {kind!r}; valid: {', '.join(LOGGERS)}")
    if kind == "wandb" and mode not in WANDB_MODES:
        raise ValueError(f"unknown wandb mode {mode!r}; valid: {', '.join(WANDB_MODES)}")


def make_loggers(
    save_dir: str | Path,
    kind: str = "csv",
    *,
    csv_name: str = "",
    run_name: str | None = None,
    project: str = "asp",
    mode: str = "offline",
    group: str | None = None,
    config: Mapping[str, Any] | None = None,
) -> list[Any]:
    """Lightning loggers of one run: a ``CSVLogger`` writing ``save_dir/csv_name/metrics.csv``, and for ``wandb`` a
    ``WandbLogger`` (files under ``save_dir/wandb``) named ``run_name`` in ``project`` and ``group``, with ``config``.

    Raises:
        ValueError: an unknown logger kind or wandb mode (naming the valid ones).
    """
    from lightning.pytorch.loggers import CSVLogger

    check(kind, mode)
    loggers: list[Any] = [CSVLogger(save_dir=str(save_dir), name=csv_name, version="")]
    if kind == "wandb":
        from lightning.pytorch.loggers import WandbLogger

        loggers.append(
            WandbLogger(
                project=project,
                save_dir=str(save_dir),
                name=run_name,
                group=group,
                offline=mode == "offline",
                mode=mode,
                config=dict(config or {}),
            )
        )
    return loggers


def finish(loggers: list[Any]) -> None:
    """End the wandb run of these loggers, if any, so that the next training in this process starts its own."""
    from lightning.pytorch.loggers import WandbLogger

    if any(isinstance(lg, WandbLogger) for lg in loggers):
        import wandb

        if wandb.run is not None:
            wandb.finish()
