"""A synth's ordered parameter list: one-hot encode/decode, validation and a content hash.

Vectors come in two layouts:

* **native**: ``(B, n_params)`` normalised [0, 1] values, one per parameter, in schema order;
* **one-hot**: ``(B, onehot_size)``: continuous and binary parameters keep one dim, a categorical parameter with
  ``c`` classes becomes ``c`` indicator dims (Faronbi et al., ICASSP 2023). Decoding takes the argmax per
  categorical group and thresholds binary dims at 0.5.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from asp.synths.params import ParamSpec, SchemaError


@dataclass(frozen=True)
class Preset:
    """A named native vector of one synth, with where it came from."""

    name: str
    vector: np.ndarray
    source: str = ""


@dataclass(frozen=True)
class SynthSchema:
    """The parameter schema of one synth.

    Args:
        name: the synth's short registry name.
        params: parameters in vector order (usually plugin index order).
        description: one line for listings.
    """

    name: str
    params: tuple[ParamSpec, ...]
    description: str = ""
    meta: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def __post_init__(self) -> None:
        if not self.params:
            raise SchemaError(f"schema {self.name!r} has no parameters")
        seen: dict[str, int] = {}
        seen_index: dict[int, str] = {}
        for p in self.params:
            if p.name in seen:
                raise SchemaError(
                    f"schema {self.name!r}: duplicate parameter name {p.name!r} (indices {seen[p.name]} and {p.index})"
                )
            if p.index in seen_index:
                raise SchemaError(
                    f"schema {self.name!r}: parameters {seen_index[p.index]!r} and {p.name!r} share index {p.index}"
                )
            seen[p.name] = p.index
            seen_index[p.index] = p.name

    # ------------------------------------------------------------------ sizes and lookup
    @property
    def n_params(self) -> int:
        return len(self.params)

    @cached_property
    def names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params)

    @cached_property
    def position(self) -> dict[str, int]:
        """Parameter name -> position in the native vector."""
        return {p.name: i for i, p in enumerate(self.params)}

    def __getitem__(self, name: str) -> ParamSpec:
        try:
            return self.params[self.position[name]]
        except KeyError:
            raise KeyError(f"{self.name} has no parameter {name!r}") from None

    @cached_property
    def counts(self) -> dict[str, int]:
        """Number of parameters per kind."""
        out = {"continuous": 0, "categorical": 0, "binary": 0}
        for p in self.params:
            out[p.kind] += 1
        return out

    @cached_property
    def onehot_offsets(self) -> np.ndarray:
        """(n_params + 1,) start of each parameter's block in the one-hot vector; the last entry is the size."""
        return np.concatenate([[0], np.cumsum([p.onehot_size for p in self.params])]).astype(np.int64)

    @property
    def onehot_size(self) -> int:
        return int(self.onehot_offsets[-1])

    @cached_property
    def _kind_index(self) -> dict[str, np.ndarray]:
        out = {
            k: np.array([i for i, p in enumerate(self.params) if p.kind == k], dtype=np.int64)
            for k in ("continuous", "categorical", "binary")
        }
        return out

    @cached_property
    def onehot_kinds(self) -> np.ndarray:
        """(onehot_size,) per one-hot dim: 0 continuous, 1 categorical, 2 binary."""
        code = {"continuous": 0, "categorical": 1, "binary": 2}
        return np.concatenate([np.full(p.onehot_size, code[p.kind]) for p in self.params]).astype(np.int8)

    @cached_property
    def categorical_groups(self) -> list[tuple[int, int, int]]:
        """(param position, one-hot start, n_classes) per categorical parameter."""
        return [(i, int(self.onehot_offsets[i]), self.params[i].n_classes) for i in self._kind_index["categorical"]]

    # ------------------------------------------------------------------ one-hot
    def encode(self, native: np.ndarray) -> np.ndarray:
        """Native vectors -> one-hot vectors.

        Args:
            native: (B, n_params) or (n_params,) normalised values.

        Returns:
            (B, onehot_size) or (onehot_size,) float32.
        """
        x = self._check_native_shape(native)
        out = np.zeros((x.shape[0], self.onehot_size), dtype=np.float32)
        off = self.onehot_offsets
        for kind in ("continuous", "binary"):
            idx = self._kind_index[kind]
            vals = x[:, idx]
            out[:, off[idx]] = np.round(vals) if kind == "binary" else vals
        cat = self._kind_index["categorical"]
        if len(cat):
            c = np.array([self.params[i].n_classes for i in cat])
            k = np.round(np.clip(x[:, cat], 0, 1) * (c - 1)).astype(np.int64)
            rows = np.arange(x.shape[0])[:, None]
            out[rows, off[cat][None, :] + k] = 1.0
        return out[0] if np.ndim(native) == 1 else out

    def decode(self, onehot: np.ndarray) -> np.ndarray:
        """One-hot vectors (or scores) -> native vectors; argmax per categorical group, binary at 0.5.

        Args:
            onehot: (B, onehot_size) or (onehot_size,) values or logits-like scores.

        Returns:
            (B, n_params) or (n_params,) float32 normalised values on valid class values.
        """
        y = np.asarray(onehot, dtype=np.float64)
        squeeze = y.ndim == 1
        y = np.atleast_2d(y)
        if y.shape[-1] != self.onehot_size:
            raise SchemaError(f"{self.name}: one-hot vectors have {y.shape[-1]} dims, schema has {self.onehot_size}")
        out = np.zeros((y.shape[0], self.n_params), dtype=np.float32)
        off = self.onehot_offsets
        cont = self._kind_index["continuous"]
        out[:, cont] = np.clip(y[:, off[cont]], 0.0, 1.0)
        binary = self._kind_index["binary"]
        out[:, binary] = (y[:, off[binary]] >= 0.5).astype(np.float32)
        for i, start, c in self.categorical_groups:
            out[:, i] = np.argmax(y[:, start : start + c], axis=1) / (c - 1)
        return out[0] if squeeze else out

    def classes(self, native: np.ndarray) -> np.ndarray:
        """(B, n_categorical + n_binary) class index per discrete parameter, in schema order."""
        x = self._check_native_shape(native)
        disc = np.array([i for i, p in enumerate(self.params) if p.discrete], dtype=np.int64)
        c = np.array([self.params[i].n_classes for i in disc])
        return np.round(np.clip(x[:, disc], 0, 1) * (c - 1)).astype(np.int64)

    # ------------------------------------------------------------------ natural <-> native
    def default_vector(self) -> np.ndarray:
        """(n_params,) the defaults as a native vector."""
        return np.array([p.default_normalised for p in self.params], dtype=np.float32)

    def to_natural(self, native: np.ndarray) -> dict[str, float]:
        """One native vector -> {name: natural value}."""
        v = self._check_native_shape(native)[0]
        return {p.name: float(p.to_natural(v[i])) for i, p in enumerate(self.params)}

    def from_natural(
        self, values: Mapping[str, float], *, fill_defaults: bool = True, source: str = "preset"
    ) -> np.ndarray:
        """{name: natural value} -> native vector, validated.

        Args:
            values: natural values by parameter name.
            fill_defaults: use the default for parameters missing from ``values``; if False, a missing parameter
                is an error.
            source: what the values came from, for error messages (a file name, say).

        Raises:
            SchemaError: naming each unknown, missing, out-of-range or off-class parameter.
        """
        problems: list[str] = []
        unknown = sorted(set(values) - set(self.position))
        if unknown:
            problems.append(f"unknown parameter(s) {', '.join(map(repr, unknown))}")
        out = self.default_vector()
        for i, p in enumerate(self.params):
            if p.name not in values:
                if not fill_defaults:
                    problems.append(f"parameter {p.name!r} is missing")
                continue
            try:
                x = float(values[p.name])
            except (TypeError, ValueError):
                problems.append(f"parameter {p.name!r}: value {values[p.name]!r} is not a number")
                continue
            lo, hi = sorted((p.low, p.high))
            tol = 1e-6 * (hi - lo)
            if not (lo - tol <= x <= hi + tol):
                problems.append(f"parameter {p.name!r}: value {x:g} is outside [{lo:g}, {hi:g}]")
                continue
            if p.discrete and not p.is_class_value(x):
                problems.append(f"parameter {p.name!r}: value {x:g} is not one of its {p.n_classes} class values")
                continue
            out[i] = p.to_normalised(x)
        if problems:
            raise SchemaError(f"{source} for {self.name}: " + "; ".join(problems))
        return out

    def validate(self, native: np.ndarray, *, source: str = "vector") -> np.ndarray:
        """Check native vector(s): shape, [0, 1] range, and discrete values on a class. Returns (B, n_params).

        Raises:
            SchemaError: naming the first offending parameter(s).
        """
        x = self._check_native_shape(native, source=source)
        problems: list[str] = []
        bad = ~np.isfinite(x) | (x < -1e-6) | (x > 1 + 1e-6)
        for j in np.unique(np.nonzero(bad)[1])[:10]:
            problems.append(f"parameter {self.params[j].name!r} has values outside [0, 1]")
        for i, p in enumerate(self.params):
            if p.discrete:
                k = x[:, i] * (p.n_classes - 1)
                if np.any(np.abs(k - np.round(k)) > 1e-4):
                    problems.append(f"parameter {p.name!r} has values between its {p.n_classes} classes")
        if problems:
            raise SchemaError(f"{source} for {self.name}: " + "; ".join(problems))
        return x

    def _check_native_shape(self, native: np.ndarray, *, source: str = "vector") -> np.ndarray:
        x = np.atleast_2d(np.asarray(native, dtype=np.float64))
        if x.ndim != 2 or x.shape[1] != self.n_params:
            raise SchemaError(
                f"{source} for {self.name}: expected {self.n_params} parameters per vector, "
                f"got shape {np.shape(native)}"
            )
        return x

    # ------------------------------------------------------------------ identity
    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "description": self.description, "params": [p.as_dict() for p in self.params]}

    @cached_property
    def content_hash(self) -> str:
        """A short SHA-256 of the parameter table (names, indices, kinds, ranges, classes): changes whenever
        anything that changes the meaning of a vector changes."""
        payload = [{k: v for k, v in p.as_dict().items() if k not in ("labels", "unit", "group")} for p in self.params]
        blob = json.dumps({"name": self.name, "params": payload}, sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:16]

    def summary(self) -> dict[str, Any]:
        """One row for listings."""
        return {
            "synth": self.name,
            "params": self.n_params,
            **self.counts,
            "onehot": self.onehot_size,
            "hash": self.content_hash,
        }


def schema_from_records(
    name: str, records: Iterable[Mapping[str, Any]], *, description: str = "", meta: Mapping[str, Any] | None = None
) -> SynthSchema:
    """Build a schema from plain dicts (as in the YAML files); errors name the parameter."""
    params: list[ParamSpec] = []
    allowed = set(ParamSpec.__dataclass_fields__)
    for i, rec in enumerate(records):
        rec = dict(rec)
        extra = set(rec) - allowed
        if extra:
            raise SchemaError(f"schema {name!r}, parameter {rec.get('name', i)!r}: unknown field(s) {sorted(extra)}")
        rec.setdefault("index", i)
        kind = rec.get("kind", "continuous")
        if kind == "binary":
            rec.setdefault("n_classes", 2)
        if kind in ("categorical", "binary") and "labels" in rec and "n_classes" not in rec:
            rec["n_classes"] = len(rec["labels"])
        if kind == "categorical" and "high" not in rec and "n_classes" in rec:
            rec.setdefault("low", 0)
            rec["high"] = rec.get("low", 0) + rec["n_classes"] - 1
        if kind == "binary":
            rec.setdefault("low", 0)
            rec.setdefault("high", 1)
        rec.setdefault("low", 0.0)
        rec.setdefault("high", 1.0)
        rec.setdefault("default", rec.get("low", 0.0))
        rec["labels"] = tuple(str(x) for x in rec.get("labels", ()))
        for key in ("low", "high", "default"):
            rec[key] = float(rec[key])
        params.append(ParamSpec(**rec))
    return SynthSchema(name=name, params=tuple(params), description=description, meta=dict(meta or {}))
