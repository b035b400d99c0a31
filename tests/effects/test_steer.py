"""Steerable effects: a tiny TCN fitted to one pair (a gain, a one-pole low-pass), resume, apply, the analysis."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from asp.effects import steer
from asp.effects.steer import SteeredEffect, SteerOptions, apply_folder, train_steerable
from asp.models.steerable import TCNSettings

SR = 8000
TINY = SteerOptions(
    sample_rate=SR,
    steps=150,
    batch_size=4,
    crop_seconds=0.3,
    lr=1e-2,
    seed=0,
    checkpoint_every=50,
    tcn=TCNSettings(layers=2, kernel=3, dilation_growth=2, channels=4, cond_hidden=4),
)


def dry_noise(seconds: float = 3.0) -> np.ndarray:
    rng = np.random.default_rng(1)
    n = int(seconds * SR)
    env = 0.2 + 0.8 * (np.sin(np.arange(n) / SR * 2 * np.pi * 1.5) > 0)  # level changes, as music has
    return (0.3 * env * rng.standard_normal(n)).astype(np.float32)


def one_pole(x: np.ndarray, a: float = 0.9) -> np.ndarray:
    from scipy.signal import lfilter

    return lfilter([1 - a], [1, -a], x).astype(np.float32)


def mrstft(a: np.ndarray, b: np.ndarray) -> float:
    return float(steer._loss_fn()(torch.from_numpy(a)[None, None], torch.from_numpy(b)[None, None]))


@pytest.mark.parametrize("effect", ["gain", "one_pole"])
def test_a_tiny_tcn_learns_a_simple_effect_from_one_pair(tmp_path: Path, effect: str) -> None:
    dry = dry_noise()
    wet = (0.5 * dry) if effect == "gain" else one_pole(dry)
    card = train_steerable(dry, wet, tmp_path / "m", TINY, progress=False)
    assert card["loss_last_25"] < 0.6 * card["loss_first_25"]
    model = SteeredEffect(tmp_path / "m")
    y = model.process(dry, [0.0, 0.0])
    assert y.shape == dry.shape
    # the learned effect is much closer to the target than the dry signal is (the loss it was trained on)
    assert mrstft(y, wet) < 0.5 * mrstft(dry, wet)
    if effect == "gain":
        rms = lambda v: 20 * np.log10(np.sqrt(np.mean(v**2)))
        assert abs(rms(y) - rms(wet)) < 1.5 < abs(rms(dry) - rms(wet))


def test_a_killed_run_resumes_to_the_same_weights(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dry = dry_noise(2.0)
    wet = 0.5 * dry
    opts = SteerOptions(**{**TINY.__dict__, "steps": 40, "checkpoint_every": 20})
    train_steerable(dry, wet, tmp_path / "whole", opts, progress=False)
    real, calls = steer.crops, []

    def dying(*a: object, **k: object) -> tuple[np.ndarray, np.ndarray]:
        calls.append(1)
        if len(calls) > 30:
            raise KeyboardInterrupt
        return real(*a, **k)  # type: ignore[arg-type]

    monkeypatch.setattr(steer, "crops", dying)
    with pytest.raises(KeyboardInterrupt):
        train_steerable(dry, wet, tmp_path / "resumed", opts, progress=False)
    assert (tmp_path / "resumed" / steer.STATE_FILE).is_file() and not (
        tmp_path / "resumed" / steer.MODEL_FILE
    ).exists()
    monkeypatch.setattr(steer, "crops", real)
    card = train_steerable(dry, wet, tmp_path / "resumed", opts, progress=False)
    assert card["steps_this_run"] == 20
    a = torch.load(tmp_path / "whole" / steer.MODEL_FILE, weights_only=True)
    b = torch.load(tmp_path / "resumed" / steer.MODEL_FILE, weights_only=True)
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not (tmp_path / "resumed" / steer.STATE_FILE).exists()
    with pytest.raises(ValueError, match="other options"):
        train_steerable(dry, wet, tmp_path / "resumed", SteerOptions(**{**opts.__dict__, "lr": 0.5}), progress=False)


def test_chunked_processing_equals_one_pass_and_apply_keeps_the_rate(tmp_path: Path) -> None:
    dry = dry_noise(2.0)
    train_steerable(dry, 0.5 * dry, tmp_path / "m", SteerOptions(**{**TINY.__dict__, "steps": 5}), progress=False)
    model = SteeredEffect(tmp_path / "m")
    whole = model.process(dry, [0.3, -0.2], chunk_seconds=100.0)
    np.testing.assert_allclose(model.process(dry, [0.3, -0.2], chunk_seconds=0.37), whole, atol=1e-6)
    y = model.apply(np.repeat(dry, 2), 2 * SR, [0.0, 0.0])
    assert y.shape == (2 * len(dry),)
    with pytest.raises(ValueError, match="2 finite control values"):
        model.process(dry, [1.0])


def test_apply_folder_mirrors_the_tree_reports_bad_files_and_resumes(tmp_path: Path) -> None:
    dry = dry_noise(1.0)
    train_steerable(dry, 0.5 * dry, tmp_path / "m", SteerOptions(**{**TINY.__dict__, "steps": 5}), progress=False)
    model = SteeredEffect(tmp_path / "m")
    src = tmp_path / "in"
    (src / "sub").mkdir(parents=True)
    sf.write(src / "a.wav", dry, SR)
    sf.write(src / "sub" / "b.flac", dry[: SR // 2], 16000)
    (src / "notes.txt").write_text("not audio")
    rows = apply_folder(model, src, tmp_path / "out", [0.5, 0.5], progress=False)
    by_file = {r["file"]: r for r in rows}
    assert by_file["a.wav"]["status"] == "done" and by_file["sub/b.flac"]["status"] == "done"
    assert by_file["notes.txt"]["status"] == "error" and "notes.txt" in by_file["notes.txt"]["error"]
    out_b, rate = sf.read(tmp_path / "out" / "sub" / "b.wav")
    assert rate == 16000 and len(out_b) == SR // 2
    again = apply_folder(model, src, tmp_path / "out", [0.5, 0.5], progress=False)
    assert {r["file"]: r["status"] for r in again}["a.wav"] == "kept"


def test_a_folder_without_a_model_is_refused(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="asp effects steer"):
        SteeredEffect(tmp_path)


def test_the_analysis_measures_loudness_and_decay_over_the_grid(tmp_path: Path) -> None:
    from asp.eval.steer import GridOptions, monotonicity, write_analysis

    values = np.linspace(-1, 1, 3)
    grid = np.add.outer(values * 5, np.array([0.0, 0.3, -0.2]))  # rises along control 1, not monotone along 2
    m = monotonicity(values, grid, 0.01)
    assert m["control_1"] == {"spearman": 1.0, "monotone_share": 1.0}
    assert m["control_2"]["monotone_share"] == 0.0
    dry = dry_noise(2.0)
    train_steerable(dry, 0.5 * dry, tmp_path / "m", SteerOptions(**{**TINY.__dict__, "steps": 5}), progress=False)
    ir = np.zeros(SR, np.float32)
    ir[0] = 1.0
    summary = write_analysis(
        SteeredEffect(tmp_path / "m"),
        dry,
        0.5 * dry,
        tmp_path / "a",
        GridOptions(points=3, seconds=1.0, impulse_seconds=0.5),
        reference_ir=ir,
    )
    for name in ("lufs_grid.png", "lufs_peak_grid.png", "t60_grid.png", "grid.csv", "analysis.json"):
        assert (tmp_path / "a" / name).stat().st_size > 0
    ref = summary["reference"]
    assert ref["wet_lufs"] == pytest.approx(ref["dry_lufs"] - 6.02, abs=0.1)
    assert ref["wet_lufs_peak"] == pytest.approx(ref["dry_lufs_peak"], abs=0.01)  # a level change is not density
    assert summary["lufs_peak"]["max"] <= 0.0 and set(summary["lufs_peak"]) >= {"control_1", "control_2"}
    assert len((tmp_path / "a" / "grid.csv").read_text().splitlines()) == 1 + 9
    assert json.loads((tmp_path / "a" / "analysis.json").read_text())["grid"]["points"] == 3


def test_pair_is_the_phrase_through_the_real_rack(tmp_path: Path) -> None:
    from asp.effects.pairs import full_setting, make_pair
    from asp.features.loudness import t60

    card = make_pair(tmp_path / "rev", "reverb_hall", seconds=2.0, seed=3)
    assert card["setting"] == {"mix": 0.7, "low_cut": 0.1, "high_cut": 0.7}
    dry, rate = sf.read(tmp_path / "rev" / "dry.wav")
    wet, _ = sf.read(tmp_path / "rev" / "wet.wav")
    ir, _ = sf.read(tmp_path / "rev" / "ir.wav")
    assert rate == 44100 and dry.shape == wet.shape == (2 * 44100,)
    assert np.max(np.abs(dry)) > 0.5 and not np.allclose(dry, wet, atol=1e-3)
    assert t60(ir, rate) > 0.5  # a hall
    with pytest.raises(KeyError, match="valid: low, mid, high"):
        full_setting("compressor", {"lows": 1.0})
    with pytest.raises(ValueError, match="not a normalised value"):
        full_setting("compressor", {"low": 2.0})


def test_the_steer_and_apply_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from asp.cli import main

    dry = dry_noise(2.0)
    sf.write(tmp_path / "dry.wav", dry, SR)
    sf.write(tmp_path / "wet.wav", 0.5 * dry, SR)
    args = [
        "effects",
        "steer",
        str(tmp_path / "dry.wav"),
        str(tmp_path / "wet.wav"),
        "--out",
        str(tmp_path / "m"),
        "--rate",
        str(SR),
        "--steps",
        "4",
        "--layers",
        "2",
        "--kernel",
        "3",
        "--growth",
        "2",
        "--channels",
        "4",
        "--crop-seconds",
        "0.3",
        "--grid-points",
        "2",
    ]
    assert main(args) == 0
    assert (tmp_path / "m" / "loss.png").is_file()
    for span in ("1", "5"):  # the default spans: near the trained setting and far from it
        grid = json.loads((tmp_path / "m" / "analysis" / f"span_{span}" / "analysis.json").read_text())["grid"]
        assert grid["span"] == float(span) and (tmp_path / "m" / "analysis" / f"span_{span}" / "t60_grid.png").is_file()
    # the analyses again at another span, on the pair the model was trained on, without training
    assert main(["effects", "analyze", str(tmp_path / "m"), "--grid-span", "2.5", "--grid-points", "2"]) == 0
    again = json.loads((tmp_path / "m" / "analysis" / "span_2.5" / "analysis.json").read_text())
    assert again["grid"] == {"span": 2.5, "points": 2, "seconds": 5.0}
    capsys.readouterr()
    assert main(["effects", "analyze", str(tmp_path / "m"), "--grid-span", "wide"]) != 0
    assert "--grid-span: 'wide' is not a comma-separated list of numbers" in capsys.readouterr().err
    missing = str(tmp_path / "gone.wav")
    assert main(["effects", "analyze", str(tmp_path / "m"), "--dry", missing]) != 0
    assert f"{missing}: no such file" in capsys.readouterr().err

    def apply(controls: str, out: str) -> int:
        return main(
            [
                "effects",
                "apply",
                str(tmp_path / "m"),
                str(tmp_path / "dry.wav"),
                "--controls",
                controls,
                "--out",
                str(tmp_path / out),
            ]
        )

    assert apply("0.5,0", "o") == 0
    assert (tmp_path / "o" / "dry.wav").is_file()
    assert apply("1", "o2") != 0  # one control for a two-control effect: refused


@pytest.mark.parametrize("cond_layers", [1, 0])
def test_training_leaves_the_control_weights_as_drawn_so_a_redraw_keeps_the_trained_effect(
    tmp_path: Path, cond_layers: int
) -> None:
    from asp.effects.steer import save_redrawn
    from asp.models.steerable import SteerableTCN

    dry = dry_noise(2.0)
    opts = SteerOptions(
        **{**TINY.__dict__, "steps": 20, "tcn": TCNSettings(**{**TINY.tcn.__dict__, "cond_layers": cond_layers})}
    )
    train_steerable(dry, one_pole(dry), tmp_path / "m", opts, progress=False)
    trained = SteeredEffect(tmp_path / "m")
    torch.manual_seed(opts.seed)
    fresh = SteerableTCN(opts.tcn)  # the weights training started from
    for w, w0 in zip(trained.model.control_weights(), fresh.control_weights(), strict=True):
        assert torch.equal(w, w0)  # zero controls, zero gradient: never trained
    assert not torch.equal(trained.model.blocks[0].conv.weight, fresh.blocks[0].conv.weight)  # the rest trained
    save_redrawn(trained, tmp_path / "d3", 3, {"why": "test"})
    redrawn = SteeredEffect(tmp_path / "d3")
    assert redrawn.card["controls_draw"] == {"draw": 3, "from": str(tmp_path / "m"), "why": "test"}
    assert (tmp_path / "d3" / "loss.csv").read_bytes() == (tmp_path / "m" / "loss.csv").read_bytes()
    np.testing.assert_array_equal(redrawn.process(dry, [0.0, 0.0]), trained.process(dry, [0.0, 0.0]))
    assert not np.allclose(redrawn.process(dry, [1.0, 0.0]), trained.process(dry, [1.0, 0.0]), atol=1e-4)
    save_redrawn(trained, tmp_path / "d0", 0)
    np.testing.assert_array_equal(
        SteeredEffect(tmp_path / "d0").process(dry, [1.0, -1.0]), trained.process(dry, [1.0, -1.0])
    )
    with pytest.raises(ValueError, match="other than the one it comes from"):
        save_redrawn(trained, tmp_path / "m", 2)


def test_explore_measures_each_draw_and_restores_the_model(tmp_path: Path) -> None:
    from asp.eval.steer import ExploreOptions, GridOptions, best_draw, explore_controls, structure

    values = np.linspace(-1, 1, 3)
    grid = np.add.outer(np.array([0.0, 0.3, -0.2]), values * 5)  # rises along control 2 only
    s = structure(values, [grid], 0.01)
    assert s["axis"] == "control_2" and s["score"] == 1.0 and s["range"] == pytest.approx(10.0)
    # along control 1 each line steps +0.3 then -0.5: consistency 0.2 / 0.8
    assert structure(values, [grid - 5 * values], 0.01)["score"] == pytest.approx(0.25)
    # ordered on one passage and reversed on another: not a direction of the control
    assert structure(values, [grid, -grid], 0.01)["score"] == 0.0
    assert structure(values, [grid, 0.5 * grid + 1.0], 0.01)["score"] == 1.0
    dry = dry_noise(2.0)
    train_steerable(dry, 0.5 * dry, tmp_path / "m", SteerOptions(**{**TINY.__dict__, "steps": 5}), progress=False)
    effect = SteeredEffect(tmp_path / "m")
    batch = effect.process_many(dry, [[0.0, 0.0], [1.0, -0.5]])
    np.testing.assert_allclose(batch[1], effect.process(dry, [1.0, -0.5]), atol=1e-6)
    before = effect.process(dry, [1.0, 1.0])
    opts = ExploreOptions(draws=3, measure="lufs", grid=GridOptions(span=1.0, points=3, seconds=0.5), offset=1.0)
    assert [len(p) for p in opts.probes(dry, SR)] == [SR // 2, SR // 2]  # 1.0-1.5 s and 1.5-2.0 s
    assert len(ExploreOptions(measure="t60").probes(dry, SR)) == 1  # an impulse: one probe
    assert [len(p) for p in ExploreOptions().probes(dry, SR)] == [len(dry)]  # too short: all of it
    rows = explore_controls(effect, dry, opts)
    assert [r["draw"] for r in rows] == [0, 1, 2] and len({r["range"] for r in rows}) == 3  # three directions
    np.testing.assert_array_equal(effect.process(dry, [1.0, 1.0]), before)  # restored
    assert best_draw(rows)["score"] == max(r["score"] for r in rows)
    with pytest.raises(ValueError, match="unknown measure"):
        ExploreOptions(measure="brightness")


def test_the_explore_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from asp.cli import main

    dry = dry_noise(2.0)
    sf.write(tmp_path / "dry.wav", dry, SR)
    sf.write(tmp_path / "wet.wav", one_pole(dry), SR)
    opts = SteerOptions(**{**TINY.__dict__, "steps": 5})
    train_steerable(
        dry,
        one_pole(dry),
        tmp_path / "m",
        opts,
        progress=False,
        source={"dry": str(tmp_path / "dry.wav"), "wet": str(tmp_path / "wet.wav")},
    )
    args = [
        "effects",
        "explore",
        str(tmp_path / "m"),
        "--out",
        str(tmp_path / "x"),
        "--draws",
        "3",
        "--probe-points",
        "3",
        "--grid-span",
        "1",
        "--grid-points",
        "2",
    ]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "draws monotone on every line of the probe grid; chosen: draw" in out
    assert len((tmp_path / "x" / "explore.csv").read_text().splitlines()) == 1 + 3
    card = json.loads((tmp_path / "x" / "steer.json").read_text())
    assert card["controls_draw"]["draws"] == 3 and card["controls_draw"]["measure"] == "lufs"
    assert (tmp_path / "x" / "analysis" / "span_1" / "lufs_grid.png").is_file()
    assert main([*args[:4], str(tmp_path / "y"), "--draw", "7", "--grid-span", "1", "--grid-points", "2"]) == 0
    assert json.loads((tmp_path / "y" / "steer.json").read_text())["controls_draw"]["draw"] == 7


def test_steer_then_explore_in_one_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from asp.cli import main
    from asp.cli.effects import EXPLORED, MEASURES
    from asp.eval import steer

    assert MEASURES == steer.MEASURES  # the CLI's choices, named without importing torch
    dry = dry_noise(2.0)
    sf.write(tmp_path / "dry.wav", dry, SR)
    sf.write(tmp_path / "wet.wav", one_pole(dry), SR)
    tiny = ["--rate", str(SR), "--steps", "4", "--layers", "2", "--kernel", "3", "--growth", "2", "--channels", "4"]
    grid = ["--crop-seconds", "0.3", "--grid-span", "1", "--grid-points", "2"]
    pair = [str(tmp_path / "dry.wav"), str(tmp_path / "wet.wav")]
    out = tmp_path / "m"
    assert (
        main(["effects", "steer", *pair, "--out", str(out), *tiny, *grid, "--explore", "lufs", "--explore-draws", "2"])
        == 0
    )
    assert "draws monotone on every line of the probe grid" in capsys.readouterr().out
    explored = out / EXPLORED
    card = json.loads((explored / "steer.json").read_text())
    assert card["controls_draw"]["from"] == str(out) and card["controls_draw"]["draws"] == 2
    assert len((explored / "explore.csv").read_text().splitlines()) == 1 + 2
    assert (explored / "analysis" / "span_1" / "lufs_grid.png").is_file()
    assert (out / "analysis" / "span_1" / "lufs_grid.png").is_file()  # the model as trained, analysed too
    with pytest.raises(SystemExit):
        main(["effects", "steer", *pair, "--out", str(tmp_path / "n"), "--explore", "brightness"])


def test_a_draw_is_not_the_start_of_a_model_trained_with_that_seed() -> None:
    from asp.models.steerable import SteerableTCN

    for seed in (1, 2):
        torch.manual_seed(seed)
        model = SteerableTCN(TINY.tcn)
        start = model.control_weights()[0].detach().clone()
        model.redraw_controls(seed)
        assert not torch.allclose(model.control_weights()[0], start)
