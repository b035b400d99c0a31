"""``asp eval``: checkpoints (or a sweep folder) + a dataset -> scored clips -> the report folder."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import yaml

from asp.atomic import atomic_write_npz
from asp.data.store import Dataset
from asp.eval.evaluate import Evaluator, baseline_predictions, dataset_train_presets, model_predictions, select_clips
from asp.eval.presets import draw_hand_made
from asp.eval.report import write_report
from asp.paths import relocate
from asp.render.settings import RenderSettings
from asp.synths import registry

if TYPE_CHECKING:
    from asp.search import SearchOptions


@dataclass
class EvalOptions:
    """Args:
    split: dataset split to score.
    notes: MIDI notes of the clips to score (None: all; ``"auto"``: C4 in a dataset that renders every preset
        at C4, the paper's layout, else all, as in a dataset of a few random notes per preset).
    limit: clips per synth at most (a seeded sample; None: all).
    cross: render every decoder's preset for every clip (the cross-synth matrix).
    baselines: score the mean-preset and random-preset baselines too.
    seed: for the clip sample and the random baseline.
    refine: also score each model's predictions refined with the real synth in the loop (a system
        ``<model> refined``), with these search options; None: one-shot only.
    workers: processes for the refinement.
    neighbours, proxies, proxy_factor: the refinement's other starts and its screens, as in ``asp infer``
        (:func:`refined_predictions`).
    """

    split: str = "test"
    notes: tuple[int, ...] | str | None = "auto"
    limit: int | None = None
    cross: bool = True
    baselines: bool = True
    seed: int = 0
    refine: SearchOptions | None = None
    workers: int = 2
    neighbours: int = 0
    proxies: Mapping[str, Path] | None = None
    proxy_factor: int = 4


def auto_notes(ds: Dataset) -> tuple[int, ...] | None:
    """The notes ``asp eval`` scores by default: C4 where every preset was rendered at C4, else all."""
    settings = ds.card.get("settings") or {}
    if settings.get("notes_per_preset") or 60 not in ((settings.get("render") or {}).get("notes") or [60]):
        return None
    return (60,)


def checkpoint_of(path: Path) -> Path:
    """A run folder or a checkpoint file -> the checkpoint (``best.ckpt``, else ``last.ckpt``)."""
    if path.is_file():
        return path
    for name in ("best.ckpt", "last.ckpt"):
        if (path / "checkpoints" / name).is_file():
            return path / "checkpoints" / name
    raise FileNotFoundError(f"{path}: neither a checkpoint nor a run folder with checkpoints/best.ckpt")


def dataset_of(checkpoint: Path) -> Path:
    """The dataset a run was trained on (its ``config.yaml``), found from any folder and after the run folder moved
    together with its dataset."""
    run = checkpoint.parent.parent
    cfg = run / "config.yaml"
    if not cfg.is_file():
        raise FileNotFoundError(f"{checkpoint}: no run config beside it to find its dataset; pass --dataset")
    saved = yaml.safe_load(cfg.read_text())
    return relocate(saved["data"]["root"], recorded_home=saved.get("run_dir"), home=run)


def sweep_runs(sweep: Path) -> pd.DataFrame:
    """The runs of an ``asp sweep`` folder: variant, z_dim, run_dir (from its results.csv)."""
    table = sweep / "results.csv"
    if not table.is_file():
        raise FileNotFoundError(f"{sweep}: no results.csv (not an asp sweep folder)")
    runs = pd.read_csv(table)[["variant", "z_dim", "run_dir"]]
    # a sweep's runs are its sub-folders: found again from any folder and after the sweep folder moved
    runs["run_dir"] = [str(relocate(r, recorded_home=Path(r).parent, home=sweep)) for r in runs.run_dir]
    return runs


def score_all(ev: Evaluator, systems: dict[str, tuple[dict, str]], progress: bool = True) -> pd.DataFrame:
    """Every system's rows (system -> (decoder predictions, fingerprint)), one progress bar per system."""
    from tqdm import tqdm

    frames = []
    for label, (preds, fp) in systems.items():
        with tqdm(total=len(ev.rows), desc=f"eval {label}", unit="clip", disable=not progress) as bar:
            frames.append(ev.score(label, preds, progress=bar.update, fingerprint=fp))
    return pd.concat(frames, ignore_index=True)


def refined_predictions(
    preds: dict[str, np.ndarray],
    target: Callable[[int], np.ndarray],
    rows: pd.DataFrame,
    settings: RenderSettings,
    options: SearchOptions,
    workers: int = 2,
    cache: Path | None = None,
    near: dict[str, np.ndarray] | None = None,
    proxies: Mapping[str, Path] | None = None,
    proxy_factor: int = 4,
) -> dict[str, np.ndarray]:
    """Each clip's own-synth prediction refined with the real synth in the loop (``asp.search``), played at the
    clip's note; decoder synth -> (n_clips, n_params) like ``preds`` (NaN where a clip is another synth's).

    Args:
        target: ``target(i)`` gives clip i's audio.
        cache: a file to keep the refined vectors in (keyed by the options, the predictions and the other starts
            and screens), so a re-run does not search again.
        near: per synth (n_clips, k, n_params) further starts per clip, played at its note (``neighbour_starts``;
            NaN rows skipped).
        proxies: synth -> a neural proxy's folder screening that synth's search (``asp proxy train``), with
            ``proxy_factor`` children screened per rendered one.
    """
    import hashlib
    import json

    from asp.jobs import run_pool
    from asp.search import Candidate
    from asp.search.refine import refine_job

    h = hashlib.sha256(options.key().encode())
    for s in sorted(preds):
        h.update(np.nan_to_num(preds[s]).tobytes())
    for s in sorted(near or {}):
        h.update(s.encode() + np.nan_to_num((near or {})[s]).tobytes())
    if proxies:
        h.update(json.dumps({s: str(Path(f).resolve()) for s, f in proxies.items()} | {"": proxy_factor}).encode())
    key = h.hexdigest()[:16]
    out = {s: np.full_like(p, np.nan, dtype=np.float64) for s, p in preds.items()}
    if cache is not None and cache.is_file():
        blob = np.load(cache, allow_pickle=False)
        if str(blob["key"]) == key:
            return {s: blob[s] for s in preds}
    tasks = []
    for i, row in enumerate(rows.itertuples(index=False)):
        v = preds[row.synth][i]
        if not np.isnan(v).any():
            starts = [Candidate(v, int(row.note))]
            others = (near or {}).get(row.synth)
            if others is not None:
                starts += [
                    Candidate(u, int(row.note), f"neighbour {j + 1}")
                    for j, u in enumerate(others[i])
                    if not np.isnan(u).any()
                ]
            tasks.append(
                {
                    "key": i,
                    "synth": row.synth,
                    "target": target(i),
                    "options": options,
                    "settings": settings,
                    "starts": {row.synth: starts},
                    "proxies": {s: str(f) for s, f in (proxies or {}).items()},
                    "screen_factor": proxy_factor,
                }
            )
    failed: list[str] = []

    def done(task: dict, result: Any) -> None:
        out[task["synth"]][task["key"]] = result[task["synth"]].vector

    job = refine_job
    if proxies:
        from asp.models.proxy_training import proxy_refine_job as job
    run_pool(
        tasks,
        job,
        workers,
        on_result=done,
        on_error=lambda t, m: failed.append(m.splitlines()[0]),
        on_crash=lambda c: failed.append(f"worker died ({c.how})"),
        fresh=lambda task: registry.needs_fresh_process(task["starts"]),
    )
    if failed:
        raise RuntimeError(f"refinement failed on {len(failed)} clip(s): {failed[0]}")
    if cache is not None:
        atomic_write_npz(cache, {"key": np.array(key), **out})
    return out


def neighbour_starts(
    pred: Any, checkpoint: Path, mels: Callable[[int, int], np.ndarray], rows: pd.DataFrame, k: int
) -> dict[str, np.ndarray]:
    """Per synth of the model, (n_clips, k, n_params): for each clip of that synth the ``k`` presets of the model's
    training split whose clips its encoder puts nearest the clip's (``asp.models.neighbours``; NaN for the clips of
    other synths and where fewer are found). ``mels(a, b)`` gives the dB mels of rows a to b.

    Raises:
        ValueError: the dataset the model was trained on is not here.
    """
    from asp.models.neighbours import LatentIndex

    try:
        index = LatentIndex.cached(pred, dataset_of(checkpoint))
    except (FileNotFoundError, ValueError) as err:
        raise ValueError(f"--neighbours needs the dataset the model was trained on: {err}") from None
    synth_of = rows.synth.to_numpy()
    out = {}
    for s in pred.synths:
        mine = np.flatnonzero(synth_of == s)
        if s not in index.synths or not len(mine):
            continue
        arr = np.full((len(rows), k, registry.load_schema(s).n_params), np.nan)
        for a in range(0, len(rows), 64):
            here = mine[(mine >= a) & (mine < a + 64)]
            if len(here):
                mu = pred.latent(mels(a, min(a + 64, len(rows))), s)
                for i in here:
                    found = index.nearest(s, mu[i - a], k)
                    arr[i, : len(found)] = found
        out[s] = arr
    return out


def _refine_checks(opt_refine: Any, neighbours: int, proxies: Mapping[str, Path] | None, synths: Sequence[str]) -> None:
    """The refinement's flags checked before any work (ValueError naming the flag)."""
    if (neighbours > 0 or proxies) and opt_refine is None:
        raise ValueError("--neighbours and --proxy change the refinement's search: give --refine with them")
    if proxies:
        from asp.models.proxy_training import check_proxies

        check_proxies(proxies, synths)


def evaluate(
    runs: Sequence[Path],
    out: Path,
    dataset: Path | None = None,
    sweep: Path | None = None,
    options: EvalOptions | None = None,
    progress: bool = True,
) -> Path:
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
        label = name if name in zs else p.module.hparams["variant"]  # a sweep's runs are named by variant and size
        if label in predictors:  # two runs of one variant: tell them apart by the path given
            label = f"{label} ({name})"
        predictors[label] = (p, ckpt)
    ds_path = dataset or dataset_of(next(iter(predictors.values()))[1])
    ds = Dataset(ds_path)
    synths = sorted(
        {s for p, _ in predictors.values() for s in p.synths},
        key=lambda s: ds.synths.index(s) if s in ds.synths else 99,
    )
    notes = auto_notes(ds) if opt.notes == "auto" else opt.notes
    if isinstance(notes, str):
        raise ValueError(f"notes: {notes!r} is not a list of MIDI notes (or 'auto')")
    rows = select_clips(ds, synths, opt.split, notes, opt.limit, opt.seed)
    if rows.empty:
        raise ValueError(f"{ds_path}: no {opt.split} clips at notes {opt.notes}")
    _refine_checks(opt.refine, opt.neighbours, opt.proxies, synths)
    ev = Evaluator.from_dataset(ds, rows, cache=out / "cache")
    systems: dict[str, tuple[dict, str]] = {}
    mels = lambda a, b: ds.mels(rows.iloc[a:b])
    for label, (p, ckpt) in predictors.items():
        preds = model_predictions(p, mels, rows, cross=opt.cross)
        systems[label] = (preds, str(ckpt.stat().st_mtime_ns))
        if opt.refine is not None:
            cache = out / "cache" / f"refined-{label.replace('/', '_').replace(' ', '_')}.npz"
            near = neighbour_starts(p, ckpt, mels, rows, opt.neighbours) if opt.neighbours > 0 else None
            refined = refined_predictions(
                preds, ev.target, rows, ev.settings, opt.refine, opt.workers, cache, near, opt.proxies, opt.proxy_factor
            )
            systems[f"{label} refined"] = (refined, f"{ckpt.stat().st_mtime_ns}-{opt.refine.key()}")
    if opt.baselines:
        for name, preds in baseline_predictions(rows, dataset_train_presets(ds, synths), opt.seed).items():
            systems[name] = (preds, f"seed{opt.seed}")
    clips = score_all(ev, systems, progress)
    curves = None
    if zs:
        o = clips[(clips.decoder == clips.synth) & clips.system.isin(list(zs))]
        agg = (
            o.groupby("system")
            .agg(lsd=("lsd", "mean"), param_mse=("param_mse", "mean"), cat_acc=("cat_acc", "mean"), n=("lsd", "size"))
            .reset_index()
        )
        agg["variant"] = agg.system.map(lambda s: zs[s][0])
        agg["z_dim"] = agg.system.map(lambda s: zs[s][1])
        curves = agg.sort_values(["variant", "z_dim"])[["variant", "z_dim", "lsd", "param_mse", "cat_acc", "n"]]
    floors: dict[str, Any] = {
        s: (e.get("self_distance") or {}).get("lsd_mean") for s, e in ds.card.get("synths", {}).items()
    }
    return write_report(
        clips, out, curves=curves, floors=floors, title=f"asp evaluation on {ds_path} ({opt.split} split)"
    )


def evaluate_presets(
    run: Path,
    source: str,
    out: Path,
    limit: int | None = 200,
    note: int = 60,
    seed: int = 0,
    cross: bool = False,
    progress: bool = True,
    refine: SearchOptions | None = None,
    workers: int = 2,
    neighbours: int = 0,
    proxies: Mapping[str, Path] | None = None,
    proxy_factor: int = 4,
) -> Path:
    """Score a model on hand-made presets (``SYNTH`` for its factory presets, or ``SYNTH=PATH``) against a random
    preset (and the mean preset of the model's training data when its dataset is here).

    Presets equal to another one or to the schema's default (init patches) are dropped, and so are those in the
    training or validation split of the model's dataset (when it is here); ``limit`` of the rest are drawn (seeded).
    Each is rendered at ``note``; the model sees that render's mel. With ``refine``, the model's predictions are also
    scored refined (``refined_predictions``, with ``neighbours``, ``proxies`` and
    ``proxy_factor`` as in :class:`EvalOptions`), as a system ``<model> refined``.
    """
    from asp.features.hpss import harmonic_share, timbre_group
    from asp.models.inference import Predictor
    from asp.synths import registry

    synth, _, where = source.partition("=")
    path = Path(where) if where else registry.factory_presets(synth)
    ckpt = checkpoint_of(Path(run))
    pred = Predictor(ckpt)
    if synth not in pred.synths:
        raise KeyError(f"the model was not trained for {synth}; it knows: {', '.join(pred.synths)}")
    _refine_checks(refine, neighbours, proxies, [synth])
    schema = registry.load_schema(synth)
    train: dict[str, np.ndarray] = {}
    seen = None
    try:
        ds = Dataset(dataset_of(ckpt))
        train = dataset_train_presets(ds, [synth])
        # a preset the model was trained or validated on is not a held-out test (a dataset made from the same banks)
        seen = dataset_train_presets(ds, [synth], ("train", "valid"))[synth]
    except (FileNotFoundError, KeyError, OSError):
        pass  # no training data here: only the random-preset baseline, and nothing known to leave out
    chosen, n_unique, left_out = draw_hand_made(schema, path, limit, seed, exclude=seen)
    rows = pd.DataFrame(
        {
            "synth": synth,
            "preset_id": range(len(chosen)),
            "note": note,
            "preset_name": [p.name for p in chosen],
            "source": [p.source for p in chosen],
        }
    )
    ev = Evaluator(rows, [np.asarray(p.vector) for p in chosen], pred.render_settings, cache=out / "cache")
    targets = [ev.target(i) for i in range(len(chosen))]
    shares = np.array([harmonic_share(a) for a in targets])
    rows["harmonic_share"], rows["timbre_group"] = shares, timbre_group(shares)
    mels = pred.mels(np.stack(targets))
    fp = str(ckpt.stat().st_mtime_ns)
    variant = pred.module.hparams["variant"]
    preds = model_predictions(pred, lambda a, b: mels[a:b], rows, cross=cross)
    systems = {variant: (preds, fp)}
    if refine is not None:
        near = neighbour_starts(pred, ckpt, lambda a, b: mels[a:b], rows, neighbours) if neighbours > 0 else None
        refined = refined_predictions(
            preds,
            ev.target,
            rows,
            ev.settings,
            refine,
            workers,
            out / "cache" / "refined.npz",
            near,
            proxies,
            proxy_factor,
        )
        systems[f"{variant} refined"] = (refined, f"{fp}-{refine.key()}")
    for name, preds in baseline_predictions(rows, train, seed).items():
        systems[name] = (preds, f"seed{seed}")
    clips = score_all(ev, systems, progress)
    clips = clips.merge(rows[["preset_id", "preset_name", "source"]], on="preset_id", how="left")
    return write_report(
        clips,
        out,
        title=f"{synth} hand-made presets from {path} ({len(chosen)} of {n_unique} "
        f"distinct non-default presets, at MIDI note {note})"
        + (f"; {left_out} more are in the model's training or validation data and were left out" if left_out else ""),
    )
