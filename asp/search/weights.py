"""Where a search's mutations go: per parameter, how much moving it changes a synth's sound.

A table per synth (``asp/synths/data/sensitivity/<synth>.csv``, written by ``asp synths sensitivity``): for random
presets of the synth, the share in which a small move of the parameter is audible (``asp.eval.params.sensitivity``).
The sparse evolution strategy (``asp.search.methods.SparseES``) mutates each parameter in proportion to
``FLOOR + audible_share``: a parameter that is rarely audible (an effect's amount while the effect is mostly off) is
still tried, less often than one that changes most presets' sound.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

import numpy as np
import pandas as pd

from asp.synths import registry

FLOOR = 0.2  # the weight of a parameter never audible in the table, against 1.2 for one always audible


def table_path(synth: str) -> str:
    """Where ``synth``'s sensitivity table is shipped."""
    return str(resources.files("asp.synths") / "data" / "sensitivity" / f"{synth}.csv")


@cache
def mutation_weights(synth: str) -> np.ndarray | None:
    """(n_params,) native order, mean 1; None where the synth has no table. A parameter the table lacks (the
    schema grew since) gets the mean weight."""
    try:
        table = pd.read_csv(table_path(synth))
    except FileNotFoundError:
        return None
    share = dict(zip(table.param, table.audible_share))
    w = np.array([FLOOR + share[p.name] if p.name in share else np.nan for p in registry.load_schema(synth).params])
    w = np.where(np.isnan(w), np.nanmean(w) if np.isfinite(w).any() else 1.0, w)
    return w / w.mean()
