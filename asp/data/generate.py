"""Dataset generation: schema -> presets -> render -> features -> shards on disk.

The plan (which presets, their splits, their shards) is a pure function of the config and the seed, so a killed run
re-plans identically and only renders the shards that are missing. A shard is rendered into a temporary folder and
renamed into place when complete: a folder under ``shards/<synth>/`` is always a whole shard.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
import zlib
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Sequence

import asp.render  # noqa: F401  (DawDreamer before librosa/numba)
import numpy as np
import pandas as pd

from asp.data import layout
from asp.data.splits import SPLITS, split_by_preset
from asp.features.hpss import EXACT, harmonic_share, timbre_group
from asp.features.mel import MelSettings, mel_db
from asp.features.spectral import rms, stft_power
from asp.metrics import lsd
from asp.render.factory import get_renderer, make_renderer
from asp.jobs import BACKENDS, TaskCrash, run_pool
from asp.render.settings import C4, RenderSettings
from asp.synths import registry
from asp.synths.presets import read_presets
from asp.synths.sampling import check_default_share, sample_presets

# one compute thread per worker process: the workers are the parallelism (avoids oversubscribing the cores)
WORKER_ENV = {k: "1" for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")}
PLAN_KEYS = ("synths", "presets_per_synth", "preset_files", "seed", "shard_size", "silence_db", "hpss", "splits",
             "render", "mel", "save_audio", "notes_per_preset", "hpss_train", "default_share")


@dataclass(frozen=True)
class GenerateConfig:
    """What ``asp dataset generate`` builds.

    Args:
        out: output folder.
        synths: registered synth names.
        presets_per_synth: random presets per synth; with ``preset_files`` the cap on presets read (0 = all).
        preset_files: synth -> preset file or folder to read instead of sampling.
        seed: seeds sampling and splits.
        workers: rendering processes (0 = in this process).
        shard_size: presets per shard (the unit of work and of resuming).
        silence_db: clips whose RMS is below this (dBFS) are dropped.
        hpss: ``exact`` (the paper's settings: n_fft 2048, hop 512, kernels 31) or ``fast`` (hop 1024);
            see asp.features.hpss.
        splits: train/valid/test fractions, by preset.
        self_distance_presets: presets per synth rendered twice (history-independently, in a new worker) to
            measure the self-distance floor.
        backend: ``local`` (a process pool on this machine) or ``ray`` (Ray actors, one engine each; needs
            ``asp[cluster]``). Not part of the plan: both build the same shards, and either resumes the other's run.
        address: the Ray cluster to join (``auto``, ``HOST:PORT``); None starts a local Ray with ``workers`` CPUs.
        notes_per_preset: 0 renders every preset at every note of ``render.notes`` (the paper's layout); k > 0
            draws k distinct notes per preset from them (seeded), so the same rendering time buys more, and more
            varied, presets.
        hpss_train: False skips the harmonic share of training presets (NaN, timbre group -1), and with it the extra
            C4 render of a preset not played at C4: evaluation reads the share on the valid and test splits only,
            and skipping it roughly halves the cost of a one-note preset.
        default_share: in random presets, the chance that a parameter keeps its default value
            (:func:`asp.synths.sampling.sample_presets`); 0 samples every parameter.
    """

    out: Path
    synths: tuple[str, ...] = ("subtractive", "vapoly", "wavetable")
    presets_per_synth: int = 100
    preset_files: dict[str, str] = field(default_factory=dict)
    seed: int = 0
    workers: int = 2
    shard_size: int = 16
    silence_db: float = -60.0
    hpss: str = "exact"
    splits: tuple[float, float, float] = (0.8, 0.1, 0.1)
    render: RenderSettings = field(default_factory=RenderSettings)
    mel: MelSettings = field(default_factory=MelSettings)
    save_audio: bool = False
    self_distance_presets: int = 4
    backend: str = "local"
    address: str | None = None
    notes_per_preset: int = 0
    hpss_train: bool = True
    default_share: float = 0.0

    def __post_init__(self) -> None:
        if not 0 <= self.notes_per_preset <= len(self.render.notes):
            raise ValueError(f"notes per preset must be 0 (all) to {len(self.render.notes)} (the notes given), "
                             f"got {self.notes_per_preset}")
        check_default_share(self.default_share)

    def plan_dict(self) -> dict[str, Any]:
        d = {k: getattr(self, k) for k in PLAN_KEYS}
        for key, default in (("notes_per_preset", 0), ("hpss_train", True), ("default_share", 0.0)):
            if d[key] == default:  # plans written before these options stay valid
                del d[key]
        d["render"] = self.render.as_dict()
        d["mel"] = asdict(self.mel)
        d["synths"] = list(self.synths)
        d["splits"] = list(self.splits)
        d["preset_files"] = dict(sorted(self.preset_files.items()))
        return json.loads(json.dumps(d))


@dataclass(frozen=True)
class ShardTask:
    """One shard: consecutive presets of one synth."""

    synth: str
    shard: int
    preset_ids: tuple[int, ...]
    names: tuple[str, ...]
    vectors: np.ndarray
    splits: tuple[str, ...]
    notes: tuple[tuple[int, ...], ...]  # per preset, the notes it is rendered at
    render: RenderSettings
    mel: MelSettings
    silence_rms: float
    hpss_fast: bool
    out: str
    hpss_train: bool = True
    save_audio: bool = False
    failed: tuple[tuple[int, str], ...] = ()


def _synth_seed(seed: int, synth: str, stream: int) -> list[int]:
    return [seed, zlib.crc32(synth.encode()), stream]


def plan_presets(cfg: GenerateConfig, synth: str) -> tuple[list[str], np.ndarray]:
    """(names, (n, n_params) native vectors) for one synth, deterministic in the config."""
    schema = registry.load_schema(synth)
    if synth in cfg.preset_files:
        presets = read_presets(cfg.preset_files[synth], schema)
        if cfg.presets_per_synth:
            presets = presets[: cfg.presets_per_synth]
        if not presets:
            raise ValueError(f"{cfg.preset_files[synth]}: no presets for {synth}")
        return [p.name for p in presets], np.stack([p.vector for p in presets]).astype(np.float32)
    rng = np.random.default_rng(_synth_seed(cfg.seed, synth, 0))
    vectors = sample_presets(schema, cfg.presets_per_synth, rng, registry.load_sampling(synth), cfg.default_share)
    return [f"random-{i:06d}" for i in range(cfg.presets_per_synth)], vectors


def plan_notes(cfg: GenerateConfig, synth: str, n: int) -> list[tuple[int, ...]]:
    """The notes each of a synth's ``n`` presets is rendered at (sorted), deterministic in the config."""
    notes = tuple(cfg.render.notes)
    if not cfg.notes_per_preset:
        return [notes] * n
    rng = np.random.default_rng(_synth_seed(cfg.seed, synth, 2))
    return [tuple(sorted(int(x) for x in rng.choice(notes, cfg.notes_per_preset, replace=False))) for _ in range(n)]


def plan_shards(cfg: GenerateConfig) -> list[ShardTask]:
    """Every shard of the dataset, in order."""
    tasks: list[ShardTask] = []
    silence = float(10 ** (cfg.silence_db / 20))
    for synth in cfg.synths:
        names, vectors = plan_presets(cfg, synth)
        split = split_by_preset(len(names), cfg.splits, np.random.default_rng(_synth_seed(cfg.seed, synth, 1)))
        notes = plan_notes(cfg, synth, len(names))
        for shard, start in enumerate(range(0, len(names), cfg.shard_size)):
            ids = tuple(range(start, min(start + cfg.shard_size, len(names))))
            tasks.append(ShardTask(
                synth=synth, shard=shard, preset_ids=ids, names=tuple(names[i] for i in ids),
                vectors=vectors[list(ids)], splits=tuple(split[i] for i in ids), notes=tuple(notes[i] for i in ids),
                render=cfg.render, mel=cfg.mel, silence_rms=silence, hpss_fast=cfg.hpss == "fast", out=str(cfg.out),
                save_audio=cfg.save_audio, hpss_train=cfg.hpss_train,
            ))
    return tasks


# ---------------------------------------------------------------------- the worker side
def render_shard(task: ShardTask, report: Callable[[Any], None]) -> dict[str, Any]:
    """Render, featurise and write one shard (runs in a worker). Returns its summary."""
    renderer = get_renderer(task.synth, task.render)
    schema = renderer.schema
    failed = dict(task.failed)
    rows: list[dict[str, Any]] = []
    mels: list[np.ndarray] = []
    natives: list[np.ndarray] = []
    audios: list[np.ndarray] = []
    silent = 0
    timings = {"render": 0.0, "features": 0.0, "write": 0.0}
    for pid, name, vec, split, notes in zip(task.preset_ids, task.names, task.vectors, task.splits, task.notes):
        if pid in failed:
            continue
        report(("start", pid))
        t0 = time.perf_counter()
        share_wanted = task.hpss_train or split != "train"
        try:
            clips = renderer.render_notes(vec, notes)
            c4 = None if not share_wanted else clips[notes.index(C4)] if C4 in notes else renderer.render(vec, C4)
        except Exception as err:  # a preset that fails to render is recorded, the shard goes on
            failed[pid] = f"render failed: {type(err).__name__}: {err}"
            report(("end", pid))
            continue
        t1 = time.perf_counter()
        power = stft_power(clips, task.mel.n_fft, task.mel.hop_length)
        if not share_wanted:
            share = float("nan")
        elif C4 in notes and (task.mel.n_fft, task.mel.hop_length) == (EXACT["n_fft"], EXACT["hop_length"]):
            share = harmonic_share(None, fast=task.hpss_fast, power=power[notes.index(C4)])
        else:  # the mel's STFT cannot be reused: HPSS takes its own
            share = harmonic_share(c4, fast=task.hpss_fast)
        level = np.atleast_1d(rms(clips))
        keep = np.nonzero(level >= task.silence_rms)[0]
        silent += len(clips) - len(keep)
        if len(keep):
            mels.append(mel_db(None, task.mel, power=power[keep]).astype(np.float16))
            natives.append(np.repeat(vec[None].astype(np.float32), len(keep), axis=0))
            if task.save_audio:
                audios.append(clips[keep])
            for j in keep:
                rows.append({
                    "synth": task.synth, "preset_id": pid, "preset_name": name, "note": notes[j],
                    "split": split, "rms": float(level[j]), "harmonic_share": share,
                    "timbre_group": int(timbre_group(share)) if share == share else -1, "schema_hash": schema.content_hash,
                    "shard": task.shard, "row": len(rows),
                })
        timings["render"] += t1 - t0
        timings["features"] += time.perf_counter() - t1
        report(("end", pid))
    t2 = time.perf_counter()
    arrays = {"mels": np.concatenate(mels) if mels else
              np.zeros((0, task.mel.n_mels, task.mel.n_frames(task.render.n_samples)), np.float16)}
    native = np.concatenate(natives) if natives else np.zeros((0, schema.n_params), np.float32)
    arrays["native"] = native
    arrays["onehot"] = schema.encode(native).reshape(len(native), schema.onehot_size) if len(native) else \
        np.zeros((0, schema.onehot_size), np.float32)
    if task.save_audio:
        arrays["audio"] = np.concatenate(audios) if audios else np.zeros((0, task.render.n_samples), np.float32)
    meta = {"synth": task.synth, "shard": task.shard, "presets": list(task.preset_ids), "clips": len(rows),
            "silent_clips": silent, "failed": {str(k): v for k, v in sorted(failed.items())},
            "schema_hash": schema.content_hash}
    layout.write_shard(Path(task.out), task.synth, task.shard, arrays, pd.DataFrame(rows, columns=layout.COLUMNS),
                       meta)
    timings["write"] = time.perf_counter() - t2
    return {**meta, "timings": timings}


def _crash_retry(crash: TaskCrash[ShardTask]) -> ShardTask | None:
    task = crash.task
    failed = dict(task.failed)
    progress = crash.last_progress
    if progress and progress[0] == "start":
        failed[progress[1]] = f"worker crashed ({crash.how}) while rendering this preset"
    elif crash.crashes >= 3:  # crashes before any preset starts: give the shard up
        for pid in task.preset_ids:
            failed.setdefault(pid, f"worker crashed ({crash.how}) before rendering")
    return replace(task, failed=tuple(sorted(failed.items())))


# ---------------------------------------------------------------------- the parent side
def generate(cfg: GenerateConfig, progress: bool = True, log: Callable[[str], None] | None = None,
             shard_fn: Callable[[ShardTask, Callable[[Any], None]], dict[str, Any]] = render_shard) -> Path:
    """Build (or finish) a dataset. Returns the output folder.

    ``shard_fn`` renders one shard in a worker (a module-level function; tests inject failures through it).

    Raises:
        KeyError: unknown synth names (listing the valid ones).
        PluginNotFoundError: a requested plugin synth is not installed (says how to set its path).
        ValueError: the output folder holds a dataset made with other settings.
    """
    from tqdm.auto import tqdm

    log = log or (lambda m: print(m, file=sys.stderr))
    for s in cfg.synths:
        registry.get(s)
        if registry.get(s).backend == "plugin":
            registry.plugin_path(s)
    if cfg.hpss not in ("exact", "fast"):
        raise ValueError(f"unknown hpss mode {cfg.hpss!r}; valid: exact, fast")
    if cfg.backend not in BACKENDS:
        raise ValueError(f"unknown backend {cfg.backend!r}; valid: {', '.join(BACKENDS)}")
    if cfg.backend == "ray":
        from asp.jobs.ray_actors import import_ray

        import_ray()  # fails early, with the install hint
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    layout.check_or_write_plan(out, cfg.plan_dict())
    layout.clean_partial(out)
    tasks = plan_shards(cfg)
    todo = [t for t in tasks if not layout.shard_done(out, t.synth, t.shard)]
    if len(todo) < len(tasks):
        log(f"resuming: {len(tasks) - len(todo)} of {len(tasks)} shards already done")
    errors: list[str] = []
    bar = tqdm(total=sum(len(t.preset_ids) for t in todo), desc="rendering presets", unit="preset",
               disable=not progress, file=sys.stderr)
    t0 = time.perf_counter()
    ends: list[float] = []

    def on_progress(task: ShardTask, msg: Any) -> None:
        if msg[0] == "end":
            bar.update(1)
            ends.append(time.perf_counter())

    def on_error(task: ShardTask, err: str) -> None:
        errors.append(f"{task.synth} shard {task.shard}: {err}")

    def on_crash(crash: TaskCrash[ShardTask]) -> ShardTask | None:
        retry = _crash_retry(crash)
        if crash.last_progress and crash.last_progress[0] == "start":
            bar.update(1)
            log(f"{crash.task.synth}: worker crashed on preset {crash.last_progress[1]}; marked failed, worker replaced")
        return retry

    worker_seconds = {"render": 0.0, "features": 0.0, "write": 0.0}

    def on_result(task: ShardTask, result: dict[str, Any]) -> None:
        for k, v in (result.get("timings") or {}).items():
            worker_seconds[k] = worker_seconds.get(k, 0.0) + v
        if cfg.backend == "ray" and not layout.shard_done(out, task.synth, task.shard):
            errors.append(f"{task.synth} shard {task.shard}: the worker wrote it, but it is not in {out} here: "
                          "on a Ray cluster the output folder must be on a disk that every node shares")

    env = dict(WORKER_ENV)
    if cfg.backend == "ray":  # Ray actors get the driver's plugin paths (a cluster's nodes do not inherit them)
        env.update({k: v for k, v in os.environ.items() if k.startswith("ASP_PLUGIN_")})
    run_pool(todo, shard_fn, cfg.workers, env=env, on_result=on_result, on_error=on_error, on_crash=on_crash,
             on_progress=on_progress, backend=cfg.backend, address=cfg.address,
             fresh=lambda t: registry.needs_fresh_process([t.synth]))
    bar.close()
    elapsed = time.perf_counter() - t0
    if errors:
        raise RuntimeError("some shards failed (re-run to retry them):\n" + "\n".join(errors))
    n_notes = cfg.notes_per_preset or len(cfg.render.notes)
    throughput = {"wall_seconds": round(elapsed, 3), "presets_rendered": len(ends),
                  "steady_clips_per_second": round((len(ends) - 1) * n_notes / (ends[-1] - ends[0]), 3)
                  if len(ends) > 2 and ends[-1] > ends[0] else None,
                  "worker_seconds": {k: round(v, 3) for k, v in worker_seconds.items()},
                  "note": "steady = from the first to the last finished preset (worker start-up excluded); "
                          "clips counted before the silence filter; worker_seconds: time inside the workers"}
    finalize(cfg, tasks, render_seconds=elapsed, log=log, throughput=throughput)
    return out


def _render_twice(args: tuple[str, RenderSettings, np.ndarray], report: Callable[[Any], None]) -> np.ndarray:
    synth, settings, vectors = args
    renderer = make_renderer(synth, settings)
    return np.stack([[renderer.render(v, C4), renderer.render(v, C4)] for v in vectors])


def self_distance(synth: str, vectors: np.ndarray, settings: RenderSettings) -> dict[str, Any]:
    """The synth's self-distance floor: LSD between two renders of the same preset at C4, each as from a fresh
    renderer (renders are history-independent, so what differs is the synth's own randomness). No model can beat it.
    Runs in a new worker process."""
    results: list[np.ndarray] = []
    errors: list[str] = []
    run_pool([(synth, settings, vectors)], _render_twice, 1, on_result=lambda t, r: results.append(r),
             on_error=lambda t, e: errors.append(e), on_crash=lambda c: None)
    if errors or not results:
        return {"error": "; ".join(errors) or "the render process crashed"}
    d = np.array([lsd(a, b) for a, b in results[0]])
    return {"lsd_mean": float(d.mean()), "lsd_std": float(d.std()), "lsd_max": float(d.max()), "presets": len(d),
            "note": C4, "metric": "textbook LSD (dB), asp.metrics.lsd"}


def finalize(cfg: GenerateConfig, tasks: Sequence[ShardTask], render_seconds: float = 0.0,
             log: Callable[[str], None] | None = None, throughput: dict[str, Any] | None = None) -> dict[str, Any]:
    """Merge shard tables into ``table.parquet`` and write the dataset card (both atomically)."""
    out = Path(cfg.out)
    tables, metas = [], []
    for t in tasks:
        table, meta = layout.read_shard_table(out, t.synth, t.shard)
        tables.append(table)
        metas.append(meta)
    table = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame(columns=layout.COLUMNS)
    table = table.astype(layout.DTYPES)
    layout.write_table(out, table)
    previous = layout.read_card(out) or {}
    per_synth: dict[str, Any] = {}
    for synth in cfg.synths:
        schema = registry.load_schema(synth)
        ms = [m for m in metas if m["synth"] == synth]
        rows = table[table.synth == synth]
        failed = {f"{m['shard']}:{k}": v for m in ms for k, v in m["failed"].items()}
        entry: dict[str, Any] = {
            "schema_hash": schema.content_hash, "n_params": schema.n_params, "onehot_size": schema.onehot_size,
            "kinds": schema.counts, "backend": registry.get(synth).backend,
            "presets_planned": sum(len(m["presets"]) for m in ms), "presets_failed": len(failed),
            "failures": failed, "clips": int(len(rows)), "silent_clips_dropped": int(sum(m["silent_clips"] for m in ms)),
            "clips_per_split": {s: int((rows.split == s).sum()) for s in SPLITS},
            "presets_per_split": {s: int(rows[rows.split == s].preset_id.nunique()) for s in SPLITS},
            "timbre_groups": {int(k): int(v) for k, v in
                              rows.drop_duplicates("preset_id").timbre_group.value_counts().sort_index().items()},
            "source": cfg.preset_files.get(synth, "random sampling (asp.synths.sampling)"),
        }
        backend = registry.get(synth).backend
        if backend == "plugin":
            entry["plugin"] = layout.file_identity(registry.plugin_path(synth))
        elif backend == "pip":
            entry["binding"] = registry.binding_identity(synth)
        else:
            entry["dsp"] = layout.file_identity(registry.faust_source(synth))
        floor = (previous.get("synths", {}).get(synth, {}) or {}).get("self_distance")
        if floor is None and cfg.self_distance_presets > 0:
            ok = rows.drop_duplicates("preset_id").preset_id.to_numpy()[: cfg.self_distance_presets]
            if len(ok):
                planned = {pid: v for t in tasks if t.synth == synth for pid, v in zip(t.preset_ids, t.vectors)}
                floor = self_distance(synth, np.stack([planned[int(p)] for p in ok]), cfg.render)
        entry["self_distance"] = floor
        per_synth[synth] = entry
    card = layout.make_card(cfg.plan_dict(), per_synth, table, render_seconds=render_seconds)
    card["throughput"] = throughput or previous.get("throughput")
    layout.write_card(out, card)
    layout.write_readme(out)
    return card


def summary_frame(card: dict[str, Any]) -> pd.DataFrame:
    """One row per synth: clips, splits, failures and the self-distance floor."""
    rows = []
    for synth, e in card["synths"].items():
        floor = e.get("self_distance") or {}
        rows.append({
            "synth": synth, "params": e["n_params"], "onehot": e["onehot_size"], "presets": e["presets_planned"],
            "failed": e["presets_failed"], "clips": e["clips"], "silent_dropped": e["silent_clips_dropped"],
            **{f"{s}_presets": e["presets_per_split"][s] for s in SPLITS},
            "floor_lsd_db": round(floor["lsd_mean"], 3) if "lsd_mean" in floor else None,
            "schema_hash": e["schema_hash"],
        })
    return pd.DataFrame(rows)


def clear(out: str | Path) -> None:
    """Delete a dataset folder (CLI --overwrite)."""
    shutil.rmtree(out, ignore_errors=True)
