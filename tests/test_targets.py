"""The held-back target sounds of the main job: each synth's hand-made presets rendered in varied formats, a synth
with a factory bank (Dexed's DX7 ROM voices) capped to a few of its voices."""

from __future__ import annotations

import pytest

from asp.cli.common import _synth_list
from asp.data.targets import render_targets
from asp.render import RenderSettings
from asp.synths import registry

SHORT = RenderSettings(note_seconds=0.25, render_seconds=0.5)


def test_builtin_expands_inside_a_list():
    assert _synth_list("builtin") == tuple(registry.builtin_names())
    assert _synth_list("builtin,dexed") == (*registry.builtin_names(), "dexed")
    assert _synth_list("vapoly,builtin") == ("vapoly", *(n for n in registry.builtin_names() if n != "vapoly"))
    with pytest.raises(KeyError):
        _synth_list("builtin,nosuchsynth")


def test_targets_come_from_each_synths_hand_made_presets(tmp_path):
    files = render_targets(tmp_path, ["subtractive"], SHORT)
    assert sorted(f.stem for f in files) == sorted(
        p.stem for p in (registry.PRESETS_DIR / "subtractive").glob("*.json")
    )
    assert len({f.suffix for f in files}) == 4 and all(f.is_file() for f in files)  # formats cycle
    stamp = files[0].stat().st_mtime_ns
    assert render_targets(tmp_path, ["subtractive"], SHORT) == files and files[0].stat().st_mtime_ns == stamp


@pytest.mark.skipif(
    not (
        registry.render_status("dexed")[0]
        and registry.get("dexed").factory_presets
        and __import__("pathlib").Path(registry.get("dexed").factory_presets).is_file()
    ),
    reason="needs asp[dexed] and Debian's hexter (DX7 ROM voices)",
)
def test_a_factory_bank_gives_a_few_of_its_voices(tmp_path):
    files = render_targets(tmp_path, ["dexed"], SHORT, per_synth=4)
    assert len(files) == 4 and len({f.stem for f in files}) == 4 and all(f.parent.name == "dexed" for f in files)
    assert all(f.stat().st_size > 1000 for f in files)
    assert render_targets(tmp_path / "none", ["dexed"], SHORT, presets_dir=tmp_path / "empty") == []
