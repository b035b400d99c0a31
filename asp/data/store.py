"""Reading an asp dataset: the table plus memory-mapped shard arrays (never loaded whole)."""

from __future__ import annotations

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
        self._arrays: dict[tuple[str, int, str], np.ndarray] = {}

    def __getstate__(self) -> dict[str, Any]:  # memory maps are reopened in each loader worker
        state = dict(self.__dict__)
        state["_arrays"] = {}
        return state

    @property
    def synths(self) -> list[str]:
        return list(self.card.get("synths", {}))

    def schema_hash(self, synth: str) -> str:
        return self.card["schema_hashes"][synth]

    def _open(self, synth: str, shard: int, name: str) -> np.ndarray:
        """A shard array, memory-mapped (opened once per process)."""
        key = (synth, shard, name)
        arr = self._arrays.get(key)
        if arr is None:
            arr = self._arrays[key] = np.load(layout.shard_dir(self.root, synth, shard) / f"{name}.npy", mmap_mode="r")
        return arr

    def mel_floor_db(self) -> float | None:
        """The dB floor the mels were stored with (None for imported datasets of unknown scale)."""
        return (self.card.get("features", {}).get("mel", {}) or {}).get("floor_db")

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
        assert out is not None, "no rows"
        return out

    def mels(self, rows: pd.DataFrame) -> np.ndarray:
        """(len(rows), n_mels, n_frames) float16 dB."""
        return self.array(rows, "mels")

    def split(self, name: str) -> pd.DataFrame:
        return self.table[self.table.split == name]
