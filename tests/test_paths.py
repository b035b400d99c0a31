"""Paths a run folder records survive a ``cd`` and a moved folder: ``asp eval /abs/run`` works from anywhere."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import yaml

from asp.cli import main
from asp.eval.pipeline import dataset_of, sweep_runs
from asp.paths import relocate


def test_a_run_records_its_dataset_and_itself_absolute(tiny_checkpoint, tiny_dataset, tmp_path, monkeypatch):
    saved = yaml.safe_load((tiny_checkpoint.parent.parent / "config.yaml").read_text())
    assert Path(saved["data"]["root"]).is_absolute() and Path(saved["run_dir"]).is_absolute()
    monkeypatch.chdir(tmp_path)
    assert dataset_of(tiny_checkpoint) == Path(tiny_dataset).resolve()


def test_an_old_relative_record_and_a_moved_run_folder_find_their_dataset(
    tiny_checkpoint, tiny_dataset, tmp_path, monkeypatch
):
    # the quickstart's layout, recorded as older runs did: relative to the folder training ran in
    work = tmp_path / "work"
    shutil.copytree(tiny_dataset, work / "runs" / "qs" / "dataset")
    shutil.copytree(tiny_checkpoint.parent.parent, work / "runs" / "qs" / "train-J-S")
    config = work / "runs" / "qs" / "train-J-S" / "config.yaml"
    saved = yaml.safe_load(config.read_text())
    saved["data"]["root"], saved["run_dir"] = "runs/qs/dataset", "runs/qs/train-J-S"
    config.write_text(yaml.safe_dump(saved))
    ckpt = Path("runs/qs/train-J-S/checkpoints/best.ckpt")
    monkeypatch.chdir(work)
    assert dataset_of(ckpt) == work / "runs" / "qs" / "dataset"
    monkeypatch.chdir(tmp_path)  # another folder: the recorded relative path no longer resolves as it is
    assert dataset_of(work / ckpt) == work / "runs" / "qs" / "dataset"
    moved = tmp_path / "elsewhere"
    (work / "runs").rename(moved)
    run = moved / "qs" / "train-J-S"
    assert dataset_of(run / "checkpoints" / "best.ckpt") == moved / "qs" / "dataset"
    out = tmp_path / "report"
    assert main(["eval", str(run), "--out", str(out), "--notes", "all", "--no-cross", "--no-baselines"]) == 0
    assert (out / "clips.csv").is_file()


def test_a_sweep_finds_its_runs_after_a_move(tmp_path):
    for name in ("J-S-z8", "J-S-z16"):
        (tmp_path / "new" / name).mkdir(parents=True)
    runs = [str(tmp_path / "old" / name) for name in ("J-S-z8", "J-S-z16")]
    pd.DataFrame({"variant": ["J-S"] * 2, "z_dim": [8, 16], "run_dir": runs}).to_csv(
        tmp_path / "new" / "results.csv", index=False
    )
    assert list(sweep_runs(tmp_path / "new").run_dir) == [str(tmp_path / "new" / n) for n in ("J-S-z8", "J-S-z16")]


def test_a_path_found_nowhere_is_returned_as_recorded_for_the_error_to_name(tmp_path):
    assert relocate("gone/ds", recorded_home="gone/run", home=tmp_path / "run") == Path("gone/ds")
