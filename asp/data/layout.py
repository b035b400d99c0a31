"""The on-disk dataset format (readable with pandas and numpy alone).

::

    DATASET/
      card.json                 settings, versions, schema hashes, counts, self-distance floors
      plan.json                 the settings that fix the content (a re-run must match them)
      table.parquet             one row per clip (COLUMNS)
      README.md                 how to load it without asp
      shards/<synth>/<shard:05d>/
        mels.npy                (rows, n_mels, n_frames) float16 dB
        native.npy              (rows, n_params) float32 normalised parameters
        onehot.npy              (rows, onehot_size) float32
        audio.npy               (rows, n_samples) float32, only with --save-audio
        rows.parquet            this shard's rows of the table
        meta.json               presets, failures, silent clips

A clip's arrays are at ``shards/<synth>/<shard>/<array>.npy[row]``. Shards are written to ``.tmp-*`` folders and
renamed into place, so a shard folder is always complete.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import platform
import re
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from asp import atomic
from asp.atomic import atomic_write_bytes

COLUMNS = ["synth", "preset_id", "preset_name", "note", "split", "rms", "harmonic_share", "timbre_group",
           "schema_hash", "shard", "row"]
DTYPES = {"synth": "string", "preset_id": "int64", "preset_name": "string", "note": "int16", "split": "string",
          "rms": "float32", "harmonic_share": "float32", "timbre_group": "int8", "schema_hash": "string",
          "shard": "int32", "row": "int32"}
CARD_VERSION = 1


def shard_dir(out: Path, synth: str, shard: int) -> Path:
    return out / "shards" / synth / f"{shard:05d}"


def shard_done(out: Path, synth: str, shard: int) -> bool:
    return (shard_dir(out, synth, shard) / "meta.json").is_file()


def clean_partial(out: Path) -> None:
    """Remove temporary folders left by a killed run."""
    for synth_dir in (out / "shards").glob("*"):
        atomic.clean_partial(synth_dir)


def write_shard(out: Path, synth: str, shard: int, arrays: dict[str, np.ndarray], rows: pd.DataFrame,
                meta: dict[str, Any]) -> Path:
    """Write a shard atomically (a shard from an identical plan that already landed, a retried task's, is kept)."""
    final = shard_dir(out, synth, shard)
    with atomic.atomic_dir(final, replace=False) as tmp:
        for name, arr in arrays.items():
            np.save(tmp / f"{name}.npy", arr)
        rows.astype({k: v for k, v in DTYPES.items() if k in rows}).to_parquet(tmp / "rows.parquet", index=False)
        (tmp / "meta.json").write_text(json.dumps(meta, indent=1))
    return final


def read_shard_table(out: Path, synth: str, shard: int) -> tuple[pd.DataFrame, dict[str, Any]]:
    d = shard_dir(out, synth, shard)
    return pd.read_parquet(d / "rows.parquet"), json.loads((d / "meta.json").read_text())


def write_table(out: Path, table: pd.DataFrame) -> None:
    atomic_write_bytes(out / "table.parquet", table.to_parquet(index=False))


def check_or_write_plan(out: Path, plan: dict[str, Any], what: str = "a dataset",
                        hint: str = "use another output folder or --overwrite", free: Sequence[str] = ()) -> None:
    """The one plan check of every resumable output (datasets, effect datasets, rollouts, evaluations): the first run
    records ``out/plan.json``; a later run whose settings differ is refused, naming them. The plan includes
    ``RENDER_REVISIONS``: an output begun before a backend's renders changed is refused too. Keys in ``free`` may change
    (e.g. the groups of an evaluation whose runs are files of their own); the plan is then rewritten.

    Raises:
        ValueError: ``"OUT holds WHAT made with other settings (a, b); HINT"``.
    """
    from asp.render.settings import RENDER_REVISIONS

    path = Path(out) / "plan.json"
    # as it reads back (tuples as lists); with the renderers' revisions, so that no run resumes on older renders
    plan = json.loads(json.dumps({**plan, "render_revisions": RENDER_REVISIONS}))
    if path.is_file():
        old = json.loads(path.read_text())
        diff = sorted(k for k in set(old) | set(plan) if k not in free and old.get(k) != plan.get(k))
        if diff:
            raise ValueError(f"{out} holds {what} made with other settings ({', '.join(diff)}); {hint}")
        if old == plan:
            return
    atomic_write_bytes(path, json.dumps(plan, indent=1).encode())


def file_identity(path: Path) -> dict[str, Any]:
    h = hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]
    return {"path": str(path), "sha256": h, "bytes": Path(path).stat().st_size}


def versions() -> dict[str, str]:
    import importlib.metadata as md

    out = {"python": platform.python_version(), "platform": platform.platform()}
    for pkg in ("asp", "dawdreamer", "librosa", "numpy", "pandas", "pyarrow"):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def make_card(plan: dict[str, Any], per_synth: dict[str, Any], table: pd.DataFrame,
              render_seconds: float = 0.0) -> dict[str, Any]:
    from asp.features.hpss import GROUP_EDGES, GROUP_NAMES
    from asp.features.mel import MelSettings

    mel = MelSettings(**plan["mel"])
    return {
        "format": "asp-dataset", "card_version": CARD_VERSION,
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "settings": plan,
        "features": {
            "mel": mel.as_dict(),
            "hpss": {"definition": "mean |H| / mean |D|, librosa HPSS margin 3 on the STFT of the clip at C4 "
                                   "(multi-task ASP paper)", "mode": plan["hpss"],
                     "group_edges": list(GROUP_EDGES), "group_names": list(GROUP_NAMES)},
            "parameters": "native = normalised [0,1] per parameter in schema order; one-hot: categorical class k of "
                          "c as c indicator dims, continuous and binary one dim each",
        },
        "splits": {"by": "preset", "fractions": plan["splits"], "seed": plan["seed"]},
        "schema_hashes": {s: e["schema_hash"] for s, e in per_synth.items()},
        "synths": per_synth,
        "clips": int(len(table)),
        "render_wall_seconds": round(render_seconds, 2),
        "versions": versions(),
        "layout": "see README.md in this folder",
    }


def write_card(out: Path, card: dict[str, Any]) -> None:
    atomic_write_bytes(out / "card.json", json.dumps(card, indent=1).encode())


def read_card(out: Path) -> dict[str, Any] | None:
    p = Path(out) / "card.json"
    return json.loads(p.read_text()) if p.is_file() else None


README = """# asp dataset

Made by `asp dataset generate`; settings, versions, schema hashes and counts are in `card.json`.

Load it with pandas and numpy alone:

```python
import json, numpy as np, pandas as pd
table = pd.read_parquet("table.parquet")                # one row per clip
row = table.iloc[0]
shard = f"shards/{row.synth}/{row.shard:05d}"
mel = np.load(f"{shard}/mels.npy", mmap_mode="r")[row.row]        # (n_mels, n_frames) float16, dB
params = np.load(f"{shard}/native.npy", mmap_mode="r")[row.row]   # normalised parameters, schema order
onehot = np.load(f"{shard}/onehot.npy", mmap_mode="r")[row.row]   # one-hot encoding
```

Columns: synth, preset_id, preset_name, note (MIDI), split (train/valid/test, by preset), rms, harmonic_share
(HPSS, at C4), timbre_group (0-4: <20%, 20-40%, 40-60%, 60-80%, >=80% harmonic), schema_hash, shard, row.
Mel values: power in dB (ref 1.0), floored at card.json features.mel.floor_db.
"""


def write_readme(out: Path) -> None:
    atomic_write_bytes(out / "README.md", README.encode())


def slug(name: str) -> str:
    """A name as a file or folder name: lower-case letters, digits and ``_`` (``"BRASS   1"`` -> ``brass_1``)."""
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_") or "preset"
