"""Training data: the on-disk dataset as torch batches (memory-mapped; never loaded whole)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import lightning as L
import numpy as np
import torch
from torch.utils.data import DataLoader, WeightedRandomSampler

from asp.data.store import Dataset
from asp.synths import registry


class DatasetMismatch(ValueError):
    """The dataset does not fit the synths or schemas asked for."""


def check_dataset(store: Dataset, synths: Sequence[str], expected_hashes: dict[str, str] | None = None) -> None:
    """Every requested synth is in the dataset, with the schema hash the registry (or a checkpoint) expects.

    Raises:
        DatasetMismatch: naming the synth and both hashes, or the synths the dataset has.
    """
    have = store.card.get("schema_hashes", {})
    missing = [s for s in synths if s not in have]
    if missing:
        raise DatasetMismatch(f"{store.root}: no synth {', '.join(map(repr, missing))} in this dataset; "
                              f"it has: {', '.join(have) or 'none'}")
    for s in synths:
        want = (expected_hashes or {}).get(s) or registry.load_schema(s).content_hash
        if have[s] != want:
            raise DatasetMismatch(f"{store.root}: synth {s!r} was generated with schema hash {have[s]}, but "
                                  f"{'the checkpoint' if expected_hashes else 'the registry'} has {want}; "
                                  "regenerate the dataset or use a matching checkpoint")


class MelParams(torch.utils.data.Dataset):
    """One clip: normalised mel (1, n_mels, T), zero-padded one-hot target (max onehot,), synth index."""

    def __init__(self, store: Dataset, rows: Any, synths: Sequence[str], width: int, floor_db: float | None) -> None:
        self.store = store
        self.synths = list(synths)
        index = {s: i for i, s in enumerate(self.synths)}
        self.synth = rows["synth"].map(index).to_numpy(np.int64)
        self.shard = rows["shard"].to_numpy(np.int64)
        self.row = rows["row"].to_numpy(np.int64)
        self.width = width
        self.floor_db = floor_db

    def __len__(self) -> int:
        return len(self.row)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        name = self.synths[self.synth[i]]
        mel = np.asarray(self.store._open(name, int(self.shard[i]), "mels")[self.row[i]], dtype=np.float32)
        if self.floor_db is not None:
            mel = (mel - self.floor_db) / -self.floor_db  # dB -> [0, ~1.2]
        onehot = self.store._open(name, int(self.shard[i]), "onehot")[self.row[i]]
        target = np.zeros(self.width, np.float32)
        target[: len(onehot)] = onehot
        return {"mel": torch.from_numpy(mel)[None], "target": torch.from_numpy(target),
                "synth": torch.tensor(self.synth[i]), "index": torch.tensor(i)}


class AspDataModule(L.LightningDataModule):
    """Batches from an asp dataset for the given synths.

    Args:
        root: dataset folder.
        synths: synth names (their order fixes the synth indices).
        batch_size, num_workers: DataLoader settings.
        balance: sample the training split so each synth is drawn equally often (a small synth is not starved).
        limit: optional cap on clips per split (quick runs).
    """

    def __init__(self, root: str | Path, synths: Sequence[str], batch_size: int = 32, num_workers: int = 2,
                 balance: bool = True, limit: int | None = None, seed: int = 0,
                 expected_hashes: dict[str, str] | None = None) -> None:
        super().__init__()
        self.root = Path(root)
        self.synths = list(synths)
        self.batch_size = batch_size
        self.num_workers = num_workers
        self.balance = balance
        self.limit = limit
        self.seed = seed
        self.store = Dataset(self.root)
        check_dataset(self.store, self.synths, expected_hashes)
        self.sizes = [registry.load_schema(s).onehot_size for s in self.synths]
        meta = (self.store.card.get("settings", {}) or {}).get("mel", {}) or {}
        self.n_mels = int(meta.get("n_mels", 128))
        first = self.store.table.iloc[0]
        self.n_frames = int(self.store._open(first.synth, int(first.shard), "mels").shape[-1])
        self.floor_db = self.store.mel_floor_db()

    def split(self, name: str) -> MelParams:
        t = self.store.table
        rows = t[(t.split == name) & t.synth.isin(self.synths)]
        if self.limit:
            rows = rows.sample(n=min(self.limit, len(rows)), random_state=self.seed) if len(rows) > self.limit else rows
        return MelParams(self.store, rows.reset_index(drop=True), self.synths, max(self.sizes), self.floor_db)

    def _loader(self, ds: MelParams, train: bool) -> DataLoader:
        sampler = None
        if train and self.balance and len(ds):
            counts = np.bincount(ds.synth, minlength=len(self.synths)).astype(np.float64)
            weights = 1.0 / counts[ds.synth]
            sampler = WeightedRandomSampler(weights.tolist(), num_samples=len(ds), replacement=True,
                                            generator=torch.Generator().manual_seed(self.seed))
        return DataLoader(ds, batch_size=self.batch_size, shuffle=train and sampler is None, sampler=sampler,
                          num_workers=self.num_workers, persistent_workers=self.num_workers > 0,
                          drop_last=False, generator=torch.Generator().manual_seed(self.seed) if train else None)

    def train_dataloader(self) -> DataLoader:
        return self._loader(self.split("train"), True)

    def val_dataloader(self) -> DataLoader:
        return self._loader(self.split("valid"), False)

    def test_dataloader(self) -> DataLoader:
        return self._loader(self.split("test"), False)
