"""The crash-tolerant pool of :mod:`asp.jobs.local`, on Ray: the same contract, actors instead of local processes.

Each actor is a long-lived worker process holding one CPU; it keeps its engines between tasks (``get_renderer``
caches them per process), so a synth is loaded once per actor, not once per shard. Progress messages travel through
a Ray queue to the driver as they happen, so when an actor dies (a plugin segfault) the driver still knows the
preset it was on, asks ``on_crash`` what to do, and starts a replacement actor.

Ray is an optional extra (``pip install 'asp[cluster]'``). ``address=None`` starts a local Ray instance with
``workers`` CPUs (or joins the one this process already started); otherwise it joins that cluster
(``"auto"``, ``"HOST:PORT"`` or ``"ray://HOST:10001"``). On a cluster, asp must be installed on every node.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any, TypeVar

from asp.jobs.base import MissingExtra, Report, TaskCrash, format_error

T = TypeVar("T")
INSTALL_HINT = "the ray backend needs Ray: pip install 'asp[cluster]' (or pip install ray)"


def import_ray() -> Any:
    """The ``ray`` module.

    Raises:
        MissingExtra: Ray is not installed (the message says how to install it).
    """
    try:
        import ray
    except ImportError as err:
        raise MissingExtra(INSTALL_HINT) from err
    return ray


def connect(address: str | None, num_cpus: int | None = None) -> bool:
    """Join (``address``) or start a Ray instance unless this process is already connected. Returns True when this
    call connected (the caller then disconnects with ``ray.shutdown()``)."""
    ray = import_ray()
    if ray.is_initialized():
        return False
    kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False, "configure_logging": False}
    if address:
        ray.init(address=address, **kwargs)
    else:
        ray.init(num_cpus=num_cpus, **kwargs)
    return True


class _Actor:
    """One worker: runs ``fn(task, report)`` with progress sent to the driver's queue."""

    def __init__(self, fn: Callable[[Any, Report], Any], queue: Any, init: Callable[[], None] | None) -> None:
        self.fn, self.queue = fn, queue
        if init is not None:
            init()

    def run(self, key: int, task: Any) -> tuple[str, Any]:
        def report(msg: Any) -> None:
            self.queue.put((key, msg))

        try:
            return "done", self.fn(task, report)
        except Exception as err:  # an ordinary error ends the task, not the actor
            return "error", format_error(err)


def run_actors(
    tasks: list[T],
    fn: Callable[[T, Report], Any],
    workers: int,
    address: str | None,
    env: dict[str, str] | None,
    init: Callable[[], None] | None,
    on_result: Callable[[T, Any], None],
    on_error: Callable[[T, str], None],
    on_crash: Callable[[TaskCrash[T]], T | None],
    on_progress: Callable[[T, Any], None] | None,
) -> None:
    """``asp.jobs.run_pool(..., backend="ray")``: the tasks on ``workers`` Ray actors (one CPU each), the
    callbacks called here in the driver as the local pool calls them; ``env`` is set in the actors' processes. A crash
    reports ``exitcode=None`` (Ray does not pass it on) and Ray's reason in ``TaskCrash.detail``."""
    ray = import_ray()
    from ray.exceptions import RayActorError, WorkerCrashedError
    from ray.util.queue import Queue

    dead = (RayActorError, WorkerCrashedError)  # an actor that died or became unreachable; its worker crashed
    queue_items: deque[tuple[int, T]] = deque(enumerate(tasks))
    if not queue_items:
        return
    started = connect(address, num_cpus=max(1, workers))
    progress_q = Queue()
    options: dict[str, Any] = {"num_cpus": 1, "max_restarts": 0}
    if env:
        options["runtime_env"] = {"env_vars": dict(env)}
    actor_cls = ray.remote(_Actor).options(**options)
    n = min(max(1, workers), len(queue_items))
    idle = [actor_cls.remote(fn, progress_q, init) for _ in range(n)]
    pending: dict[Any, tuple[Any, int, T]] = {}
    last: dict[int, Any] = {}
    crashes: dict[int, int] = {}
    by_key: dict[int, T] = {}  # the task each key was last dispatched as (a retry may differ)

    def drain() -> None:
        n = progress_q.qsize()  # one round trip to the queue actor when there is nothing to read
        if n:
            for key, msg in progress_q.get_nowait_batch(n):
                last[key] = msg
                if on_progress:
                    on_progress(by_key[key], msg)

    try:
        while queue_items or pending:
            while idle and queue_items:
                key, task = queue_items.popleft()
                by_key[key] = task
                last.pop(key, None)
                actor = idle.pop()
                pending[actor.run.remote(key, task)] = (actor, key, task)
            ready, _ = ray.wait(list(pending), num_returns=1, timeout=0.2)
            drain()
            for ref in ready:
                actor, key, task = pending.pop(ref)
                try:
                    kind, payload = ray.get(ref)
                except dead as err:
                    drain()
                    crashes[key] = crashes.get(key, 0) + 1
                    reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
                    retry = on_crash(TaskCrash(task, last.get(key), None, crashes[key], detail=reason))
                    if retry is not None:
                        queue_items.appendleft((key, retry))
                    ray.kill(actor)
                    idle.append(actor_cls.remote(fn, progress_q, init))
                    continue
                idle.append(actor)
                if kind == "done":
                    on_result(task, payload)
                else:
                    on_error(task, payload)
    finally:
        for actor, _, _ in pending.values():
            ray.kill(actor)
        for actor in idle:
            ray.kill(actor)
        progress_q.shutdown()
        if started:
            ray.shutdown()
