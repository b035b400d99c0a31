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
        parts = [np.asarray(self._open(r.synth, int(r.shard), name)[int(r.row)]) for r in rows.itertuples()]
        return np.stack(parts) if parts else np.zeros((0,))

    def mels(self, rows: pd.DataFrame) -> np.ndarray:
        """(len(rows), n_mels, n_frames) float16 dB."""
        return self.array(rows, "mels")

    def split(self, name: str) -> pd.DataFrame:
        return self.table[self.table.split == name]
