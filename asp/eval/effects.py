"""``asp effects eval``: the SerumRNN paper's tables for each preset group, on the test split.

Evaluation pairs start from a test family's dry sound; the target is the same sound through a subset T of the
family's effect draw. ``pairs_per_length`` pairs are drawn per chain length |T| = 1..5 (the paper used 200; a test
split has ``families x C(5, |T|)`` to draw from, so small datasets give fewer, and the table says how many).

Every system runs the same loop (``asp.effects.loop``) once per pair with every step allowed (no stopping), and the
stopping rules are applied afterwards by ``replay``: a run's steps do not depend on its patience until it stops, so
this gives exactly what a live run with each rule would give. From these runs:

* ``overall``: mean start and final value and mean change (final - start) of the six metrics per system, under the
  default rule (one bad step tolerated, no rollback), the mean steps applied and the share of runs the system ended
  itself (a selector's stop; the Oracle when the target's effects are used) before the rule did;
* ``per_step``: mean change of each metric made by step k, over the runs that applied a k-th step (default rule);
* ``per_step_length``: the same per chain length of the target. Step k of the pooled table averages over the runs
  that got that far, mostly longer chains, so a change there mixes the step with the population; within one
  length it does not;
* ``accuracy``: next-effect accuracy per step: the chosen effect is one of the target's still missing effects
  (counted while some are missing);
* ``per_effect``: mean change made by each effect's step in the Oracle runs (true effects, predicted settings:
  the parameter models alone);
* ``patience``: mean final error and steps applied against the number of tolerated bad steps, with and without
  rollback;
* ``latency``: milliseconds per step: selection, parameters, render, features and metrics.
* ``param_errors``: the parameter models alone on the true audio of the split's families (``param_errors``): per
  effect and parameter, the mean absolute and squared error of a continuous value (normalised, 0-1) and the
  accuracy of a categorical one, from the dry sound toward the effect alone and from the other four effects toward
  all five.

MSE, MAE, PCC and MSSMAE are printed x100, LSD and MFCC distance in dB, as in the paper. The raw runs are kept
(``runs/<group>/<system>.parquet``, written atomically), so an interrupted evaluation resumes.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from asp.atomic import atomic_write_bytes
from asp.data.effects import KINDS, EffectDataset, _rng, n_subsets
from asp.data.layout import check_or_write_plan
from asp.effects.loop import EffectLoop, Step, replay
from asp.effects.systems import KNOWING, LABELS, SYSTEMS, Models, build, parse_systems
from asp.features.effect import EffectFeatures
from asp.metrics import EFFECT_METRICS, check_metric
from asp.paths import relocate
from asp.render.effects import Rack
from asp.synths import effect_specs as specs

SCALE = {"mse": 100.0, "mae": 100.0, "pcc": 100.0, "mssmae": 100.0, "lsd": 1.0, "mfccd": 1.0}
SELECTING = tuple(s for s in SYSTEMS if s not in KNOWING)  # the systems whose choices can be wrong


@dataclass(frozen=True)
class EvalConfig:
    """What ``asp effects eval`` measures.

    Args:
        groups: preset groups to evaluate (default: all in the dataset).
        systems: the systems to compare (``asp.effects.systems.SYSTEMS``).
        pairs_per_length: pairs per chain length 1-5.
        split: the families to draw pairs from.
        metric: the stopping rule's metric.
        patience: bad steps tolerated by the default rule (the tables' main setting).
        seed: seeds the pair draw and the Random system.
        search_classes: the loop's class search (``asp.effects.loop``), for every system but Exact, whose
            settings are the true ones.
    """

    groups: tuple[str, ...] | None = None
    systems: tuple[str, ...] = tuple(SYSTEMS)
    pairs_per_length: int = 200
    split: str = "test"
    metric: str = "mssmae"
    patience: int = 1
    seed: int = 0
    search_classes: bool = False


def eval_pairs(data: EffectDataset, group: str, cfg: EvalConfig) -> pd.DataFrame:
    """(family, target mask, length) drawn per chain length, seeded."""
    fams = data.rows(cfg.split, group)
    if not len(fams):
        raise ValueError(f"{data.root}: no {cfg.split} families in group {group!r}")
    rng = _rng(cfg.seed, "eval", group)
    rows = []
    for k in range(1, len(specs.rack_order()) + 1):
        masks = [t for t in range(1, n_subsets()) if bin(t).count("1") == k]
        cand = [(int(f), t) for f in fams for t in masks]
        pick = rng.permutation(len(cand))[: cfg.pairs_per_length]
        rows += [{"family": cand[i][0], "target": cand[i][1], "length": k} for i in sorted(pick)]
    return pd.DataFrame(rows)


class Cases:
    """The audio of a group's pairs (dry sound, target, the target's effects and their settings), rendered once for
    every system. Each family's effects play on the dataset's rack for it (``EffectDataset.rack``)."""

    def __init__(self, data: EffectDataset, pairs: pd.DataFrame) -> None:
        self.data, self.pairs = data, pairs
        self._dry: dict[int, np.ndarray] = {}
        self._cases: dict[int, tuple[np.ndarray, np.ndarray, specs.Chain]] = {}

    def __getitem__(self, n: int) -> tuple[np.ndarray, np.ndarray, specs.Chain]:
        if n not in self._cases:
            p = self.pairs.iloc[n]
            fam = int(p.family)
            if fam not in self._dry:
                self._dry[fam] = self.data.dry(fam)
            chain = specs.subchain(self.data.chain(fam), specs.subsets()[int(p.target)])
            self._cases[n] = (self._dry[fam], self.rack(n).apply(self._dry[fam], chain), chain)
        return self._cases[n]

    def rack(self, n: int) -> Rack:
        """The rack pair ``n`` plays on."""
        return self.data.rack(int(self.pairs.family.iloc[n]))


def run_system(
    data: EffectDataset, models: Models, system: str, cases: Cases, cfg: EvalConfig, log: Callable[[str], None]
) -> pd.DataFrame:
    """One row per step of every pair's run (and one row with step 0 for the start), every step allowed."""
    f = EffectFeatures(sample_rate=data.sample_rate)
    rows: list[dict] = []
    t0 = time.perf_counter()
    pairs = cases.pairs
    for n, p in enumerate(pairs.itertuples()):
        dry, target, missing = cases[n]
        policy, params = build(system, models, missing=missing, rng=_rng(cfg.seed, "random", n))
        loop = EffectLoop(
            cases.rack(n),
            policy,
            params,
            metric=cfg.metric,
            patience=len(specs.rack_order()),
            features=f,
            search_classes=cfg.search_classes and system != "exact",
        )
        res = loop.run(dry, target)
        base = {"pair": n, "family": p.family, "target": p.target, "length": p.length}
        rows.append({**base, "step": 0, "stopped": res.stopped, **res.start})
        used: list[str] = []
        for s in res.steps:
            left = [e for e in missing if e not in used]
            rows.append(
                {
                    **base,
                    "step": s.index,
                    "effect": s.effect,
                    "setting": json.dumps(s.setting),
                    "correct": (s.effect in left) if left else np.nan,
                    "kept": s.kept,
                    **s.metrics,
                    **{f"sec_{k}": v for k, v in s.seconds.items()},
                }
            )
            used.append(s.effect)
        if (n + 1) % 50 == 0:
            log(f"  {system}: {n + 1}/{len(pairs)} pairs ({time.perf_counter() - t0:.0f} s)")
    return pd.DataFrame(rows)


def parse_runs(runs: pd.DataFrame) -> list[tuple[int, int, bool, dict[str, float], list[Step]]]:
    """Per pair: (pair, length, whether the policy stopped the run, start metrics, steps), read once for every
    stopping rule replayed on them."""
    out = []
    for pair, run in runs.groupby("pair", sort=True):
        start = run[run.step == 0].iloc[0]
        steps = [
            Step(int(r.step), str(r.effect), {}, {m: float(getattr(r, m)) for m in EFFECT_METRICS}, {}, bool(r.kept))
            for r in run[run.step > 0].itertuples()
        ]
        policy_stop = "stopped" in run and start.stopped == "the policy stopped"
        out.append(
            (int(pair), int(start.length), bool(policy_stop), {m: float(start[m]) for m in EFFECT_METRICS}, steps)
        )
    return out


def outcomes(runs: pd.DataFrame | list, metric: str, patience: int, rollback: bool = False) -> pd.DataFrame:
    """Per pair: start and final metrics and the steps applied under a stopping rule (``replay``); ``runs`` raw or
    already parsed (``parse_runs``)."""
    out = []
    for pair, length, policy_stop, start, steps in parse_runs(runs) if isinstance(runs, pd.DataFrame) else runs:
        final, applied = replay(start, steps, metric, patience, rollback)
        kept_all = (applied if not rollback else replay(start, steps, metric, patience)[1]) == len(steps)
        out.append(
            {
                "pair": pair,
                "length": length,
                "applied": applied,
                "own_stop": policy_stop and kept_all,  # the system ended the run itself, before the rule did
                **{f"start_{m}": start[m] for m in EFFECT_METRICS},
                **{f"final_{m}": final[m] for m in EFFECT_METRICS},
            }
        )
    return pd.DataFrame(out)


def step_deltas(runs: pd.DataFrame, applied: pd.Series) -> pd.DataFrame:
    """Each applied step's change of the six metrics (after - before), with its step number, effect and the
    target's chain length."""
    runs = runs.sort_values(["pair", "step"])
    prev = runs.groupby("pair")[list(EFFECT_METRICS)].shift(1)
    d = runs[list(EFFECT_METRICS)] - prev
    d[["pair", "step", "effect", "length"]] = runs[["pair", "step", "effect", "length"]]
    d = d[d.step > 0]
    return d[d.step <= d.pair.map(applied)]


def mean_change(d: pd.DataFrame, by: str | list[str], count: str = "runs") -> pd.DataFrame:
    """Mean step change of the six metrics per ``by`` (printed scale), with the number of steps first."""
    m = d.groupby(by)[list(EFFECT_METRICS)].mean().mul(pd.Series(SCALE)[list(EFFECT_METRICS)])
    m.insert(0, count, d.groupby(by).size())
    return m


PARAM_CASES = ("dry -> the effect alone", "the other four -> all five")


def param_errors(
    data: EffectDataset,
    families: Sequence[int] | np.ndarray,
    predict: Callable[[str, torch.Tensor], list[specs.Setting]],
    features: str = "mel",
) -> pd.DataFrame:
    """Errors of predicted settings against the true ones (see the module docstring), one row per effect,
    parameter and measure (``mae``, ``mse``: continuous; ``accuracy``: categorical), a column per case
    (``PARAM_CASES``). ``predict(effect, x)``: settings for a batch of (current, target) features."""
    rows = []
    for effect in specs.rack_order():
        spec = specs.get(effect)
        others = [e for e in specs.rack_order() if e != effect]
        cases = dict(
            zip(
                PARAM_CASES,
                ((0, specs.mask_of([effect])), (specs.mask_of(others), specs.mask_of(list(specs.rack_order())))),
            )
        )
        true = [data.chain(int(f))[spec.name] for f in families]
        for case, (a, t) in cases.items():
            x = np.stack([data.features(int(f), KINDS[features])[[a, t]] for f in families]).astype(np.float32)
            pred = predict(spec.name, torch.from_numpy(x))
            for p in spec.params:
                got = np.array([s[p.name] for s in pred])
                want = np.array([s[p.name] for s in true])
                measures = (
                    {"accuracy": float(np.mean(got == want))}
                    if p.categorical
                    else {"mae": float(np.mean(np.abs(got - want))), "mse": float(np.mean((got - want) ** 2))}
                )
                rows += [
                    {"effect": spec.name, "parameter": p.name, "measure": k, "case": case, "value": v}
                    for k, v in measures.items()
                ]
    table = pd.DataFrame(rows).pivot_table(
        index=["effect", "parameter", "measure"], columns="case", values="value", sort=False
    )
    return table[list(PARAM_CASES)]


def tables(all_runs: dict[str, pd.DataFrame], cfg: EvalConfig) -> dict[str, pd.DataFrame]:
    """The paper's tables for one group, from the raw runs of each system."""
    metric = cfg.metric
    overall, per_step, per_length, acc, pat, lat = [], [], [], [], [], []
    per_effect = pd.DataFrame()
    for system, runs in all_runs.items():
        label = LABELS[system]
        parsed = parse_runs(runs)
        o = outcomes(parsed, metric, cfg.patience)
        row = {"system": label, "pairs": len(o), "steps": o.applied.mean(), "own stops": o.own_stop.mean()}
        for m in EFFECT_METRICS:
            row[f"{m} start"] = o[f"start_{m}"].mean() * SCALE[m]
            row[f"{m} final"] = o[f"final_{m}"].mean() * SCALE[m]
            row[f"{m} Δ"] = row[f"{m} final"] - row[f"{m} start"]
        overall.append(row)
        d = step_deltas(runs, o.set_index("pair").applied)
        per_step.append(mean_change(d, "step").assign(system=label).reset_index())
        per_length.append(mean_change(d, ["length", "step"]).assign(system=label).reset_index())
        if system == "oracle":
            pe = mean_change(d, "effect", "steps")
            per_effect = pe.reindex([e for e in specs.rack_order() if e in pe.index])
        if system in SELECTING:
            r = runs[(runs.step > 0) & runs.correct.notna()]
            a = r.groupby("step").correct.mean().rename(lambda k: f"step {k}").to_dict()
            acc.append({"system": label, "all steps": r.correct.astype(float).mean(), **a})
        for p in range(len(specs.rack_order())):
            for rb in (False, True):
                q = outcomes(parsed, metric, p, rb)
                pat.append(
                    {
                        "system": label,
                        "tolerated bad steps": p,
                        "rollback": rb,
                        f"{metric} final": q[f"final_{metric}"].mean() * SCALE[metric],
                        f"{metric} Δ": (q[f"final_{metric}"] - q[f"start_{metric}"]).mean() * SCALE[metric],
                        "steps": q.applied.mean(),
                    }
                )
        s = runs[runs.step > 0]
        secs = {k: s[f"sec_{k}"].mean() * 1000 for k in ("select", "params", "render", "features")}
        lat.append(
            {
                "system": label,
                **{f"{k} ms": v for k, v in secs.items()},
                "total ms": sum(secs.values()),
                "steps": len(s),
            }
        )
    return {
        "overall": pd.DataFrame(overall).set_index("system"),
        "per_step": pd.concat(per_step).set_index(["system", "step"]) if per_step else pd.DataFrame(),
        "per_step_length": pd.concat(per_length).set_index(["system", "length", "step"])
        if per_length
        else pd.DataFrame(),
        "accuracy": pd.DataFrame(acc).set_index("system") if acc else pd.DataFrame(),
        "per_effect": per_effect,
        "patience": pd.DataFrame(pat).set_index(["system", "tolerated bad steps", "rollback"]),
        "latency": pd.DataFrame(lat).set_index("system"),
    }


def _plot(t: dict[str, pd.DataFrame], metric: str, path: Path) -> None:
    from asp.plotting import pyplot, save_png

    fig, ax = pyplot().subplots(1, 2, figsize=(10, 3.6))
    ps = t["per_step"].reset_index()
    for system, g in ps.groupby("system", sort=False):
        ax[0].plot(g.step, g[metric], marker="o", label=system)
    ax[0].axhline(0, color="grey", lw=0.5)
    ax[0].set(xlabel="step", ylabel=f"mean Δ {metric} (x{SCALE[metric]:g})", title="change per step")
    pt = t["patience"].reset_index()
    for system, g in pt[~pt.rollback].groupby("system", sort=False):
        ax[1].plot(g["tolerated bad steps"], g[f"{metric} final"], marker="o", label=system)
    ax[1].set(xlabel="tolerated bad steps", ylabel=f"final {metric} (x{SCALE[metric]:g})", title="stopping rule")
    ax[1].legend(fontsize=7)
    save_png(fig, path)


def _md(df: pd.DataFrame) -> str:
    from asp.eval.report import markdown_table

    return markdown_table(df.reset_index(), digits=3)


def check_unseen(ds: EffectDataset, models: Models, split: str) -> None:
    """Refuses to evaluate on presets the models were trained or validated on. Within one dataset the splits are
    by preset already; an evaluation on another dataset (say a larger test set, ``asp effects dataset --splits
    test``) is checked against the training dataset's families, where that folder still exists."""
    recorded = models.config.get("data")
    if not recorded:
        return
    src = relocate(str(recorded), recorded_home=models.config.get("folder"), home=models.folder)
    if not (src / "families.parquet").is_file() or src.resolve() == ds.root.resolve():
        return
    trained = pd.read_parquet(src / "families.parquet")
    seen = set(zip(trained.group, trained.preset)) - set(
        zip(*[trained[trained.split == "test"][c] for c in ("group", "preset")])
    )
    mine = ds.families[ds.families.split == split]
    leak = sorted({f"{g}/{p}" for g, p in zip(mine.group, mine.preset) if (g, p) in seen})
    if leak:
        raise ValueError(
            f"{ds.root}: the {split} presets {', '.join(leak)} are in the training or validation data of "
            f"the models in {models.folder} ({src}); evaluate on presets they never saw"
        )


def evaluate(
    data: str | Path,
    models: str | Path,
    out: str | Path,
    cfg: EvalConfig = EvalConfig(),
    log: Callable[[str], None] = print,
) -> Path:
    """Run the evaluation and write ``OUT/report.md`` with a CSV per table and group and a PNG per group."""
    ds = EffectDataset(data)
    m = Models(models)
    systems = parse_systems(cfg.systems)
    check_unseen(ds, m, cfg.split)
    check_metric(cfg.metric)
    groups = list(cfg.groups or sorted(ds.families.group.unique()))
    bad = [g for g in groups if g not in set(ds.families.group)]
    if bad:
        raise ValueError(f"{ds.root} has no group {bad[0]!r}; groups: {', '.join(sorted(set(ds.families.group)))}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    settings = {k: v for k, v in asdict(cfg).items() if k != "search_classes" or v}  # (earlier plans lack it)
    wanted = {
        **settings,
        "groups": groups,
        "systems": systems,
        "models": {**m.config, "checkpoints": m.fingerprint()},
        "data": str(ds.root.resolve()),
    }
    # each group's and system's runs are files of their own: adding some is safe
    check_or_write_plan(out, wanted, "an evaluation", "use another folder or delete it", free=("groups", "systems"))
    lines = [
        f"# Effect stage evaluation (SerumRNN's tables, {ds.backend} effects)",
        "",
        f"Data `{ds.root}`, models `{m.folder}` ({m.features} features), split `{cfg.split}`, stopping rule on "
        f"`{cfg.metric}` tolerating {cfg.patience} bad step(s)"
        f"{'; categorical classes searched by ear (not for Exact)' if cfg.search_classes else ''}. "
        "MSE, MAE, PCC, MSSMAE x100; LSD, MFCCD in dB.",
        "",
    ]
    for group in groups:
        pairs = eval_pairs(ds, group, cfg)
        cases = Cases(ds, pairs)
        runs = {}
        for system in systems:
            f = out / "runs" / group / f"{system}.parquet"
            if f.is_file():
                runs[system] = pd.read_parquet(f)
                continue
            log(f"{group}: {LABELS[system]} on {len(pairs)} pairs")
            runs[system] = run_system(ds, m, system, cases, cfg, log)
            f.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(f, runs[system].to_parquet(index=False))
        t = tables(runs, cfg)
        t["param_errors"] = param_errors(ds, ds.rows(cfg.split, group), m.predict_settings, m.features)
        counts = pairs.groupby("length").size().to_dict()
        lines += [
            f"## {group}",
            "",
            f"Pairs per chain length: {counts} (test families: {len(ds.rows(cfg.split, group))}).",
            "",
        ]
        for name, title in (
            ("overall", "Overall change per system"),
            ("per_step", "Change per step"),
            ("per_step_length", f"Change of {cfg.metric} per step, by the target's chain length (runs in brackets)"),
            ("accuracy", "Next-effect accuracy per step"),
            ("per_effect", "Change per effect (Oracle: true effects, predicted settings)"),
            ("patience", "Error against tolerated bad steps"),
            ("latency", "Latency per step"),
            ("param_errors", "Parameter models alone, on true audio (continuous values 0-1)"),
        ):
            df = t[name]
            if df.empty:
                continue
            atomic_write_bytes(out / f"{group}_{name}.csv", df.to_csv().encode())
            if name == "overall":
                df = df[
                    [
                        "pairs",
                        "steps",
                        "own stops",
                        *[f"{m_} Δ" for m_ in EFFECT_METRICS],
                        f"{cfg.metric} start",
                        f"{cfg.metric} final",
                    ]
                ]
            elif name == "per_step_length":
                rows = df.index.droplevel("step").unique()  # (system, length) in the table's order
                df = df.apply(lambda r: f"{r[cfg.metric]:.3f} ({int(r.runs)})", axis=1).unstack("step", fill_value="")
                df = df.reindex(rows)
                df.columns = [f"step {k}" for k in df.columns]
            lines += [f"### {title}", "", _md(df), ""]
        _plot(t, cfg.metric, out / f"{group}.png")
        lines += [f"![{group}]({group}.png)", ""]
    md = out / "report.md"
    atomic_write_bytes(md, "\n".join(lines).encode())
    return md
