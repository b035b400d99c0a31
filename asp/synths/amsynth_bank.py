"""amsynth's preset formats.

* ``.amSynth.bank`` / ``.bank`` text files: ``<preset> <name> NAME`` then ``<parameter> NAME RAW`` lines. Raw values
  are amsynth's internal values, which are the schema's natural values (normalised = (raw - low) / (high - low),
  measured from the plugin). Parameters a bank lacks (older banks) take the schema default.
* A VST2 program file (``.fxp``, opaque chunk) holding one preset in amsynth's text format: DawDreamer's
  ``load_preset`` loads it back into the plugin (tests/render check the mapping by rendering both ways).
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from asp.atomic import atomic_write_bytes
from asp.synths.params import SchemaError
from asp.synths.schema import Preset, SynthSchema

HEADER = "amSynth"
FX_ID = b"amsy"


def parse_bank(text: str, schema: SynthSchema, source: str = "bank") -> list[Preset]:
    """Parse bank text into presets (all-default presets named ``New Preset`` are kept; callers may filter)."""
    lines = text.splitlines()
    if not lines or not lines[0].strip().startswith(HEADER):
        raise SchemaError(f"{source}: not an amsynth bank (first line should be {HEADER!r})")
    presets: list[Preset] = []
    name: str | None = None
    values: dict[str, float] = {}

    def flush() -> None:
        if name is not None:
            known = {k: v for k, v in values.items() if k in schema.position}
            vec = schema.from_natural(_clamp(schema, known), source=f"{source}, preset {name!r}")
            presets.append(Preset(name, vec, source))

    for lineno, line in enumerate(lines[1:], start=2):
        line = line.strip()
        if not line:
            continue
        if line.startswith("<preset>"):
            flush()
            name = line.split("<name>", 1)[1].strip() if "<name>" in line else f"preset {len(presets)}"
            values = {}
        elif line.startswith("<parameter>"):
            parts = line.split()
            if len(parts) != 3 or name is None:
                raise SchemaError(f"{source}:{lineno}: malformed parameter line {line!r}")
            try:
                values[parts[1]] = float(parts[2])
            except ValueError:
                raise SchemaError(f"{source}:{lineno}: parameter {parts[1]!r} has a non-numeric value") from None
    flush()
    return presets


def _clamp(schema: SynthSchema, values: dict[str, float]) -> dict[str, float]:
    """amsynth clamps out-of-range raw values when it loads them, and rounds discrete ones; do the same."""
    out = {}
    for k, v in values.items():
        p = schema[k]
        lo, hi = sorted((p.low, p.high))
        v = min(max(v, lo), hi)
        if p.discrete:
            v = float(p.to_natural(p.to_normalised(v)))
        out[k] = v
    return out


def read_bank(path: str | Path, schema: SynthSchema) -> list[Preset]:
    path = Path(path)
    try:
        text = path.read_text(errors="replace")
    except OSError as err:
        raise SchemaError(f"{path}: cannot read bank: {err}") from None
    return parse_bank(text, schema, source=str(path))


def preset_text(schema: SynthSchema, vector: np.ndarray, name: str) -> str:
    """One preset in amsynth's text format (raw values)."""
    nat = schema.to_natural(schema.validate(vector)[0])
    safe = " ".join(name.split()) or "asp"
    return f"<preset> <name> {safe}\n" + "".join(f"<parameter> {k} {v:.6g}\n" for k, v in nat.items())


def write_bank(path: str | Path, schema: SynthSchema, presets: Iterable[tuple[str, np.ndarray]]) -> None:
    """Write an amsynth bank file (atomically)."""
    body = "".join(preset_text(schema, v, n) for n, v in presets)
    atomic_write_bytes(path, (HEADER + "\n" + body).encode())


def fxp_bytes(schema: SynthSchema, vector: np.ndarray, name: str) -> bytes:
    """A VST2 program file (opaque chunk) that amsynth loads back with DawDreamer's ``load_preset``."""
    chunk = ("amSynth1.0preset\n" + preset_text(schema, vector, name)).encode()
    body = (
        b"FPCh"
        + struct.pack(">i", 1)
        + FX_ID
        + struct.pack(">ii", 0, schema.n_params)
        + name.encode("ascii", "replace")[:27].ljust(28, b"\0")
        + struct.pack(">i", len(chunk))
        + chunk
    )
    return b"CcnK" + struct.pack(">i", len(body)) + body


def write_fxp(path: str | Path, schema: SynthSchema, vector: np.ndarray, name: str) -> None:
    atomic_write_bytes(path, fxp_bytes(schema, vector, name))
