"""Effect backends: where a chain of effect settings becomes sound.

``FaustRack`` (the default) plays the built-in Faust rack inside DawDreamer after any registered synth: it takes the
dry audio and a chain. ``asp.effects.serum`` maps the same chains onto Serum's own FX rack, which needs the plugin.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

from asp.effects import specs
from asp.render.effects import EffectRack, get_rack


def rack_controls(chain: Mapping[str, Mapping[str, float]]) -> dict[str, float]:
    """Every control of the built-in rack for a chain: the chain's effects on with their settings, the others off."""
    controls: dict[str, float] = {}
    for spec, setting in specs.rack_slots(chain):
        controls[spec.control] = 0.0 if setting is None else 1.0
        if setting is not None:
            controls.update({p.control: setting[p.name] for p in spec.params})
    return controls


class FaustRack:
    """The built-in rack: ``apply(dry_audio, chain)``."""

    def __init__(self, sample_rate: int = 44100, rack: EffectRack | None = None) -> None:
        self.sample_rate = int(sample_rate)
        self.rack = rack or get_rack(self.sample_rate)

    def apply(self, audio: np.ndarray, chain: Mapping[str, Mapping[str, float]]) -> np.ndarray:
        """The dry audio through the chain's effects (rack order). An empty chain returns the audio unchanged."""
        return self.rack.process(audio, rack_controls(chain))
