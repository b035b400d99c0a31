"""Importers for published datasets.

The multi-task ASP dataset (Faronbi et al., ICASSP 2023) ships as NumPy files::

    {train,valid,test}_mels.npy                    (N, n_mels, T) or (N, 1, n_mels, T)
    {train,valid,test}_{serum,diva,tyrell}_params.npy   (N, onehot_size) one-hot, zeros for other synths' rows
    {train,valid,test}_{serum,diva,tyrell}_mask.npy     (N,), (N, 1) or (N, onehot_size): which synth a row is
    test_synth.npy, test_name.npy, test_hpss.npy   per test row: synth name, preset name, harmonic share

Its split is over clips, not presets (see the pitfalls); the import keeps it and says so in the card.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from asp.data import layout
from asp.features.hpss import timbre_group
from asp.synths import registry
from asp.atomic import atomic_write_bytes

PUBLISHED = {"serum": "serum", "diva": "diva", "tyrell": "tyrelln6"}
SPLITS = ("train", "valid", "test")


def _load(path: Path) -> np.ndarray:
    if not path.is_file():
        raise FileNotFoundError(f"{path}: missing (the multi-task layout needs it)")
    try:
        return np.load(path, mmap_mode="r", allow_pickle=False)
    except ValueError:
        return np.load(path, allow_pickle=True)  # string arrays (test_name, test_synth) are object arrays
    except OSError as err:
        raise ValueError(f"{path}: not a readable .npy file: {err}") from None


def import_multitask(src: Path, out: Path, shard_size: int = 4096) -> Path:
    """Import the published layout under ``src`` into an asp dataset at ``out``.

    Raises:
        FileNotFoundError: a required file is missing (named).
        ValueError: shapes that disagree, or a row that belongs to no synth or to several (file and row named).
    """
    src, out = Path(src), Path(out)
    out.mkdir(parents=True, exist_ok=True)
    schemas = {pub: registry.load_schema(name) for pub, name in PUBLISHED.items()}
    tables: list[pd.DataFrame] = []
    shard_counter = {name: 0 for name in PUBLISHED.values()}
    extra: dict[str, Any] = {}
    for split in SPLITS:
        mels = _load(src / f"{split}_mels.npy")
        n = mels.shape[0]
        owner = np.full(n, -1)
        params: dict[str, np.ndarray] = {}
        for k, pub in enumerate(PUBLISHED):
            mask = np.asarray(_load(src / f"{split}_{pub}_mask.npy")).reshape(n, -1).astype(bool).any(axis=1) \
                if (src / f"{split}_{pub}_mask.npy").is_file() else np.zeros(n, bool)
            if (src / f"{split}_{pub}_mask.npy").is_file():
                p = _load(src / f"{split}_{pub}_params.npy")
                if p.shape != (n, schemas[pub].onehot_size):
                    raise ValueError(f"{src / f'{split}_{pub}_params.npy'}: shape {p.shape}, expected "
                                     f"({n}, {schemas[pub].onehot_size}) for {PUBLISHED[pub]}")
                params[pub] = p
            clash = np.nonzero(mask & (owner >= 0))[0]
            if len(clash):
                raise ValueError(f"{src}/{split}_*_mask.npy: row {clash[0]} belongs to more than one synth")
            owner[mask] = k
        orphan = np.nonzero(owner < 0)[0]
        if len(orphan):
            raise ValueError(f"{src}/{split}_*_mask.npy: row {orphan[0]} belongs to no synth")
        names = hpss = None
        if split == "test":
            names = np.asarray(_load(src / "test_name.npy")).astype(str) if (src / "test_name.npy").is_file() else None
            hpss = np.asarray(_load(src / "test_hpss.npy"), dtype=np.float64) if (src / "test_hpss.npy").is_file() \
                else None
            if (src / "test_synth.npy").is_file():
                stated = np.asarray(_load(src / "test_synth.npy")).astype(str)
                expected = np.array(list(PUBLISHED))[owner]
                bad = np.nonzero(np.char.lower(stated) != expected)[0]
                if len(bad):
                    extra["test_synth_disagreements"] = int(len(bad))
        for k, pub in enumerate(PUBLISHED):
            synth = PUBLISHED[pub]
            rows_idx = np.nonzero(owner == k)[0]
            for start in range(0, len(rows_idx), shard_size):
                idx = rows_idx[start:start + shard_size]
                m = np.asarray(mels[idx], dtype=np.float16).reshape(len(idx), mels.shape[-2], mels.shape[-1])
                native = schemas[pub].decode(np.asarray(params[pub][idx])).reshape(len(idx), -1)
                share = hpss[idx] if hpss is not None else np.full(len(idx), np.nan)
                pname = names[idx] if names is not None else np.array([f"{split}-{i}" for i in idx])
                rows = pd.DataFrame({
                    "synth": synth, "preset_id": (idx if names is None else pd.factorize(names)[0][idx]),
                    "preset_name": pname, "note": -1, "split": split, "rms": np.nan, "harmonic_share": share,
                    "timbre_group": np.where(np.isnan(share), -1, timbre_group(np.nan_to_num(share))),
                    "schema_hash": schemas[pub].content_hash, "shard": shard_counter[synth],
                    "row": np.arange(len(idx)),
                })
                arrays: dict[str, np.ndarray] = {"mels": m, "native": native.astype(np.float32),
                          "onehot": np.asarray(params[pub][idx], dtype=np.float32)}
                meta = {"synth": synth, "shard": shard_counter[synth], "source_rows": [split, int(idx[0]), int(idx[-1])],
                        "clips": len(idx), "failed": {}, "silent_clips": 0, "schema_hash": schemas[pub].content_hash}
                if not layout.shard_done(out, synth, shard_counter[synth]):
                    layout.write_shard(out, synth, shard_counter[synth], arrays, rows, meta)
                tables.append(rows)
                shard_counter[synth] += 1
    table = pd.concat(tables, ignore_index=True).astype(layout.DTYPES)
    layout.write_table(out, table)
    per_synth = {}
    for synth in PUBLISHED.values():
        rows = table[table.synth == synth]
        s = registry.load_schema(synth)
        per_synth[synth] = {
            "schema_hash": s.content_hash, "n_params": s.n_params, "onehot_size": s.onehot_size, "kinds": s.counts,
            "backend": "imported", "presets_planned": int(rows.preset_id.nunique()), "presets_failed": 0,
            "failures": {}, "clips": int(len(rows)), "silent_clips_dropped": 0,
            "clips_per_split": {sp: int((rows.split == sp).sum()) for sp in SPLITS},
            "presets_per_split": {sp: int(rows[rows.split == sp].preset_id.nunique()) for sp in SPLITS},
            "timbre_groups": {}, "source": str(src), "self_distance": None,
        }
    plan = {"imported_from": str(src), "layout": "multi-task ASP (Faronbi et al. 2023)", "seed": None,
            "splits": "published, by clip (not by preset: notes of one preset may straddle splits)",
            "mel": {"sample_rate": 44100, "n_fft": 2048, "hop_length": 512, "n_mels": int(mels.shape[-2])},
            "hpss": "published test_hpss.npy (test split only)", **extra}
    card = {"format": "asp-dataset", "card_version": layout.CARD_VERSION, "settings": plan,
            "features": {"mel": {"normalisation": "as published (unknown scale); stored float16"}},
            "splits": {"by": "clip (published)"}, "schema_hashes": {k: v["schema_hash"] for k, v in per_synth.items()},
            "synths": per_synth, "clips": int(len(table)), "versions": layout.versions()}
    layout.write_card(out, card)
    layout.write_readme(out)
    atomic_write_bytes(out / "plan.json", b"{}")
    return out
