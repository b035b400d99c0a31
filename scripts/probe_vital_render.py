"""Milliseconds per clip of asp's Vital renderer: a patch's notes rendered together (``render_notes``, as datasets
render them) and one render per call (as the search renders), with the largest difference between the two paths'
audio (0 when they agree to the sample). Needs the binding (``pip install 'asp[vital]'``).

    python scripts/probe_vital_render.py [--presets 4] [--notes 12] [--seed 1]
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np

from asp.render import RenderSettings, get_renderer
from asp.synths import load_sampling, load_schema, sample_presets


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--presets", type=int, default=4)
    ap.add_argument("--notes", type=int, default=12, help="notes per patch, from C4 up")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    schema = load_schema("vital")
    presets = sample_presets(schema, args.presets, np.random.default_rng(args.seed), load_sampling("vital"))
    renderer = get_renderer("vital", RenderSettings())
    notes = tuple(range(60, 60 + args.notes))
    renderer.render(presets[0], 60)  # Vital's process started and warm
    n = len(presets) * len(notes)
    t0 = time.perf_counter()
    together = [renderer.render_notes(v, notes) for v in presets]
    t1 = time.perf_counter()
    apart = [np.stack([renderer.render(v, k) for k in notes]) for v in presets]
    t2 = time.perf_counter()
    diff = max(float(np.abs(a - b).max()) for a, b in zip(together, apart))
    print(f"machine: {platform.machine()}; vital, {len(presets)} random patches x {len(notes)} notes, 5 s clips")
    print(f"  notes together: {(t1 - t0) / n * 1e3:.0f} ms/clip")
    print(f"  one render per call: {(t2 - t1) / n * 1e3:.0f} ms/clip")
    print(f"  largest difference between the two: {diff:.3g}")


if __name__ == "__main__":
    main()
