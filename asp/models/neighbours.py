"""The training presets nearest a sound in the model's latent space: starting points for the search.

A model trained on random presets predicts something close to the mean preset for most parameters (docs/RESULTS.md,
issue #16), but its encoder still places sounds that sound alike near each other. The presets of its own training
split whose sounds the encoder puts nearest a target are real presets with real sounds, and on the quickstart's
held-back folder the best of the 8 nearest is about 3 dB closer (best synth) than the one-shot prediction
(docs/RESULTS.md, "Neighbour starts"). ``asp infer --refine --neighbours K`` adds them to each synth's starts.

:class:`LatentIndex` holds, per synth, the encoder's posterior means of the training clips with their presets. It is
built once per checkpoint and dataset (the encoder over the training split: seconds) and cached beside the run
(``latent_index.npz``, keyed by the checkpoint's and the dataset plan's digests, written atomically).
"""

from __future__ import annotations

import hashlib
import json
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from asp.atomic import atomic_write_npz
from asp.data.store import Dataset
from asp.models.inference import Predictor

INDEX_FILE = "latent_index.npz"


@dataclass
class SynthIndex:
    """One synth's training clips: ``mu`` (N, z) posterior means, ``native`` (N, n_params) presets, ``note`` (N,)."""

    mu: np.ndarray
    native: np.ndarray
    note: np.ndarray


class LatentIndex:
    """Per synth, the training clips by their place in the model's latent space.

    Args:
        synths: synth -> its :class:`SynthIndex`.
        key: what it was built from (checkpoint and dataset digests, split), to tell a stale cache.
    """

    def __init__(self, synths: dict[str, SynthIndex], key: str = "") -> None:
        self.synths, self.key = synths, key

    @staticmethod
    def key_of(predictor: Predictor, dataset: Dataset, split: str) -> str:
        h = hashlib.sha256()
        with open(predictor.path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
        plan = dataset.root / "plan.json"
        crc = zlib.crc32(plan.read_bytes()) if plan.is_file() else zlib.crc32(dataset.table.to_csv().encode())
        return json.dumps({"checkpoint_sha256": h.hexdigest()[:16], "dataset_crc32": crc, "split": split})

    @classmethod
    def build(
        cls, predictor: Predictor, dataset: str | Path | Dataset, split: str = "train", batch_size: int = 256
    ) -> LatentIndex:
        """Encode every clip of ``split`` of the model's synths.

        Raises:
            ValueError: the dataset has no clips of a synth the model knows in ``split`` (naming both).
        """
        ds = dataset if isinstance(dataset, Dataset) else Dataset(dataset)
        rows = ds.split(split)
        out = {}
        for synth in predictor.synths:
            mine = rows[rows["synth"] == synth]
            if not len(mine):
                raise ValueError(f"{ds.root}: no {synth} clips in the {split} split to find neighbours among")
            mu = np.concatenate(
                [
                    predictor.latent(ds.mels(mine.iloc[i : i + batch_size]), synth)
                    for i in range(0, len(mine), batch_size)
                ]
            )
            out[synth] = SynthIndex(
                mu.astype(np.float32), ds.array(mine, "native").astype(np.float32), mine["note"].to_numpy(np.int16)
            )
        return cls(out, cls.key_of(predictor, ds, split))

    @classmethod
    def cached(
        cls, predictor: Predictor, dataset: str | Path, split: str = "train", cache: Path | None = None
    ) -> LatentIndex:
        """:meth:`build`, or the index cached at ``cache`` (default: ``latent_index.npz`` in the run folder) when it
        was built from the same checkpoint, dataset and split; a fresh build is written there (atomically) when the
        folder is writable."""
        ds = Dataset(dataset)
        cache = cache or predictor.path.parent.parent / INDEX_FILE
        key = cls.key_of(predictor, ds, split)
        if cache.is_file():
            try:
                found = cls.load(cache)
                if found.key == key:
                    return found
            except (OSError, ValueError, KeyError):  # a damaged or older cache is rebuilt
                pass
        index = cls.build(predictor, ds, split)
        try:
            index.save(cache)
        except OSError:  # a read-only run folder: the index lives for this run only
            pass
        return index

    def save(self, path: Path) -> None:
        arrays: dict[str, np.ndarray] = {"key": np.array(self.key)}
        for s, ix in self.synths.items():
            arrays.update({f"{s}/mu": ix.mu, f"{s}/native": ix.native, f"{s}/note": ix.note})
        atomic_write_npz(path, arrays)

    @classmethod
    def load(cls, path: Path) -> LatentIndex:
        with np.load(path, allow_pickle=False) as z:
            names = sorted({k.split("/")[0] for k in z.files if "/" in k})
            return cls({s: SynthIndex(z[f"{s}/mu"], z[f"{s}/native"], z[f"{s}/note"]) for s in names}, str(z["key"]))

    def nearest(self, synth: str, mu: np.ndarray, k: int) -> np.ndarray:
        """(k, n_params) the presets of ``synth`` whose clips lie nearest ``mu`` (z,), nearest first; a preset that
        appears twice (several notes of one preset) counts once."""
        ix = self.synths[synth]
        order = np.argsort(np.linalg.norm(ix.mu - np.asarray(mu, dtype=np.float32), axis=1), kind="stable")
        out: list[np.ndarray] = []
        seen: set[bytes] = set()
        for i in order:
            key = ix.native[i].tobytes()
            if key not in seen:
                seen.add(key)
                out.append(ix.native[i].astype(np.float64))
                if len(out) == k:
                    break
        return np.stack(out) if out else np.zeros((0, ix.native.shape[1]))
