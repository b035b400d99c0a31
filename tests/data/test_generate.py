"""Dataset generation with real Faust renders: generate-then-load, splits by preset, resume, crashes."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from asp.data import layout
from asp.data.generate import GenerateConfig, generate
from asp.data.store import Dataset
from asp.render import RenderSettings
from asp.synths import load_schema, registry
from tests.data.helpers import CRASH_PRESET, assert_same_dataset, crashing_render_shard

SHORT = RenderSettings(note_seconds=0.5, render_seconds=1.0, notes=(60, 61))


def _cfg(out, **kw):
    base = dict(out=out, synths=("subtractive",), presets_per_synth=10, seed=3, workers=0, shard_size=3,
                render=SHORT, self_distance_presets=2, hpss="fast")
    base.update(kw)
    return GenerateConfig(**base)


def test_generate_then_load(tmp_path):
    out = generate(_cfg(tmp_path / "ds", synths=("subtractive", "vapoly")), progress=False)
    ds = Dataset(out)
    t = ds.table
    assert set(t.synth) == {"subtractive", "vapoly"}
    assert list(t.columns) == layout.COLUMNS
    assert ds.card["schema_hashes"]["vapoly"] == load_schema("vapoly").content_hash
    assert ds.card["synths"]["subtractive"]["self_distance"]["lsd_mean"] == 0.0  # deterministic backend
    rows = t[t.synth == "vapoly"].head(4)
    mels = ds.mels(rows)
    assert mels.shape == (4, 128, SHORT.n_samples // 512 + 1) and mels.dtype == np.float16
    native = ds.array(rows, "native")
    onehot = ds.array(rows, "onehot")
    schema = load_schema("vapoly")
    np.testing.assert_allclose(schema.decode(onehot), native, atol=1e-6)
    # the same presets, sampled again from the seed, re-render to the stored mels
    from asp.data.generate import plan_presets
    from asp.features.mel import mel_db
    from asp.render import get_renderer

    _, vectors = plan_presets(_cfg(tmp_path), "vapoly")
    r0 = rows.iloc[0]
    audio = get_renderer("vapoly", SHORT).render(vectors[r0.preset_id], int(r0.note))
    np.testing.assert_allclose(mel_db(audio), mels[0].astype(np.float32), atol=0.1)


def test_loads_with_pandas_and_numpy_alone(tmp_path):
    out = generate(_cfg(tmp_path / "ds", presets_per_synth=4), progress=False)
    code = ("import numpy as np, pandas as pd, sys; sys.modules['asp'] = None\n"
            f"t = pd.read_parquet('{out}/table.parquet'); r = t.iloc[-1]\n"
            f"m = np.load(f'{out}/shards/{{r.synth}}/{{r.shard:05d}}/mels.npy', mmap_mode='r')[r.row]\n"
            "print(m.shape)")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert "(128, 87)" in res.stdout


def test_split_by_preset(tmp_path):
    out = generate(_cfg(tmp_path / "ds", presets_per_synth=20, shard_size=7), progress=False)
    t = Dataset(out).table
    per_preset = t.groupby("preset_id").split.nunique()
    assert per_preset.max() == 1, "a preset's notes straddle two splits"
    counts = t.drop_duplicates("preset_id").split.value_counts()
    assert counts["train"] == 16 and counts["valid"] == 2 and counts["test"] == 2


def test_silence_filter_drops_quiet_clips(tmp_path):
    out = generate(_cfg(tmp_path / "ds", presets_per_synth=4, silence_db=20.0), progress=False)  # nothing is that loud
    card = json.loads((out / "card.json").read_text())
    assert card["synths"]["subtractive"]["clips"] == 0
    assert card["synths"]["subtractive"]["silent_clips_dropped"] == 8


def test_other_settings_in_the_same_folder_are_refused(tmp_path):
    generate(_cfg(tmp_path / "ds", presets_per_synth=3), progress=False)
    with pytest.raises(ValueError, match="other settings.*seed"):
        generate(_cfg(tmp_path / "ds", presets_per_synth=3, seed=4), progress=False)


def test_crashing_worker_marks_the_preset_failed_and_goes_on(tmp_path):
    out = generate(_cfg(tmp_path / "ds", presets_per_synth=6, workers=1), progress=False,
                   shard_fn=crashing_render_shard)
    ds = Dataset(out)
    assert CRASH_PRESET not in set(ds.table.preset_id)
    assert set(ds.table.preset_id) == {0, 1, 3, 4, 5}
    failures = ds.card["synths"]["subtractive"]["failures"]
    assert list(failures.values()) == [f"worker crashed (exit code {-signal.SIGSEGV}) while rendering this preset"]


def _generate_cmd(out: Path, synths: str = "subtractive,vapoly", presets: int = 8, shard: int = 2) -> list[str]:
    return [sys.executable, "-m", "asp.cli", "dataset", "generate", "--synths", synths, "--presets", str(presets),
            "--shard-size", str(shard), "--notes", "60,62", "--workers", "1", "--seed", "7", "--hpss", "fast",
            "--floor-presets", "0", "--no-progress", "--out", str(out)]


@pytest.mark.parametrize(
    ("synths", "presets", "shard"),
    [
        # two Faust synths: the Faust case is also in the next one (kept for -m slow)
        pytest.param("subtractive,vapoly", 8, 2, marks=pytest.mark.slow),
        ("vapoly,dexed", 8, 2),
        # amsynth's noise source is process-wide state: without a fresh worker per shard, the shards rendered after
        # the restart differ (measured: 32 of 60 clips at 30 presets; about half at this size)
        pytest.param("amsynth", 20, 5, marks=pytest.mark.plugin),
        # Vital: a patch's notes are played on forked copies of one engine (asp.synths.vital.render_notes_natural)
        ("vital", 6, 2),
    ],
)
def test_resume_after_kill_equals_an_uninterrupted_run(tmp_path, synths, presets, shard):
    names = synths.split(",")
    for s in names:
        if not registry.render_status(s)[0]:
            pytest.skip(f"{s}: {registry.render_status(s)[1]}")
    n_shards = len(names) * -(-presets // shard)
    whole, killed = tmp_path / "whole", tmp_path / "killed"
    subprocess.run(_generate_cmd(whole, synths, presets, shard), check=True, capture_output=True)
    proc = subprocess.Popen(_generate_cmd(killed, synths, presets, shard), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 120
    while time.time() < deadline and len(list((killed / "shards").glob("*/0000*/meta.json"))) < 2:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done = len(list((killed / "shards").glob("*/0000*/meta.json")))
    assert 0 < done < n_shards, "the kill should land half-way"
    assert not (killed / "card.json").exists()
    # a half-written shard left behind must not count as done
    junk = killed / "shards" / names[-1] / ".tmp-00003-junk"
    junk.mkdir(parents=True)
    (junk / "mels.npy").write_bytes(b"partial")
    res = subprocess.run(_generate_cmd(killed, synths, presets, shard), capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert "resuming" in res.stderr
    assert not junk.exists()
    assert_same_dataset(whole, killed, tuple(names))


def test_presets_from_files_all_of_them_with_presets_0(tmp_path):
    """The README's `--preset-files SYNTH=PATH --presets 0`: every preset in the folder, under its own name."""
    from asp.synths.presets import read_presets

    folder = Path(__file__).resolve().parents[2] / "presets" / "vapoly"
    out = generate(_cfg(tmp_path / "ds", synths=("vapoly",), presets_per_synth=0, preset_files={"vapoly": str(folder)}),
                   progress=False)
    ds = Dataset(out)
    expected = read_presets(folder, load_schema("vapoly"))
    assert sorted(ds.table.preset_name.unique()) == sorted(p.name for p in expected)
    rows = ds.table.drop_duplicates("preset_id").sort_values("preset_id")
    np.testing.assert_allclose(ds.array(rows, "native"), np.stack([p.vector for p in expected]), atol=1e-6)


def test_notes_per_preset_draws_that_many_notes_per_preset_reproducibly(tmp_path):
    wide = RenderSettings(note_seconds=0.5, render_seconds=1.0, notes=tuple(range(36, 85)))
    out = generate(_cfg(tmp_path / "ds", presets_per_synth=8, render=wide, notes_per_preset=2), progress=False)
    t = Dataset(out).table
    per_preset = t.groupby("preset_id").note.agg(list)
    assert all(len(set(n)) == 2 and set(n) <= set(wide.notes) for n in per_preset)
    assert t.note.nunique() > 4  # the notes differ between presets, not one fixed pair
    again = generate(_cfg(tmp_path / "again", presets_per_synth=8, render=wide, notes_per_preset=2), progress=False)
    assert_same_dataset(out, again, ["subtractive"])
    plan = json.loads((out / "plan.json").read_text())
    assert plan["notes_per_preset"] == 2
    # the paper's layout keeps its old plan (no new key), so datasets made before the option still resume
    assert "notes_per_preset" not in _cfg(tmp_path).plan_dict()
    with pytest.raises(ValueError, match="notes per preset"):
        _cfg(tmp_path, notes_per_preset=3)  # SHORT has 2 notes


def test_harmonic_share_can_be_left_to_the_evaluated_splits(tmp_path):
    out = generate(_cfg(tmp_path / "ds", presets_per_synth=10, hpss_train=False), progress=False)
    t = Dataset(out).table
    train, rest = t[t.split == "train"], t[t.split != "train"]
    assert len(train) and len(rest)
    assert train.harmonic_share.isna().all() and (train.timbre_group == -1).all()
    assert rest.harmonic_share.between(0, 1).all() and (rest.timbre_group >= 0).all()
    full = Dataset(generate(_cfg(tmp_path / "full", presets_per_synth=10), progress=False)).table
    np.testing.assert_array_equal(full[full.split != "train"].harmonic_share, rest.harmonic_share)
    assert json.loads((out / "plan.json").read_text())["hpss_train"] is False


def test_default_share_is_part_of_the_plan_and_only_when_set(tmp_path):
    assert "default_share" not in _cfg(tmp_path).plan_dict()  # datasets made before the option still resume
    out = generate(_cfg(tmp_path / "ds", presets_per_synth=6, default_share=0.5), progress=False)
    assert json.loads((out / "plan.json").read_text())["default_share"] == 0.5
    ds = Dataset(out)
    native = ds.array(ds.table, "native")
    defaults = load_schema("subtractive").default_vector()
    assert np.isclose(native, defaults, atol=1e-6).mean() > 0.3
    with pytest.raises(ValueError, match="default share"):
        _cfg(tmp_path, default_share=-0.1)


def test_a_dataset_begun_before_the_renders_changed_is_not_resumed(tmp_path):
    cfg = _cfg(tmp_path / "ds", presets_per_synth=4)
    out = generate(cfg, progress=False)
    plan_path = out / "plan.json"
    plan = json.loads(plan_path.read_text())
    assert plan["render_revisions"]["faust"] >= 2
    del plan["render_revisions"]  # as written before the Faust voice changed
    plan_path.write_text(json.dumps(plan))
    with pytest.raises(ValueError, match="render_revisions"):
        generate(cfg, progress=False)
