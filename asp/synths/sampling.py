"""Random presets: per-parameter ranges, fixed values and excluded classes, kept apart from the schema.

A sampling spec is a YAML mapping (values in natural units)::

    fixed:   {master_vol: 0.7}          # always this value
    ranges:  {amp_attack: [0, 0.5]}     # continuous: uniform in normalised space within this natural range
    exclude: {filter_type: [4]}         # categorical/binary: never these class indices
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from asp.synths.params import SchemaError
from asp.synths.schema import SynthSchema


@dataclass(frozen=True)
class SamplingSpec:
    """How to draw random presets for one synth."""

    fixed: Mapping[str, float] = field(default_factory=dict)
    ranges: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    exclude: Mapping[str, tuple[int, ...]] = field(default_factory=dict)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any] | None) -> SamplingSpec:
        data = dict(data or {})
        extra = set(data) - {"fixed", "ranges", "exclude"}
        if extra:
            raise SchemaError(f"sampling spec: unknown key(s) {sorted(extra)}; valid: fixed, ranges, exclude")
        return cls(
            fixed={k: float(v) for k, v in (data.get("fixed") or {}).items()},
            ranges={k: (float(v[0]), float(v[1])) for k, v in (data.get("ranges") or {}).items()},
            exclude={k: tuple(int(c) for c in v) for k, v in (data.get("exclude") or {}).items()},
        )

    @classmethod
    def from_file(cls, path: str | Path) -> SamplingSpec:
        try:
            return cls.from_mapping(yaml.safe_load(Path(path).read_text()))
        except SchemaError as err:
            raise SchemaError(f"{path}: {err}") from None

    def check(self, schema: SynthSchema) -> None:
        """Raise :class:`SchemaError` naming any parameter the spec gets wrong for this schema."""
        problems: list[str] = []
        for section in (self.fixed, self.ranges, self.exclude):
            for name in section:
                if name not in schema.position:
                    problems.append(f"unknown parameter {name!r}")
        for name, value in self.fixed.items():
            if name in schema.position:
                try:
                    schema.from_natural({name: value}, source="fixed value")
                except SchemaError as err:
                    problems.append(str(err))
        for name, (lo, hi) in self.ranges.items():
            if name in schema.position:
                p = schema[name]
                plo, phi = sorted((p.low, p.high))
                if p.discrete:
                    problems.append(f"parameter {name!r} is {p.kind}: use 'exclude', not 'ranges'")
                elif not (plo <= lo <= hi <= phi):
                    problems.append(f"parameter {name!r}: range [{lo:g}, {hi:g}] is not inside [{plo:g}, {phi:g}]")
        for name, classes in self.exclude.items():
            if name in schema.position:
                p = schema[name]
                if not p.discrete:
                    problems.append(f"parameter {name!r} is continuous: use 'ranges', not 'exclude'")
                elif any(not 0 <= c < p.n_classes for c in classes) or len(set(classes)) >= p.n_classes:
                    problems.append(
                        f"parameter {name!r}: exclusions {list(classes)} leave no valid class of {p.n_classes}"
                    )
        if problems:
            raise SchemaError(f"sampling spec for {schema.name}: " + "; ".join(problems))


def check_default_share(share: float) -> None:
    """ValueError unless ``share`` is a valid ``default_share`` (a chance below 1: some values must be drawn)."""
    if not 0.0 <= share < 1.0:
        raise ValueError(f"default share must be in [0, 1), got {share}")


def sample_presets(
    schema: SynthSchema,
    n: int,
    rng: np.random.Generator,
    spec: SamplingSpec | None = None,
    default_share: float = 0.0,
) -> np.ndarray:
    """Draw ``n`` random presets.

    Continuous parameters are uniform in normalised space (within ``spec.ranges``), discrete ones uniform over
    the allowed classes, fixed ones constant.

    Args:
        default_share: the chance that a parameter keeps the schema's default value instead (drawn for each
            parameter of each preset; only where the default lies within the parameter's range or allowed
            classes). Hand-made presets leave most parameters at their defaults (amsynth's 3,482 factory presets:
            42 % of values), uniform random ones almost none; 0 (the default) draws exactly as before.

    Returns:
        (n, n_params) float32 native vectors.
    """
    check_default_share(default_share)
    spec = spec or SamplingSpec()
    spec.check(schema)
    out = np.empty((n, schema.n_params), dtype=np.float32)
    defaults = schema.default_vector()
    keeps_default: list[int] = []
    for i, p in enumerate(schema.params):
        default = defaults[i]
        if p.name in spec.fixed:
            out[:, i] = p.to_normalised(spec.fixed[p.name])
            continue
        if p.discrete:
            excluded = spec.exclude.get(p.name, ())
            allowed = np.setdiff1d(np.arange(p.n_classes), excluded)
            out[:, i] = rng.choice(allowed, size=n) / (p.n_classes - 1)
            if p.class_of(default) not in excluded:
                keeps_default.append(i)
        else:
            lo, hi = 0.0, 1.0
            if p.name in spec.ranges:
                a, b = (p.to_normalised(v) for v in spec.ranges[p.name])
                lo, hi = float(min(a, b)), float(max(a, b))
            out[:, i] = rng.uniform(lo, hi, size=n)
            if lo <= default <= hi:
                keeps_default.append(i)
    if default_share > 0 and keeps_default:
        # drawn after every value, so the values themselves are those of default_share = 0
        cols = np.asarray(keeps_default)
        mask = rng.random((n, len(cols))) < default_share
        out[:, cols] = np.where(mask, defaults[cols], out[:, cols])
    return out
