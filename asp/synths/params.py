"""One synth parameter, declared as data.

A parameter has two value spaces:

* **natural**: what the synth's UI shows (Hz, seconds, semitones, a class index or a raw plugin value);
* **normalised**: the [0, 1] value a plugin host sets. Categorical class ``k`` of ``c`` is ``k / (c - 1)``
  (the convention of the multi-task ASP paper, Faronbi et al. 2023); binary is 0 or 1.

Conversion between the two lives here and nowhere else.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

Kind = Literal["continuous", "categorical", "binary"]
KINDS: tuple[str, ...] = ("continuous", "categorical", "binary")
SCALES: tuple[str, ...] = ("linear", "log")


class SchemaError(ValueError):
    """A schema, preset or sampling spec that does not hold together; the message names the parameter."""


@dataclass(frozen=True)
class ParamSpec:
    """A synth parameter.

    Args:
        name: unique name within the synth (for Faust built-ins, the slider label).
        index: the plugin's parameter index (0-based).
        kind: ``continuous``, ``categorical`` (``n_classes`` >= 2) or ``binary``.
        low: natural value at normalised 0.
        high: natural value at normalised 1.
        default: natural default value.
        n_classes: number of classes for categorical (2 for binary, 0 for continuous).
        group: coarse tag (osc, env, fil, lfo, mod, fx, vol, pitch).
        scale: ``linear`` or ``log`` mapping between normalised and natural (continuous only).
        labels: class names for categorical/binary parameters.
        unit: natural unit, for display.
    """

    name: str
    index: int
    kind: Kind = "continuous"
    low: float = 0.0
    high: float = 1.0
    default: float = 0.0
    n_classes: int = 0
    group: str = ""
    scale: str = "linear"
    labels: tuple[str, ...] = field(default_factory=tuple)
    unit: str = ""

    def __post_init__(self) -> None:
        where = f"parameter {self.name!r} (index {self.index})"
        if not self.name:
            raise SchemaError(f"parameter at index {self.index} has no name")
        if self.kind not in KINDS:
            raise SchemaError(f"{where}: unknown kind {self.kind!r}; valid kinds: {', '.join(KINDS)}")
        if self.scale not in SCALES:
            raise SchemaError(f"{where}: unknown scale {self.scale!r}; valid scales: {', '.join(SCALES)}")
        if self.kind == "continuous" and self.n_classes != 0:
            raise SchemaError(f"{where}: a continuous parameter has no classes, got n_classes={self.n_classes}")
        if self.kind == "categorical" and self.n_classes < 2:
            raise SchemaError(f"{where}: a categorical parameter needs n_classes >= 2, got {self.n_classes}")
        if self.kind == "binary" and self.n_classes != 2:
            raise SchemaError(f"{where}: a binary parameter has exactly 2 classes, got n_classes={self.n_classes}")
        if self.labels and len(self.labels) != self.n_classes:
            raise SchemaError(f"{where}: {len(self.labels)} class labels for n_classes={self.n_classes}")
        if not (math.isfinite(self.low) and math.isfinite(self.high)) or self.low == self.high:
            raise SchemaError(f"{where}: range [{self.low}, {self.high}] is empty or not finite")
        if self.scale == "log" and (self.kind != "continuous" or min(self.low, self.high) <= 0):
            raise SchemaError(f"{where}: a log scale needs a continuous parameter with a positive range")
        lo, hi = sorted((self.low, self.high))
        if not (lo - 1e-9 <= self.default <= hi + 1e-9):
            raise SchemaError(f"{where}: default {self.default} is outside the range [{lo}, {hi}]")
        if self.discrete and not self.is_class_value(self.default):
            raise SchemaError(f"{where}: default {self.default} is not one of the {self.n_classes} class values")

    # ------------------------------------------------------------------ properties
    @property
    def discrete(self) -> bool:
        """True for categorical and binary parameters."""
        return self.kind != "continuous"

    @property
    def onehot_size(self) -> int:
        """Dimensions in the one-hot encoding: 1 for continuous and binary, ``n_classes`` for categorical."""
        return self.n_classes if self.kind == "categorical" else 1

    # ------------------------------------------------------------------ conversions
    def to_normalised(self, natural: Any) -> np.ndarray | float:
        """Natural value(s) -> normalised [0, 1] value(s); discrete values snap to the nearest class."""
        x = np.asarray(natural, dtype=np.float64)
        if self.scale == "log":
            u = np.log(np.clip(x, min(self.low, self.high), max(self.low, self.high)) / self.low) / math.log(
                self.high / self.low
            )
        else:
            u = (x - self.low) / (self.high - self.low)
        u = np.clip(u, 0.0, 1.0)
        if self.discrete:
            u = np.round(u * (self.n_classes - 1)) / (self.n_classes - 1)
        return float(u) if u.ndim == 0 else u

    def to_natural(self, normalised: Any) -> np.ndarray | float:
        """Normalised [0, 1] value(s) -> natural value(s); discrete values snap to the nearest class."""
        u = np.clip(np.asarray(normalised, dtype=np.float64), 0.0, 1.0)
        if self.discrete:
            u = np.round(u * (self.n_classes - 1)) / (self.n_classes - 1)
        if self.scale == "log":
            x = self.low * np.power(self.high / self.low, u)
        else:
            x = self.low + u * (self.high - self.low)
        return float(x) if x.ndim == 0 else x

    def class_of(self, normalised: Any) -> np.ndarray | int:
        """Normalised value(s) -> class index (discrete parameters only)."""
        if not self.discrete:
            raise SchemaError(f"parameter {self.name!r} is continuous and has no classes")
        k = np.round(np.clip(np.asarray(normalised, dtype=np.float64), 0, 1) * (self.n_classes - 1)).astype(np.int64)
        return int(k) if k.ndim == 0 else k

    def is_class_value(self, natural: float) -> bool:
        """Whether a natural value lies on one of the class values (tolerance 1e-6 of the range)."""
        u = (natural - self.low) / (self.high - self.low) * (self.n_classes - 1)
        return abs(u - round(u)) < 1e-6 * max(1, self.n_classes)

    def label_of(self, normalised: float) -> str:
        """A readable value: the class label for discrete parameters, else the natural value with its unit."""
        if self.discrete:
            k = self.class_of(normalised)
            return self.labels[k] if self.labels else str(k)
        value = self.to_natural(normalised)
        return f"{value:.4g}{(' ' + self.unit) if self.unit else ''}"

    @property
    def default_normalised(self) -> float:
        """The default as a normalised value."""
        return float(self.to_normalised(self.default))

    def as_dict(self) -> dict[str, Any]:
        """A plain dict (for hashing, YAML and JSON)."""
        out: dict[str, Any] = {
            "name": self.name,
            "index": self.index,
            "kind": self.kind,
            "low": self.low,
            "high": self.high,
            "default": self.default,
            "n_classes": self.n_classes,
            "group": self.group,
            "scale": self.scale,
        }
        if self.labels:
            out["labels"] = list(self.labels)
        if self.unit:
            out["unit"] = self.unit
        return out
