"""VST2/VST3 plugins hosted by DawDreamer.

History independence: a plugin may keep state that is not exposed as a parameter (oscillator phases, filter and
reverb memories). amsynth does: a reused processor starts preset A with preset B's leftovers (measured: 2.2 dB LSD
against a fresh process on a deterministic preset), and neither reloading the graph nor a flush of silence clears
it; ``load_state`` needs a display. So the default reset policy is ``instance``: a new plugin instance on the reused
engine for every render (about 0.1 s per render for amsynth). A deterministic preset then renders exactly as in a
fresh process. amsynth's noise and random waveforms draw from process-wide random state that a new instance does not
reset (reseeding libc's rand does not either), so a noisy preset differs from a fresh process's render by as much as
it differs from itself rendered twice (two noise realisations, about 7.8 dB LSD): the synth's own floor.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import dawdreamer as daw
import numpy as np

from asp.render.base import Renderer, RenderError, to_mono
from asp.render.quiet import quiet_fds
from asp.render.settings import RenderSettings
from asp.synths.schema import SynthSchema

ResetPolicy = Literal["instance", "none"]


class PluginRenderer(Renderer):
    """A plugin synth; parameters are set by plugin index from normalised values."""

    backend = "plugin"

    def __init__(
        self,
        schema: SynthSchema,
        settings: RenderSettings,
        plugin_path: str | Path,
        reset: ResetPolicy = "instance",
        engine: daw.RenderEngine | None = None,
    ) -> None:
        super().__init__(schema, settings)
        if reset not in ("instance", "none"):
            raise ValueError(f"unknown reset policy {reset!r}; valid: instance, none")
        self.plugin_path = str(plugin_path)
        self.reset = reset
        self.engine = engine or daw.RenderEngine(settings.sample_rate, settings.block_size)
        self.proc = self._new_instance()
        n = self.proc.get_plugin_parameter_size()
        top = max(p.index for p in schema.params)
        if top >= n:
            raise RenderError(
                f"{schema.name}: schema uses plugin index {top} but {self.plugin_path} has {n} parameters"
            )

    def _new_instance(self) -> daw.PluginProcessor:
        try:
            with quiet_fds():
                proc = self.engine.make_plugin_processor(f"{self.schema.name}_plugin", self.plugin_path)
        except Exception as err:  # DawDreamer raises plain exceptions for load failures
            raise RenderError(f"{self.plugin_path}: cannot load plugin: {err}") from None
        self.engine.load_graph([(proc, [])])
        return proc

    def set_native(self, native: np.ndarray) -> None:
        """Set every schema parameter on the current instance."""
        for p, x in zip(self.schema.params, self._check(native)):
            self.proc.set_parameter(p.index, float(x))

    def render(self, native: np.ndarray, note: int) -> np.ndarray:
        if self.reset == "instance":
            self.proc = self._new_instance()
        self.set_native(native)
        self.proc.clear_midi()
        self.proc.add_midi_note(int(note), self.settings.velocity, 0.0, self.settings.note_seconds)
        self.engine.render(self.settings.render_seconds)
        audio = to_mono(self.proc.get_audio(), self.settings.n_samples)
        if not np.all(np.isfinite(audio)):
            raise RenderError(f"{self.schema.name}: render produced non-finite samples")
        return audio
