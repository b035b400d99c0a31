"""Dexed, the DX7 emulation, through its Python binding (``pip install 'asp[dexed]'``, GPL-3.0).

A native vector's natural values are the DX7 voice bytes (``asp.synths.dx7``): each render rounds them to the
bytes, loads the voice into the engine and plays the note. The engine starts every render from a note-on on a
silent voice, so a render does not depend on what was rendered before (tested like the other backends).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from asp.render.base import Renderer, RenderError, to_mono
from asp.render.settings import RenderSettings
from asp.synths import dx7
from asp.synths.schema import SynthSchema

INSTALL_HINT = "the dexed synth needs its binding: pip install 'asp[dexed]' (dexed-py, GPL-3.0)"


def import_dexed() -> Any:
    """The ``dexed`` module, or RenderError saying how to install it."""
    try:
        import dexed
    except ImportError:
        raise RenderError(INSTALL_HINT) from None
    return dexed


class DexedRenderer(Renderer):
    """Renders DX7 voices with one Dexed engine per renderer (per process)."""

    backend = "dexed"

    def __init__(self, schema: SynthSchema, settings: RenderSettings) -> None:
        super().__init__(schema, settings)
        if schema.n_params != dx7.N_VOICE_PARAMS:
            raise RenderError(f"{schema.name}: a DX7 voice has {dx7.N_VOICE_PARAMS} parameters, got {schema.n_params}")
        self._dexed = import_dexed()
        self.synth = self._dexed.DexedSynth(sample_rate=int(settings.sample_rate))
        self.n_samples = int(round(settings.render_seconds * settings.sample_rate))

    def voice(self, native: np.ndarray) -> bytes:
        """The 155 voice bytes of a normalised native vector."""
        return dx7.voice_bytes(dx7.natural(self.schema, self._check(native)))

    def render(self, native: np.ndarray, note: int) -> np.ndarray:
        return self._play(self._patch(native), note)

    def render_notes(self, native: np.ndarray, notes: tuple[int, ...] | None = None) -> np.ndarray:
        """One preset at several notes: its voice bytes built once (they cost about a sixth of a render)."""
        patch = self._patch(native)
        return np.stack([self._play(patch, n) for n in (self.settings.notes if notes is None else notes)])

    def _patch(self, native: np.ndarray) -> Any:
        return self._dexed.Patch.from_sysex(self.voice(native) + b"\x3f")  # all six operators on

    def _play(self, patch: Any, note: int) -> np.ndarray:
        self.synth.load_patch(patch)  # every note from the voice as loaded: no history between renders
        audio = self.synth.render(
            midi_note=int(note),
            velocity=int(self.settings.velocity),
            note_duration=float(self.settings.note_seconds),
            render_duration=float(self.settings.render_seconds),
        )
        out = to_mono(np.asarray(audio, dtype=np.float32), self.n_samples)
        if not np.isfinite(out).all():
            raise RenderError(f"{self.schema.name}: the render at note {note} is not finite")
        return out
