"""A process pool that survives crashing workers.

Plugins may crash the process that hosts them (a segfault kills the worker, not an exception). Each worker runs
one task at a time and reports progress messages; when a worker dies, the parent learns which task it held and the
last progress it reported (for rendering: the preset it was on), asks ``on_crash`` what to do with the task (for
rendering: mark that preset failed and retry the rest), and starts a replacement worker.

Workers are started with ``spawn`` by default, so each has a fresh DawDreamer and its own engines.
"""

from __future__ import annotations

import multiprocessing as mp
import os
from collections import deque
from collections.abc import Callable, Iterable
from multiprocessing.connection import Connection, wait
from typing import Any

from asp.jobs.base import BACKENDS, Report, T, TaskCrash, format_error

__all__ = ["run_pool"]


def _worker_main(conn: Connection, fn: Callable[[Any, Report], Any], init: Callable[[], None] | None) -> None:
    if init is not None:
        init()

    def report(msg: Any) -> None:
        conn.send(("progress", msg))

    while True:
        try:
            item = conn.recv()
        except EOFError:
            return
        if item is None:
            return
        try:
            result = fn(item, report)
            conn.send(("done", result))
        except Exception as err:  # an ordinary error ends the task, not the worker
            conn.send(("error", format_error(err)))


class _Worker:
    def __init__(self, ctx: Any, fn: Callable, init: Callable | None) -> None:
        self.conn, child = ctx.Pipe(duplex=True)
        self.proc = ctx.Process(target=_worker_main, args=(child, fn, init), daemon=True)
        self.proc.start()
        child.close()
        self.task: Any = None
        self.task_key: int | None = None
        self.progress: Any = None
        self.used = False  # has run a task (its process state is no longer fresh)

    def stop(self) -> None:
        try:
            self.conn.send(None)
        except (OSError, BrokenPipeError):
            pass


def _inline_report(task: T, on_progress: Callable[[T, Any], None] | None) -> Report:
    """The progress callback of a task run in this process."""
    if on_progress is None:
        return lambda msg: None
    return lambda msg: on_progress(task, msg)


def run_pool(
    tasks: Iterable[T],
    fn: Callable[[T, Report], Any],
    workers: int,
    *,
    on_result: Callable[[T, Any], None],
    on_error: Callable[[T, str], None],
    on_crash: Callable[[TaskCrash[T]], T | None],
    on_progress: Callable[[T, Any], None] | None = None,
    init: Callable[[], None] | None = None,
    start_method: str = "spawn",
    env: dict[str, str] | None = None,
    backend: str = "local",
    address: str | None = None,
    fresh: Callable[[T], bool] | None = None,
) -> None:
    """Run ``fn(task, report)`` for every task in ``workers`` processes (inline when ``workers`` is 0), or on
    ``workers`` Ray actors with ``backend="ray"`` (``asp.jobs.ray_actors``; ``address``: the cluster to join).

    Args:
        tasks: picklable tasks.
        fn: a module-level function; ``report(msg)`` sends a progress message to the parent.
        workers: number of processes; 0 runs everything in this process (no crash protection).
        on_result: called in the parent with each finished task's result.
        on_error: called with the task and the formatted exception when ``fn`` raised.
        on_crash: called when a worker died holding a task; return a task to retry (e.g. without the item that
            crashed) or None to give up on it.
        on_progress: called in the parent for each progress message.
        init: run once in each new worker process.
        start_method: multiprocessing start method.
        env: environment variables for the worker processes (set while they start).
        backend: ``local`` or ``ray``.
        address: with ``ray``: ``auto``, ``HOST:PORT``; None starts a local Ray with ``workers`` CPUs.
        fresh: the tasks that must run in a process that has run nothing before (a synth whose process-wide state
            outlives its instances: amsynth's noise): such a task gets a newly started worker, so its result does
            not depend on what the pool ran before it (a resumed run equals an uninterrupted one). Local processes
            only: ``workers=0`` runs inline and Ray reuses its actors.
    """
    if backend == "ray":
        from asp.jobs.ray_actors import run_actors

        return run_actors(list(tasks), fn, workers, address, env, init, on_result, on_error, on_crash, on_progress)
    if backend not in BACKENDS:
        raise ValueError(f"unknown pool backend {backend!r}; valid: {', '.join(BACKENDS)}")
    queue: deque[tuple[int, T, int]] = deque((i, t, 0) for i, t in enumerate(tasks))
    if workers <= 0:
        if init is not None:
            init()
        while queue:
            _, task, _ = queue.popleft()
            try:
                result = fn(task, _inline_report(task, on_progress))
            except Exception as err:
                on_error(task, format_error(err))
                continue
            on_result(task, result)
        return

    ctx = mp.get_context(start_method)
    crashes: dict[int, int] = {}
    saved = {k: os.environ.get(k) for k in (env or {})}
    os.environ.update(env or {})
    pool = [_Worker(ctx, fn, init) for _ in range(min(workers, max(1, len(queue))))]
    try:
        while queue or any(w.task_key is not None for w in pool):
            for i, w in enumerate(pool):
                if w.task_key is not None or not queue:
                    continue
                # a dead worker is replaced, and so is a used one before a task that needs a fresh process
                if not w.proc.is_alive() or (w.used and fresh is not None and fresh(queue[0][1])):
                    w.stop()
                    w.proc.join(timeout=5)
                    pool[i] = w = _Worker(ctx, fn, init)
                key, task, _ = queue.popleft()
                w.task, w.task_key, w.progress, w.used = task, key, None, True
                w.conn.send(task)
            busy = [w for w in pool if w.task_key is not None]
            ready = wait([w.conn for w in busy] + [w.proc.sentinel for w in busy])
            for w in list(busy):
                if w.conn in ready:
                    try:
                        while w.conn.poll():
                            kind, payload = w.conn.recv()
                            if kind == "progress":
                                w.progress = payload
                                if on_progress:
                                    on_progress(w.task, payload)
                                continue
                            task, w.task, w.task_key = w.task, None, None
                            if kind == "done":
                                on_result(task, payload)
                            else:
                                on_error(task, payload)
                            break
                    except (EOFError, OSError):
                        pass  # the worker died mid-message: handled below
                if w.task_key is not None and not w.proc.is_alive():
                    w.proc.join()
                    key = w.task_key
                    crashes[key] = crashes.get(key, 0) + 1
                    retry = on_crash(TaskCrash(w.task, w.progress, w.proc.exitcode, crashes[key]))
                    if retry is not None:
                        queue.appendleft((key, retry, crashes[key]))
                    pool[pool.index(w)] = _Worker(ctx, fn, init)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        for w in pool:
            w.stop()
        for w in pool:
            w.proc.join(timeout=5)
            if w.proc.is_alive():
                w.proc.kill()
