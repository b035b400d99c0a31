"""Does a hand-made preset's sound hang on round values? A rounding pass after the search, as a probe.

The pass: for each continuous parameter in turn, try the synth's default and the value rounded to one and to two
significant figures in the parameter's natural units (``SearchSpace.rounded``), nearest first; keep the first that
scores closer (full-length renders, the search's objective below the file's band); two sweeps at most. Every try
is a render, counted.

``--pass classes`` runs a class sweep instead: for each discrete parameter in turn, every other class (the rest
fixed), the closest kept if it beats the vector; two sweeps at most. ``--all-synths`` passes every synth's patch of
each file, not only its own synth's and the best one's.

Two places to start it from:

* ``--inferred DIR``: the patches of an ``asp infer --refine`` (or bench) report, for each file its own synth's
  and the best synth's (targets from ``--targets``, ``<synth>/<file>``);
* ``--recover SYNTHS``: ``scripts/probe_recovery.py``'s starts (each held-back preset with its continuous values
  moved by ``--noise``), searched by ``--method`` for ``--budget`` renders first.

Usage: python scripts/probe_rounding.py --targets runs/qs/targets (--inferred runs/qs/inferred [--pass classes]
       [--all-synths] | --recover wavetable [--method gn] [--budget 300] [--noise 0.1])
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd
from probe_recovery import moved_starts  # scripts/, on the path when run as a script

import asp.render  # noqa: F401  (DawDreamer before librosa)
from asp.features.audio_io import load_audio
from asp.metrics import lsd
from asp.render import RenderSettings, get_renderer
from asp.search import Candidate, SearchOptions, refine
from asp.search.objective import Objective
from asp.search.space import SearchSpace
from asp.synths import load_schema
from asp.synths.presets import read_json_preset

Point = tuple[np.ndarray, np.ndarray]  # (continuous values, class indices), as SearchSpace.split gives them


def coordinate_pass(
    score: Callable[[np.ndarray], float],
    space: SearchSpace,
    vector: np.ndarray,
    coords: int,
    moves: Callable[[np.ndarray, np.ndarray, int], Iterable[Point]],
    first_gain: bool,
    sweeps: int = 2,
) -> tuple[np.ndarray, float, int]:
    """(the vector after the pass, its score, renders tried) from ``vector``: for each of ``coords`` coordinates in
    turn the points ``moves(x, k, j)`` are tried (``score`` renders a native vector) and the first closer one
    (``first_gain``) or the closest is kept; at most ``sweeps`` sweeps, fewer where one keeps nothing."""
    x, k = space.split(vector)
    best, tries = score(space.join(x, k)), 0
    for _ in range(sweeps):
        changed = False
        for j in range(coords):
            found = None
            for y, c in moves(x, k, j):
                s, tries = score(space.join(y, c)), tries + 1
                if s < best - 1e-6:
                    best, found = s, (y, c)
                    if first_gain:
                        break
            if found is not None:
                (x, k), changed = found, True
        if not changed:
            break
    return space.join(x, k), best, tries


def rounding_pass(
    score: Callable[[np.ndarray], float], space: SearchSpace, vector: np.ndarray, sweeps: int = 2
) -> tuple[np.ndarray, float, int]:
    """Each continuous parameter to its default or a round value (nearest first), the first that scores closer."""

    def moves(x: np.ndarray, k: np.ndarray, j: int) -> Iterator[Point]:
        for v in space.typed_values(x)[j]:  # a parameter's values depend on its own value only
            y = x.copy()
            y[j] = v
            yield y, k

    return coordinate_pass(score, space, vector, len(space.cont), moves, first_gain=True, sweeps=sweeps)


def class_sweep(
    score: Callable[[np.ndarray], float], space: SearchSpace, vector: np.ndarray, sweeps: int = 2
) -> tuple[np.ndarray, float, int]:
    """Each discrete parameter to its closest class, every other class tried."""

    def moves(x: np.ndarray, k: np.ndarray, j: int) -> Iterator[Point]:
        for c in range(int(space.n_classes[j])):
            if c != k[j]:
                trial = k.copy()
                trial[j] = c
                yield x, trial

    return coordinate_pass(score, space, vector, len(space.n_classes), moves, first_gain=False, sweeps=sweeps)


def from_inferred(folder: Path, targets: Path, settings: RenderSettings, passes: str, all_synths: bool) -> None:
    report = pd.read_parquet(folder / "report.parquet")
    report = report[report.status == "ok"]
    run_pass = class_sweep if passes == "classes" else rounding_pass
    rows = []
    for file, group in report.groupby("file"):
        own, best = str(file).split("/")[0], str(group.best_synth.iloc[0])
        for synth in sorted(set(group.synth) if all_synths else {own, best}):
            row = group[group.synth == synth].iloc[0]
            space, renderer = SearchSpace(load_schema(synth)), get_renderer(synth, settings)
            target = load_audio(targets / str(file), settings.sample_rate, settings.n_samples).audio
            band = float(row.band_hz) if pd.notna(row.band_hz) else None
            objective = Objective("lsd", target, settings.sample_rate, band)
            vector = read_json_preset(folder / str(row.preset), space.schema).vector
            note = int(row.note)
            before = objective(renderer.render(vector, note))
            _, after, tries = run_pass(lambda v: objective(renderer.render(v, note)), space, vector)  # noqa: B023
            rows.append({"file": file, "synth": synth, "own": synth == own, "best": synth == best})
            rows[-1].update(before=before, after=after, renders=tries)
            print(f"{file} {synth}: {before:.2f} -> {after:.2f} dB below the band ({tries} renders)", flush=True)
    out = pd.DataFrame(rows)
    picked = out.loc[out.groupby("file")["after"].idxmin()]  # the closer of the two after the pass
    print(
        f"true synth closest before the pass: {int(out[out.best].own.sum())} of {out.file.nunique()} files; after: "
        f"{int(picked.own.sum())}; the closest patch of each file after it: {picked.after.mean():.2f} dB"
    )
    for which in ("own", "best"):
        m = out[out[which]][["before", "after", "renders"]].mean()
        print(f"{which} synth: {m.before:.2f} -> {m.after:.2f} dB, {m.renders:.0f} renders per file")


def from_recovery(args: argparse.Namespace, settings: RenderSettings) -> None:
    rng = np.random.default_rng(args.seed)
    for synth in args.recover.split(","):
        space, renderer = SearchSpace(load_schema(synth)), get_renderer(synth, settings)
        rows = []
        for f, true, target, note, start, _ in moved_starts(args.targets, synth, settings, rng, args.noise, 0.0):
            opts = SearchOptions(budget=args.budget, method=args.method, seed=args.seed)
            res = refine(target, {synth: [Candidate(start, note)]}, opts, settings)[synth]
            score = lambda v: lsd(renderer.render(v, note), target)  # noqa: B023
            _, after, tries = rounding_pass(score, space, res.vector)
            rows.append((score(true), score(res.vector), after, tries))
            print(
                f"{synth}/{f.name}: true {rows[-1][0]:.2f}, searched {rows[-1][1]:.2f}, rounded {after:.2f} dB "
                f"({res.renders} + {tries} renders)",
                flush=True,
            )
        m = np.mean(rows, axis=0)
        print(f"{synth}: mean true {m[0]:.2f}, searched {m[1]:.2f}, rounded {m[2]:.2f} dB, {m[3]:.0f} renders\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--targets", type=Path, default=Path("runs/qs/targets"))
    ap.add_argument("--inferred", type=Path, help="an asp infer --refine output folder (its report.parquet)")
    ap.add_argument("--recover", help="synths whose held-back presets are moved off, searched, then rounded")
    ap.add_argument("--method", default="gn")
    ap.add_argument("--budget", type=int, default=300)
    ap.add_argument("--noise", type=float, default=0.1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--pass", dest="passes", choices=("rounding", "classes"), default="rounding")
    ap.add_argument("--all-synths", action="store_true", help="--inferred: every synth's patch of each file")
    args = ap.parse_args()
    settings = RenderSettings()
    if args.inferred:
        from_inferred(args.inferred, args.targets, settings, args.passes, args.all_synths)
    if args.recover:
        from_recovery(args, settings)
    if not (args.inferred or args.recover):
        ap.error("give --inferred DIR or --recover SYNTHS")


if __name__ == "__main__":
    main()
