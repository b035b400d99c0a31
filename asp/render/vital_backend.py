"""Vital through its Python binding (``pip install 'asp[vital]'``, GPL-3.0); the control mapping is
``asp.synths.vital``.

Vital runs in a process of its own (``asp.synths.vital.call``): beside it, DawDreamer's Faust compiler aborted
the process. Every note is played on a fresh engine with Vital's init preset, the fixed settings and the patch
loaded, then folded to mono by the mean. A reused engine would carry the previous note's release tail and its
parameter smoothing (a level set for the next patch ramps from the last one) into the next render: measured up to
0.13 in sample value. Building an engine costs Vital 150-350 ms, so its process builds one, never plays it, and
copies it by ``fork`` per patch, and the copy once more per note (``asp.synths.vital.render_notes_natural``): the
same state as a newly built engine, so with the oscillator phases fixed a render does not depend on what was
rendered before (tested), and a patch's several notes (``render_notes``, as datasets render them) share one load
of its wavetables. Nothing a render does reaches the engine the next one is copied from, even through Vital's
process-wide random state, so datasets need no fresh worker per shard on Linux; elsewhere (a new engine per note in
one process) they get one (``process_state`` and ``FORK_SAFE`` in ``asp.synths.registry``).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from asp.render.base import Renderer, RenderError, to_mono
from asp.render.settings import RenderSettings
from asp.synths import vital
from asp.synths.schema import SynthSchema


class VitalRenderer(Renderer):
    """Renders patches of the ``vital`` schema in Vital's own process, each note on a fresh copy of one engine."""

    backend = "vital"

    def __init__(self, schema: SynthSchema, settings: RenderSettings) -> None:
        super().__init__(schema, settings)
        try:
            vital.call("check_binding")
        except ImportError as err:
            raise RenderError(str(err)) from None
        self.n_samples = int(round(settings.render_seconds * settings.sample_rate))

    def render(self, native: np.ndarray, note: int) -> np.ndarray:
        return self.render_values(self.schema.to_natural(self._check(native)), note)

    def render_notes(self, native: np.ndarray, notes: tuple[int, ...] | None = None) -> np.ndarray:
        """(n_notes, n_samples): the patch is loaded once and each note played on a copy of the fresh engine
        (``asp.synths.vital.render_notes_natural``), the same audio as :meth:`render` per note."""
        notes = tuple(self.settings.notes if notes is None else notes)
        return np.stack(self._play(self.schema.to_natural(self._check(native)), notes))

    def render_values(self, values: Mapping[str, float], note: int) -> np.ndarray:
        """One note of a patch given as natural values by Vital control name: the schema's and any others
        (``asp.render.vital_rack`` sets the effect controls the schema leaves at Vital's defaults)."""
        return self._play(values, (note,))[0]

    def _play(self, values: Mapping[str, float], notes: tuple[int, ...]) -> list[np.ndarray]:
        """Mono audio of a patch at each of ``notes``, rendered in Vital's process."""
        s = self.settings
        audio = vital.call(
            "render_notes_natural",
            s.sample_rate,
            dict(values),
            tuple(int(n) for n in notes),
            s.velocity / 127.0,
            s.note_seconds,
            s.render_seconds,
        )
        return [self._mono(a, n) for a, n in zip(audio, notes)]

    def _mono(self, audio: np.ndarray, note: int) -> np.ndarray:
        out = to_mono(audio, self.n_samples)
        if not np.isfinite(out).all():
            raise RenderError(f"{self.schema.name}: the render at note {note} is not finite")
        return out
