"""``asp eval``: checkpoints (or a sweep folder) + a dataset -> scored clips -> the report folder."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import pandas as pd
import yaml

from asp.data.store import Dataset
from asp.eval.evaluate import (Evaluator, baseline_predictions, dataset_train_presets, model_predictions,
                               select_clips)
from asp.eval.report import write_report


@dataclass
class EvalOptions:
    """Args:
        split: dataset split to score.
        notes: MIDI notes of the clips to score (None: all).
        limit: clips per synth at most (a seeded sample; None: all).
        cross: render every decoder's preset for every clip (the cross-synth matrix).
        baselines: score the mean-preset and random-preset baselines too.
        seed: for the clip sample and the random baseline.
    """

    split: str = "test"
    notes: tuple[int, ...] | None = (60,)
    limit: int | None = None
    cross: bool = True
    baselines: bool = True
    seed: int = 0


def checkpoint_of(path: Path) -> Path:
    """A run folder or a checkpoint file -> the checkpoint (``best.ckpt``, else ``last.ckpt``)."""
    if path.is_file():
        return path
    for name in ("best.ckpt", "last.ckpt"):
        if (path / "checkpoints" / name).is_file():
            return path / "checkpoints" / name
    raise FileNotFoundError(f"{path}: neither a checkpoint nor a run folder with checkpoints/best.ckpt")


def dataset_of(checkpoint: Path) -> Path:
    """The dataset a run was trained on (its ``config.yaml``)."""
    cfg = checkpoint.parent.parent / "config.yaml"
    if not cfg.is_file():
        raise FileNotFoundError(f"{checkpoint}: no run config beside it to find its dataset; pass --dataset")
    return Path(yaml.safe_load(cfg.read_text())["data"]["root"])


def sweep_runs(sweep: Path) -> pd.DataFrame:
    """The runs of an ``asp sweep`` folder: variant, z_dim, run_dir (from its results.csv)."""
    table = sweep / "results.csv"
    if not table.is_file():
        raise FileNotFoundError(f"{sweep}: no results.csv (not an asp sweep folder)")
    return pd.read_csv(table)[["variant", "z_dim", "run_dir"]]


def score_all(ev: Evaluator, systems: dict[str, tuple[dict, str]], progress: bool = True) -> pd.DataFrame:
    """Every system's rows (system -> (decoder predictions, fingerprint)), one progress bar per system."""
    from tqdm import tqdm

    frames = []
    for label, (preds, fp) in systems.items():
        with tqdm(total=len(ev.rows), desc=f"eval {label}", unit="clip", disable=not progress) as bar:
            frames.append(ev.score(label, preds, progress=bar.update, fingerprint=fp))
    return pd.concat(frames, ignore_index=True)


def evaluate(runs: Sequence[Path], out: Path, dataset: Path | None = None, sweep: Path | None = None,
             options: EvalOptions | None = None, progress: bool = True) -> Path:
    """Score every run (and the baselines) and write the report folder. Returns ``out/report.md``."""
    from asp.models.inference import Predictor

    opt = options or EvalOptions()
    named: dict[str, Path] = {}
    zs: dict[str, tuple[str, int]] = {}
    if sweep is not None:
        for r in sweep_runs(sweep).itertuples(index=False):
            name = f"{r.variant} z={r.z_dim}"
            named[name] = checkpoint_of(Path(r.run_dir))
            zs[name] = (r.variant, int(r.z_dim))
    for run in runs:
        ckpt = checkpoint_of(Path(run))
        named[str(run)] = ckpt
    if not named:
        raise ValueError("nothing to evaluate: give run folders, checkpoints or --sweep")
    predictors = {}
    for name, ckpt in named.items():
        p = Predictor(ckpt)
        label = name if name in zs else p.module.hparams.variant  # a sweep's runs are named by variant and size
        if label in predictors:  # two runs of one variant: tell them apart by the path given
            label = f"{label} ({name})"
        predictors[label] = (p, ckpt)
    ds_path = dataset or dataset_of(next(iter(predictors.values()))[1])
    ds = Dataset(ds_path)
    synths = sorted({s for p, _ in predictors.values() for s in p.synths}, key=lambda s: ds.synths.index(s)
                    if s in ds.synths else 99)
    rows = select_clips(ds, synths, opt.split, opt.notes, opt.limit, opt.seed)
    if rows.empty:
        raise ValueError(f"{ds_path}: no {opt.split} clips at notes {opt.notes}")
    ev = Evaluator.from_dataset(ds, rows, cache=out / "cache")
    systems: dict[str, tuple[dict, str]] = {}
    for label, (p, ckpt) in predictors.items():
        systems[label] = (model_predictions(p, lambda a, b: ds.mels(rows.iloc[a:b]), rows, cross=opt.cross),
                          str(ckpt.stat().st_mtime_ns))
    if opt.baselines:
        for name, preds in baseline_predictions(rows, dataset_train_presets(ds, synths), opt.seed).items():
            systems[name] = (preds, f"seed{opt.seed}")
    clips = score_all(ev, systems, progress)
    curves = None
    if zs:
        o = clips[(clips.decoder == clips.synth) & clips.system.isin(list(zs))]
        agg = o.groupby("system").agg(lsd=("lsd", "mean"), param_mse=("param_mse", "mean"),
                                      cat_acc=("cat_acc", "mean"), n=("lsd", "size")).reset_index()
        agg["variant"] = agg.system.map(lambda s: zs[s][0])
        agg["z_dim"] = agg.system.map(lambda s: zs[s][1])
        curves = agg.sort_values(["variant", "z_dim"])[["variant", "z_dim", "lsd", "param_mse", "cat_acc", "n"]]
    floors = {s: (e.get("self_distance") or {}).get("lsd_mean") for s, e in ds.card.get("synths", {}).items()}
    return write_report(clips, out, curves=curves, floors=floors,
                        title=f"asp evaluation on {ds_path} ({opt.split} split)")


def evaluate_presets(run: Path, source: str, out: Path, limit: int | None = 200, note: int = 60, seed: int = 0,
                     cross: bool = False, progress: bool = True) -> Path:
    """Score a model on hand-made presets (``SYNTH`` for its factory presets, or ``SYNTH=PATH``) against a random
    preset (and the mean preset of the model's training data when its dataset is here).

    Presets equal to another one or to the schema's default (init patches) are dropped; ``limit`` of the rest are
    drawn (seeded). Each is rendered at ``note``; the model sees that render's mel.
    """
    import numpy as np

    from asp.features.hpss import harmonic_share, timbre_group
    from asp.models.inference import Predictor
    from asp.synths import registry
    from asp.synths.presets import read_presets

    synth, _, where = source.partition("=")
    path = Path(where) if where else registry.factory_presets(synth)
    ckpt = checkpoint_of(Path(run))
    pred = Predictor(ckpt)
    if synth not in pred.synths:
        raise KeyError(f"the model was not trained for {synth}; it knows: {', '.join(pred.synths)}")
    schema = registry.load_schema(synth)
    presets = read_presets(path, schema)
    seen, unique = {schema.default_vector().round(6).tobytes()}, []
    for p in presets:
        key = np.asarray(p.vector).round(6).tobytes()
        if key not in seen:
            seen.add(key)
            unique.append(p)
    rng = np.random.default_rng(seed)
    chosen = [unique[i] for i in sorted(rng.permutation(len(unique))[:limit or len(unique)])]
    if not chosen:
        raise ValueError(f"{path}: no presets of {synth} other than the default")
    rows = pd.DataFrame({"synth": synth, "preset_id": range(len(chosen)), "note": note,
                         "preset_name": [p.name for p in chosen], "source": [p.source for p in chosen]})
    ev = Evaluator(rows, [np.asarray(p.vector) for p in chosen], pred.render_settings, cache=out / "cache")
    targets = [ev.target(i) for i in range(len(chosen))]
    shares = np.array([harmonic_share(a) for a in targets])
    rows["harmonic_share"], rows["timbre_group"] = shares, timbre_group(shares)
    mels = pred.mels(np.stack(targets))
    train = {}
    try:
        ds = Dataset(dataset_of(ckpt))
        train = dataset_train_presets(ds, [synth])
    except (FileNotFoundError, KeyError, OSError):
        pass  # no training data here: only the random-preset baseline
    fp = str(ckpt.stat().st_mtime_ns)
    systems = {pred.module.hparams.variant: (model_predictions(pred, lambda a, b: mels[a:b], rows, cross=cross), fp)}
    for name, preds in baseline_predictions(rows, train, seed).items():
        systems[name] = (preds, f"seed{seed}")
    clips = score_all(ev, systems, progress)
    clips = clips.merge(rows[["preset_id", "preset_name", "source"]], on="preset_id", how="left")
    return write_report(clips, out, title=f"{synth} hand-made presets from {path} ({len(chosen)} of {len(unique)} "
                                          f"distinct non-default presets, at MIDI note {note})")
