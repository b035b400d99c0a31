"""Native preset files, by format name: what ``asp infer`` writes beside each JSON preset.

A synth lists its formats in its registry entry (``SynthEntry.native``). The Faust built-ins have none: their JSON
preset is their native format. Serum, Diva and TyrellN6 keep their state in opaque chunks whose layout is not
public, so none is written for them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from asp.synths import amsynth_bank, dx7, vital
from asp.synths.schema import SynthSchema

Writer = Callable[[Path, SynthSchema, np.ndarray, str], None]

# format name -> (file suffix, writer(path, schema, native vector, preset name))
FORMATS: dict[str, tuple[str, Writer]] = {
    "amsynth-bank": (".amSynth.bank", lambda p, s, v, n: amsynth_bank.write_bank(p, s, [(n, v)])),
    "amsynth-fxp": (".fxp", amsynth_bank.write_fxp),  # a VST2 program amsynth loads back (load_preset)
    "dx7-sysex": (".syx", dx7.write_voice_file),  # a DX7 single-voice sysex message (Dexed, a DX7)
    "dx7-bank": (".bank.syx", lambda p, s, v, n: dx7.write_bank_file(p, s, [(n, v)])),  # the voice in slot 1
    "vital": (".vital", vital.write_preset_file),  # Vital's own preset JSON (needs the binding)
}


def write_native(
    base: Path, formats: tuple[str, ...], schema: SynthSchema, vector: np.ndarray, name: str
) -> list[Path]:
    """Write ``vector`` in each of ``formats`` as ``base`` + suffix (atomically). Returns the paths written.

    Raises:
        KeyError: an unknown format, listing the known ones.
    """
    out = []
    for fmt in formats:
        if fmt not in FORMATS:
            raise KeyError(f"unknown native preset format {fmt!r}; known: {', '.join(sorted(FORMATS))}")
        suffix, writer = FORMATS[fmt]
        path = base.with_name(base.name + suffix)
        writer(path, schema, vector, name)
        out.append(path)
    return out
