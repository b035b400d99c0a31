"""asp infer on a real (tiny) checkpoint: real Faust renders, a folder mixing good and bad files."""

import json
import os

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from asp import infer as infer_mod
from asp.cli import main
from asp.infer import InferError, InferOptions, infer
from asp.synths import load_schema
from asp.synths.presets import read_json_preset

SYNTHS = ("subtractive", "vapoly")
GOOD = [
    "tone.wav",
    "tone.flac",
    "tone.ogg",
    "tone.mp3",
    "tone.aiff",
    "deep/low_8k.wav",
    "deep/high_96k.wav",
    "deep/six_channels.wav",
    "deep/hour.wav",
]
BAD = {
    "bad/corrupt.wav": "cannot decode audio",
    "bad/empty.wav": "empty file",
    "bad/zero.wav": "zero-length",
    "bad/silent.wav": "silent",
    "bad/readme.txt": "not an audio file",
}


def tone(rate, seconds, channels=1, f=220.0):
    t = np.arange(int(rate * seconds)) / rate
    x = 0.3 * np.sin(2 * np.pi * f * t) * np.exp(-t)
    return np.repeat(x[:, None], channels, axis=1)


def make_folder(root):
    (root / "deep").mkdir(parents=True)
    (root / "bad").mkdir()
    for name, fmt, sub in [
        ("wav", "WAV", "PCM_16"),
        ("flac", "FLAC", "PCM_16"),
        ("ogg", "OGG", "VORBIS"),
        ("mp3", "MP3", "MPEG_LAYER_III"),
        ("aiff", "AIFF", "PCM_16"),
    ]:
        sf.write(root / f"tone.{name}", tone(48000, 1.5, 2), 48000, format=fmt, subtype=sub)
    sf.write(root / "deep/low_8k.wav", tone(8000, 2.0), 8000)
    sf.write(root / "deep/high_96k.wav", tone(96000, 0.5), 96000, subtype="PCM_24")
    sf.write(root / "deep/six_channels.wav", tone(44100, 1.0, 6), 44100)
    with sf.SoundFile(root / "deep/hour.wav", "w", 8000, 1, "PCM_U8") as fh:  # an hour, 29 MB
        block = tone(8000, 60.0)
        for _ in range(60):
            fh.write(block)
    (root / "bad/corrupt.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk" * 20)
    (root / "bad/empty.wav").write_bytes(b"")
    sf.write(root / "bad/zero.wav", np.zeros((0, 1)), 44100)
    sf.write(root / "bad/silent.wav", np.zeros(44100), 44100)
    (root / "bad/readme.txt").write_text("not audio")
    (root / ".hidden.wav").write_bytes(b"skipped: hidden")


@pytest.fixture(scope="module")
def inferred(tiny_checkpoint, tmp_path_factory):
    root = tmp_path_factory.mktemp("infer")
    make_folder(root / "in")
    table = infer(root / "in", tiny_checkpoint, root / "out", progress=False)
    return root, table


def test_every_good_file_gets_a_scored_preset_per_synth(inferred):
    root, table = inferred
    ok = table[table.status == "ok"]
    assert sorted(ok.file.unique()) == sorted(GOOD)
    assert len(ok) == len(GOOD) * len(SYNTHS)
    for col in infer_mod.METRICS:
        assert np.isfinite(ok[col].astype(float)).all(), col
    assert (ok.lsd > 0).all() and (ok.pcc <= 1).all()
    # one best synth per file: the lowest textbook LSD over the band the file carries
    for _, rows in ok.groupby("file"):
        assert rows.best.sum() == 1
        assert rows.loc[rows.best.astype(bool), "synth"].item() == rows.loc[rows.band_lsd.idxmin(), "synth"]
    # 8 kHz files carry sound up to their pass band only; a tone this dark shows no codec cliff in MP3 or Vorbis
    at_8k = ok.file.isin(["deep/low_8k.wav", "deep/hour.wav"])
    low, full = ok[at_8k], ok[~at_8k]
    assert low.band_hz.eq(round(0.95 * 4000)).all() and (low.band_lsd != low.lsd).all()
    assert full.band_hz.isna().all() and np.allclose(full.band_lsd, full.lsd)
    assert ok.note.between(60, 71).all()
    assert ok.loc[ok.file == "deep/six_channels.wav", "input_notes"].str.contains("folded 6 channels").all()
    assert ok.loc[ok.file == "deep/low_8k.wav", "input_notes"].str.contains("resampled from 8000 Hz").all()
    assert ok.loc[ok.file == "deep/hour.wav", "seconds"].eq(3600.0).all()


def test_the_best_synth_is_ranked_by_the_searchs_distance_only_where_every_synth_was_searched():
    rows = [
        {"synth": "a", "lsd": 9.0, "objective": 1.0},
        {"synth": "b", "lsd": 5.0, "objective": 2.0},
        {"synth": "c", "lsd": None},  # not rendered: not ranked
    ]
    assert infer_mod._best_synth(rows) == "a"  # textbook LSD would say b
    rows[1]["objective"] = float("inf")  # b's search failed: the scales do not mix, all by textbook LSD
    assert infer_mod._best_synth(rows) == "b"
    assert infer_mod._best_synth([{"synth": "a", "lsd": None}]) is None


def test_every_bad_file_gets_one_error_row_naming_it_and_the_reason(inferred):
    _, table = inferred
    err = table[table.status == "error"]
    assert sorted(err.file) == sorted(BAD)
    for name, reason in BAD.items():
        msg = err.loc[err.file == name, "error"].item()
        assert reason in msg and name.split("/")[-1] in msg
    assert ".hidden.wav" not in set(table.file)


def test_output_mirrors_the_tree_with_presets_native_files_and_audio(inferred):
    root, table = inferred
    out = root / "out"
    for name in GOOD:
        folder = out / name
        assert (folder / "result.json").is_file() and (folder / "input.wav").is_file()
        for synth in SYNTHS:
            preset = read_json_preset(folder / f"{synth}.json", load_schema(synth))
            assert preset.name == name.split("/")[-1].rsplit(".", 1)[0]
            audio, rate = sf.read(folder / f"{synth}.wav")
            assert rate == 44100 and len(audio) == 44100 and np.abs(audio).max() > 0
    for name in BAD:
        assert not (out / name).exists()
    report = pd.read_csv(out / "report.csv")
    assert len(report) == len(table) and set(report.columns) == set(infer_mod.COLUMNS)
    assert len(pd.read_parquet(out / "report.parquet")) == len(table)
    assert not list(out.rglob(".tmp-*"))


def test_rerun_skips_finished_files_and_redoes_missing_ones(inferred, tiny_checkpoint, monkeypatch):
    root, first = inferred
    out = root / "out"
    stamp = (out / "tone.wav" / "result.json").stat().st_mtime_ns
    import shutil

    shutil.rmtree(out / "tone.flac")
    (out / "deep" / ".tmp-hour.wav-killed").mkdir()  # a killed run's half-written folder
    done = []
    real = infer_mod.BatchInference._file
    monkeypatch.setattr(
        infer_mod.BatchInference, "_file", lambda self, rel, *a: done.append(rel) or real(self, rel, *a)
    )
    table = infer(root / "in", tiny_checkpoint, out, progress=False)
    assert done == ["tone.flac"]
    assert (out / "tone.wav" / "result.json").stat().st_mtime_ns == stamp
    assert not (out / "deep" / ".tmp-hour.wav-killed").exists()
    cols = ["file", "synth", "status", "lsd"]
    pd.testing.assert_frame_equal(table[cols], first[cols])  # Faust renders are deterministic


def test_a_failure_while_writing_leaves_no_finished_looking_folder(tiny_checkpoint, tmp_path, monkeypatch):
    (tmp_path / "in").mkdir()
    for name in ("a.wav", "b.wav", "c.wav"):
        sf.write(tmp_path / "in" / name, tone(44100, 1.0), 44100)
    real = infer_mod.write_wav

    def disk_full(path, audio, rate):
        if path.parent.name.startswith(".tmp-b.wav"):
            raise OSError(28, "No space left on device")
        real(path, audio, rate)

    monkeypatch.setattr(infer_mod, "write_wav", disk_full)
    table = infer(tmp_path / "in", tiny_checkpoint, tmp_path / "out", progress=False)
    assert table.loc[table.file == "b.wav", "error"].str.contains("No space left").all()
    assert not (tmp_path / "out" / "b.wav").exists() and not list((tmp_path / "out").glob(".tmp-*"))
    assert (table[table.file != "b.wav"].status == "ok").all()


def test_unwritable_output_folder_is_a_clear_error(tiny_checkpoint, tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "file").write_text("x")
    with pytest.raises(InferError, match="cannot write the output folder"):
        infer(tmp_path / "in", tiny_checkpoint, tmp_path / "file" / "out", progress=False)
    if os.geteuid() != 0:  # root writes anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        with pytest.raises(InferError, match="locked"):
            infer(tmp_path / "in", tiny_checkpoint, locked, progress=False)


def test_cli_reports_a_checkpoint_for_other_schemas_and_unknown_synths(tiny_checkpoint, tmp_path, capsys):
    import torch

    blob = torch.load(tiny_checkpoint, weights_only=False)
    blob["asp"]["schema_hashes"]["vapoly"] = "ffffffffffffffff"
    torch.save(blob, tmp_path / "other.ckpt")
    (tmp_path / "in").mkdir()
    assert (
        main(
            [
                "infer",
                str(tmp_path / "in"),
                "--checkpoint",
                str(tmp_path / "other.ckpt"),
                "--out",
                str(tmp_path / "out"),
            ]
        )
        == 2
    )
    assert "'vapoly' was trained with schema hash ffffffffffffffff" in capsys.readouterr().err
    assert (
        main(
            [
                "infer",
                str(tmp_path / "in"),
                "--checkpoint",
                str(tiny_checkpoint),
                "--out",
                str(tmp_path / "out"),
                "--synth",
                "wavetable",
            ]
        )
        == 2
    )
    assert "it knows: subtractive, vapoly" in capsys.readouterr().err


def test_cli_prints_the_report(tiny_checkpoint, tmp_path, capsys):
    (tmp_path / "in").mkdir()
    sf.write(tmp_path / "in" / "a.wav", tone(44100, 1.0), 44100)
    assert (
        main(
            [
                "infer",
                str(tmp_path / "in"),
                "--checkpoint",
                str(tiny_checkpoint),
                "--out",
                str(tmp_path / "out"),
                "--synth",
                "vapoly",
                "--note",
                "65",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "a.wav" in out and "vapoly" in out and "report:" in out
    result = json.loads((tmp_path / "out" / "a.wav" / "result.json").read_text())
    assert [r["synth"] for r in result["rows"]] == ["vapoly"] and result["rows"][0]["note"] == 65
    with pytest.raises(InferError, match="no such file or folder"):
        infer(tmp_path / "nope", tiny_checkpoint, tmp_path / "out", InferOptions(), progress=False)


# ---------------------------------------------------------------------- render-in-the-loop refinement
@pytest.fixture(scope="module")
def refined(tiny_checkpoint, tmp_path_factory):
    """``asp infer --refine`` on two real tones and one bad file, a small budget, searched in 2 worker processes."""
    from asp.search import SearchOptions

    root = tmp_path_factory.mktemp("refine")
    (root / "in" / "low").mkdir(parents=True)
    sf.write(root / "in" / "low" / "bass.wav", tone(44100, 1.0, f=110.0), 44100)  # A2: outside C4-B4
    sf.write(root / "in" / "tone.flac", tone(48000, 1.0, 2), 48000, format="FLAC")
    (root / "in" / "broken.wav").write_bytes(b"RIFF-not-really")
    opts = InferOptions(refine=SearchOptions(budget=60, seed=2), samples=2, workers=2)
    table = infer(root / "in", tiny_checkpoint, root / "out", opts, progress=False)
    return root, table, opts


def test_refinement_exports_the_refined_preset_with_its_note_and_reports_both_distances(refined, tiny_checkpoint):
    from asp.models.inference import Predictor
    from asp.render import get_renderer

    settings = Predictor(tiny_checkpoint).render_settings
    root, table, opts = refined
    ok = table[table.status == "ok"]
    assert sorted(ok.file.unique()) == ["low/bass.wav", "tone.flac"] and len(ok) == 2 * len(SYNTHS)
    assert table.loc[table.status == "error", "file"].tolist() == ["broken.wav"]
    assert (ok.objective <= ok.oneshot_objective).all()  # never worse than the one-shot start
    assert (ok.renders > 0).all() and ok.groupby("file").renders.sum().le(60).all()
    assert (ok.search_seconds > 0).all() and ok.oneshot_lsd.notna().all() and ok.oneshot_audible_lsd.notna().all()
    for _, rows in ok.groupby("file"):  # refined: the best synth is the one closest on the search's own distance
        assert rows.loc[rows.best.astype(bool), "synth"].item() == rows.loc[rows.objective.idxmin(), "synth"]
    bass = ok[ok.file == "low/bass.wav"]
    assert (bass.oneshot_note == 69).all()  # the pitch rule's note for the model (A4)
    assert set(bass.note) <= {45, 69}  # refined at its own note (A2) or the model's
    for _, r in ok.iterrows():
        folder = root / "out" / r.file
        blob = json.loads((folder / f"{r.synth}.json").read_text())
        assert blob["note"] == r.note
        assert json.loads((folder / f"{r.synth}.oneshot.json").read_text())["note"] == r.oneshot_note
        audio, _ = sf.read(folder / f"{r.synth}.wav")
        vec = np.array([blob["normalised"][p.name] for p in load_schema(r.synth).params])
        rendered = get_renderer(r.synth, settings).render(vec, int(r.note))
        np.testing.assert_allclose(audio, np.clip(rendered, -1, 1), atol=1e-4)  # the wav is the exported preset


def test_refinement_resumes_and_a_changed_budget_redoes_the_files(refined, tiny_checkpoint, monkeypatch):
    from dataclasses import replace

    root, first, opts = refined
    done = []
    real = infer_mod.BatchInference._file
    monkeypatch.setattr(
        infer_mod.BatchInference, "_file", lambda self, rel, *a, **k: done.append(rel) or real(self, rel, *a, **k)
    )
    again = infer(root / "in", tiny_checkpoint, root / "out", opts, progress=False)
    assert done == []
    cols = ["file", "synth", "lsd", "oneshot_lsd", "renders"]
    pd.testing.assert_frame_equal(again[cols], first[cols])
    infer(
        root / "in",
        tiny_checkpoint,
        root / "out",
        replace(opts, refine=replace(opts.refine, budget=61)),
        progress=False,
    )
    assert sorted(done) == ["low/bass.wav", "tone.flac"]


def test_the_searches_of_every_chunk_share_one_pool_of_workers(refined, tiny_checkpoint, tmp_path, monkeypatch):
    import asp.jobs
    from asp.search import SearchOptions

    root, _, _ = refined
    pools = []
    real = asp.jobs.run_pool
    monkeypatch.setattr(asp.jobs, "run_pool", lambda tasks, *a, **k: pools.append(len(tasks)) or real(tasks, *a, **k))
    opts = InferOptions(refine=SearchOptions(budget=20, seed=2), samples=0, workers=2, batch_size=1)
    table = infer(root / "in", tiny_checkpoint, tmp_path / "out", opts, progress=False)
    assert pools == [2]  # two chunks of one file, one pool (the workers start once)
    assert sorted(table[table.status == "ok"].file.unique()) == ["low/bass.wav", "tone.flac"]
    monkeypatch.setattr(infer_mod, "POOL_FILES", 1)  # a pool per chunk where the held searches reach the cap
    infer(root / "in", tiny_checkpoint, tmp_path / "out2", opts, progress=False)
    assert pools == [2, 1, 1]


def _browser() -> str | None:
    import shutil

    return next((b for b in ("chromium-headless-shell", "chromium", "google-chrome") if shutil.which(b)), None)


def test_the_html_report_plays_in_a_real_browser(refined):
    import subprocess

    root, table, _ = refined
    page = root / "out" / "report.html"
    text = page.read_text()
    players = text.count("<audio")
    assert players == 2 * (1 + 2 * len(SYNTHS))  # per file: target, one-shot and refined per synth
    assert "broken.wav" in text and text.count("<img") == 2
    browser = _browser()
    if browser is None:
        pytest.skip("no headless Chromium here (scripts/setup_env.sh installs chromium-headless-shell as root)")
    dom = subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--autoplay-policy=no-user-gesture-required",
            "--virtual-time-budget=15000",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    assert f"{players} of {players} players ready, 0 failed" in dom


def test_a_proxy_screens_the_refinement_and_changes_the_fingerprint(refined, tiny_checkpoint, tiny_dataset, tmp_path):
    from dataclasses import replace

    from asp.models.proxy import ProxySettings
    from asp.models.proxy_training import train_proxy

    root, first, opts = refined
    train_proxy(tiny_dataset, "subtractive", tmp_path / "px", ProxySettings(arch="mlp"), epochs=2, log=lambda m: None)
    with_proxy = replace(opts, proxies={"subtractive": tmp_path / "px"}, workers=0)
    table = infer(root / "in" / "low", tiny_checkpoint, tmp_path / "out", with_proxy, progress=False)
    ok = table[table.status == "ok"]
    assert len(ok) == len(SYNTHS) and (ok.objective <= ok.oneshot_objective).all()
    assert ok.renders.sum() <= 60
    plain = infer_mod._fingerprint(tiny_checkpoint, SYNTHS, None, refine=opts.refine)
    screened = infer_mod._fingerprint(tiny_checkpoint, SYNTHS, None, refine=opts.refine, proxies=with_proxy.proxies)
    assert "proxies" not in plain["refine"] and screened["refine"]["proxy_factor"] == 4  # old outputs still resume
    with pytest.raises(InferError, match="is for subtractive"):
        infer(
            root / "in",
            tiny_checkpoint,
            tmp_path / "o2",
            replace(opts, proxies={"vapoly": tmp_path / "px"}),
            progress=False,
        )
    with pytest.raises(InferError, match="needs|give --refine"):
        infer(
            root / "in",
            tiny_checkpoint,
            tmp_path / "o3",
            replace(opts, refine=None, proxies={"subtractive": tmp_path / "px"}),
            progress=False,
        )


def test_neighbour_starts_join_the_search_at_the_sounds_own_note(refined, tiny_checkpoint, tmp_path, monkeypatch):
    import importlib
    import shutil
    from dataclasses import replace

    from asp.models.neighbours import INDEX_FILE

    refine_mod = importlib.import_module("asp.search.refine")  # (asp.search.refine is also the function's name)

    root, _, opts = refined
    seen = []
    real = refine_mod.refine_job

    def spy(task, report):
        seen.append(task["starts"])
        return real(task, report)

    monkeypatch.setattr(refine_mod, "refine_job", spy)
    near = replace(opts, neighbours=3, workers=0)
    table = infer(root / "in" / "low", tiny_checkpoint, tmp_path / "out", near, progress=False)
    ok = table[table.status == "ok"]
    assert len(ok) == len(SYNTHS) and (ok.objective <= ok.oneshot_objective).all() and ok.renders.sum() <= 60
    assert (tiny_checkpoint.parent.parent / INDEX_FILE).is_file()
    (starts,) = seen
    for synth in SYNTHS:
        nb = [c for c in starts[synth] if c.label.startswith("neighbour")]
        own = [c for c in starts[synth] if c.label == "oneshot at its own note"]
        assert len(nb) == 3 and own and all(c.note == own[0].note == 45 for c in nb)  # A2, not folded into C4-B4
    fp = infer_mod._fingerprint(tiny_checkpoint, SYNTHS, None, refine=opts.refine, neighbours=3)
    assert fp["refine"]["neighbours"] == 3
    assert "neighbours" not in infer_mod._fingerprint(tiny_checkpoint, SYNTHS, None, refine=opts.refine)["refine"]
    with pytest.raises(InferError, match="give --refine with --neighbours"):
        infer(root / "in", tiny_checkpoint, tmp_path / "o2", replace(near, refine=None), progress=False)
    alone = tmp_path / "elsewhere" / "checkpoints" / "best.ckpt"  # a checkpoint without its run folder
    alone.parent.mkdir(parents=True)
    shutil.copyfile(tiny_checkpoint, alone)
    with pytest.raises(InferError, match="needs the dataset the model was trained on"):
        infer(root / "in", alone, tmp_path / "o3", near, progress=False)
