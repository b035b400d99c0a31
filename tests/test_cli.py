import json
from pathlib import Path

import pytest

from asp.cli import _notes, main
from asp.paths import config_dir


def test_synths_list(capsys):
    assert main(["synths", "list", "--json"]) == 0
    rows = {r["synth"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["serum"]["onehot"] == 480 and rows["diva"]["onehot"] == 759 and rows["tyrelln6"]["onehot"] == 327
    assert rows["wavetable"]["renders_here"] == "yes"
    assert rows["serum"]["backend"] == "plugin"


def test_synths_show(capsys):
    assert main(["synths", "show", "subtractive"]) == 0
    out = capsys.readouterr().out
    assert "cutoff" in out and "one-hot size 72" in out


def test_unknown_synth_lists_valid_names(capsys):
    assert main(["synths", "show", "moog"]) == 2
    err = capsys.readouterr().err
    assert "unknown synth 'moog'" in err and "amsynth" in err


def test_draft_from_faust(tmp_path, capsys):
    dsp = tmp_path / "tiny.dsp"
    dsp.write_text(
        'import("stdfaust.lib");\n'
        "w = nentry(\"wave[style:menu{'saw':0;'sq':1;'tri':2}]\", 0, 0, 2, 1);\n"
        'c = hslider("cutoff[scale:log][unit:Hz]", 1000, 20, 20000, 1);\n'
        'b = checkbox("on");\nprocess = 0;\n'
    )
    assert main(["synths", "draft", str(dsp), "--out", str(tmp_path / "tiny.yaml")]) == 0
    from asp.synths.schema_io import load_schema_file

    s = load_schema_file(tmp_path / "tiny.yaml")
    assert s["wave"].labels == ("saw", "sq", "tri") and s["cutoff"].scale == "log" and s["on"].kind == "binary"


def test_generate_refuses_unknown_synth(capsys, tmp_path):
    assert main(["dataset", "generate", "--synths", "nope", "--out", str(tmp_path / "x")]) == 2
    assert "valid synths" in capsys.readouterr().err


def test_generate_missing_plugin_says_how(capsys, tmp_path, monkeypatch):
    monkeypatch.delenv("ASP_PLUGIN_SERUM", raising=False)
    monkeypatch.setenv("ASP_CONFIG", str(tmp_path / "none.yaml"))
    assert main(["dataset", "generate", "--synths", "serum", "--out", str(tmp_path / "x")]) == 2
    assert "ASP_PLUGIN_SERUM" in capsys.readouterr().err


def test_generate_and_info(capsys, tmp_path):
    out = tmp_path / "ds"
    assert (
        main(
            [
                "dataset",
                "generate",
                "--synths",
                "subtractive",
                "--presets",
                "3",
                "--notes",
                "60",
                "--workers",
                "0",
                "--hpss",
                "fast",
                "--floor-presets",
                "1",
                "--no-progress",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    assert "subtractive" in capsys.readouterr().out
    assert main(["dataset", "info", str(out), "--json"]) == 0
    card = json.loads(capsys.readouterr().out)
    assert card["synths"]["subtractive"]["clips"] == 3


def test_notes_parser():
    assert _notes("60-63") == (60, 61, 62, 63) and _notes("60,64") == (60, 64)
    with pytest.raises(ValueError):
        _notes("x")


def test_quickstart_runs_the_main_job(capsys, tmp_path):
    assert (
        main(
            [
                "quickstart",
                "--out",
                str(tmp_path / "qs"),
                "--presets",
                "10",
                "--workers",
                "2",
                "--epochs",
                "1",
                "--logger",
                "csv",
                "--budget",
                "30",
                "--train-set",
                "model.lr_schedule=cosine",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "lr_schedule: cosine" in (tmp_path / "qs" / "train-J-S" / "config.yaml").read_text()  # --train-set
    for synth in ("wavetable", "vapoly", "subtractive"):
        assert synth in out
    assert "floor_lsd_db" in out
    assert (tmp_path / "qs" / "dataset" / "card.json").is_file()
    assert "J-S on the test split" in out and (tmp_path / "qs" / "train-J-S" / "checkpoints" / "best.ckpt").is_file()
    # the held-back targets (the 12 hand-made presets), inferred for every synth, in one report
    assert "12 held-back target sounds" in out and "best-matching synth: mean" in out
    assert "one-shot  LSD" in out and "refined   LSD" in out and "renders and" in out
    assert "(audible " in out and "(audible nan)" not in out
    import pandas as pd

    report = pd.read_csv(tmp_path / "qs" / "inferred" / "report.csv")
    assert report.file.nunique() == 12 and (report.status == "ok").all() and len(report) == 36
    assert set(report.file.str.rsplit(".", n=1).str[1]) == {"wav", "flac", "ogg", "mp3", "aiff"}
    # a neural proxy per synth, trained on the dataset, screened every file's search
    assert "neural proxies" in out
    results = sorted((tmp_path / "qs" / "inferred").rglob("result.json"))
    assert len(results) == 12
    for path in results:
        screened = json.loads(path.read_text())["fingerprint"]["refine"]["proxies"]
        assert sorted(screened) == ["subtractive", "vapoly", "wavetable"]
        assert json.loads(path.read_text())["fingerprint"]["refine"]["neighbours"] == 8  # nearest training presets
        assert all((Path(f) / "proxy.json").is_file() for f in screened.values())


def test_a_mistyped_training_override_stops_the_quickstart_before_its_dataset(capsys, tmp_path):
    argv = ["quickstart", "--out", str(tmp_path / "qs"), "--train-set", "model.no_such_key=1", "--logger", "csv"]
    assert main(argv) == 2
    assert "model.no_such_key" in capsys.readouterr().err
    assert not (tmp_path / "qs").exists()


def test_effect_stage_settings_come_from_a_config_file_and_flags_win(tmp_path, monkeypatch, capsys):
    from asp.cli import effects

    seen = {}
    monkeypatch.setattr(effects, "cmd_effects_train", lambda args: seen.update(vars(args)) or 0)
    recipe = tmp_path / "train.yaml"
    recipe.write_text("epochs: 3\nselector-epochs: 2\nselectors: [rnn, cnn]\nlimit: 100\n")
    argv = ["effects", "train", "--data", "d", "--out", "o", "--config", str(recipe), "--limit", "7"]
    assert main(argv) == 0
    assert (seen["epochs"], seen["selector_epochs"], seen["selectors"], seen["limit"]) == (3, 2, "rnn,cnn", 7)
    assert seen["batch_size"] == 32 and seen["data"] == Path("d")  # not in the file: the built-in default
    # the shipped recipe is the one docs/RESULTS.md used
    shipped = str(config_dir() / "effects" / "train.yaml")
    assert main(["effects", "train", "--data", "d", "--out", "o", "--config", shipped]) == 0
    assert (seen["epochs"], seen["selector_epochs"], seen["limit"]) == (8, 4, 6000)
    recipe.write_text("epoch: 3\n")
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert str(recipe) in err and "unknown setting 'epoch'" in err and "selector-epochs" in err
    recipe.write_text("intermediate: sometimes\n")
    assert main(argv) == 2 and "not one of true, model, both" in capsys.readouterr().err


def test_every_shipped_effect_config_is_read_by_its_verb(monkeypatch):
    from asp.cli import effects

    files = sorted((config_dir() / "effects").glob("*.yaml"))
    assert {f.stem for f in files} >= {"dataset", "train", "eval", "steps", "steer_compressor", "steer_reverb"}
    for f in files:
        verb = f.stem.split("_")[0]
        seen = {}
        monkeypatch.setattr(effects, f"cmd_effects_{verb}", lambda args, seen=seen: seen.update(vars(args)) or 0)
        positional = {
            "dataset": ["--out", "o"],
            "train": ["--data", "d", "--out", "o"],
            "eval": ["--data", "d", "--models", "m", "--out", "o"],
            "steps": ["i", "t", "--models", "m", "--out", "o"],
            "steer": ["dry.wav", "wet.wav", "--out", "o"],
        }[verb]
        assert main(["effects", verb, *positional, "--config", str(f)]) == 0, f
        if f.stem == "steer_reverb":
            assert (seen["layers"], seen["kernel"], seen["growth"]) == (5, 5, 10)
