"""Training from the Hydra configs on a tiny real dataset."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from asp.data.datamodule import DatasetMismatch
from asp.models import training
from asp.models.inference import Predictor
from asp.models.module import NonFiniteLoss, SchemaMismatch
from asp.models.sweep import SweepError, sweep
from tests.conftest import overrides


@pytest.mark.parametrize("group", ["data", "model", "encoder", "loss", "trainer", "logger", "experiment"])
def test_every_config_option_composes_and_instantiates(group, tiny_dataset, tmp_path):
    opts = training.options(group)
    assert opts, f"no options in configs/{group}"
    for opt in opts:
        cfg = training.compose(overrides(tiny_dataset, tmp_path / opt) + [f"{group}={opt}"])
        if group == "trainer":
            cfg.trainer.accelerator = "cpu"  # build the GPU options' Trainers on this machine too
            cfg.trainer.precision = "32-true"
            if cfg.trainer.devices == -1:
                cfg.trainer.devices = 2
        if group == "logger" and cfg.logger.kind == "wandb":
            cfg.logger.mode = "disabled"  # instantiate without starting a wandb process
        dm, module, trainer, run_dir = training.build(cfg)
        assert module.hparams.synths == ["subtractive", "vapoly"] and run_dir.is_dir()


@pytest.mark.parametrize("variant", ["S-S", "J-S", "J-J"])
def test_one_batch_run_of_each_variant(variant, tiny_dataset, tmp_path):
    result = training.train(training.compose(overrides(tiny_dataset, tmp_path / variant, f"experiment={variant}")))
    run = tmp_path / variant
    assert result["steps"] == 1 and np.isfinite(result["test/loss"])
    for f in (
        "config.yaml",
        "checkpoints/best.ckpt",
        "checkpoints/last.ckpt",
        "metrics.csv",
        "schema_hashes.json",
        "dataset_card.json",
        "results.json",
    ):
        assert (run / f).is_file(), f
    ckpt = torch.load(run / "checkpoints" / "last.ckpt", weights_only=False)
    assert ckpt["asp"]["variant"] == variant and set(ckpt["asp"]["schema_hashes"]) == {"subtractive", "vapoly"}


def test_seeded_runs_are_reproducible(tiny_dataset, tmp_path):
    a = training.train(training.compose(overrides(tiny_dataset, tmp_path / "a")))
    b = training.train(training.compose(overrides(tiny_dataset, tmp_path / "b")))
    assert a["test/loss"] == b["test/loss"]


def test_config_typos_name_the_valid_options(tiny_dataset, tmp_path):
    with pytest.raises(ValueError, match="valid experiment options: J-J, J-S, S-S"):
        training.compose(overrides(tiny_dataset, tmp_path) + ["experiment=J-X"])
    with pytest.raises(ValueError, match="valid encoder options: conv, faronbi2023"):
        training.compose(overrides(tiny_dataset, tmp_path) + ["encoder=resnet"])
    cfg = training.compose(overrides(tiny_dataset, tmp_path) + ["model.variant=X-Y"])
    with pytest.raises(KeyError, match="valid: J-S, J-J, S-S"):
        training.build(cfg)


def test_dataset_missing_a_synth_names_it(tiny_dataset, tmp_path):
    cfg = training.compose(overrides(tiny_dataset, tmp_path) + ["data.synths=[subtractive,wavetable]"])
    with pytest.raises(DatasetMismatch, match="no synth 'wavetable'.*it has: subtractive, vapoly"):
        training.build(cfg)


def test_dataset_with_other_schema_hashes_is_refused(tiny_dataset, tmp_path):
    import shutil

    copy = tmp_path / "ds"
    shutil.copytree(tiny_dataset, copy)
    card = json.loads((copy / "card.json").read_text())
    card["schema_hashes"]["vapoly"] = "0000000000000000"
    (copy / "card.json").write_text(json.dumps(card))
    with pytest.raises(DatasetMismatch, match="'vapoly' was generated with schema hash 0000000000000000"):
        training.build(training.compose(overrides(copy, tmp_path / "run")))


def test_nan_loss_stops_with_a_message_and_keeps_the_last_good_checkpoint(tiny_dataset, tmp_path):
    cfg = training.compose(
        overrides(
            tiny_dataset,
            tmp_path / "run",
            "trainer.max_steps=3",
            "trainer.limit_train_batches=1",
            "trainer.max_epochs=3",
        )
    )
    dm, module, trainer, run_dir = training.build(cfg)
    original = module.losses

    def poisoned(batch, sample):
        total, parts = original(batch, sample)
        if module.global_step >= 1 and module.training:
            total = total * float("nan")
        return total, parts

    module.losses = poisoned
    with pytest.raises(NonFiniteLoss, match="non-finite loss at step 1"):
        trainer.fit(module, datamodule=dm)
    good = torch.load(run_dir / "checkpoints" / "last.ckpt", weights_only=False)
    assert good["global_step"] == 1
    assert all(torch.isfinite(v).all() for v in good["state_dict"].values() if v.is_floating_point())


def test_predictor_decodes_presets_and_checks_schemas(tiny_dataset, tmp_path, monkeypatch):
    training.train(training.compose(overrides(tiny_dataset, tmp_path / "run")))
    ckpt = tmp_path / "run" / "checkpoints" / "best.ckpt"
    pred = Predictor(ckpt)
    from asp.data.store import Dataset

    ds = Dataset(tiny_dataset)
    mels = ds.mels(ds.table.head(3)).astype(np.float32)
    out = pred.predict(mels)
    from asp.synths import load_schema

    for synth in ("subtractive", "vapoly"):
        schema = load_schema(synth)
        assert out[synth].shape == (3, schema.n_params)
        schema.validate(out[synth])  # valid presets: classes on class values, ranges in [0, 1]
    assert np.array_equal(pred.predict(mels)["vapoly"], out["vapoly"])  # posterior mean: deterministic
    assert pred.predict(mels, ["vapoly"], samples=4)["vapoly"].shape == (4, 3, load_schema("vapoly").n_params)
    presets = pred.presets(mels[:1], ["subtractive"])["subtractive"][0]
    assert "cutoff" in presets
    # a checkpoint for other schemas gets a clear error
    blob = torch.load(ckpt, weights_only=False)
    blob["asp"]["schema_hashes"]["vapoly"] = "ffffffffffffffff"
    torch.save(blob, tmp_path / "other.ckpt")
    with pytest.raises(SchemaMismatch, match="'vapoly' was trained with schema hash ffffffffffffffff"):
        Predictor(tmp_path / "other.ckpt")


def test_sweep_writes_one_table_and_resumes(tiny_dataset, tmp_path):
    import pandas as pd

    base = overrides(tiny_dataset, tmp_path / "unused")[:-1]  # run_dir is set per trial by the sweep
    out = sweep(base, ["J-S", "J-J"], [2, 4], out=tmp_path / "sweep")
    table = pd.read_parquet(out / "results.parquet")
    assert list(zip(table.variant, table.z_dim)) == [("J-S", 2), ("J-S", 4), ("J-J", 2), ("J-J", 4)]  # plan order
    assert table["test/loss"].notna().all()
    # a re-run keeps the finished trials instead of training them again
    (out / "J-S-z2" / "results.json").unlink()
    sweep(base, ["J-S", "J-J"], [2, 4], out=out)
    assert not (out / "J-S-z2" / "results.json").exists()


def test_a_failing_trial_is_reported_and_the_others_go_on(tiny_dataset, tmp_path):
    import pandas as pd

    base = overrides(tiny_dataset, tmp_path / "unused")[:-1]
    out = tmp_path / "sweep"
    (out / "J-S-z4").mkdir(parents=True)
    (out / "J-S-z4" / "metrics.csv").mkdir()  # the logger cannot write its file: this trial fails
    with pytest.raises(SweepError, match="(?s)1 of 2 trials failed.*J-S z=4: IsADirectoryError"):
        sweep(base, ["J-S"], [2, 4], out=out)
    assert list(pd.read_csv(out / "results.csv").z_dim) == [2]


@pytest.mark.slow  # the sweep's trials: test_sweep_writes_one_table_and_resumes; the Ray pool: tests/data/test_ray.py
def test_ray_sweep_gives_the_local_table(tiny_dataset, tmp_path, ray_cluster):
    import pandas as pd

    base = overrides(tiny_dataset, tmp_path / "unused")[:-1]
    local = pd.read_csv(sweep(base, ["J-S", "S-S"], [2], out=tmp_path / "local") / "results.csv")
    remote = pd.read_csv(
        sweep(base, ["J-S", "S-S"], [2], out=tmp_path / "ray", backend="ray", address=ray_cluster) / "results.csv"
    )
    assert list(remote.columns) == list(local.columns)
    assert list(zip(remote.variant, remote.z_dim)) == [("J-S", 2), ("S-S", 2)]
    assert [Path(p).name for p in remote.run_dir] == ["J-S-z2", "S-S-z2"]
    assert (tmp_path / "ray" / "S-S-z2" / "checkpoints" / "best.ckpt").is_file()
    metrics = [c for c in local.columns if c.startswith("test/")]
    np.testing.assert_allclose(remote[metrics].to_numpy(float), local[metrics].to_numpy(float), rtol=1e-3)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_one_batch_on_cuda_with_mixed_precision(tiny_dataset, tmp_path):
    cfg = training.compose(
        overrides(tiny_dataset, tmp_path / "gpu")
        + ["trainer=gpu", "trainer.max_steps=1", "trainer.limit_val_batches=1", "trainer.limit_test_batches=1"]
    )
    result = training.train(cfg)
    assert np.isfinite(result["test/loss"])


def test_a_run_resumes_from_its_last_checkpoint(tiny_dataset, tmp_path):
    import pandas as pd

    args = ["trainer.max_steps=-1", "trainer.limit_train_batches=2", "data.batch_size=2"]
    first = training.train(training.compose(overrides(tiny_dataset, tmp_path / "run", *args, "trainer.max_epochs=1")))
    assert first["steps"] == 2
    more = training.train(training.compose(overrides(tiny_dataset, tmp_path / "run", *args, "trainer.max_epochs=2")))
    assert more["steps"] == 4
    logged = pd.read_csv(tmp_path / "run" / "metrics.csv").dropna(subset=["train/loss"])
    assert logged.step.min() >= 2, "the second run restarted from step 0 instead of resuming"


def test_last_checkpoint_follows_every_epoch_even_without_improvement(tiny_dataset, tmp_path):
    cfg = training.compose(
        overrides(
            tiny_dataset,
            tmp_path / "run",
            "trainer.max_steps=-1",
            "trainer.max_epochs=3",
            "trainer.limit_train_batches=1",
            "model.lr=1e-9",
        )
    )  # barely moves
    training.train(cfg)
    last = torch.load(tmp_path / "run" / "checkpoints" / "last.ckpt", weights_only=False)
    assert last["global_step"] == 3 and last["epoch"] == 2


def test_cosine_schedule_lowers_the_learning_rate_to_its_floor(tiny_dataset, tmp_path):
    from asp.models.module import LR_FLOOR, cosine_factor

    assert cosine_factor(0, 10) == 1.0 and cosine_factor(10, 10) == pytest.approx(LR_FLOOR)
    assert cosine_factor(5, 10) == pytest.approx((1 + LR_FLOOR) / 2) and cosine_factor(12, 10) == cosine_factor(10, 10)
    args = ["trainer.max_steps=-1", "trainer.max_epochs=2", "trainer.limit_train_batches=2", "data.batch_size=2"]
    cfg = training.compose(overrides(tiny_dataset, tmp_path / "run", *args, "model.lr_schedule=cosine"))
    dm, module, trainer, _ = training.build(cfg)
    trainer.fit(module, datamodule=dm)
    (opt,) = trainer.optimizers
    assert trainer.global_step == 4
    assert opt.param_groups[0]["lr"] == pytest.approx(cfg.model.lr * cosine_factor(4, 4))
    # resumed with more epochs: the schedule continues from the step it stopped at, over the new total
    more = ["trainer.max_steps=-1", "trainer.limit_train_batches=2", "data.batch_size=2", "model.lr_schedule=cosine"]
    training.train(training.compose(overrides(tiny_dataset, tmp_path / "resume", *more, "trainer.max_epochs=1")))
    cfg = training.compose(overrides(tiny_dataset, tmp_path / "resume", *more, "trainer.max_epochs=2"))
    dm, module, trainer, _ = training.build(cfg)
    trainer.fit(module, datamodule=dm, ckpt_path=str(tmp_path / "resume" / "checkpoints" / "last.ckpt"))
    assert trainer.global_step == 4
    assert trainer.optimizers[0].param_groups[0]["lr"] == pytest.approx(cfg.model.lr * cosine_factor(4, 4))
    endless = ["trainer.max_steps=-1", "trainer.max_epochs=-1", "model.lr_schedule=cosine"]
    dm, module, trainer, _ = training.build(training.compose(overrides(tiny_dataset, tmp_path / "endless", *endless)))
    with pytest.raises(ValueError, match="needs a run of known length"):
        trainer.fit(module, datamodule=dm)
    with pytest.raises(ValueError, match="model.lr_schedule: 'linear' is not one of constant, cosine"):
        training.build(training.compose(overrides(tiny_dataset, tmp_path / "bad", "model.lr_schedule=linear")))


@pytest.mark.slow  # about 16 s: two processes with gloo
def test_ddp_on_two_cpu_processes(tiny_dataset, tmp_path):
    """trainer=ddp_cpu: Lightning starts a second process by re-running the command; both train one model, rank 0
    writes the run folder (also without run_dir: the second rank takes rank 0's folder)."""
    import os
    import subprocess
    import sys

    args = [
        sys.executable,
        "-m",
        "asp.cli",
        "train",
        "trainer=ddp_cpu",
        f"data.root={tiny_dataset}",
        "data.synths=[subtractive,vapoly]",
        "logger=csv",
        "data.num_workers=0",
        "data.batch_size=4",
        "trainer.max_epochs=1",
        "trainer.limit_train_batches=2",
        "trainer.limit_val_batches=1",
        "trainer.limit_test_batches=1",
    ]
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    env.pop("ASP_RUN_DIR", None)
    done = subprocess.run(args, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "MEMBER: 2/2" in done.stderr + done.stdout
    runs = list((tmp_path / "runs" / "J-S").iterdir())
    assert len(runs) == 1
    result = json.loads((runs[0] / "results.json").read_text())
    assert result["world_size"] == 2 and result["steps"] == 2
    assert (runs[0] / "checkpoints" / "last.ckpt").is_file()


class _Payload:
    """Stands in for a pickled object a hostile checkpoint could carry (unpickling it would call __reduce__)."""

    def __reduce__(self):
        return (print, ("this ran while loading",))


def test_a_checkpoint_carrying_a_pickled_object_is_refused(tiny_checkpoint, tmp_path, capsys):
    import torch

    from asp.cli import main
    from asp.models.checkpoints import UnsafeCheckpoint, load_checkpoint
    from asp.models.inference import Predictor

    blob = torch.load(tiny_checkpoint, map_location="cpu", weights_only=True)  # ours load as plain data
    assert "state_dict" in blob and "hyper_parameters" in blob
    blob["extra"] = _Payload()
    bad = tmp_path / "bad.ckpt"
    torch.save(blob, bad)
    with pytest.raises(UnsafeCheckpoint, match="bad.ckpt: refused"):
        load_checkpoint(bad)
    with pytest.raises(UnsafeCheckpoint):
        Predictor(bad)
    assert "this ran while loading" not in capsys.readouterr().out
    (tmp_path / "in").mkdir()
    assert main(["infer", str(tmp_path / "in"), "--checkpoint", str(bad), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr()
    assert "refused" in err.err and "this ran while loading" not in err.out
