"""The Vital backend of the effect stage: the same effect chains on Vital's own effects.

Like Serum's, Vital's effects sit inside the synth: a chain becomes a set of Vital control values (natural units:
decibels, semitones), every effect's switch, the controls held fixed while it is on, and the predicted parameters
(``vital_*`` fields of ``effects.yaml``), set on top of a patch, which is then rendered again. The mapping is plain
data, tested without the engine; rendering needs the binding (``pip install 'asp[vital]'``).

What differs from the Faust rack, and why:

* Vital's distortion has six types (soft clip, hard clip, linear fold, sine fold, bit crush, down sample) for
  SerumRNN's twelve modes; each mode maps to the nearest type, so modes that share one sound alike here.
* Vital's compressor is a multiband upward/downward one: the three predicted band amounts drive its bands' upper
  ratios, the band gains held at 0 dB so that a setting changes dynamics, not the level alone.
* The reverb's low and high cut are Vital's pre-filter cutoffs; its decay and size are held (1 s on Vital's scale,
  0.8), as SerumRNN held Serum's.
* The rack order is Vital's own effect order, not the built-in rack's; the models only see audio, so the loop does
  not need to know it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from asp.render.settings import RenderSettings
from asp.synths import effect_specs as specs

if TYPE_CHECKING:
    from asp.render.base import Renderer


def vital_value(param: specs.EffectParam, value: float) -> float:
    """A setting's value as the natural value of its Vital control (a class -> its Vital option; a normalised
    value -> its place in ``vital_range``)."""
    if param.categorical:
        return float(param.vital_classes[int(value)])
    lo, hi = param.vital_range
    return float(lo + (hi - lo) * float(value))


def vital_controls(chain: Mapping[str, Mapping[str, float]]) -> dict[str, float]:
    """Vital control name -> natural value for a chain: every effect's switch (on for the chain's effects, off for
    the others), the controls held while an effect is on, and the settings."""
    return specs.synth_rack_values(
        chain, "Vital", lambda e: e.vital_enable, lambda e: e.vital_fixed, lambda p: p.vital, vital_value
    )


class VitalPatchRack:
    """One Vital patch as the effect loop's rack (``asp effects dataset --backend vital``, ``asp effects steps
    --backend vital``).

    ``apply(_, chain)`` sets the chain on the patch's own effects and renders the patch again (the audio passed in
    is not used: Vital's effects sit inside the synth); ``dry()`` is the patch with the five effects switched off,
    the loop's starting sound. Vital's other effects (chorus, delay, flanger) keep the patch's settings.

    Args:
        vector: the patch, a normalised native vector of the ``vital`` schema.
        note: the MIDI note played.
        settings: how it is played (its ``render_seconds`` sets the clip length).
        renderer: asp's Vital renderer by default (needs the binding: ``RenderError`` says how to install it).
    """

    def __init__(
        self, vector: np.ndarray, note: int, settings: RenderSettings, renderer: Renderer | None = None
    ) -> None:
        from asp.render.factory import get_renderer
        from asp.render.vital_backend import VitalRenderer

        renderer = renderer or get_renderer("vital", settings)
        if not isinstance(renderer, VitalRenderer):
            raise TypeError(f"the vital synth renders with {type(renderer).__name__}, not Vital's own engine")
        self.renderer = renderer
        self.values = renderer.schema.to_natural(np.asarray(vector, np.float32))
        self.note = int(note)
        self.sample_rate = int(settings.sample_rate)
        self.n_samples = int(round(settings.render_seconds * self.sample_rate))

    def apply(self, audio: np.ndarray | None, chain: Mapping[str, Mapping[str, float]]) -> np.ndarray:
        out = self.renderer.render_values({**self.values, **vital_controls(chain)}, self.note)
        out = np.asarray(out, np.float32)[: self.n_samples]
        return np.pad(out, (0, self.n_samples - len(out)))

    def dry(self) -> np.ndarray:
        return self.apply(None, {})

    def write_preset(self, path: str | Path, chain: Mapping[str, Mapping[str, float]], name: str) -> None:
        """The patch with ``chain`` on its effects as a ``.vital`` file Vital loads (atomically)."""
        from asp.synths import vital

        vital.write_values_file(path, {**self.values, **vital_controls(chain)}, name)
