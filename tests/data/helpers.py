"""Worker functions for dataset tests (run in spawned workers, so they live in an importable module)."""

from __future__ import annotations

import os
import signal
from dataclasses import replace
from typing import Any, Callable

import numpy as np
import pandas as pd

from asp.data.generate import ShardTask, render_shard
from asp.data.store import Dataset

CRASH_PRESET = 2


def crashing_render_shard(task: ShardTask, report: Callable[[Any], None]) -> dict[str, Any]:
    """Like render_shard, but the worker segfaults when it reaches preset CRASH_PRESET (a plugin crash)."""
    if CRASH_PRESET in task.preset_ids and CRASH_PRESET not in dict(task.failed):
        before = tuple(p for p in task.preset_ids if p < CRASH_PRESET)
        if before:
            render_shard(replace(task, preset_ids=before, names=task.names[:len(before)],
                                 vectors=task.vectors[:len(before)], splits=task.splits[:len(before)],
                                 notes=task.notes[:len(before)],
                                 out=task.out + "-scratch"), report)
        report(("start", CRASH_PRESET))
        os.kill(os.getpid(), signal.SIGSEGV)
    return render_shard(task, report)


def assert_same_dataset(a, b, synths) -> None:
    """Two dataset folders hold the same table and the same arrays, clip for clip."""
    da, db = Dataset(a), Dataset(b)
    pd.testing.assert_frame_equal(da.table, db.table)
    for synth in synths:
        rows = da.table[da.table.synth == synth]
        np.testing.assert_array_equal(da.mels(rows), db.mels(rows))
        for name in ("native", "onehot"):
            np.testing.assert_array_equal(da.array(rows, name), db.array(rows, name))
