"""The Ray rendering backend against a local two-CPU Ray cluster started here: the same shards as the local pool,
resuming, a crashing actor, engines reused per actor."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from asp.data.generate import GenerateConfig, generate
from asp.data.store import Dataset
from tests.data.helpers import assert_same_dataset, crashing_render_shard
from tests.data.test_generate import SHORT

ray = pytest.importorskip("ray", reason="the ray backend is the optional extra asp[cluster]")


def _cmd(out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "asp.cli", "dataset", "generate", "--synths", "subtractive,vapoly", "--presets", "6",
            "--shard-size", "2", "--notes", "60,62", "--workers", "2", "--seed", "5", "--hpss", "fast",
            "--floor-presets", "0", "--no-progress", "--out", str(out), *extra]


def test_ray_builds_the_local_pools_shards_and_resumes(tmp_path, ray_cluster):
    local, remote = tmp_path / "local", tmp_path / "ray"
    subprocess.run(_cmd(local), check=True, capture_output=True)
    res = subprocess.run(_cmd(remote, "--backend", "ray", "--address", ray_cluster), capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert_same_dataset(local, remote, ("subtractive", "vapoly"))
    for a, b in zip(sorted((local / "shards").rglob("*.npy")), sorted((remote / "shards").rglob("*.npy"))):
        assert a.relative_to(local) == b.relative_to(remote) and a.read_bytes() == b.read_bytes()
    # an interrupted run: shards and the card missing, a half-written shard left behind
    for shard in ("subtractive/00001", "vapoly/00000", "vapoly/00002"):
        shutil.rmtree(remote / "shards" / shard)
    (remote / "card.json").unlink()
    junk = remote / "shards" / "vapoly" / ".tmp-00002-junk"
    junk.mkdir()
    (junk / "mels.npy").write_bytes(b"partial")
    res = subprocess.run(_cmd(remote, "--backend", "ray", "--address", ray_cluster), capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert "resuming: 3 of 6 shards already done" in res.stderr
    assert not junk.exists()
    assert_same_dataset(local, remote, ("subtractive", "vapoly"))
    # either backend finishes the other's run: the local pool completes what Ray started
    shutil.rmtree(remote / "shards" / "subtractive" / "00002")
    (remote / "card.json").unlink()
    res = subprocess.run(_cmd(remote), capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert "resuming: 5 of 6 shards already done" in res.stderr
    assert_same_dataset(local, remote, ("subtractive", "vapoly"))


def test_a_crashing_actor_marks_the_preset_failed_and_goes_on(tmp_path, ray_cluster):
    cfg = GenerateConfig(out=tmp_path / "ds", synths=("subtractive",), presets_per_synth=6, seed=3, workers=1,
                         shard_size=3, render=SHORT, self_distance_presets=0, hpss="fast", backend="ray",
                         address=ray_cluster)
    try:
        out = generate(cfg, progress=False, shard_fn=crashing_render_shard)
    finally:
        ray.shutdown()
    ds = Dataset(out)
    assert set(ds.table.preset_id) == {0, 1, 3, 4, 5}
    (failure,) = ds.card["synths"]["subtractive"]["failures"].values()
    assert failure.startswith("worker crashed (") and failure.endswith(") while rendering this preset")


def test_each_actor_keeps_its_engine(ray_cluster):
    from asp.jobs import run_pool
    from tests.render.helpers import engine_identity

    seen: dict[int, tuple[int, int]] = {}
    try:
        run_pool(range(6), engine_identity, 2, backend="ray", address=ray_cluster, on_result=seen.__setitem__,
                on_error=lambda t, e: pytest.fail(e), on_crash=lambda c: pytest.fail(str(c)))
    finally:
        ray.shutdown()
    assert sorted(seen) == list(range(6))
    pids = {pid for pid, _ in seen.values()}
    assert 1 <= len(pids) <= 2
    for pid in pids:  # one engine per actor, reused for every task it ran
        assert len({engine for p, engine in seen.values() if p == pid}) == 1


def test_missing_ray_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(ImportError, match=r"asp\[cluster\]"):
        generate(GenerateConfig(out=tmp_path / "ds", synths=("subtractive",), presets_per_synth=2, backend="ray"),
                 progress=False)
