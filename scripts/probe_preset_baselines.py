"""What a fixed preset scores on the quickstart's held-back folder: each synth's default preset and the mean preset of
a dataset's training split (most frequent class for discrete parameters), rendered at the note each file was matched
at (the report's ``note``), textbook and audible LSD. The baselines beside a one-shot model's numbers.

    python scripts/probe_preset_baselines.py --run runs/quickstart [--dataset OTHER_DATASET ...]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from asp.data.store import Dataset
from asp.eval.evaluate import dataset_train_presets
from asp.eval.presets import mean_preset
from asp.features.audio_io import load_audio
from asp.metrics import audible_lsd, lsd
from asp.render import RenderSettings, get_renderer
from asp.synths import load_schema


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", type=Path, required=True, help="a quickstart folder (targets/, inferred/, dataset/)")
    ap.add_argument("--dataset", type=Path, action="append", default=[], help="more datasets' mean presets")
    args = ap.parse_args()
    report = pd.read_parquet(args.run / "inferred" / "report.parquet")
    report = report[report.status == "ok"]
    synths = sorted(report.synth.unique())
    settings = RenderSettings()
    starts = {("default preset", synth): load_schema(synth).default_vector() for synth in synths}
    for ds in [args.run / "dataset", *args.dataset]:
        for synth, native in dataset_train_presets(Dataset(ds), synths).items():
            starts[(f"mean preset of {ds}", synth)] = mean_preset(load_schema(synth), native)
    rows = []
    for file, group in report.groupby("file"):
        target = load_audio(args.run / "targets" / file, settings.sample_rate, settings.n_samples).audio
        true = file.split("/")[0]
        note = int(group[group.synth == true].note.iloc[0]) if true in set(group.synth) else int(group.note.iloc[0])
        for (kind, synth), vec in starts.items():
            audio = get_renderer(synth, settings).render(vec, note)
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
