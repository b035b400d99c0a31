"""Shared fixtures. Audio is rendered by the tests into tmp_path, never committed.

The default run (``scripts/test.sh``) spreads the tests over two processes (pytest-xdist, ``--dist loadgroup``):
each process then gives torch one thread, and every test that uses the Ray cluster runs in the same process."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

if os.environ.get("PYTEST_XDIST_WORKER"):  # before torch is imported: one thread per test process
    os.environ.setdefault("OMP_NUM_THREADS", "1")

import pytest

import asp.render  # noqa: F401  (DawDreamer before librosa/numba)
from asp.data.generate import GenerateConfig, generate
from asp.render import RenderSettings
from asp.synths import registry

TINY_SYNTHS = ("subtractive", "vapoly")


def renderable() -> list[str]:
    """Registered synths that can render on this machine."""
    return [n for n in registry.names() if registry.render_status(n)[0]]


def plugin_renderable() -> list[str]:
    return [n for n in renderable() if registry.get(n).backend == "plugin"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked `plugin` skip (not fail) when amsynth is missing, unless CI requires it. Tests that use the Ray
    cluster share one xdist process (one cluster)."""
    for item in items:
        if "ray_cluster" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.xdist_group("ray"))
    if os.environ.get("ASP_REQUIRE_PLUGIN") == "1" or "amsynth" in plugin_renderable():
        return
    skip = pytest.mark.skip(reason="amsynth not installed (apt-get install amsynth)")
    for item in items:
        if "plugin" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def tiny_dataset(tmp_path_factory):
    """A tiny real dataset (Faust renders): 2 synths x 10 presets x 2 notes, 1 s clips."""
    out = tmp_path_factory.mktemp("tiny") / "ds"
    return generate(
        GenerateConfig(
            out=out,
            synths=TINY_SYNTHS,
            presets_per_synth=10,
            workers=0,
            shard_size=5,
            seed=1,
            render=RenderSettings(note_seconds=0.5, render_seconds=1.0, notes=(60, 62)),
            self_distance_presets=0,
        ),
        progress=False,
    )


def overrides(root, run_dir, *extra):
    return [
        f"data.root={root}",
        "data.synths=[subtractive,vapoly]",
        "trainer=debug",
        "logger=csv",
        "data.num_workers=0",
        "data.batch_size=4",
        f"run_dir={run_dir}",
        *extra,
    ]


@pytest.fixture(scope="session")
def tiny_checkpoint(tiny_dataset, tmp_path_factory):
    """A checkpoint of J-S trained for one step on ``tiny_dataset`` (real, if useless, weights)."""
    from asp.models import training

    run = tmp_path_factory.mktemp("tinyrun") / "run"
    training.train(training.compose(overrides(tiny_dataset, run)))
    return run / "checkpoints" / "best.ckpt"


RAY_CLI = str(Path(sys.executable).with_name("ray"))


@pytest.fixture(scope="session")
def ray_cluster():
    """A local Ray head with 2 CPUs, bound to 127.0.0.1; yields its address. Token authentication is off (head and
    clients are this machine's processes). Skips where Ray (the extra asp[cluster]) is not installed."""
    pytest.importorskip("ray", reason="the ray backend is the optional extra asp[cluster]")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {"RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_MODE": "disabled"}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)  # for the head, the CLI runs and this process
    subprocess.run(
        [
            RAY_CLI,
            "start",
            "--head",
            "--num-cpus",
            "2",
            "--port",
            str(port),
            "--include-dashboard",
            "false",
            "--node-ip-address",
            "127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    try:
        yield f"127.0.0.1:{port}"
    finally:
        subprocess.run([RAY_CLI, "stop", "--force"], capture_output=True)
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
