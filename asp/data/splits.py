"""Splits by preset: every clip (note) of a preset lands in the same split (fixes the published clip-level split)."""

from __future__ import annotations

from typing import Sequence

import numpy as np

SPLITS = ("train", "valid", "test")


def split_by_preset(n_presets: int, fractions: Sequence[float], rng: np.random.Generator) -> list[str]:
    """A split name per preset: a seeded permutation cut at the cumulative fractions (rounded).

    Raises:
        ValueError: fractions that are negative or do not sum to 1.
    """
    f = np.asarray(fractions, dtype=np.float64)
    if len(f) != 3 or np.any(f < 0) or abs(f.sum() - 1) > 1e-6:
        raise ValueError(f"split fractions must be three non-negative numbers summing to 1, got {list(fractions)}")
    order = rng.permutation(n_presets)
    cuts = np.round(np.cumsum(f)[:2] * n_presets).astype(int)
    out = np.empty(n_presets, dtype=object)
    out[order[: cuts[0]]] = SPLITS[0]
    out[order[cuts[0]: cuts[1]]] = SPLITS[1]
    out[order[cuts[1]:]] = SPLITS[2]
    return out.tolist()
