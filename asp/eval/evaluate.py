"""Scoring trained models on a dataset split by re-rendering their presets: one row per clip, system and decoder.

For each selected clip the target is rendered from its true preset at the clip's note, the model sees the clip's
stored mel, and every decoder's preset (the clip's own synth, and with ``cross`` every other synth the model knows)
is rendered at the same note. Rows carry the textbook LSD and the paper's "LSD" (``asp.metrics``) and, for the
clip's own synth, the parameter metrics against the true preset. The baselines (mean preset of the training split,
random preset) are scored the same way.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from asp.atomic import atomic_write_bytes
from asp.data.store import Dataset
from asp.eval.presets import baselines
from asp.features.spectral import stft_power
from asp.metrics import lsd_from_power, paper_lsd_from_power, preset_metrics
from asp.render import RenderSettings, get_renderer
from asp.synths import registry

BASELINES = ("mean preset", "random preset")


def select_clips(
    ds: Dataset,
    synths: list[str],
    split: str = "test",
    notes: tuple[int, ...] | None = (60,),
    limit: int | None = None,
    seed: int = 0,
) -> pd.DataFrame:
    """The clips to score: a split's clips of ``synths`` at ``notes`` (all notes if None), at most ``limit`` per
    synth (a seeded sample). Raises KeyError for a synth the dataset lacks, listing those it has."""
    t = ds.table
    missing = [s for s in synths if s not in set(t.synth)]
    if missing:
        raise KeyError(f"the dataset has no {', '.join(missing)}; it has: {', '.join(sorted(set(t.synth)))}")
    rows = t[t.synth.isin(synths) & (t.split == split)]
    if notes:
        rows = rows[rows.note.isin(notes)]
    if limit:
        rows = pd.concat(
            [
                rows[rows.synth == s].sample(n=min(limit, int((rows.synth == s).sum())), random_state=seed)
                for s in synths
            ]
        )
    return rows.sort_values(["synth", "preset_id", "note"]).reset_index(drop=True)


def _clip_key(rows: pd.DataFrame, native: list[np.ndarray], extra: str) -> str:
    """Identifies a clip selection (ids, notes and true presets) and a system, for the cache."""
    h = hashlib.sha256("\n".join(rows[["synth", "preset_id", "note"]].astype(str).agg("/".join, axis=1)).encode())
    for v in native:
        h.update(np.asarray(v, dtype=np.float64).tobytes())
    h.update(extra.encode())
    return h.hexdigest()[:16]


class Evaluator:
    """Scores systems on one clip selection, caching the target renders and each system's rows.

    Args:
        rows: the clips: synth, preset_id, note, harmonic_share, timbre_group (:func:`select_clips`).
        native: per clip, the true native vector of its synth.
        settings: how targets and predictions are rendered.
        cache: a folder for per-system results (``<system>.parquet``), so an interrupted evaluation resumes.
    """

    def __init__(
        self, rows: pd.DataFrame, native: list[np.ndarray], settings: RenderSettings, cache: Path | None = None
    ) -> None:
        self.rows, self.native, self.settings, self.cache = rows, native, settings, cache
        self._targets: dict[int, np.ndarray] = {}

    @classmethod
    def from_dataset(cls, ds: Dataset, rows: pd.DataFrame, cache: Path | None = None) -> Evaluator:
        """Clips of a dataset, rendered with the dataset's settings."""
        native: list[np.ndarray] = [np.empty(0)] * len(rows)
        for _, idx in rows.groupby("synth").indices.items():
            for i, v in zip(idx, ds.array(rows.iloc[idx], "native")):
                native[i] = v
        return cls(rows, native, RenderSettings.from_dict(ds.card["settings"]["render"]), cache)

    def _render(self, synth: str, vector: np.ndarray, note: int) -> np.ndarray:
        return get_renderer(synth, self.settings).render(vector, int(note))

    def target(self, i: int) -> np.ndarray:
        """Clip i's target audio (rendered once)."""
        if i not in self._targets:
            row = self.rows.iloc[i]
            self._targets[i] = self._render(row.synth, self.native[i], row.note)
        return self._targets[i]

    def score(
        self,
        system: str,
        predictions: Mapping[str, np.ndarray],
        progress: Callable[[int], object] | None = None,
        fingerprint: str = "",
    ) -> pd.DataFrame:
        """Rows for one system.

        Args:
            predictions: decoder synth -> (n_clips, n_params) native vectors (NaN rows: no prediction).
            fingerprint: identifies the system's weights, for the cache.
        """
        key = _clip_key(self.rows, self.native, fingerprint + json.dumps(sorted(predictions)))
        path = self.cache / f"{system.replace('/', '_').replace(' ', '_')}.parquet" if self.cache else None
        if path is not None and path.is_file():
            cached = pd.read_parquet(path)
            if len(cached) and cached["key"].iloc[0] == key:
                return cached.drop(columns="key")
        out = []
        for i, row in enumerate(self.rows.itertuples(index=False)):
            target = stft_power(self.target(i))  # audio is cached across systems, its STFT per system
            for decoder, pred in predictions.items():
                v = pred[i]
                if np.isnan(v).any():
                    continue
                power = stft_power(self._render(decoder, v, row.note))
                rec = {
                    "system": system,
                    "synth": row.synth,
                    "decoder": decoder,
                    "preset_id": int(row.preset_id),
                    "note": int(row.note),
                    "harmonic_share": float(row.harmonic_share),
                    "timbre_group": int(row.timbre_group),
                    "lsd": lsd_from_power(power, target),
                    "paper_lsd": paper_lsd_from_power(power, target),
                }
                if decoder == row.synth:
                    pm = preset_metrics(registry.load_schema(decoder), v, self.native[i])
                    rec.update({k: float(m[0]) for k, m in pm.items()})
                out.append(rec)
            if progress:
                progress(1)
        table = pd.DataFrame(out)
        if path is not None:
            atomic_write_bytes(path, table.assign(key=key).to_parquet(index=False))
        return table


def model_predictions(
    predictor: Any, mels: Callable[[int, int], np.ndarray], rows: pd.DataFrame, cross: bool = True, batch: int = 64
) -> dict[str, np.ndarray]:
    """decoder synth -> (n_clips, n_params): each clip's own synth always, every other known synth with ``cross``;
    NaN rows where a clip is not decoded as that synth.

    Args:
        mels: ``mels(start, stop)`` gives the dB mels of clips ``start:stop``.
    """
    out = {s: np.full((len(rows), registry.load_schema(s).n_params), np.nan) for s in predictor.synths}
    for start in range(0, len(rows), batch):
        part = rows.iloc[start : start + batch]
        pred = predictor.predict(np.asarray(mels(start, start + len(part)), dtype=np.float32))
        for s in predictor.synths:
            keep = np.ones(len(part), bool) if cross else (part.synth == s).to_numpy()
            out[s][start : start + len(part)][keep] = pred[s][keep]
    return out


def baseline_predictions(
    rows: pd.DataFrame, train: Mapping[str, np.ndarray | None], seed: int = 0
) -> dict[str, dict[str, np.ndarray]]:
    """system -> decoder synth -> predictions of the baselines, on each clip's own synth: the mean preset of the
    training presets (where ``train`` has them for the synth) and a random preset (the synth's sampling spec)."""
    out: dict[str, dict[str, np.ndarray]] = {b: {} for b in BASELINES}
    for synth in sorted(set(rows.synth)):
        own = (rows.synth == synth).to_numpy()
        n = registry.load_schema(synth).n_params
        for name, pred in baselines(synth, train.get(synth), int(own.sum()), seed=seed).items():
            full = np.full((len(rows), n), np.nan)
            full[own] = pred
            out[name][synth] = full
    return out


def dataset_train_presets(
    ds: Dataset, synths: list[str], splits: tuple[str, ...] = ("train",)
) -> dict[str, np.ndarray]:
    """synth -> (n, n_params) native vectors of the dataset's presets in ``splits`` (default: the training split)."""
    t = ds.table
    return {
        s: ds.array(t[(t.synth == s) & t.split.isin(splits)].drop_duplicates("preset_id"), "native") for s in synths
    }
