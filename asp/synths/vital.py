"""Vital (the ``vita`` binding, ``pip install 'asp[vital]'``, GPL-3.0): how asp's ``vital`` schema maps onto the
engine's controls, shared by the renderer (``asp.render.vital_backend``) and the ``.vital`` preset files.

A native vector's natural values are Vital's own control values (the units ``get_control_details`` gives: semitones
for a cutoff, seconds before Vital's display curve for an envelope time; a class index for a discrete control).
Every patch starts from Vital's init preset; then the fixed settings below; then the schema's controls.

Fixed (not in the schema), and why:

* ``osc_{1,2,3}_random_phase`` = 0: Vital draws each voice's start phase from process-wide random state, so a render
  would depend on what was rendered before; with the phase fixed, renders repeat (to float rounding, about 1e-7).
* The rates of LFOs 1-2, chorus, delay, phaser and flanger in seconds (``*_sync`` = 0): a single note has no tempo.
* Four modulation routings, their amounts in the schema: envelope 2 -> filter 1 cutoff, LFO 1 -> oscillator 1 wave
  frame, LFO 2 -> filter 1 cutoff, envelope 3 -> oscillator 2 wave frame (the binding connects any source to any
  destination; a fixed small matrix keeps the schema a fixed vector).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

INSTALL_HINT = "the vital synth needs its binding: pip install 'asp[vital]' (vita, GPL-3.0)"
FIXED: dict[str, float] = {
    "osc_1_random_phase": 0.0,
    "osc_2_random_phase": 0.0,
    "osc_3_random_phase": 0.0,
    # rates in seconds: a single note has no tempo (Vital's init syncs them to one)
    **{f"{fx}_sync": 0.0 for fx in ("lfo_1", "lfo_2", "chorus", "delay", "phaser", "flanger")},
}
ROUTINGS: tuple[tuple[str, str], ...] = (
    ("env_2", "filter_1_cutoff"),
    ("lfo_1", "osc_1_wave_frame"),
    ("lfo_2", "filter_1_cutoff"),
    ("env_3", "osc_2_wave_frame"),
)


def import_vita() -> Any:
    """The ``vita`` module, or ImportError saying how to install it."""
    try:
        import vita
    except ImportError:
        raise ImportError(INSTALL_HINT) from None
    return vita


def new_synth(sample_rate: int) -> Any:
    """A Vital engine at ``sample_rate``."""
    synth = import_vita().Synth()
    synth.set_sample_rate(float(sample_rate))
    return synth


def apply(synth: Any, schema: Any, vector: np.ndarray) -> None:
    """Load a normalised native vector of the ``vital`` schema into the engine (init preset, fixed, routings,
    then every schema control)."""
    synth.load_init_preset()
    synth.clear_modulations()
    controls = synth.get_controls()
    for name, value in FIXED.items():
        controls[name].set(float(value))
    for source, destination in ROUTINGS:
        if not synth.connect_modulation(source, destination):
            raise RuntimeError(f"vital: cannot route {source} to {destination}")
    for p, x in zip(schema.params, np.asarray(vector, dtype=np.float64)):
        controls[p.name].set(float(p.to_natural(x)))


def read(synth: Any, schema: Any) -> np.ndarray:
    """The loaded patch as a normalised native vector of the schema (controls outside it are not read)."""
    controls = synth.get_controls()
    return np.array([p.to_normalised(controls[p.name].value()) for p in schema.params], dtype=np.float32)


def control_records(synth: Any) -> list[Mapping[str, Any]]:
    """Every control of the engine as a schema record (natural value = Vital's control value): discrete controls
    with two values are binary, with more categorical (their option names as labels where Vital gives them all)."""
    out: list[Mapping[str, Any]] = []
    for name in sorted(synth.get_controls()):
        d = synth.get_control_details(name)
        lo, hi = float(d.min), float(d.max)
        if hi <= lo:
            continue  # a control with no range
        rec: dict[str, Any] = {"name": name, "low": lo, "high": hi, "group": name.split("_", 1)[0]}
        default = float(np.clip(d.default_value, lo, hi))
        if d.is_discrete:
            n = int(round(hi - lo)) + 1
            rec.update(kind="binary" if n == 2 else "categorical", n_classes=n, default=float(round(default)))
            if len(d.options) == n:
                rec["labels"] = [str(o) for o in d.options]
        else:
            rec.update(kind="continuous", default=default)
            if str(d.display_units).strip():
                rec["unit"] = str(d.display_units).strip()
        out.append(rec)
    return out


# ---------------------------------------------------------------------- .vital preset files
def write_preset_file(path: Any, schema: Any, vector: np.ndarray, name: str) -> None:
    """A ``.vital`` preset (Vital's own JSON, atomically) of a normalised native vector: what Vital loads."""
    import json

    from asp.atomic import atomic_write_bytes

    synth = new_synth(44100)
    apply(synth, schema, vector)
    data = json.loads(synth.to_json())
    data["preset_name"] = name
    data["author"] = data.get("author") or "asp"
    atomic_write_bytes(path, json.dumps(data).encode())


def read_preset_file(path: Any, schema: Any) -> tuple[str, np.ndarray]:
    """(name, normalised native vector) of a ``.vital`` file (ValueError naming it when Vital refuses it)."""
    import json
    from pathlib import Path

    p = Path(path)
    text = p.read_text()
    synth = new_synth(44100)
    if not synth.load_json(text):
        raise ValueError(f"{p}: Vital could not load this preset")
    try:
        name = str(json.loads(text).get("preset_name") or p.stem)
    except json.JSONDecodeError:
        name = p.stem
    return name, read(synth, schema)
