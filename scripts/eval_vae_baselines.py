"""A trained VAE against the mean-preset and random-preset baselines on a dataset's test split.

Each test preset is rendered at C4 from its true parameters and from each method's prediction (the model sees the
preset's C4 mel); the table gives per synth and method the mean LSD (dB, textbook) of the re-rendered audio,
continuous-parameter MSE and categorical accuracy, beside the synth's self-distance floor from the dataset card.

Usage: python scripts/eval_vae_baselines.py --checkpoint RUN/checkpoints/best.ckpt --dataset DATA [--out CSV]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import asp.render  # noqa: F401
import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from asp.data.store import Dataset
from asp.eval.presets import baselines, evaluate_methods
from asp.models.inference import Predictor


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--dataset", required=True)
    ap.add_argument("--out", default=None)
    ap.add_argument("--max-presets", type=int, default=0, help="cap per synth (0 = all test presets)")
    args = ap.parse_args()
    pred = Predictor(args.checkpoint)
    ds = Dataset(args.dataset)
    t = ds.table
    frames = []
    for synth in pred.synths:
        test = t[(t.synth == synth) & (t.split == "test") & (t.note == 60)].drop_duplicates("preset_id")
        if args.max_presets:
            test = test.head(args.max_presets)
        train = t[(t.synth == synth) & (t.split == "train")].drop_duplicates("preset_id")
        targets = ds.array(test, "native")
        methods = {"J-S (ours)" if pred.module.hparams.variant == "J-S" else pred.module.hparams.variant:
                   pred.predict(ds.mels(test).astype(np.float32), [synth])[synth]}
        methods.update(baselines(synth, ds.array(train, "native"), len(test)))
        with tqdm(total=len(test), desc=f"rendering {synth}") as bar:
            frames.append(evaluate_methods(synth, targets, methods, progress=bar.update))
    res = pd.concat(frames)
    table = res.groupby(["synth", "method"]).agg(lsd_mean=("lsd", "mean"), lsd_std=("lsd", "std"),
                                                 param_mse=("param_mse", "mean"), cat_acc=("cat_acc", "mean"),
                                                 n=("item", "count")).reset_index()
    floors = {s: (e.get("self_distance") or {}).get("lsd_mean") for s, e in ds.card["synths"].items()}
    table["floor_lsd"] = table.synth.map(floors)
    overall = res.groupby("method").agg(lsd_mean=("lsd", "mean"), param_mse=("param_mse", "mean"),
                                        cat_acc=("cat_acc", "mean"), n=("item", "count")).reset_index()
    with pd.option_context("display.width", 160):
        print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
        print("\nall synths:")
        print(overall.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        table.to_csv(args.out, index=False)
        res.to_csv(Path(args.out).with_suffix(".clips.csv"), index=False)


if __name__ == "__main__":
    main()
