"""Can the search find a hand-made preset again from close by? A probe of each synth's search landscape.

For every file of the quickstart's held-back folder (``--targets``, ``<synth>/<preset>.<ext>``), the preset that
made it (``presets/<synth>/``) is played at the variant's note, then moved off: every continuous parameter by a
Gaussian step (``--noise``, normalised units) and each discrete one, with probability ``--flip``, to a random class.
``asp.search.refine`` then searches that synth alone from there (``--budget`` renders, the default options
otherwise). Printed per file: the true preset's distance to the file, the start's, the refined one's (textbook LSD,
and the search's objective where it is another), and the parameters whose move (issue #16's sensitivity probe: a
continuous one by ``--step``; with ``--flip`` also a discrete one to its next class) moves the true preset's own
render furthest (textbook LSD against it): the cliffs of the landscape.

A synth whose search cannot come back from a small step has a search problem that better starts will not solve.

Usage: python scripts/probe_recovery.py [--synths wavetable,vapoly,subtractive] [--noise 0.1] [--flip 0]
       [--budget 300] [--objective lsd] [--method es] [--round-pull 0] [--top 5]
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from pathlib import Path

import numpy as np

import asp.render  # noqa: F401  (DawDreamer before librosa)
from asp.data.targets import VARIANTS
from asp.eval.params import SensitivityTask, probe_preset
from asp.features.audio_io import load_audio
from asp.metrics import lsd
from asp.render import RenderSettings, get_renderer
from asp.search import Candidate, SearchOptions, refine
from asp.search.space import SearchSpace
from asp.synths import load_schema, registry
from asp.synths.presets import read_presets


def cliffs(
    synth: str, vector: np.ndarray, note: int, settings: RenderSettings, step: float, discrete: bool = False
) -> list[tuple[float, str]]:
    """(distance, parameter) for each continuous (and with ``discrete``, each discrete) parameter moved as issue
    #16's sensitivity probe moves it (``asp.eval.params.probe_preset``: a continuous one by ``step``, a discrete one
    to its next class), furthest first."""
    d = probe_preset(SensitivityTask(synth, vector, note, step, settings))
    params = load_schema(synth).params
    return sorted(((float(x), p.name) for x, p in zip(d, params) if discrete or not p.discrete), reverse=True)


def moved_starts(
    targets: Path, synth: str, settings: RenderSettings, rng: np.random.Generator, noise: float, flip: float
) -> Iterator[tuple[Path, np.ndarray, np.ndarray, int, np.ndarray, np.ndarray]]:
    """For each of ``synth``'s held-back files whose preset is in ``presets/``: (file, the true preset, the target
    audio, the variant's note, the start moved off the true preset, which classes moved). Every continuous
    parameter moves by a Gaussian step of ``noise``, each discrete one with chance ``flip`` to a random class."""
    schema = load_schema(synth)
    space = SearchSpace(schema)
    presets = {Path(p.source).stem: p for p in read_presets(registry.PRESETS_DIR / synth, schema)}
    renderer = get_renderer(synth, settings)
    for f in sorted((targets / synth).iterdir()):
        if f.stem not in presets:
            continue
        true = presets[f.stem].vector
        target = load_audio(f, settings.sample_rate, settings.n_samples).audio
        notes = {v[0] for v in VARIANTS if v[3] == f.suffix[1:]}
        note = min(notes, key=lambda n: lsd(renderer.render(true, n), target))  # the variant's note
        x, k = space.split(true)
        x = np.clip(x + rng.normal(0.0, noise, x.shape), 0.0, 1.0)
        moved = rng.random(k.shape) < flip
        k = np.where(moved, rng.integers(0, space.n_classes), k)
        yield f, true, target, note, space.join(x, k), moved


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--targets", type=Path, default=Path("runs/quickstart/targets"))
    ap.add_argument("--synths", default="wavetable,vapoly,subtractive")
    ap.add_argument("--noise", type=float, default=0.1, help="Gaussian step of every continuous parameter")
    ap.add_argument("--flip", type=float, default=0.0, help="probability a discrete parameter moves to another class")
    ap.add_argument("--budget", type=int, default=300)
    ap.add_argument("--objective", default="lsd")
    ap.add_argument("--method", default="es", help="the optimiser (asp.search.methods.METHODS)")
    ap.add_argument("--round-pull", type=float, default=0.0, help="SearchOptions.round_pull (the evolution strategy)")
    ap.add_argument("--step", type=float, default=0.1, help="the cliffs' step, normalised units")
    ap.add_argument("--top", type=int, default=5, help="cliffs printed per file (0: none)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    settings = RenderSettings()
    rng = np.random.default_rng(args.seed)
    for synth in args.synths.split(","):
        renderer = get_renderer(synth, settings)
        rows = []
        for f, true, target, note, start, moved in moved_starts(
            args.targets, synth, settings, rng, args.noise, args.flip
        ):
            opts = SearchOptions(
                budget=args.budget,
                objective=args.objective,
                method=args.method,
                seed=args.seed,
                round_pull=args.round_pull,
            )
            res = refine(target, {synth: [Candidate(start, note)]}, opts, settings)[synth]
            row = {
                "true": lsd(renderer.render(true, note), target),
                "start": lsd(renderer.render(start, note), target),
                "refined": lsd(res.audio, target) if res.audio is not None else float("nan"),
            }
            rows.append(row)
            extra = f", objective {res.oneshot_score:.2f} -> {res.score:.2f}" if args.objective != "lsd" else ""
            print(
                f"{synth}/{f.name}: true preset {row['true']:.2f} dB, start {row['start']:.2f}, refined "
                f"{row['refined']:.2f} ({res.renders} renders, {int(moved.sum())} classes moved{extra})",
                flush=True,
            )
            for d, name in cliffs(synth, true, note, settings, args.step, args.flip > 0)[: args.top]:
                print(f"    {name}: {d:.2f} dB")
        m = {c: np.mean([r[c] for r in rows]) for c in ("true", "start", "refined")}
        means = f"true {m['true']:.2f}, start {m['start']:.2f}, refined {m['refined']:.2f} dB"
        print(f"{synth}: mean {means}\n", flush=True)


if __name__ == "__main__":
    main()
