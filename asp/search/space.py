"""A synth's parameters as a mixed search space.

Continuous parameters are values in [0, 1] (the normalised plugin value); categorical and binary parameters are
classes (binary: 2), so a search never proposes a value between two classes. Native vectors (``asp.synths.schema``)
go in and come out.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from asp.synths.schema import SynthSchema


@dataclass(frozen=True)
class SearchSpace:
    """Args:
    schema: the synth's schema.
    """

    schema: SynthSchema

    @cached_property
    def cont(self) -> np.ndarray:
        """Positions of the continuous parameters in the native vector."""
        return np.array([i for i, p in enumerate(self.schema.params) if not p.discrete], dtype=np.int64)

    @cached_property
    def disc(self) -> np.ndarray:
        """Positions of the categorical and binary parameters."""
        return np.array([i for i, p in enumerate(self.schema.params) if p.discrete], dtype=np.int64)

    @cached_property
    def n_classes(self) -> np.ndarray:
        """(n_disc,) classes per discrete parameter."""
        return np.array([self.schema.params[i].n_classes for i in self.disc], dtype=np.int64)

    @cached_property
    def defaults(self) -> tuple[np.ndarray, np.ndarray]:
        """The schema's default preset as continuous values and class indices (:meth:`split`)."""
        return self.split(self.schema.default_vector())

    def rounded(self, x: np.ndarray, digits: np.ndarray | int, where: np.ndarray | None = None) -> np.ndarray:
        """Continuous values (n_cont,) rounded to ``digits`` significant figures in the parameter's natural units
        (per parameter, or one count for all), as a person types them: 0.27 -> 0.3, 880 Hz -> 900 (one figure),
        2.96 s -> 3.0 (two); a natural value of 0 stays 0. Back in normalised units, clipped to [0, 1]. ``where``:
        a boolean mask of the values to round (the others are returned as they are)."""
        x = np.asarray(x, dtype=np.float64)
        digits = np.broadcast_to(np.asarray(digits, dtype=np.int64), x.shape)
        out = x.copy()
        for j in np.flatnonzero(where) if where is not None else range(len(x)):
            p = self.schema.params[self.cont[j]]
            nat = float(p.to_natural(x[j]))
            if nat != 0.0 and np.isfinite(nat):
                nat = round(nat, int(digits[j]) - 1 - int(np.floor(np.log10(abs(nat)))))
            out[j] = float(p.to_normalised(nat))
        return np.clip(out, 0.0, 1.0)

    def typed_values(self, x: np.ndarray) -> list[list[float]]:
        """Per continuous parameter, the values a person would have typed near ``x`` (n_cont,): the synth's
        default and ``x`` rounded to one and to two significant figures (:meth:`rounded`), without ``x``'s own
        value, nearest first."""
        x = np.asarray(x, dtype=np.float64)
        x_def, _ = self.defaults
        one, two = self.rounded(x, 1), self.rounded(x, 2)
        out = []
        for j, xj in enumerate(x):
            values = {float(x_def[j]), float(one[j]), float(two[j])} - {float(xj)}
            out.append(sorted(values, key=lambda v: abs(v - xj)))
        return out

    def split(self, native: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(n_params,) native -> continuous values (n_cont,) and class indices (n_disc,)."""
        v = np.asarray(native, dtype=np.float64).reshape(-1)
        k = np.rint(np.clip(v[self.disc], 0.0, 1.0) * (self.n_classes - 1)).astype(np.int64)
        return np.clip(v[self.cont], 0.0, 1.0), k

    def join(self, x: np.ndarray, k: np.ndarray) -> np.ndarray:
        """Continuous values and class indices -> (n_params,) float64 native vector."""
        v = np.zeros(self.schema.n_params, dtype=np.float64)
        v[self.cont] = np.clip(np.asarray(x, dtype=np.float64), 0.0, 1.0)
        k = np.clip(np.asarray(k, dtype=np.int64), 0, self.n_classes - 1)
        v[self.disc] = k / (self.n_classes - 1)
        return v

    def snap(self, native: np.ndarray) -> np.ndarray:
        """A vector of any values in [0, 1] with each discrete parameter snapped to its nearest class."""
        return self.join(*self.split(native))

    def class_prior(self, start: np.ndarray, probs: list[np.ndarray] | None = None, keep: float = 0.5) -> np.ndarray:
        """(n_disc, max classes) class distributions to start a categorical search from, rows summing to 1 and
        zero-padded: the model's class probabilities where given (mixed half and half with ``start``'s class), else
        ``keep`` on ``start``'s class and the rest spread evenly over the others."""
        _, k = self.split(start)
        q = np.zeros((len(self.disc), int(self.n_classes.max(initial=2))), dtype=np.float64)
        for j, (c, n) in enumerate(zip(k, self.n_classes)):
            row = np.full(n, (1.0 - keep) / (n - 1))
            row[c] = keep
            if probs is not None:
                p = np.clip(np.asarray(probs[j], dtype=np.float64)[:n], 0.0, None)
                if p.sum() > 0:
                    row = 0.5 * row + 0.5 * p / p.sum()
            q[j, :n] = row / row.sum()
        return q

    def octave_twins(self, native: np.ndarray, note: int) -> list[tuple[np.ndarray, int, str]]:
        """A preset played an octave up and an octave down with its oscillators moved the other way: the same
        pitch, another patch (a filter, envelope or level that follows the key hears another note). Hand-made
        patches often play a bass an octave up with its oscillators an octave down; a search that keeps its note
        cannot find those. The parameters come from the schema's ``transpose`` entry (name -> semitones per unit of
        its natural value; the built-in synths' oscillator octaves); a value that would leave its range stops at
        the end (the twin is only a candidate, scored by its render). [] without a ``transpose`` entry or where
        no parameter moves."""
        shifts = dict(self.schema.meta.get("transpose") or {})
        if not shifts:
            return []
        v = np.asarray(native, dtype=np.float64).reshape(-1)
        at, same = self.schema.position, self.snap(v)
        out = []
        for octaves, word in ((1, "up"), (-1, "down")):
            if not 0 <= note + 12 * octaves <= 127:
                continue
            twin = v.copy()
            for name, semis in shifts.items():
                p = self.schema[name]
                value = float(p.to_natural(v[at[name]])) - 12.0 * octaves / float(semis)
                twin[at[name]] = float(p.to_normalised(float(np.clip(value, p.low, p.high))))
            twin = self.snap(twin)
            if not np.array_equal(twin, same):
                out.append((twin, note + 12 * octaves, f"an octave {word}"))
        return out
