"""A synth registered once with `asp synths add` is seen by every command and every worker process: a schema drafted
from a real plugin (amsynth), then `asp dataset generate` (2 workers), `asp train` (a tiny run) and `asp infer`,
each from the command line; `asp synths remove` forgets it; a missing schema or plugin is refused, naming it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from asp.synths import registry

PLUGIN = Path("/usr/lib/vst/amsynth_vst.so")


def asp(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "asp.cli", *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=600
    )


@pytest.mark.plugin
def test_a_synth_added_once_is_seen_by_every_command(tmp_path):
    env = {**os.environ, "ASP_CONFIG": str(tmp_path / "asp.yaml")}
    ok = lambda r: r.returncode == 0 or pytest.fail(r.stderr[-3000:])
    ok(asp("synths", "draft", str(PLUGIN), "--name", "my_ams", "--out", "my_ams.yaml", env=env, cwd=tmp_path))
    ok(asp("synths", "add", "my_ams", "my_ams.yaml", "--plugin", str(PLUGIN), env=env, cwd=tmp_path))
    listed = asp("synths", "list", env=env, cwd=tmp_path)
    assert any(line.split()[:1] == ["my_ams"] and " yes " in line for line in listed.stdout.splitlines())
    ok(
        asp(
            "dataset",
            "generate",
            "--synths",
            "my_ams",
            "--presets",
            "12",
            "--notes",
            "60",
            "--workers",
            "2",
            "--shard-size",
            "6",
            "--floor-presets",
            "0",
            "--hpss",
            "fast",
            "--no-progress",
            "--out",
            "ds",
            env=env,
            cwd=tmp_path,
        )
    )
    card = pd.read_parquet(tmp_path / "ds" / "table.parquet")
    assert set(card.synth) == {"my_ams"} and len(card) >= 10
    ok(
        asp(
            "train",
            "data.root=ds",
            "data.synths=[my_ams]",
            "trainer=debug",
            "logger=csv",
            "data.num_workers=0",
            "data.batch_size=4",
            "run_dir=run",
            env=env,
            cwd=tmp_path,
        )
    )
    (tmp_path / "sounds").mkdir()
    t = np.arange(44100) / 44100
    sf.write(tmp_path / "sounds" / "tone.wav", (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), 44100)
    ok(asp("infer", "sounds", "--checkpoint", "run/checkpoints/best.ckpt", "--out", "inferred", env=env, cwd=tmp_path))
    report = pd.read_csv(tmp_path / "inferred" / "report.csv")
    assert list(report.synth) == ["my_ams"] and (report.status == "ok").all()
    ok(asp("synths", "remove", "my_ams", env=env, cwd=tmp_path))
    assert "my_ams" not in asp("synths", "list", env=env, cwd=tmp_path).stdout


def test_a_missing_schema_or_plugin_is_refused_naming_it(tmp_path, monkeypatch, capsys):
    from asp.cli import main

    monkeypatch.setenv("ASP_CONFIG", str(tmp_path / "asp.yaml"))
    assert main(["synths", "add", "x", str(tmp_path / "none.yaml"), "--plugin", str(PLUGIN)]) == 2
    assert "none.yaml: no such schema file" in capsys.readouterr().err
    schema = registry._data_path("subtractive.yaml", "schemas")
    assert main(["synths", "add", "x", str(schema), "--plugin", str(tmp_path / "gone.so")]) == 2
    assert "gone.so: no such plugin" in capsys.readouterr().err
    assert (
        main(["synths", "add", "subtractive", str(schema), "--faust", str(registry.faust_source("subtractive"))]) == 2
    )
    assert "already registered" in capsys.readouterr().err
    assert not (tmp_path / "asp.yaml").exists()  # nothing recorded
    assert main(["synths", "remove", "x"]) == 2 and "not a synth added" in capsys.readouterr().err
