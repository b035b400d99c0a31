"""Experiment tracking: the CSV log always, wandb offline on request, one wandb run per training in a process (a
local sweep trains its trials one after another in one process)."""

import pytest

from asp.tracking import finish, make_loggers


def test_csv_only_and_bad_names(tmp_path):
    (csv,) = make_loggers(tmp_path, csv_name="m")
    assert type(csv).__name__ == "CSVLogger" and csv.log_dir.rstrip("/") == str(tmp_path / "m")
    with pytest.raises(ValueError, match="unknown logger 'mlflow'; valid: csv, wandb"):
        make_loggers(tmp_path, "mlflow")


def test_each_training_gets_its_own_wandb_run(tmp_path, monkeypatch):
    monkeypatch.setenv("WANDB_SILENT", "true")
    ids = []
    for name in ("first", "second"):
        loggers = make_loggers(tmp_path, "wandb", run_name=name, config={"z_dim": 4})
        run = loggers[1].experiment
        run.log({"val/loss": 1.0})
        ids.append(run.id)
        assert run.name == name and run.config["z_dim"] == 4
        finish(loggers)
    assert ids[0] != ids[1]
    assert len(list((tmp_path / "wandb").glob("offline-run-*"))) == 2
