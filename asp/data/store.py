"""Reading an asp dataset: the table plus memory-mapped shard arrays (never loaded whole)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from asp.data import layout


class Dataset:
    """A generated (or imported) dataset on disk.

    Args:
        root: the dataset folder.

    Raises:
        FileNotFoundError: the folder has no finished dataset (naming what is missing).
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        for name in ("table.parquet", "card.json"):
            if not (self.root / name).is_file():
                raise FileNotFoundError(f"{self.root}: no {name}; is this a finished asp dataset?")
        self.table = pd.read_parquet(self.root / "table.parquet")
        self.card: dict[str, Any] = layout.read_card(self.root) or {}
        self._open = lru_cache(maxsize=256)(self._open_uncached)

    @property
    def synths(self) -> list[str]:
        return list(self.card.get("synths", {}))

    def schema_hash(self, synth: str) -> str:
        return self.card["schema_hashes"][synth]

    def _open_uncached(self, synth: str, shard: int, name: str) -> np.ndarray:
        return np.load(layout.shard_dir(self.root, synth, shard) / f"{name}.npy", mmap_mode="r")

    def array(self, rows: pd.DataFrame, name: str) -> np.ndarray:
        """Stack ``name`` (mels, native, onehot, audio) for the given table rows (all of one synth for
        parameters)."""
        if not len(rows):
            return np.zeros((0,))
        out: np.ndarray | None = None
        pos = np.arange(len(rows))
        for (synth, shard), idx in rows.groupby(["synth", "shard"], sort=False).indices.items():
            part = self._open(synth, int(shard), name)[np.sort(rows["row"].to_numpy()[idx])]
            order = np.argsort(rows["row"].to_numpy()[idx], kind="stable")
            if out is None:
                out = np.empty((len(rows), *part.shape[1:]), dtype=part.dtype)
            out[pos[idx][order]] = part
        return out

    def mels(self, rows: pd.DataFrame) -> np.ndarray:
        """(len(rows), n_mels, n_frames) float16 dB."""
        return self.array(rows, "mels")

    def split(self, name: str) -> pd.DataFrame:
        return self.table[self.table.split == name]
