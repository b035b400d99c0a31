"""The effect-stage dataset: preset groups of the built-in synths, rendered through every subset of the rack.

Unit of data: a *family* = one preset of a group (its dry render at MIDI note 48, 1 s, as SerumRNN) and one random
draw of settings for all five effects. A family is rendered through all 32 effect subsets, each subset with the
draw's settings for its effects, so every render of a family is the dry sound plus some of the same effects.
Everything else is built from families by index, without new audio:

* *pairs* (the paper's Cartesian product): every (input subset A, target subset T) with A a proper subset of T:
  211 per family (3^5 subset-superset pairs less the 32 with A = T);
* *parameter examples* for effect e: (A, A + e) for every A without e: 16 per effect, 80 per family;
* *selection examples*: one per pair, the steps from the dry sound to A in a seeded random order, then the target;
  the label is the set of effects still missing (T - A), so every step of a sequence is trained, the first included;
  and one per subset with A = T, where the label is empty: the right choice there is to stop.

**Backends.** ``faust`` (the default): a preset of any registered synth, its dry render through the built-in Faust
rack. ``vital``: Vital patches (the ``vital`` synth) through Vital's own effects (``asp.render.vital_rack``): each
render of a family is the patch rendered again with the subset's effects switched on, its dry sound the patch with
the five off; the paper's setting (Serum's own FX rack), on a synth that installs with pip. A dataset records its
backend, and every later stage reads it from there.

Splits are by preset: all families of a preset (and so its dry render, which they share) sit in one split, and no
render is on both sides. On disk: ``families/<group>/<preset>/dNNNN/`` (``mels.npy``, ``mfccs.npy``: the 32 renders'
SerumRNN features, float16; ``family.json``), each folder written atomically, a re-run rendering only the missing
ones; ``families.parquet`` (one row per family, the draw as JSON) and ``card.json``.
"""

from __future__ import annotations

import io
import json
import re
import sys
import zlib
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Callable

import asp.render  # noqa: F401  (DawDreamer before librosa/numba)
import numpy as np
import pandas as pd

from asp.atomic import atomic_dir, atomic_write_bytes, clean_partial
from asp.data.layout import check_or_write_plan, slug
from asp.data.splits import SPLITS, split_by_preset
from asp.synths import effect_specs as specs
from asp.metrics import check_metric
from asp.features.effect import EffectFeatures
from asp.jobs import run_pool
from asp.render.settings import RenderSettings
from asp.synths import registry

GROUPS = specs.PRESET_GROUPS
GROUPS_DIR = registry.PRESETS_DIR / "effects"
NOTE = 48
RENDER = RenderSettings(note_seconds=1.0, render_seconds=1.0, notes=(NOTE,))
WORKER_ENV = {k: "1" for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")}
KINDS = {"mel": "mels", "mfcc": "mfccs"}  # features -> the name of a family's stored array of them
BACKENDS = ("faust", "vital")  # where a family's effects play: the built-in Faust rack, Vital's own effects
VITAL_GROUP = "vital"  # ``--backend vital``'s default group: the hand-made Vital patches, presets/vital


def n_subsets() -> int:
    """Effect subsets of the rack in use: 32 for the built-in five, 64 with one extra effect."""
    return 2 ** len(specs.rack_order())


def pairs_per_family() -> int:
    """(subset, superset) pairs of the rack's effects, less the equal ones: 3^5 - 2^5 = 211 for the five."""
    n = len(specs.rack_order())
    return 3**n - 2**n


def use_extras_of(config: dict[str, Any]) -> None:
    """Set this process's extra effects to the ones a dataset's plan records (none for most datasets)."""
    specs.use_extra([specs.extra_from_record(r) for r in config.get("extra_effects", [])])


@dataclass(frozen=True)
class EffectDataConfig:
    """What ``asp effects dataset`` builds.

    Args:
        out: output folder.
        groups: preset group names (folders of preset JSON files under ``presets_dir``).
        presets_dir: where the groups live (default: ``presets/effects``).
        draws: random effect settings per preset (families per preset).
        seed: seeds the draws and the splits.
        splits: train/valid/test fractions, by preset within each group.
        workers: rendering processes (0 = this process).
        backend: ``faust`` (the built-in rack, any synth's presets) or ``vital`` (Vital patches through Vital's own
            effects; no extra effects there).
        extra: extra effects after the built-in five (``asp.effects.steer.rack_spec``: a steered effect); each
            family is then rendered through every subset of the larger rack (64 with one).
        only: render the families of these splits only. A preset's split depends on the seed and the group alone,
            not on ``draws``, so ``only=("test",)`` with more draws builds a larger test set for models trained
            on a smaller dataset of the same seed (``asp effects eval`` checks that no test preset was trained on).
    """

    out: Path
    groups: tuple[str, ...] = GROUPS
    presets_dir: Path = GROUPS_DIR
    draws: int = 8
    seed: int = 0
    splits: tuple[float, float, float] = (0.75, 0.125, 0.125)
    workers: int = 2
    render: RenderSettings = field(default_factory=lambda: RENDER)
    only: tuple[str, ...] = SPLITS
    extra: tuple[specs.EffectSpec, ...] = ()
    backend: str = "faust"

    def rack_crc(self) -> dict[str, int]:
        """The rack's definition (CRC-32): the Faust rack's DSP, or the effect specs that map chains onto Vital."""
        from asp.render.effects import rack_code

        if self.backend == "vital":
            return {"effects_yaml_crc32": zlib.crc32((resources.files("asp.synths") / "data" / "effects.yaml").read_bytes())}
        return {"rack_dsp_crc32": zlib.crc32(rack_code().encode())}

    def plan_dict(self) -> dict[str, Any]:
        """What the data depends on: settings, the preset files' contents and the rack's DSP (CRC-32s), so that a
        re-run after an edit is refused instead of mixing old and new families."""
        bad = [s for s in self.only if s not in SPLITS]
        if bad or not self.only:
            raise ValueError(f"unknown split {bad[0] if bad else ''!r}; valid: {', '.join(SPLITS)}")
        check_backend(self.backend)
        if self.backend != "faust" and self.extra:
            raise ValueError(f"--backend {self.backend}: extra effects play after the built-in rack only (faust)")
        return {"groups": list(self.groups), "draws": self.draws, "seed": self.seed, "splits": list(self.splits),
                "render": self.render.as_dict(), **self.rack_crc(),
                "presets": {g: {p.name: zlib.crc32(p.read_bytes()) for p in group_files(self, g)}
                            for g in self.groups},
                **({"only": list(self.only)} if tuple(self.only) != SPLITS else {}),
                **({"extra_effects": [specs.extra_record(e) for e in self.extra]} if self.extra else {}),
                **({"backend": self.backend} if self.backend != "faust" else {})}


def check_backend(backend: str) -> str:
    if backend not in BACKENDS:
        raise ValueError(f"unknown effect backend {backend!r}; valid: {', '.join(BACKENDS)}")
    return backend


def family_rack(backend: str, synth: str, vector: np.ndarray, render: RenderSettings) -> tuple[np.ndarray, Any]:
    """(dry audio, rack) of a family's preset: its render and the built-in rack (``faust``), or the patch with its
    five effects off and the rack that sets them on it (``vital``)."""
    if backend == "vital":
        from asp.render.vital_rack import VitalPatchRack

        patch = VitalPatchRack(vector, NOTE, render)
        return patch.dry(), patch
    from asp.render.effects import FaustRack
    from asp.render.factory import get_renderer

    return get_renderer(synth, render).render(vector, NOTE), FaustRack(render.sample_rate)


@dataclass(frozen=True)
class FamilyTask:
    group: str
    preset: str  # the preset file's stem
    synth: str
    vector: np.ndarray
    draw: int
    chain: dict[str, dict[str, float]]
    split: str
    render: RenderSettings
    folder: str
    extra: tuple[dict[str, Any], ...] = ()  # the rack's extra effects (records), set again in the worker
    backend: str = "faust"


def group_files(cfg: EffectDataConfig, group: str) -> list[Path]:
    folder = Path(cfg.presets_dir) / group
    if not folder.is_dir():
        have = sorted(p.name for p in Path(cfg.presets_dir).glob("*") if p.is_dir())
        raise FileNotFoundError(f"{folder}: no preset group {group!r}; groups there: {', '.join(have) or 'none'}")
    files = sorted(folder.glob("*.json"))
    if not files:
        raise FileNotFoundError(f"{folder}: the preset group {group!r} holds no .json presets")
    return files


def _rng(seed: int, *keys: str | int) -> np.random.Generator:
    return np.random.default_rng([seed, *(zlib.crc32(str(k).encode()) for k in keys)])


def plan(cfg: EffectDataConfig) -> list[FamilyTask]:
    """Every family, deterministic in the config."""
    from asp.synths.presets import read_json_preset

    tasks: list[FamilyTask] = []
    specs.use_extra(cfg.extra)
    extra = tuple(specs.extra_record(e) for e in cfg.extra)
    for group in cfg.groups:
        files = group_files(cfg, group)
        split = split_by_preset(len(files), cfg.splits, _rng(cfg.seed, group, "split"))
        for path, sp in zip(files, split):
            if sp not in cfg.only:
                continue
            synth = json.loads(path.read_text()).get("synth")
            if synth not in registry.names():
                raise ValueError(f"{path}: unknown synth {synth!r}; registered: {', '.join(registry.names())}")
            if cfg.backend == "vital" and synth != "vital":
                raise ValueError(f"{path}: a {synth} preset; --backend vital plays Vital patches (synth: vital) only")
            preset = read_json_preset(path, registry.load_schema(synth))
            for d in range(cfg.draws):
                chain = specs.sample_chain(specs.rack_order(), _rng(cfg.seed, group, path.stem, d))
                tasks.append(FamilyTask(group=group, preset=path.stem, synth=synth, vector=preset.vector, draw=d,
                                        chain=chain, split=sp, render=cfg.render, extra=extra, backend=cfg.backend,
                                        folder=str(Path(cfg.out) / "families" / group / slug(path.stem) / f"d{d:04d}")))
    return tasks


def render_family(task: FamilyTask, report: Callable[[Any], None]) -> dict[str, Any]:
    """Render one family: the dry preset, then every subset (32 of the five) through the rack, with SerumRNN's
    features (runs in a worker; one synth engine and one rack per process)."""
    from asp.features.effect import effect_mel, effect_mfcc

    specs.use_extra([specs.extra_from_record(r) for r in task.extra])
    f = EffectFeatures(sample_rate=task.render.sample_rate)
    dry, rack = family_rack(task.backend, task.synth, task.vector, task.render)
    mels, mfccs, peaks = [], [], []
    for subset in specs.subsets():
        audio = rack.apply(dry, specs.subchain(task.chain, subset))
        mel = effect_mel(audio, f)
        mels.append(mel)
        mfccs.append(effect_mfcc(mel, f))
        peaks.append(float(np.max(np.abs(audio))))
    with atomic_dir(task.folder) as tmp:
        np.save(tmp / "mels.npy", np.stack(mels).astype(np.float16))
        np.save(tmp / "mfccs.npy", np.stack(mfccs).astype(np.float16))
        (tmp / "family.json").write_text(json.dumps({
            "group": task.group, "preset": task.preset, "synth": task.synth, "draw": task.draw,
            "chain": specs.as_jsonable(task.chain), "split": task.split, "peaks": peaks}, indent=1))
    return {"folder": task.folder, "dry_peak": peaks[0]}


def family_id(group: str, preset: str, draw: int) -> str:
    return f"{group}/{slug(preset)}/d{draw:04d}"


def generate(cfg: EffectDataConfig, log: Callable[[str], None] | None = None) -> Path:
    """Build (or finish) the effect dataset. Returns the output folder.

    Raises:
        FileNotFoundError: a missing preset group (naming the groups that exist).
        ValueError: the folder holds a dataset made with other settings.
        RuntimeError: some families failed (re-run to retry them).
    """
    log = log or (lambda m: print(m, file=sys.stderr))
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    wanted = cfg.plan_dict()
    check_or_write_plan(out, wanted, "an effect dataset", "use another folder or delete it")
    tasks = plan(cfg)
    for folder in {Path(t.folder).parent for t in tasks}:
        if folder.is_dir():
            clean_partial(folder)
    todo = [t for t in tasks if not (Path(t.folder) / "family.json").is_file()]
    if len(todo) < len(tasks):
        log(f"resuming: {len(tasks) - len(todo)} of {len(tasks)} families already rendered")
    errors: list[str] = []
    silent: list[str] = []

    def on_result(task: FamilyTask, result: dict[str, Any]) -> None:
        if result["dry_peak"] < 1e-4:
            silent.append(family_id(task.group, task.preset, task.draw))

    def on_error(task: FamilyTask, err: str) -> None:
        errors.append(f"{task.group}/{task.preset} draw {task.draw}: {err.splitlines()[0]}")

    def on_crash(crash: Any) -> None:
        on_error(crash.task, f"worker crashed ({crash.how})")

    run_pool(todo, render_family, cfg.workers, env=WORKER_ENV, on_result=on_result, on_error=on_error,
             on_crash=on_crash)
    if errors:
        raise RuntimeError("some families failed (re-run to retry them):\n" + "\n".join(errors))
    families = pd.DataFrame([{
        "family": family_id(t.group, t.preset, t.draw), "group": t.group, "preset": t.preset, "synth": t.synth,
        "draw": t.draw, "split": t.split, "folder": str(Path(t.folder).relative_to(out)),
        "chain": json.dumps(specs.as_jsonable(t.chain)),
    } for t in tasks])
    atomic_write_bytes(out / "families.parquet", families.to_parquet(index=False))
    card = {"config": wanted, "families": len(families), "renders": len(families) * n_subsets(),
            "silent_dry_families": silent,
            "per_split": {s: {"presets": int(families[families.split == s].preset.nunique()),
                              "families": int((families.split == s).sum()),
                              "pairs": int((families.split == s).sum()) * pairs_per_family()} for s in SPLITS},
            "features": asdict(EffectFeatures(sample_rate=cfg.render.sample_rate)),
            "presets_dir": str(Path(cfg.presets_dir).resolve())}
    atomic_write_bytes(out / "card.json", json.dumps(card, indent=1).encode())
    return out


# ---------------------------------------------------------------------- reading it back


class EffectDataset:
    """An effect dataset folder: families, their features, and the pair/example indices built from them."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        if not (self.root / "families.parquet").is_file():
            raise FileNotFoundError(f"{self.root}: not an effect dataset (no families.parquet; run asp effects dataset)")
        self.families = pd.read_parquet(self.root / "families.parquet")
        self.card = json.loads((self.root / "card.json").read_text())
        use_extras_of(self.card["config"])  # the rack it was made with, for every stage that reads it
        self._cache: dict[tuple[int, str], np.ndarray] = {}
        self._racks: dict[int, Any] = {}  # the rack per family (one shared Faust rack; a Vital patch per family)

    @property
    def backend(self) -> str:
        """Where the families' effects play (``BACKENDS``)."""
        return str(self.card["config"].get("backend", "faust"))

    def features(self, family: int, kind: str = "mels") -> np.ndarray:
        """(subsets, bins, frames) float16 features of a family (by row number), memory-mapped; ``kind`` mels|mfccs."""
        key = (int(family), kind)
        if key not in self._cache:
            self._cache[key] = np.load(self.root / self.families.folder.iloc[int(family)] / f"{kind}.npy",
                                       mmap_mode="r")
        return self._cache[key]

    def _preset(self, family: int) -> tuple[str, np.ndarray]:
        """(synth, vector) of a family's preset, read again from its file (refused if edited since)."""
        from asp.synths.presets import read_json_preset

        row = self.families.iloc[int(family)]
        path = Path(self.card["presets_dir"]) / row.group / f"{row.preset}.json"
        if not path.is_file():
            raise FileNotFoundError(f"{path}: the preset of family {row.family} is gone")
        if zlib.crc32(path.read_bytes()) != self.card["config"]["presets"][row.group][path.name]:
            raise ValueError(f"{path}: edited since the dataset {self.root} was built; rebuild it")
        return str(row.synth), read_json_preset(path, registry.load_schema(row.synth)).vector

    @property
    def render_settings(self) -> RenderSettings:
        return RenderSettings.from_dict(self.card["config"]["render"])

    def rack(self, family: int) -> Any:
        """The rack a family's effects play on (``asp.render.effects.Rack``): this process's built-in Faust rack, or
        the family's Vital patch (``asp.render.vital_rack.VitalPatchRack``, which ignores the audio it is given)."""
        key = int(family) if self.backend == "vital" else -1
        if key not in self._racks:
            if self.backend == "vital":
                from asp.render.vital_rack import VitalPatchRack

                self._racks = {key: VitalPatchRack(self._preset(family)[1], NOTE, self.render_settings)}
            else:
                from asp.render.effects import FaustRack

                self._racks[key] = FaustRack(self.sample_rate)
        return self._racks[key]

    def dry(self, family: int) -> np.ndarray:
        """The family's dry sound, rendered again from its preset file (the effect stage's loop needs audio; the
        dataset keeps only features). Refuses a preset file edited since the dataset was built."""
        if self.backend == "vital":
            return np.asarray(self.rack(family).dry(), np.float32)
        from asp.render.factory import get_renderer

        synth, vector = self._preset(family)
        return get_renderer(synth, self.render_settings).render(vector, NOTE)

    def distances(self, family: int, metric: str = "mssmae") -> np.ndarray:
        """(subsets, subsets): ``metric`` of render x against render t of the family, for x a subset of t (NaN elsewhere), on
        the true audio (the family's dry sound through the rack again; the dataset keeps only features). Computed
        once and kept under ``distances/<metric>/`` beside the families (atomic, one file per family)."""
        from asp.metrics import effect_metrics
        from asp.features.effect import spectra

        check_metric(metric)
        path = self.root / "distances" / metric / f"{self.families.folder.iloc[int(family)]}.npy"
        if path.is_file():
            return np.load(path)
        f = EffectFeatures(sample_rate=self.sample_rate)
        dry, chain, rack = self.dry(family), self.chain(family), self.rack(family)
        spec = [spectra(rack.apply(dry, specs.subchain(chain, sub)), f) for sub in specs.subsets()]
        n = n_subsets()
        d = np.full((n, n), np.nan)
        for t in range(n):
            for x in range(n):
                if x & t == x:
                    d[x, t] = effect_metrics(spec[x], spec[t], f)[metric]
        path.parent.mkdir(parents=True, exist_ok=True)
        buf = io.BytesIO()
        np.save(buf, d)
        atomic_write_bytes(path, buf.getvalue())
        return d

    @property
    def sample_rate(self) -> int:
        return int(self.card["config"]["render"]["sample_rate"])

    def chain(self, family: int) -> dict[str, dict[str, float]]:
        """The family's draw (settings of every effect of the rack)."""
        raw = json.loads(self.families.chain.iloc[int(family)])
        return {n: {p.name: float(raw[n][p.name]) for p in specs.get(n).params} for n in specs.rack_order()}

    def rows(self, split: str | None = None, group: str | None = None) -> np.ndarray:
        """Row numbers of the families in a split and/or group."""
        m = np.ones(len(self.families), bool)
        if split is not None:
            m &= (self.families.split == split).to_numpy()
        if group is not None:
            m &= (self.families.group == group).to_numpy()
        return np.nonzero(m)[0]


def pairs(families: np.ndarray) -> pd.DataFrame:
    """The Cartesian product per family: (family, input mask, target mask) for every A proper subset of T."""
    n = n_subsets()
    masks = [(a, t) for t in range(n) for a in range(n) if a & t == a and a != t]
    fam = np.repeat(np.asarray(families, np.int64), len(masks))
    a, t = np.array(masks).T
    return pd.DataFrame({"family": fam, "input": np.tile(a, len(families)), "target": np.tile(t, len(families))})


def param_examples(families: np.ndarray, effect: str) -> pd.DataFrame:
    """Training examples of one effect's parameter model: (family, input mask A, target mask A + effect)."""
    bit = specs.mask_of((effect,))
    inputs = [a for a in range(n_subsets()) if not a & bit]
    fam = np.repeat(np.asarray(families, np.int64), len(inputs))
    a = np.tile(inputs, len(families))
    return pd.DataFrame({"family": fam, "input": a, "target": a | bit})


ORDERS = ("any", "greedy")


def greedy_label(dist: np.ndarray, have: int, target: int) -> int:
    """The missing effect (as a mask bit) whose addition brings render ``have`` closest to ``target`` in a family's
    ``distances``; 0 when none is missing."""
    bits = [1 << k for k in range(len(specs.rack_order())) if (target & ~have) >> k & 1]
    return min(bits, key=lambda b: dist[have | b, target]) if bits else 0


def next_label(data: "EffectDataset", family: int, have: int, target: int, order: str = "any",
               metric: str = "mssmae") -> int:
    """A selector's label from the sound with effects ``have`` toward ``target``: the mask of the missing effects
    (``any``, the paper: each is a right next step) or the bit of the ``greedy`` one (``greedy_label`` on the
    family's ``distances`` in ``metric``); 0 when none is missing: stop."""
    missing = target & ~have
    if order == "greedy" and missing:
        return greedy_label(data.distances(family, metric), have, target)
    return missing


def selection_examples(families: np.ndarray, seed: int = 0, stop: bool = True) -> pd.DataFrame:
    """One example per pair: the path of masks from the dry sound to the input A (A's effects added in a seeded
    random order), the target T, and the label, the mask of T's effects missing from A. Step k of a sequence is
    the example whose A has k effects, so every step is trained. ``stop``: also the 32 cases (of the five) per family where A
    already is T (label 0: the right choice is to stop)."""
    p = pairs(families)
    if stop:
        same = np.arange(n_subsets())
        p = pd.concat([p, pd.DataFrame({"family": np.repeat(np.asarray(families, np.int64), len(same)),
                                        "input": np.tile(same, len(families)), "target": np.tile(same, len(families))})],
                      ignore_index=True)
    rng = np.random.default_rng(seed)
    paths = []
    for a in p.input.to_numpy():
        bits = [1 << k for k in range(len(specs.rack_order())) if a >> k & 1]
        rng.shuffle(bits)
        paths.append(tuple(int(x) for x in np.cumsum([0] + bits)))
    p["path"] = paths
    p["label"] = p.target - p.input
    p["step"] = [len(x) for x in paths]  # 1 = choosing the first effect
    return p

