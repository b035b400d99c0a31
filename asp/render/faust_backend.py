"""Faust DSP compiled inside DawDreamer: asp's built-in synths.

The note is played by setting the prelude's voice controls (``freq``, ``gain``, ``note_samples``: the gate is a
sample counter), not through DawDreamer's polyphonic MIDI wrapper. Measured against the wrapper with one voice
(docs/PERFORMANCE.md, "The Faust synths without the MIDI wrapper"): the same samples while the key is held, but the
wrapper (a) is run by DawDreamer one sample at a time, so every control-rate expression is computed per sample (the
renders took up to 1.8x as long), and (b) frees a released voice once its level over one call, here one sample, is
under Faust's fixed stop level, i.e. near the waveform's first zero crossing after the key is released, which cut
the release, echo and reverb tails (two random presets in three).

Facts this relies on (checked in tests/render): the first render after ``compile()`` differs from every later
one, so the renderer throws one warm-up render away; after that DawDreamer restarts the DSP for each render, so
renders are sample-for-sample independent of what was rendered before.
"""

from __future__ import annotations

import math
from functools import cache
from importlib import resources
from pathlib import Path

import dawdreamer as daw
import numpy as np

from asp.render.base import Renderer, RenderError, to_mono
from asp.render.quiet import quiet_fds
from asp.render.settings import RenderSettings
from asp.synths.schema import SynthSchema

VOICE_CONTROLS = ("freq", "gain", "note_samples")


def voice_values(note: int, settings: RenderSettings) -> dict[str, float]:
    """The prelude's voice controls for playing MIDI ``note``: its frequency (equal temperament, A4 = 440 Hz),
    velocity / 127, and the samples the key is held (the first sample at or after ``note_seconds``, as MIDI timing
    in DawDreamer)."""
    return {
        "freq": 440.0 * 2.0 ** ((int(note) - 69) / 12.0),
        "gain": settings.velocity / 127.0,
        "note_samples": float(math.ceil(round(settings.note_seconds * settings.sample_rate, 6))),
    }


@cache
def prelude() -> str:
    """The shared Faust prelude (``common.lib``)."""
    return (resources.files("asp.render") / "faust" / "common.lib").read_text()


def faust_code(dsp_path: str | Path) -> str:
    """The full DSP text: prelude + the synth's DSP, with generated tables filled in."""
    path = Path(dsp_path)
    text = path.read_text()
    if "WAVETABLES" in text:
        from asp.synths.wavetables import faust_waveform

        text = text.replace("WAVETABLES", faust_waveform())
    return prelude() + "\n" + text


class FaustRenderer(Renderer):
    """A built-in synth written in Faust, one voice, driven by MIDI."""

    backend = "faust"

    def __init__(
        self,
        schema: SynthSchema,
        settings: RenderSettings,
        dsp_path: str | Path,
        engine: daw.RenderEngine | None = None,
    ) -> None:
        super().__init__(schema, settings)
        self.engine = engine or daw.RenderEngine(settings.sample_rate, settings.block_size)
        self.proc = self.engine.make_faust_processor(f"{schema.name}_faust")
        self.proc.num_voices = 0  # no MIDI wrapper: the voice controls play the note (module docstring)
        try:
            self.proc.set_dsp_string(faust_code(dsp_path))
            with quiet_fds():
                ok = self.proc.compile()
        except RuntimeError as err:
            raise RenderError(f"{dsp_path}: Faust compile failed: {err}") from None
        if ok is False:
            raise RenderError(f"{dsp_path}: Faust compile failed")
        self.paths = self._param_paths()
        self.voice_paths = self._voice_paths()
        self._last: bytes = b""
        self.engine.load_graph([(self.proc, [])])
        self._render_raw(schema.default_vector(), 60)  # warm-up: the first render after compile is not reproducible

    def _param_paths(self) -> list[str]:
        by_label: dict[str, dict] = {}
        for d in self.proc.get_parameters_description():
            by_label[d["name"].rsplit("/", 1)[-1]] = d
        missing = [p.name for p in self.schema.params if p.name not in by_label]
        if missing:
            raise RenderError(f"{self.schema.name}: the Faust DSP has no control for {', '.join(missing)}")
        return [by_label[p.name]["name"] for p in self.schema.params]

    def _voice_paths(self) -> dict[str, str]:
        """Voice control label -> its path, for those the DSP uses (Faust drops a control nothing reads)."""
        paths = {d["name"].rsplit("/", 1)[-1]: d["name"] for d in self.proc.get_parameters_description()}
        return {label: paths[label] for label in VOICE_CONTROLS if label in paths}

    def controls(self) -> dict[str, dict]:
        """Faust control label -> its description (min, max, step, default), voice controls excluded."""
        return {
            d["name"].rsplit("/", 1)[-1]: d
            for d in self.proc.get_parameters_description()
            if d["name"].rsplit("/", 1)[-1] not in VOICE_CONTROLS
        }

    def _render_raw(self, native: np.ndarray, note: int) -> np.ndarray:
        v = self._check(native)
        key = v.tobytes()
        if key != self._last:  # controls keep their values between renders; the DSP state does not
            for path, p, x in zip(self.paths, self.schema.params, v):
                self.proc.set_parameter(path, float(p.to_natural(x)))
            self._last = key
        for label, value in voice_values(note, self.settings).items():
            if label in self.voice_paths:
                self.proc.set_parameter(self.voice_paths[label], value)
        self.engine.render(self.settings.render_seconds)
        return self.proc.get_audio()

    def render(self, native: np.ndarray, note: int) -> np.ndarray:
        audio = to_mono(self._render_raw(native, note), self.settings.n_samples)
        if not np.all(np.isfinite(audio)):
            raise RenderError(f"{self.schema.name}: render produced non-finite samples")
        return audio
