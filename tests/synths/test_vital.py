"""Vital both ways: the schema drafted from the engine's own control details and curated, `.vital` presets written
(what Vital loads) and read back into vectors that render exactly as the vector they came from."""

from __future__ import annotations

import json

import numpy as np
import pytest

from asp.synths import registry
from asp.synths.native import write_native
from asp.synths.params import SchemaError
from asp.synths.presets import read_presets
from asp.synths.sampling import sample_presets

pytestmark = pytest.mark.skipif(not registry.render_status("vital")[0], reason="pip install 'asp[vital]'")


def test_the_draft_covers_every_control_and_the_schema_is_a_curated_part_of_it():
    from asp.render.draft import draft_from_pip
    from asp.synths import vital

    full = draft_from_pip("vital")
    assert full.n_params >= 700  # Vital has 772 controls; the few with no range are left out
    schema = registry.load_schema("vital")
    drafted = {p.name: p for p in full.params}
    for p in schema.params:  # the curated schema keeps the drafted kinds, ranges and classes
        if p.name in vital.TABLE_PARAMS:  # asp's own: the oscillators' wavetables, not Vital controls
            assert p.labels == vital.WAVETABLES and p.default == 0.0
            continue
        d = drafted[p.name]
        assert (p.kind, p.low, p.high, p.n_classes) == (d.kind, d.low, d.high, d.n_classes), p.name
    assert schema["filter_1_model"].labels[:3] == ("Analog", "Dirty", "Ladder")
    assert not set(vital.FIXED) & set(schema.names)


def test_vital_presets_round_trip_and_render_the_same(tmp_path):
    from asp.render import RenderSettings, make_renderer

    schema = registry.load_schema("vital")
    vectors = sample_presets(schema, 3, np.random.default_rng(5), registry.load_sampling("vital"))
    r = make_renderer("vital", RenderSettings(note_seconds=0.5, render_seconds=0.75))
    for k, v in enumerate(vectors):
        (path,) = write_native(tmp_path / f"p{k}", ("vital",), schema, v, f"patch {k}")
        data = json.loads(path.read_text())
        assert data["preset_name"] == f"patch {k}" and "settings" in data  # Vital's own preset JSON
        (back,) = read_presets(path, schema)
        assert back.name == f"patch {k}"
        np.testing.assert_allclose(back.vector, v, atol=1e-5)
        np.testing.assert_allclose(r.render(back.vector, 55), r.render(v, 55), atol=1e-5)


def test_an_oscillator_plays_the_wavetable_its_patch_picks_and_the_vital_file_carries_it(tmp_path):
    from asp.render import RenderSettings, make_renderer
    from asp.synths import vital

    schema = registry.load_schema("vital")
    r = make_renderer("vital", RenderSettings(note_seconds=0.5, render_seconds=0.75))
    init = schema.default_vector()
    i = schema.names.index("osc_1_wavetable")
    fm, vowel = init.copy(), init.copy()
    fm[i] = schema.params[i].to_normalised(float(vital.WAVETABLES.index("fm")))
    vowel[i] = schema.params[i].to_normalised(float(vital.WAVETABLES.index("vowel")))
    a, b, c = (r.render(v, 57) for v in (init, fm, vowel))
    assert np.max(np.abs(a - b)) > 0.05 and np.max(np.abs(b - c)) > 0.05  # three different sounds
    np.testing.assert_allclose(r.render(fm, 57), b, atol=1e-5)  # and the same one again
    (path,) = write_native(tmp_path / "fm", ("vital",), schema, fm, "fm table")
    assert json.loads(path.read_text())["settings"]["wavetables"][0]["name"] == "asp fm"
    (back,) = read_presets(path, schema)
    assert schema.params[i].class_of(back.vector[i]) == vital.WAVETABLES.index("fm")
    np.testing.assert_allclose(r.render(back.vector, 57), b, atol=1e-5)
    data = json.loads(path.read_text())  # a table asp did not write (a factory preset's) reads as init
    data["settings"]["wavetables"][0]["name"] = "Someone's Table"
    path.write_text(json.dumps(data))
    assert schema.params[i].class_of(read_presets(path, schema)[0].vector[i]) == 0


def test_a_broken_vital_file_is_refused_naming_it(tmp_path):
    path = tmp_path / "broken.vital"
    path.write_text("{not json")
    with pytest.raises(SchemaError, match="broken.vital: Vital could not load"):
        read_presets(path, registry.load_schema("vital"))


def test_the_hand_made_vital_presets_load_and_sound():
    from asp.render import RenderSettings, make_renderer

    schema = registry.load_schema("vital")
    presets = read_presets(registry.factory_presets("vital"), schema)
    assert len(presets) >= 12
    r = make_renderer("vital", RenderSettings(note_seconds=0.75, render_seconds=1.0))
    loud = [float(np.sqrt(np.mean(r.render(p.vector, 60) ** 2))) for p in presets]
    assert min(loud) > 1e-3, dict(zip((p.name for p in presets), loud))


def test_vital_runs_in_its_own_process_so_dawdreamer_is_safe_beside_it():
    import sys

    from asp.render import RenderSettings, make_renderer

    r = make_renderer("vital", RenderSettings(note_seconds=0.2, render_seconds=0.3))
    r.render(registry.load_schema("vital").default_vector(), 60)
    assert "vita" not in sys.modules  # the engine lives in the child process
    # a Faust compile after Vital has rendered (this aborted the process when both lived in one)
    f = make_renderer("subtractive", RenderSettings(note_seconds=0.2, render_seconds=0.3))
    assert np.abs(f.render(registry.load_schema("subtractive").default_vector(), 60)).max() > 0


def test_an_error_in_the_engines_copy_comes_back_as_raised_and_the_process_goes_on():
    """Renders run in forked copies of one engine (``render_notes_natural``): a copy's exception is raised in the
    caller, and the next render still works."""
    from asp.synths import vital

    with pytest.raises(KeyError, match="no_such_control"):
        vital.call("render_notes_natural", 22050, {"no_such_control": 1.0}, (60, 64), 0.8, 0.2, 0.3)
    audio = vital.call("render_notes_natural", 22050, {}, (60, 64), 0.8, 0.2, 0.3)
    assert [a.shape for a in audio] == [(2, 6615), (2, 6615)]
    assert np.abs(audio[1]).max() > 0


def test_the_new_engine_per_note_path_off_linux_gives_the_forked_paths_audio():
    """Off Linux each note gets a newly built engine instead of a forked copy: the same audio (run in a process of
    its own, as Vital must not share one with DawDreamer)."""
    _in_own_process(
        "import sys, numpy as np\n"
        "from asp.synths import vital\n"
        "args = (22050, {'osc_1_wavetable': 3.0}, (57, 60, 64), 0.8, 0.2, 0.4)\n"
        "forked = vital.render_notes_natural(*args)\n"
        "sys.platform = 'darwin'\n"
        "built = vital.render_notes_natural(*args)\n"
        "assert all(np.array_equal(a, b) for a, b in zip(forked, built)), 'the two paths differ'\n"
        "assert np.abs(forked[0]).max() > 0\n"
    )


def test_an_exception_too_long_to_pass_back_whole_comes_back_as_its_text():
    """A forked copy passes its exception back pickled in a fixed-size block; one that does not fit comes back as a
    RuntimeError naming its type and the start of its text (a cut pickle would not load). In a process of its own."""
    _in_own_process(
        "from asp.synths import vital\n"
        "class Big(Exception): pass\n"
        "def work(): raise Big('x' * 100000)\n"
        "try:\n"
        "    vital._in_copy(work, 16)\n"
        "except RuntimeError as err:\n"
        "    assert str(err).startswith('vital: Big: xxx'), str(err)[:80]\n"
        "else:\n"
        "    raise AssertionError('no error')\n"
    )


def _in_own_process(code: str) -> None:
    """Run ``code`` in a new Python process (Vital must not share one with DawDreamer; a fork of pytest's is not
    wanted either); its assertions fail the test."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
