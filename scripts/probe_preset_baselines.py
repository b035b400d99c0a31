"""What a fixed preset scores on the quickstart's held-back folder: each synth's default preset and the mean preset of
a dataset's training split (most frequent class for discrete parameters), rendered at the note each file was matched
at (the report's ``note``), textbook and audible LSD. The baselines beside a one-shot model's numbers.

    python scripts/probe_preset_baselines.py --run runs/quickstart [--dataset OTHER_DATASET ...]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from asp.data.store import Dataset
from asp.features.audio_io import load_audio
from asp.metrics import audible_lsd, lsd
from asp.render import RenderSettings, get_renderer
from asp.synths import load_schema


def mean_preset(dataset: Path, synth: str) -> np.ndarray:
    """The training split's mean preset: continuous parameters averaged, discrete ones at their most frequent class."""
    ds = Dataset(dataset)
    rows = ds.table[(ds.table.split == "train") & (ds.table.synth == synth)]
    native = ds.array(rows, "native")
    out = native.mean(0)
    for i, p in enumerate(load_schema(synth).params):
        if p.discrete:
            out[i] = np.bincount(p.class_of(native[:, i])).argmax() / (p.n_classes - 1)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", type=Path, required=True, help="a quickstart folder (targets/, inferred/, dataset/)")
    ap.add_argument("--dataset", type=Path, action="append", default=[], help="more datasets' mean presets")
    args = ap.parse_args()
    report = pd.read_parquet(args.run / "inferred" / "report.parquet")
    report = report[report.status == "ok"]
    synths = sorted(report.synth.unique())
    settings = RenderSettings()
    starts: dict[tuple[str, str], np.ndarray] = {}
    for synth in synths:
        starts[("default preset", synth)] = np.array([p.default_normalised for p in load_schema(synth).params])
        for ds in [args.run / "dataset", *args.dataset]:
            starts[(f"mean preset of {ds}", synth)] = mean_preset(ds, synth)
    rows = []
    for file, group in report.groupby("file"):
        target = load_audio(args.run / "targets" / file, settings.sample_rate, settings.n_samples).audio
        true = file.split("/")[0]
        note = int(group[group.synth == true].note.iloc[0]) if true in set(group.synth) else int(group.note.iloc[0])
        for (kind, synth), vec in starts.items():
            audio = get_renderer(synth, settings).render(vec.astype(np.float32), note)
            rows.append(
                {
                    "file": file,
                    "true": true,
                    "synth": synth,
                    "kind": kind,
                    "lsd": lsd(audio, target),
                    "audible_lsd": audible_lsd(audio, target),
                }
            )
    t = pd.DataFrame(rows)
    own = t[t.true == t.synth].groupby("kind")[["lsd", "audible_lsd"]].mean()
    best = t.loc[t.groupby(["file", "kind"]).lsd.idxmin()]
    summary = own.join(best.groupby("kind")[["lsd", "audible_lsd"]].mean().add_suffix("_best"))
    summary["true_synth_best"] = (best.true == best.synth).groupby(best.kind).sum()
    print(summary.round(2).to_string())


if __name__ == "__main__":
    main()
