"""Effect specs: the five SerumRNN effects, their parameters, sampling ranges and fixed rack order.

A *setting* of one effect is a dict ``param name -> value``: continuous values are normalised to [0, 1] (as Serum's
parameters are), a categorical value is a class index. A *chain* is ``effect name -> setting`` for the effects that
are on; effects always play in rack order, whatever order a chain was built in. The specs are package data
(``data/effects.yaml``); backends map them onto their controls (``asp.render.effects`` for the built-in Faust rack,
``asp.render.serum_rack`` for Serum's FX parameters, ``asp.render.vital_rack`` for Vital's effects).

**Extra effects.** The five are the built-in set; an *extra* effect joins after them, e.g. a steerable neural effect
(``asp effects steer``) with its controls as its parameters (``steered_spec``). An extra effect names no rack
control: it names a *processor*, an entry point ``"module:factory"`` that ``asp.render.effects`` imports when it
first plays the effect (``factory(source)`` -> an object with ``apply(audio, sample_rate, values)``), so this layer
and the render layer stay free of what the processor needs (a steered effect's torch). The set in use is the
process's: ``use_extra(...)`` sets it, and an effect dataset records its extras and sets them again wherever it is
read, so every later stage (training, evaluation, ``asp infer --effects``) sees the rack the data was made with.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import numpy as np
import yaml

from asp.synths.params import ParamSpec
from asp.synths.schema import SynthSchema

# SerumRNN's three preset groups; asp's are made of built-in synth presets under presets/effects/<group>/
PRESET_GROUPS = ("basic_shapes", "advanced_shapes", "advanced_modulating_shapes")
Setting = dict[str, float]
Chain = dict[str, Setting]


@dataclass(frozen=True)
class EffectParam(ParamSpec):
    """One predicted parameter of an effect: a :class:`~asp.synths.params.ParamSpec` like any synth parameter (its
    kind, class labels, ``index`` = its place in the effect), plus where it lives in each rack.

    A setting holds its *natural* value: continuous ones range over [0, 1] (``low`` 0, ``high`` 1: Serum's
    normalised values), a categorical one over its class indices (``low`` 0, ``high`` n_classes - 1), so
    ``to_normalised``, ``class_of`` and ``label_of`` work as for a synth.
    """

    label: str = ""  # the name shown in a step's description
    control: str = ""  # the built-in rack's control
    serum: int = -1  # Serum VST2 parameter index
    sample_ranges: tuple[tuple[float, float], ...] = ()
    serum_classes: tuple[int, ...] = ()
    serum_n_classes: int = 0
    vital: str = ""  # Vital's control
    vital_range: tuple[float, float] = (0.0, 1.0)  # the natural range a normalised value maps onto
    vital_classes: tuple[int, ...] = ()  # the Vital option of each class

    @property
    def classes(self) -> tuple[str, ...]:
        """The class names of a categorical parameter (its ``labels``)."""
        return self.labels

    @property
    def categorical(self) -> bool:
        return self.kind == "categorical"

    def sample(self, rng: np.random.Generator) -> float:
        """One value: a class index, or a uniform draw over the union of the sampling intervals."""
        if self.categorical:
            return float(rng.integers(len(self.classes)))
        widths = np.array([hi - lo for lo, hi in self.sample_ranges])
        u = rng.uniform(0.0, widths.sum())
        for (lo, _), w in zip(self.sample_ranges, widths):
            if u <= w:
                return float(lo + u)
            u -= w
        return float(self.sample_ranges[-1][1])

    def check(self, value: float, effect: str) -> float:
        """The value, validated (ValueError naming the effect and parameter)."""
        v = float(value)
        if self.categorical:
            if v != int(v) or not 0 <= v < len(self.classes):
                raise ValueError(
                    f"{effect}.{self.name}: class {value!r} out of range 0-{len(self.classes) - 1} "
                    f"({', '.join(self.classes)})"
                )
        elif not (np.isfinite(v) and 0.0 <= v <= 1.0):
            raise ValueError(f"{effect}.{self.name}: {value!r} is not a normalised value in [0, 1]")
        return v

    def describe(self, value: float) -> str:
        if self.categorical:
            return f"{self.label} {self.classes[int(value)]}"
        return f"{self.label} {value:.2f}"


@dataclass(frozen=True)
class EffectSpec:
    """One effect: its parameters and how it is switched on."""

    name: str
    label: str
    control: str
    serum_enable: int
    serum_fixed: tuple[tuple[int, float], ...]
    params: tuple[EffectParam, ...]
    vital_enable: str = ""  # Vital's switch
    vital_fixed: tuple[tuple[str, float], ...] = ()  # Vital controls held while the effect is on
    processor: str = ""  # an extra effect's entry point, "module:factory" (empty: a control of the built-in racks)
    source: str = ""  # what the processor is made from (a steered effect's model folder)
    fingerprint: int = 0  # CRC-32 of what the source holds (a changed model is a different effect)

    @property
    def extra(self) -> bool:
        """True for an effect outside the built-in racks (played by its processor)."""
        return bool(self.processor)

    @property
    def schema(self) -> SynthSchema:
        """The effect's parameters as a schema, like a synth's (one-hot sizes, hashing, listings)."""
        return SynthSchema(name=self.name, params=self.params, description=self.label)

    @property
    def continuous(self) -> tuple[EffectParam, ...]:
        return tuple(p for p in self.params if not p.categorical)

    @property
    def categorical(self) -> tuple[EffectParam, ...]:
        return tuple(p for p in self.params if p.categorical)

    def param(self, name: str) -> EffectParam:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(f"{self.name} has no parameter {name!r}; valid: {', '.join(p.name for p in self.params)}")

    def sample(self, rng: np.random.Generator) -> Setting:
        return {p.name: p.sample(rng) for p in self.params}

    def check(self, setting: Mapping[str, float]) -> Setting:
        """A complete, validated setting (missing or unknown names raise, naming the valid ones)."""
        names = [p.name for p in self.params]
        unknown = sorted(set(setting) - set(names))
        missing = [n for n in names if n not in setting]
        if unknown or missing:
            raise KeyError(
                f"{self.name}: "
                + "; ".join(
                    ([f"unknown parameter(s) {', '.join(unknown)}"] if unknown else [])
                    + ([f"missing {', '.join(missing)}"] if missing else [])
                )
                + f"; valid: {', '.join(names)}"
            )
        return {p.name: p.check(setting[p.name], self.name) for p in self.params}

    def encode(self, setting: Mapping[str, float]) -> tuple[np.ndarray, np.ndarray]:
        """(continuous values in spec order, float32; class index per categorical parameter, int64)."""
        s = self.check(setting)
        return (
            np.array([s[p.name] for p in self.continuous], np.float32),
            np.array([int(s[p.name]) for p in self.categorical], np.int64),
        )

    def decode(self, continuous: np.ndarray, classes: np.ndarray) -> Setting:
        """The inverse of ``encode`` (continuous values clipped into [0, 1])."""
        out = {p.name: float(np.clip(v, 0.0, 1.0)) for p, v in zip(self.continuous, np.asarray(continuous))}
        out.update({p.name: float(int(c)) for p, c in zip(self.categorical, np.asarray(classes))})
        return {p.name: out[p.name] for p in self.params}

    def describe(self, setting: Mapping[str, float]) -> str:
        """``Distortion, mode diode 1, drive 0.62``."""
        return ", ".join([self.label] + [p.describe(setting[p.name]) for p in self.params])


@cache
def _load() -> tuple[tuple[str, ...], dict[str, EffectSpec]]:
    data = yaml.safe_load((resources.files("asp.synths") / "data" / "effects.yaml").read_text())
    specs: dict[str, EffectSpec] = {}
    for name, e in data["effects"].items():
        params = tuple(
            EffectParam(
                name=p["name"],
                index=i,
                kind=p["kind"],
                high=max(1.0, len(p.get("classes", ())) - 1.0),
                n_classes=len(p.get("classes", ())),
                labels=tuple(p.get("classes", ())),
                group="fx",
                label=p["label"],
                control=p["control"],
                serum=int(p["serum"]),
                sample_ranges=tuple((float(lo), float(hi)) for lo, hi in p.get("sample", [])),
                serum_classes=tuple(int(c) for c in p.get("serum_classes", ())),
                serum_n_classes=int(p.get("serum_n_classes", 0)),
                vital=str(p.get("vital", "")),
                vital_range=tuple(float(x) for x in p.get("vital_range", (0.0, 1.0))),  # type: ignore[arg-type]
                vital_classes=tuple(int(c) for c in p.get("vital_classes", ())),
            )
            for i, p in enumerate(e["params"])
        )
        specs[name] = EffectSpec(
            name=name,
            label=e["label"],
            control=e["control"],
            serum_enable=int(e["serum_enable"]),
            serum_fixed=tuple(sorted((int(k), float(v)) for k, v in e["serum_fixed"].items())),
            params=params,
            vital_enable=str(e.get("vital_enable", "")),
            vital_fixed=tuple(sorted((str(k), float(v)) for k, v in e.get("vital_fixed", {}).items())),
        )
    rack = tuple(data["rack"])
    if sorted(rack) != sorted(specs):
        raise ValueError("effects.yaml: the rack order must name every effect once")
    return rack, specs


_EXTRA: tuple[EffectSpec, ...] = ()


def builtin_order() -> tuple[str, ...]:
    """The five built-in effects in rack order."""
    return _load()[0]


def rack_order() -> tuple[str, ...]:
    """Effect names in the order the rack plays them: the built-in five, then the extra effects in use."""
    return _load()[0] + tuple(e.name for e in _EXTRA)


def extra_effects() -> tuple[EffectSpec, ...]:
    """The extra effects in use in this process (``use_extra``)."""
    return _EXTRA


def use_extra(extra: tuple[EffectSpec, ...] | list[EffectSpec] = ()) -> None:
    """Set the extra effects of this process's rack (after the built-in five, in this order); ``()``: none.

    Raises:
        ValueError: a name taken by a built-in effect, named twice, or not a valid effect name.
    """
    global _EXTRA
    names = [e.name for e in extra]
    clash = sorted(set(names) & set(_load()[1]))
    if clash:
        raise ValueError(f"extra effect {clash[0]!r}: the name of a built-in effect; choose another")
    if len(set(names)) != len(names):
        raise ValueError(f"extra effects named twice: {', '.join(names)}")
    bad = [n for n in names if not re.fullmatch(r"[a-z][a-z0-9_]*", n)]
    if bad:
        raise ValueError(f"extra effect name {bad[0]!r}: use lower-case letters, digits and underscores")
    _EXTRA = tuple(extra)


def get(name: str) -> EffectSpec:
    """The spec of an effect (KeyError listing the valid names)."""
    specs = _load()[1]
    if name in specs:
        return specs[name]
    for e in _EXTRA:
        if e.name == name:
            return e
    raise KeyError(f"unknown effect {name!r}; valid: {', '.join(rack_order())}")


STEERED_PROCESSOR = "asp.effects.steer:RackSteered"


def steered_spec(name: str, folder: str, n_controls: int, fingerprint: int = 0) -> EffectSpec:
    """A steerable neural effect as an extra effect: its controls are its parameters, ``control_1`` ... (normalised
    to [0, 1]; 0.5 is the control value 0 it was trained at, 0 and 1 are -1 and +1), sampled over the whole range."""
    params = tuple(
        EffectParam(
            name=f"control_{i + 1}",
            index=i,
            kind="continuous",
            default=0.5,
            group="fx",
            label=f"control {i + 1}",
            sample_ranges=((0.0, 1.0),),
        )
        for i in range(n_controls)
    )
    return EffectSpec(
        name=name,
        label=name.replace("_", " ").capitalize(),
        control="",
        serum_enable=-1,
        serum_fixed=(),
        params=params,
        processor=STEERED_PROCESSOR,
        source=str(folder),
        fingerprint=int(fingerprint),
    )


def extra_record(spec: EffectSpec) -> dict[str, Any]:
    """An extra effect as plain data (what a dataset records)."""
    return {
        "name": spec.name,
        "processor": spec.processor,
        "source": spec.source,
        "fingerprint": spec.fingerprint,
        "params": [p.name for p in spec.params],
    }


def extra_from_record(rec: Mapping[str, Any]) -> EffectSpec:
    """The inverse of ``extra_record`` (a steered effect's processor only)."""
    if rec.get("processor") != STEERED_PROCESSOR:
        raise ValueError(f"extra effect {rec.get('name')!r}: unknown processor {rec.get('processor')!r}")
    return steered_spec(str(rec["name"]), str(rec["source"]), len(rec["params"]), int(rec.get("fingerprint", 0)))


def parse_names(text: str | list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """Comma-separated (or listed) effect names, validated, in rack order."""
    items = [t.strip() for t in (text.split(",") if isinstance(text, str) else text) if t.strip()]
    for n in items:
        get(n)
    return tuple(n for n in rack_order() if n in items)


def subsets() -> list[tuple[str, ...]]:
    """All effect subsets (32 of the five; the empty one first), each in rack order; index i = bit mask over the rack
    order."""
    rack = rack_order()
    return [tuple(n for k, n in enumerate(rack) if mask >> k & 1) for mask in range(2 ** len(rack))]


def mask_of(effects: tuple[str, ...] | list[str]) -> int:
    """The bit mask of a subset (the index into ``subsets()``)."""
    rack = rack_order()
    return sum(1 << rack.index(get(n).name) for n in set(effects))


def mask_vector(mask: int) -> np.ndarray:
    """(effects,) float32 one-hot over the rack order of the effects in a bit mask."""
    return np.array([(mask >> k) & 1 for k in range(len(rack_order()))], np.float32)


def sample_chain(effects: tuple[str, ...] | list[str], rng: np.random.Generator) -> Chain:
    """Random settings for the given effects (rack order)."""
    return {n: get(n).sample(rng) for n in parse_names(list(effects))}


def check_chain(chain: Mapping[str, Mapping[str, float]]) -> Chain:
    """A validated chain in rack order."""
    order = parse_names(list(chain))
    return {n: get(n).check(chain[n]) for n in order}


def rack_slots(chain: Mapping[str, Mapping[str, float]]) -> list[tuple[EffectSpec, Setting | None]]:
    """Every effect of the rack in order, with its setting in ``chain`` (validated) or None where it is off: what a
    backend walks to set its switches and controls."""
    checked = check_chain(chain)
    return [(get(n), checked.get(n)) for n in rack_order()]


def synth_rack_values(
    chain: Mapping[str, Mapping[str, float]],
    synth: str,
    enable: Callable[[EffectSpec], Any],
    fixed: Callable[[EffectSpec], Iterable[tuple[Any, float]]],
    target: Callable[[EffectParam], Any],
    value: Callable[[EffectParam, float], float],
    refuse_extra: bool = True,
) -> dict[Any, float]:
    """A chain as the controls of a synth's own effect rack (Serum's, Vital's): every effect's switch (``enable``:
    on for the chain's effects, off for the others), the values held while an effect is on (``fixed``) and each
    setting (``target`` control <- ``value``). Extra effects have no place there: ValueError naming ``synth``, or
    left out with ``refuse_extra=False`` (the Faust rack plays them after its own, ``asp.render.effects``)."""
    out: dict[Any, float] = {}
    for spec, setting in rack_slots(chain):
        if spec.extra:
            if setting is not None and refuse_extra:
                raise ValueError(
                    f"effect {spec.name!r} is not one of {synth}'s: {synth}'s rack plays the built-in five"
                )
            continue
        out[enable(spec)] = 0.0 if setting is None else 1.0
        if setting is not None:
            out.update(dict(fixed(spec)))
            out.update({target(p): value(p, setting[p.name]) for p in spec.params})
    return out


def subchain(chain: Mapping[str, Setting], effects: tuple[str, ...] | list[str]) -> Chain:
    """The part of ``chain`` for ``effects`` (the same settings), in rack order."""
    return {n: dict(chain[n]) for n in rack_order() if n in effects}


def as_jsonable(chain: Mapping[str, Mapping[str, float]]) -> dict[str, Any]:
    """A chain with class indices as ints and the class name beside them (for JSON output). Values keep their full
    precision: a chain read back must render what was rendered (a downsampling distortion turns a rounding in the
    sixth digit into an audible difference)."""
    out: dict[str, Any] = {}
    for n, s in check_chain(chain).items():
        spec = get(n)
        out[n] = {p.name: (int(s[p.name]) if p.categorical else float(s[p.name])) for p in spec.params}
        for p in spec.categorical:
            out[n][f"{p.name}_name"] = p.classes[int(s[p.name])]
    return out
