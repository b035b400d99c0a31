"""Per-parameter analysis of a model (``asp analyze``): where its parameter error comes from.

Two tables per synth, joined on the parameter:

* **error**: on a dataset split, the model's error on each parameter against the mean preset's (the training
  split's mean of a continuous parameter, its most frequent class of a discrete one). Continuous parameters:
  squared error in normalised units; discrete ones: the share of clips whose class is wrong.
* **sensitivity**: how audible each parameter is. Random presets of the synth (its sampling spec, seeded) are
  rendered, then rendered again with one parameter moved by ``step`` (continuous: away from the nearer bound, so the
  move is never clipped; categorical: to the next class; binary: flipped); the distance is the textbook LSD (dB)
  between the two renders. A parameter that does not change the sound of a preset (an effect's amount while the
  effect is off, a modulation depth with no source) cannot be told from the audio there: no model can learn it
  from that clip, so its error can only stay at the mean preset's.

A parameter counts as *audible* in a preset when the move changes the sound by more than ``AUDIBLE_DB`` (1 dB LSD,
about the just-noticeable level step), and as *identifiable* when it is audible in at least half of the presets.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from asp.atomic import atomic_write_bytes
from asp.render.settings import RenderSettings
from asp.synths import registry
from asp.synths.schema import SynthSchema

AUDIBLE_DB = 1.0
IDENTIFIABLE_SHARE = 0.5


def parameter_errors(schema: SynthSchema, pred: np.ndarray, true: np.ndarray, mean: np.ndarray) -> pd.DataFrame:
    """Per parameter, the model's and the mean preset's error on clips of one synth.

    Args:
        pred, true: (n_clips, n_params) normalised vectors (the model's and the truth).
        mean: (n_params,) the mean preset.

    Returns:
        One row per parameter: ``param``, ``kind``, ``group``, ``error`` (model), ``mean_error``, ``ratio``
        (model / mean preset; NaN where the mean preset is exact), ``metric`` (``mse`` or ``class error``).
    """
    pred, true = np.atleast_2d(pred).astype(np.float64), np.atleast_2d(true).astype(np.float64)
    rows = []
    for i, p in enumerate(schema.params):
        if p.discrete:
            kt = p.class_of(true[:, i])
            err = float(np.mean(p.class_of(pred[:, i]) != kt))
            base = float(np.mean(p.class_of(np.full(len(true), mean[i])) != kt))
            metric = "class error"
        else:
            err = float(np.mean((pred[:, i] - true[:, i]) ** 2))
            base = float(np.mean((mean[i] - true[:, i]) ** 2))
            metric = "mse"
        rows.append(
            {
                "param": p.name,
                "kind": p.kind,
                "group": p.group or "",
                "metric": metric,
                "error": err,
                "mean_error": base,
                "ratio": err / base if base > 0 else float("nan"),
            }
        )
    return pd.DataFrame(rows)


def moved(schema: SynthSchema, vector: np.ndarray, i: int, step: float) -> np.ndarray:
    """``vector`` with parameter ``i`` moved as the sensitivity probe moves it (see the module docstring)."""
    v = np.array(vector, dtype=np.float64)
    p = schema.params[i]
    if p.kind == "continuous":
        v[i] = v[i] + step if v[i] + step <= 1.0 else v[i] - step
    else:
        k = int(p.class_of(v[i]))
        v[i] = ((k + 1) % p.n_classes) / (p.n_classes - 1)
    return v


@dataclass(frozen=True)
class SensitivityTask:
    """One preset's probe: its render and one render per parameter moved."""

    synth: str
    vector: np.ndarray
    note: int
    step: float
    settings: RenderSettings


def probe_preset(task: SensitivityTask, report: Callable[[Any], None] | None = None) -> np.ndarray:
    """(n_params,) LSD (dB) between the preset's render and each one-parameter move's (runs in a worker)."""
    from asp.metrics import lsd
    from asp.render.factory import get_renderer

    r = get_renderer(task.synth, task.settings)
    base = r.render(task.vector, task.note)
    return np.array(
        [lsd(base, r.render(moved(r.schema, task.vector, i, task.step), task.note)) for i in range(r.schema.n_params)]
    )


def sensitivity(
    synth: str,
    settings: RenderSettings,
    presets: int = 16,
    step: float = 0.1,
    seed: int = 0,
    workers: int = 2,
    notes: Sequence[int] | None = None,
) -> pd.DataFrame:
    """Per parameter: the mean, median and max LSD of the move, and the share of presets where it is audible.

    Args:
        presets: random presets probed (each costs n_params + 1 renders).
        notes: each preset is played at one of these (seeded draw; default: the settings' notes).
    """
    from asp.data.generate import WORKER_ENV
    from asp.jobs import run_pool
    from asp.synths.sampling import sample_presets

    schema = registry.load_schema(synth)
    rng = np.random.default_rng([seed, 7])
    vectors = sample_presets(schema, presets, rng, registry.load_sampling(synth))
    choices = list(notes or settings.notes)
    tasks = [SensitivityTask(synth, v, int(rng.choice(choices)), step, settings) for v in vectors]
    results: dict[int, np.ndarray] = {}
    errors: list[str] = []
    index = {id(t): k for k, t in enumerate(tasks)}
    run_pool(
        tasks,
        probe_preset,
        workers,
        on_result=lambda t, r: results.__setitem__(index[id(t)], r),
        on_error=lambda t, e: errors.append(e),
        on_crash=lambda c: None,
        env=WORKER_ENV,
    )
    if errors or len(results) != len(tasks):
        raise RuntimeError(f"{synth}: the sensitivity probe failed: {'; '.join(errors) or 'a worker crashed'}")
    d = np.stack([results[k] for k in range(len(tasks))])  # (presets, n_params)
    return pd.DataFrame(
        {
            "param": [p.name for p in schema.params],
            "sens_mean_db": d.mean(0),
            "sens_median_db": np.median(d, 0),
            "sens_max_db": d.max(0),
            "audible_share": (d > AUDIBLE_DB).mean(0),
        }
    )


def summarize(table: pd.DataFrame) -> pd.DataFrame:
    """Per synth and parameter kind: the model's and the mean preset's mean error, over every parameter, the
    identifiable ones and the others (``table``: :func:`parameter_errors` joined with :func:`sensitivity`, plus a
    ``synth`` column)."""
    rows = []
    for (synth, kind), g in table.groupby(["synth", "kind"], sort=False):
        for subset, part in (
            ("all", g),
            ("identifiable", g[g.audible_share >= IDENTIFIABLE_SHARE]),
            ("not identifiable", g[g.audible_share < IDENTIFIABLE_SHARE]),
        ):
            if not len(part):
                continue
            rows.append(
                {
                    "synth": synth,
                    "kind": kind,
                    "params": subset,
                    "n": len(part),
                    "model": part.error.mean(),
                    "mean preset": part.mean_error.mean(),
                    "model / mean preset": part.error.mean() / part.mean_error.mean()
                    if part.mean_error.mean() > 0
                    else float("nan"),
                }
            )
    return pd.DataFrame(rows)


def plot(table: pd.DataFrame, path: Path) -> None:
    """Per synth, each parameter's error ratio (model / mean preset) against its audible sensitivity."""
    from asp.plotting import png_bytes, pyplot

    plt = pyplot()
    synths = list(dict.fromkeys(table.synth))
    fig, axes = plt.subplots(1, len(synths), figsize=(4.5 * len(synths), 4), squeeze=False)
    for ax, synth in zip(axes[0], synths):
        g = table[table.synth == synth]
        for kind, marker in (("continuous", "o"), ("categorical", "s"), ("binary", "^")):
            k = g[g.kind == kind]
            if len(k):
                ax.scatter(np.maximum(k.sens_median_db, 1e-3), k.ratio, marker=marker, s=18, alpha=0.7, label=kind)
        ax.axhline(1.0, color="grey", lw=0.8, ls="--")
        ax.axvline(AUDIBLE_DB, color="grey", lw=0.8, ls=":")
        ax.set_xscale("log")
        ax.set_xlabel("median LSD of a one-parameter move (dB)")
        ax.set_ylabel("error: model / mean preset")
        ax.set_title(synth)
        ax.legend(fontsize=7)
    atomic_write_bytes(path, png_bytes(fig))


def analyze(
    run: Path,
    out: Path,
    dataset: Path | None = None,
    split: str = "test",
    limit: int | None = None,
    presets: int = 16,
    step: float = 0.1,
    seed: int = 0,
    workers: int = 2,
    progress: bool = True,
) -> pd.DataFrame:
    """The per-parameter analysis of one run (a run folder or checkpoint) into ``out``: ``params.csv`` (every
    parameter), ``summary.csv`` and ``report.md`` (per synth and kind) and ``params.png``. Returns the summary."""
    from asp.data.store import Dataset
    from asp.eval.evaluate import dataset_train_presets, model_predictions, select_clips
    from asp.eval.pipeline import checkpoint_of, dataset_of
    from asp.eval.presets import mean_preset
    from asp.eval.report import markdown_table
    from asp.models.inference import Predictor

    ckpt = checkpoint_of(Path(run))
    predictor = Predictor(ckpt)
    ds = Dataset(dataset or dataset_of(ckpt))
    synths = predictor.synths
    rows = select_clips(ds, synths, split, None, limit, seed)
    if not len(rows):
        raise ValueError(f"{ds.root}: no {split} clips")
    mels = ds.mels(rows)
    pred = model_predictions(predictor, lambda a, b: mels[a:b], rows, cross=False)
    train = dataset_train_presets(ds, synths)
    parts = []
    for synth in synths:
        own = (rows.synth == synth).to_numpy()
        schema = registry.load_schema(synth)
        err = parameter_errors(
            schema, pred[synth][own], ds.array(rows[own], "native"), mean_preset(schema, train[synth])
        )
        if progress:
            print(f"{synth}: probing {presets} presets x {schema.n_params + 1} renders", flush=True)
        sens = sensitivity(synth, predictor.render_settings, presets, step, seed, workers)
        parts.append(err.merge(sens, on="param").assign(synth=synth, clips=int(own.sum())))
    table = pd.concat(parts, ignore_index=True)
    summary = summarize(table)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(out / "params.csv", table.to_csv(index=False).encode())
    atomic_write_bytes(out / "summary.csv", summary.to_csv(index=False).encode())
    plot(table, out / "params.png")
    worst = (
        table[(table.kind == "continuous") & (table.audible_share >= IDENTIFIABLE_SHARE)]
        .sort_values("ratio", ascending=False)
        .groupby("synth")
        .head(5)
    )
    text = [
        f"# Per-parameter analysis: {ckpt}",
        "",
        f"Dataset `{ds.root}`, split `{split}`, {len(rows)} clips; sensitivity: {presets} random presets per "
        f"synth, step {step}, audible above {AUDIBLE_DB} dB LSD, identifiable when audible in at least "
        f"{IDENTIFIABLE_SHARE:.0%} of them.",
        "",
        "## Model against the mean preset (continuous: MSE; discrete: class error)",
        "",
        markdown_table(summary),
        "",
        "## Identifiable continuous parameters the model learns least (highest error ratio)",
        "",
        markdown_table(
            worst[["synth", "param", "group", "error", "mean_error", "ratio", "sens_median_db", "audible_share"]]
        ),
        "",
        "![error against sensitivity](params.png)",
        "",
    ]
    atomic_write_bytes(out / "report.md", "\n".join(text).encode())
    return summary
