"""The per-synth sensitivity tables that ``SearchOptions(weights="sensitivity")`` read (asp.search.weights).

For each synth, 32 random presets (its sampling spec, seed 0, one note each drawn from C2-C6), 2.5 s renders with the
note held 2 s, every parameter moved once (``asp.eval.params.sensitivity``); the table is written to
``OUT/<synth>.csv``.

Usage: python scripts/probe_sensitivity_tables.py OUT subtractive,vapoly,wavetable 32
"""

import sys
import time
from pathlib import Path

import asp.render  # noqa: F401  (DawDreamer before librosa)
from asp.eval.params import sensitivity
from asp.render.settings import RenderSettings

if __name__ == "__main__":
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    settings = RenderSettings(render_seconds=2.5, note_seconds=2.0)
    for synth in sys.argv[2].split(","):
        t = time.time()
        d = sensitivity(synth, settings, presets=int(sys.argv[3]), workers=1, notes=list(range(36, 85)))
        d.to_csv(out / f"{synth}.csv", index=False)
        print(synth, f"{time.time() - t:.0f} s", d.audible_share.describe().to_dict())
