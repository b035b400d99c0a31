"""The Serum backend: the same effect chains on Xfer Serum's own FX rack.

Serum's effects live inside the synth, so a chain is a set of Serum parameter values (normalised, by VST2 index):
each effect's switch, the values SerumRNN holds fixed while it is on, and the predicted parameters. Rendering needs
the plugin (``asp synths list`` says where asp looks); the mapping itself is plain data and tested without it.

Distortion mode: SerumRNN's code drives Serum's mode control as 14 evenly spaced classes (of which it samples 12),
while the class count in asp's Serum schema (from the multi-task paper's tables) is 16. The mapping follows
SerumRNN, which set the plugin itself; re-derive both from the plugin where it is installed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

from asp.synths import effect_specs as specs

if TYPE_CHECKING:
    from asp.render.base import Renderer
    from asp.render.settings import RenderSettings


def serum_value(param: specs.EffectParam, value: float) -> float:
    """A setting's value as Serum's normalised parameter value (a categorical class -> its Serum class k/(n-1))."""
    if param.categorical:
        return param.serum_classes[int(value)] / (param.serum_n_classes - 1)
    return float(value)


def serum_class(param: specs.EffectParam, serum_value_: float) -> int:
    """The inverse for a categorical parameter: asp's class for a Serum value (the nearest Serum class that asp
    samples)."""
    k = int(round(float(serum_value_) * (param.serum_n_classes - 1)))
    return int(np.argmin([abs(k - c) for c in param.serum_classes]))


def serum_parameters(chain: Mapping[str, Mapping[str, float]]) -> dict[int, float]:
    """Serum parameter index -> normalised value for a chain: every effect's switch (on for the chain's effects, off
    for the others), the fixed values of the effects that are on, and their settings."""
    return specs.synth_rack_values(
        chain, "Serum", lambda e: e.serum_enable, lambda e: e.serum_fixed, lambda p: p.serum, serum_value
    )


def chain_from_serum(values: Mapping[int, float]) -> dict[str, dict[str, float]]:
    """The chain a Serum parameter state holds (effects switched on, their predicted parameters)."""
    chain: dict[str, dict[str, float]] = {}
    for name in specs.builtin_order():
        spec = specs.get(name)
        if float(values.get(spec.serum_enable, 0.0)) >= 0.5:
            chain[name] = {
                p.name: float(serum_class(p, values[p.serum])) if p.categorical else float(values[p.serum])
                for p in spec.params
            }
    return chain


class SerumRack:
    """Applies chains by rendering Serum itself: ``apply_vector(dry_serum_vector, chain)`` returns the preset vector
    with the chain's FX parameters set (render it with asp's Serum renderer, which needs the plugin)."""

    def __init__(self) -> None:
        from asp.synths import registry

        self.schema = registry.load_schema("serum")

    def apply_vector(self, vector: np.ndarray, chain: Mapping[str, Mapping[str, float]]) -> np.ndarray:
        v = np.array(vector, np.float32, copy=True)
        if v.shape != (self.schema.n_params,):
            raise ValueError(f"a Serum preset has {self.schema.n_params} parameters, got shape {v.shape}")
        position = {p.index: i for i, p in enumerate(self.schema.params)}
        for index, value in serum_parameters(chain).items():
            v[position[index]] = value
        return v

    def render(self, vector: np.ndarray, chain: Mapping[str, Mapping[str, float]], note: int, settings) -> np.ndarray:
        """Render the preset with the chain in Serum (PluginNotFoundError where Serum is not installed)."""
        from asp.render.factory import get_renderer

        return get_renderer("serum", settings).render(self.apply_vector(vector, chain), note)


class SerumPatchRack:
    """One Serum patch as the effect loop's rack (``asp effects steps --backend serum``).

    The loop asks a rack for ``apply(dry_audio, chain)``; here the chain is set on the patch's own FX parameters
    and the patch is rendered again (the dry audio is not used: Serum's effects sit inside the synth). ``dry()`` is
    the patch with all five effects switched off, the loop's starting sound. Effects outside the five keep the
    patch's settings.

    Args:
        vector: the patch, (315,) normalised Serum parameters in schema order.
        note: the MIDI note played.
        settings: how it is played (its ``render_seconds`` sets the clip length).
        renderer: asp's Serum renderer by default (needs the plugin: ``PluginNotFoundError`` says where asp looked).
    """

    def __init__(
        self, vector: np.ndarray, note: int, settings: RenderSettings, renderer: Renderer | None = None
    ) -> None:
        self.rack = SerumRack()
        self.vector = self.rack.apply_vector(vector, {})  # shape checked, the patch's own five effects off
        self.note = int(note)
        self.sample_rate = int(settings.sample_rate)
        if renderer is None:
            from asp.render.factory import get_renderer

            renderer = get_renderer("serum", settings)
        self.renderer = renderer
        self.n_samples = int(round(settings.render_seconds * self.sample_rate))

    def apply(self, audio: np.ndarray | None, chain: Mapping[str, Mapping[str, float]]) -> np.ndarray:
        out = np.asarray(self.renderer.render(self.rack.apply_vector(self.vector, chain), self.note), np.float32)
        return np.pad(out[: self.n_samples], (0, max(0, self.n_samples - len(out))))

    def dry(self) -> np.ndarray:
        return self.apply(None, {})
