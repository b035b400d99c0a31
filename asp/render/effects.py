"""Effect racks inside DawDreamer: audio in, audio out.

The built-in rack (``faust/effect_rack.dsp``) holds the five SerumRNN effects in Serum's rack order, each with an
on/off switch and its controls normalised to [0, 1]. What the controls mean (the effect specs) lives in
``asp.synths.effect_specs``; ``FaustRack`` maps a chain of settings onto the controls and plays it.

Every effect backend is an ``asp.render.effects.Rack``: ``apply(dry_audio, chain) -> wet_audio``. ``FaustRack`` (the
default, any registered synth's audio), ``asp.render.serum_rack`` (Serum's own FX rack, which needs the plugin) and
``asp.render.vital_rack`` (Vital's own effects on a Vital patch) implement it.

An *extra* effect of the rack (``asp.synths.effect_specs``: a steered neural effect) has no Faust control: both racks
play the chain's built-in effects, then each extra effect it holds, in rack order, through the effect's processor,
imported from its entry point the first time it is played in a process (``extra_processor``).

Like the synths, a rack keeps one engine per process and resets nothing by hand: DawDreamer restarts the DSP for
each render after the first one (a warm-up render is thrown away), so a render does not depend on what the rack
processed before (the reverb's tail and the compressor's envelopes start from silence every time; tested).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from importlib import import_module, resources
from typing import Any, Protocol

import dawdreamer as daw
import numpy as np

from asp.render.base import RenderError
from asp.render.quiet import quiet_fds
from asp.synths import effect_specs as specs

RACK_DSP = "effect_rack.dsp"


@cache
def rack_code(name: str = RACK_DSP) -> str:
    return (resources.files("asp.render") / "faust" / name).read_text()


class EffectRack:
    """A Faust effect DSP (mono in, mono out) applied to audio arrays.

    Args:
        sample_rate: of the audio it will process.
        block_size: engine block size.
        dsp: Faust source text (default: the built-in rack).
    """

    def __init__(self, sample_rate: int = 44100, block_size: int = 512, dsp: str | None = None) -> None:
        self.sample_rate = int(sample_rate)
        self.engine = daw.RenderEngine(self.sample_rate, block_size)
        self.source = self.engine.make_playback_processor("rack_in", np.zeros((1, block_size), np.float32))
        self.proc = self.engine.make_faust_processor("rack")
        try:
            self.proc.set_dsp_string(dsp if dsp is not None else rack_code())
            with quiet_fds():
                ok = self.proc.compile()
        except RuntimeError as err:
            raise RenderError(f"effect rack: Faust compile failed: {err}") from None
        if ok is False:
            raise RenderError("effect rack: Faust compile failed")
        self.paths = {d["name"].rsplit("/", 1)[-1]: d["name"] for d in self.proc.get_parameters_description()}
        self.engine.load_graph([(self.source, []), (self.proc, ["rack_in"])])
        self._last: dict[str, float] = {}
        self.process(np.zeros(block_size, np.float32), {})  # warm-up: the first render after compile differs

    @property
    def controls(self) -> list[str]:
        """The rack's control labels."""
        return sorted(self.paths)

    def process(self, audio: np.ndarray, controls: dict[str, float]) -> np.ndarray:
        """``audio`` (mono, float) through the rack with ``controls`` (label -> value; labels left out keep the
        value last set). Returns mono float32 audio of the same length.

        Raises:
            KeyError: an unknown control label (the message lists the valid ones).
            RenderError: the output is not finite.
        """
        unknown = sorted(set(controls) - set(self.paths))
        if unknown:
            raise KeyError(f"unknown rack control(s) {', '.join(unknown)}; valid: {', '.join(self.controls)}")
        for label, value in controls.items():
            if self._last.get(label) != float(value):
                self.proc.set_parameter(self.paths[label], float(value))
                self._last[label] = float(value)
        x = np.asarray(audio, np.float32).reshape(1, -1)
        self.source.set_data(x)
        self.engine.render(x.shape[1] / self.sample_rate)
        out = self.proc.get_audio()
        y = out[0, : x.shape[1]] if out.ndim == 2 else out[: x.shape[1]]
        if y.shape[0] < x.shape[1]:
            y = np.pad(y, (0, x.shape[1] - y.shape[0]))
        if not np.all(np.isfinite(y)):
            raise RenderError("effect rack: the output has non-finite samples")
        return y.astype(np.float32)


_RACKS: dict[tuple[int, int], EffectRack] = {}


def get_rack(sample_rate: int = 44100, block_size: int = 512) -> EffectRack:
    """This process's built-in rack for a sample rate (one engine per process, reused)."""
    key = (int(sample_rate), int(block_size))
    if key not in _RACKS:
        _RACKS[key] = EffectRack(sample_rate, block_size)
    return _RACKS[key]


class Rack(Protocol):
    """An effect backend: the dry audio through a chain's effects (rack order)."""

    sample_rate: int

    def apply(self, audio: np.ndarray, chain: Mapping[str, Mapping[str, float]]) -> np.ndarray: ...


def rack_controls(chain: Mapping[str, Mapping[str, float]]) -> dict[str, float]:
    """Every control of the built-in rack for a chain: the chain's effects on with their settings, the others off
    (extra effects have no control here: ``apply_extras`` plays them)."""
    return specs.synth_rack_values(
        chain, "Faust", lambda e: e.control, lambda e: (), lambda p: p.control, lambda p, v: v, refuse_extra=False
    )


_PROCESSORS: dict[tuple[str, str, int], Any] = {}


def extra_processor(spec: specs.EffectSpec) -> Any:
    """This process's processor of an extra effect: ``factory(source, fingerprint)`` from the spec's entry point
    ``"module:factory"``, made once per process.

    Raises:
        RenderError: the entry point does not import (naming the effect and the reason).
    """
    key = (spec.processor, spec.source, spec.fingerprint)
    if key not in _PROCESSORS:
        module, _, name = spec.processor.partition(":")
        try:
            factory = getattr(import_module(module), name)
        except (ImportError, AttributeError) as err:
            raise RenderError(f"effect {spec.name!r}: cannot load its processor {spec.processor!r}: {err}") from None
        _PROCESSORS[key] = factory(spec.source, spec.fingerprint)
    return _PROCESSORS[key]


def apply_extras(audio: np.ndarray, sample_rate: int, chain: Mapping[str, Mapping[str, float]]) -> np.ndarray:
    """The audio through the chain's extra effects, in rack order (unchanged where it holds none)."""
    for spec, setting in specs.rack_slots(chain):
        if spec.extra and setting is not None:
            values = [setting[p.name] for p in spec.params]
            audio = np.asarray(extra_processor(spec).apply(audio, sample_rate, values), np.float32)
            if not np.all(np.isfinite(audio)):
                raise RenderError(f"effect {spec.name!r}: the output has non-finite samples")
    return audio


class FaustRack:
    """The built-in rack: ``apply(dry_audio, chain)``."""

    def __init__(self, sample_rate: int = 44100, rack: EffectRack | None = None) -> None:
        self.sample_rate = int(sample_rate)
        self.rack = rack or get_rack(self.sample_rate)

    def apply(self, audio: np.ndarray, chain: Mapping[str, Mapping[str, float]]) -> np.ndarray:
        """The dry audio through the chain's effects (rack order). An empty chain returns the audio unchanged."""
        return apply_extras(self.rack.process(audio, rack_controls(chain)), self.sample_rate, chain)
