"""Worker functions for dataset tests (run in spawned workers, so they live in an importable module)."""

from __future__ import annotations

import os
import signal
from dataclasses import replace
from typing import Any, Callable

from asp.data.generate import ShardTask, render_shard

CRASH_PRESET = 2


def crashing_render_shard(task: ShardTask, report: Callable[[Any], None]) -> dict[str, Any]:
    """Like render_shard, but the worker segfaults when it reaches preset CRASH_PRESET (a plugin crash)."""
    if CRASH_PRESET in task.preset_ids and CRASH_PRESET not in dict(task.failed):
        before = tuple(p for p in task.preset_ids if p < CRASH_PRESET)
        if before:
            render_shard(replace(task, preset_ids=before, names=task.names[:len(before)],
                                 vectors=task.vectors[:len(before)], splits=task.splits[:len(before)],
                                 out=task.out + "-scratch"), report)
        report(("start", CRASH_PRESET))
        os.kill(os.getpid(), signal.SIGSEGV)
    return render_shard(task, report)
