"""Preset files: asp's JSON presets (every synth) and readers for native formats, dispatched by file type.

JSON preset::

    {"synth": "subtractive", "name": "Warm Bass", "schema_hash": "...",
     "params": {"cutoff": 400.0, "osc1_wave": 0, ...}}      # natural values; missing ones take the default
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from asp.atomic import atomic_write_bytes
from asp.synths.params import SchemaError
from asp.synths.schema import Preset, SynthSchema

__all__ = ["Preset", "preset_to_json", "read_json_preset", "read_presets", "write_json_preset"]


def preset_to_json(schema: SynthSchema, vector: np.ndarray, name: str, note: int | None = None) -> dict[str, Any]:
    """A JSON-ready preset: natural values and normalised values by parameter name (and the MIDI note it was matched
    at, where given)."""
    v = schema.validate(vector)[0]
    extra: dict[str, Any] = {} if note is None else {"note": int(note)}
    return {
        **extra,
        "synth": schema.name,
        "name": name,
        "schema_hash": schema.content_hash,
        "params": schema.to_natural(v),
        "normalised": {p.name: float(x) for p, x in zip(schema.params, v)},
    }


def write_json_preset(
    path: str | Path, schema: SynthSchema, vector: np.ndarray, name: str, note: int | None = None
) -> None:
    atomic_write_bytes(path, json.dumps(preset_to_json(schema, vector, name, note), indent=1).encode())


def read_json_preset(path: str | Path, schema: SynthSchema) -> Preset:
    """Read an asp JSON preset.

    Raises:
        SchemaError: naming the file and the offending parameters, or a preset of another synth.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise SchemaError(f"{path}: not a readable JSON preset: {err}") from None
    if not isinstance(data, dict) or not isinstance(data.get("params"), dict):
        raise SchemaError(f"{path}: a JSON preset needs a 'params' mapping")
    if data.get("synth", schema.name) != schema.name:
        raise SchemaError(f"{path}: preset is for synth {data['synth']!r}, not {schema.name!r}")
    vector = schema.from_natural(data["params"], source=str(path))
    return Preset(str(data.get("name") or path.stem), vector, str(path))


def read_presets(path: str | Path, schema: SynthSchema) -> list[Preset]:
    """All presets in a file or folder (JSON for every synth; amsynth bank files for amsynth; DX7 ``.syx`` voices
    and banks for dexed).

    Raises:
        SchemaError: unreadable files name the file and the reason.
    """
    path = Path(path)
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    out: list[Preset] = []
    for f in files:
        out.extend(_read_file(f, schema))
    return out


def _read_file(path: Path, schema: SynthSchema) -> Iterator[Preset]:
    if path.suffix == ".json":
        yield read_json_preset(path, schema)
    elif path.name.endswith(".bank") and schema.name == "amsynth":
        from asp.synths.amsynth_bank import read_bank

        yield from read_bank(path, schema)
    elif path.suffix in (".syx", ".dx7") and schema.name == "dexed":
        from asp.synths.dx7 import read_voice_files

        try:
            voices = read_voice_files(path, schema)
        except ValueError as err:
            raise SchemaError(str(err)) from None
        for name, vector in voices:
            yield Preset(name, vector, str(path))
    elif path.suffix == ".vital" and schema.name == "vital":
        from asp.synths.vital import read_preset_file

        try:
            name, vector = read_preset_file(path, schema)
        except (ValueError, ImportError) as err:
            raise SchemaError(str(err)) from None
        yield Preset(name, vector, str(path))
    elif path.suffix in (".json", ".bank", ".syx", ".dx7", ".vital"):
        raise SchemaError(f"{path}: no reader for this file type and synth {schema.name!r}")
