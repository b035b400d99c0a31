"""Running many independent tasks: a crash-tolerant local process pool and the same contract on Ray.

``run_pool(tasks, fn, workers, backend="local" | "ray", ...)`` is the one entry point. Ray is an optional extra,
imported only when the ``ray`` backend is asked for (``asp.jobs.ray_actors``). Nothing here knows about synths: the
renderers, the search and the evaluation hand their tasks to it.
"""

from __future__ import annotations

from asp.jobs.base import BACKENDS, MissingExtra, Report, TaskCrash, format_error
from asp.jobs.local import run_pool

__all__ = ["BACKENDS", "MissingExtra", "Report", "TaskCrash", "format_error", "run_pool"]
