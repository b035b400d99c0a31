"""``asp effects steps`` on real renders: input and target in different formats are brought to one, each step's
audio and spectrogram are written, bad input is refused with the file and the reason."""

import json

import numpy as np
import pytest
import soundfile as sf
import soxr

from asp.cli import main
from asp.data.effects import EffectDataset
from asp.render.effects import FaustRack
from asp.synths import effect_specs as specs


def _pair(effect_data, tmp_path):
    ds = EffectDataset(effect_data)
    fam = int(ds.rows("test")[0])
    dry = ds.dry(fam)
    target = FaustRack(ds.sample_rate).apply(dry, specs.subchain(ds.chain(fam), ("distortion", "reverb_hall")))
    sf.write(tmp_path / "in.wav", dry, 44100)
    # the target as a stereo 48 kHz file, half a second longer than the input
    t48 = soxr.resample(np.pad(target, (0, 22050)), 44100, 48000)
    sf.write(tmp_path / "target.flac", np.stack([t48, t48], 1), 48000)
    return tmp_path / "in.wav", tmp_path / "target.flac"


def test_steps_writes_each_step(effect_data, effect_models, tmp_path, capsys):
    inp, tgt = _pair(effect_data, tmp_path)
    out = tmp_path / "steps"
    rc = main(
        [
            "effects",
            "steps",
            str(inp),
            str(tgt),
            "--models",
            str(effect_models),
            "--out",
            str(out),
            "--patience",
            "5",
            "--system",
            "random",
        ]
    )
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    assert "Step 1: " in captured.out and "mssmae" in captured.out
    report = json.loads((out / "steps.json").read_text())
    notes = " ".join(report["notes"])
    assert "target: folded 2 channels to mono" in notes and "target: resampled from 48000 Hz" in notes
    assert "input: padded" in notes  # the input is brought to the target's 1.5 s
    assert len(report["steps"]) == 5  # patience 5 and a system that never stops: every effect is tried
    for s in report["steps"]:
        audio, sr = sf.read(out / f"{s['files']}.wav")
        assert sr == 44100 and len(audio) == int(1.5 * 44100)
        assert (out / f"{s['files']}.png").stat().st_size > 2000
        assert s["described"].startswith(f"Step {s['step']}: ")
    inp_audio, _ = sf.read(out / "input.wav")
    final, _ = sf.read(out / "final.wav")
    assert len(inp_audio) == len(final) == int(1.5 * 44100)
    assert report["final"]["mssmae"] == report["steps"][-1]["after"]["mssmae"]


def test_steps_refuses_bad_input(effect_data, effect_models, tmp_path, capsys):
    inp, tgt = _pair(effect_data, tmp_path)
    sf.write(tmp_path / "silent.wav", np.zeros(44100, np.float32), 44100)
    base = ["--models", str(effect_models), "--out", str(tmp_path / "o")]
    assert main(["effects", "steps", str(inp), str(tmp_path / "silent.wav"), *base]) == 2
    assert "silent.wav: silent" in capsys.readouterr().err
    (tmp_path / "junk.wav").write_bytes(b"RIFF0000WAVEjunk")
    assert main(["effects", "steps", str(tmp_path / "junk.wav"), str(tgt), *base]) == 2
    assert "junk.wav: cannot decode audio" in capsys.readouterr().err
    assert main(["effects", "steps", str(inp), str(tgt), *base, "--system", "chorusnet"]) == 2
    assert "unknown system 'chorusnet'; valid: serumrnn" in capsys.readouterr().err
    for knowing in ("oracle", "exact"):
        assert main(["effects", "steps", str(inp), str(tgt), *base, "--system", knowing]) == 2
        assert f"the {knowing} system needs the target's true effects" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()  # nothing half-written


def test_infer_adds_the_effect_steps_to_the_best_patch(effect_models, tiny_checkpoint, tmp_path, capsys):
    from asp.infer import InferOptions, infer

    (tmp_path / "in").mkdir()
    t = np.arange(44100) / 44100
    sf.write(tmp_path / "in" / "buzz.wav", np.tanh(4 * np.sin(2 * np.pi * 130.8 * t)) * 0.3, 44100)
    sf.write(tmp_path / "in" / "silent.wav", np.zeros(44100), 44100)
    table = infer(
        tmp_path / "in", tiny_checkpoint, tmp_path / "out", InferOptions(effects=effect_models), progress=False
    )
    best = table[(table.file == "buzz.wav") & table.best]
    assert len(best) == 1 and best.error.isna().all()
    row = best.iloc[0]
    report = json.loads((tmp_path / "out" / "buzz.wav" / "effects.json").read_text())
    assert report["synth"] == row.synth and report["steps"]
    assert report["start"]["mssmae"] == pytest.approx(row.mssmae, rel=1e-6)  # from the patch's own render
    assert row.mssmae_effects == pytest.approx(report["final"]["mssmae"])
    assert row.effects_steps == len(report["chain"]) and isinstance(row.effects, str)
    audio, _ = sf.read(tmp_path / "out" / row.effects_audio)
    assert audio.shape[0] > 0
    # the silent file is reported, the other files go on; other rows carry no effect columns
    assert "silent" in table[table.file == "silent.wav"].error.iloc[0]
    assert table[(table.file == "buzz.wav") & ~table.best.astype(bool)].effects.isna().all()
    # a re-run with the same effect models resumes; one without them redoes the file
    stamp = (tmp_path / "out" / "buzz.wav" / "effects.json").stat().st_mtime_ns
    infer(tmp_path / "in", tiny_checkpoint, tmp_path / "out", InferOptions(effects=effect_models), progress=False)
    assert (tmp_path / "out" / "buzz.wav" / "effects.json").stat().st_mtime_ns == stamp
    # the class search changes the effect steps: a re-run with it redoes the file
    infer(
        tmp_path / "in",
        tiny_checkpoint,
        tmp_path / "out",
        InferOptions(effects=effect_models, effects_search_classes=True),
        progress=False,
    )
    assert (tmp_path / "out" / "buzz.wav" / "effects.json").stat().st_mtime_ns != stamp
    infer(tmp_path / "in", tiny_checkpoint, tmp_path / "out", progress=False)
    assert not (tmp_path / "out" / "buzz.wav" / "effects.json").exists()
