"""A dry/wet pair to steer an effect from (``asp effects pair``), made from this project's own parts.

The dry signal is a phrase of notes played by the built-in synths' hand-made presets (``presets/<synth>/``): random
presets, notes (C3-C5), lengths and levels (-24 to 0 dB, so a compressor has dynamics to act on), with gaps between
them (so a reverb's tail is heard). The wet signal is the dry one through one effect of the built-in Faust rack.
The folder holds ``dry.wav``, ``wet.wav``, ``ir.wav`` (the effect's response to a unit impulse, for the T60
reference) and ``pair.json`` (the effect, its setting, the seed).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from asp.atomic import atomic_dir
from asp.render.effects import FaustRack
from asp.render.factory import get_renderer
from asp.render.settings import RenderSettings
from asp.synths import effect_specs as specs
from asp.synths import registry
from asp.synths.presets import read_presets

PAIR_RATE = 44100
NOTE_SECONDS = (0.25, 0.5, 1.0)
RELEASE_SECONDS = 0.5
# strong settings, so the effect is plain to hear and to learn (any parameter left out of --setting takes these)
DEFAULT_SETTINGS: dict[str, dict[str, float]] = {
    "compressor": {"low": 0.9, "mid": 0.9, "high": 0.9},
    "reverb_hall": {"mix": 0.7, "low_cut": 0.1, "high_cut": 0.7},
}


def full_setting(effect: str, setting: Mapping[str, float] | None = None) -> dict[str, float]:
    """A complete setting of ``effect``: the given values, then ``DEFAULT_SETTINGS``, then each parameter's sampling
    midpoint (categorical: class 0); validated (errors name the effect and the valid names)."""
    spec = specs.get(effect)
    base = {p.name: (0.0 if p.categorical else float(np.mean(p.sample_ranges[0]))) for p in spec.params}
    base.update(DEFAULT_SETTINGS.get(effect, {}))
    unknown = sorted(set(setting or {}) - set(base))
    if unknown:
        raise KeyError(f"{effect}: unknown parameter(s) {', '.join(unknown)}; valid: {', '.join(base)}")
    base.update({k: float(v) for k, v in (setting or {}).items()})
    return spec.check(base)


def dry_phrase(seconds: float, seed: int = 0, sample_rate: int = PAIR_RATE) -> np.ndarray:
    """(n,) float32 mono: notes of the built-in synths' hand-made presets, peak-normalised to -1 dBFS."""
    rng = np.random.default_rng(seed)
    presets = []
    for synth in registry.builtin_names():
        schema = registry.load_schema(synth)
        presets += [(synth, p.vector) for p in read_presets(registry.factory_presets(synth), schema)]
    n = int(seconds * sample_rate)
    out = np.zeros(n + int(2 * sample_rate), np.float64)
    t = 0
    while t < n:
        synth, vector = presets[int(rng.integers(len(presets)))]
        held = float(rng.choice(NOTE_SECONDS))
        settings = RenderSettings(
            sample_rate=sample_rate, note_seconds=held, render_seconds=held + RELEASE_SECONDS, notes=(60,)
        )
        audio = get_renderer(synth, settings).render(vector, int(rng.integers(48, 73)))
        peak = float(np.max(np.abs(audio), initial=0.0))
        if peak > 0:
            gain = 10 ** (rng.uniform(-24.0, 0.0) / 20) / peak
            out[t : t + len(audio)] += gain * audio[: len(out) - t]
        t += int((held + rng.uniform(0.0, 0.6)) * sample_rate)
    x = out[:n]
    return (x / max(float(np.max(np.abs(x))), 1e-9) * 10 ** (-1 / 20)).astype(np.float32)


def make_pair(
    out: str | Path, effect: str, setting: Mapping[str, float] | None = None, seconds: float = 12.0, seed: int = 0
) -> dict[str, Any]:
    """Write a pair folder (see the module docstring); an existing complete folder is replaced. Returns pair.json."""
    chain = {effect: full_setting(effect, setting)}
    dry = dry_phrase(seconds, seed)
    rack = FaustRack(PAIR_RATE)
    wet = rack.apply(dry, chain)
    for _ in range(3):  # a wet peak above full scale would be clipped on disk: play the phrase quieter instead
        peak = float(np.max(np.abs(wet)))
        if peak <= 0.99:
            break
        dry = (dry * (0.95 / peak)).astype(np.float32)
        wet = rack.apply(dry, chain)
    impulse = np.zeros(int(3.0 * PAIR_RATE), np.float32)
    impulse[0] = 1.0
    ir = rack.apply(impulse, chain) - rack.apply(np.zeros_like(impulse), chain)
    card = {
        "effect": effect,
        "setting": specs.as_jsonable(chain)[effect],
        "seconds": seconds,
        "seed": seed,
        "sample_rate": PAIR_RATE,
    }
    with atomic_dir(out) as tmp:
        import soundfile as sf

        for name, audio in (("dry", dry), ("wet", wet), ("ir", ir)):  # float WAV: the tails' low levels matter
            sf.write(str(tmp / f"{name}.wav"), np.asarray(audio, np.float32), PAIR_RATE, subtype="FLOAT")
        (tmp / "pair.json").write_text(json.dumps(card, indent=2))
    return card
