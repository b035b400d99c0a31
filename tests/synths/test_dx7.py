"""DX7 voices both ways: asp's dexed schema, single-voice and 32-voice bank sysex written and read back, the packed
bank format checked against Dexed's own, and a voice read back renders exactly as the vector it came from."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from asp.synths import dx7, registry
from asp.synths.native import write_native
from asp.synths.params import SchemaError
from asp.synths.presets import read_presets
from asp.synths.sampling import sample_presets

ROMS = "/usr/share/hexter/dx7_roms.dx7"
needs_dexed = pytest.mark.skipif(not registry.render_status("dexed")[0], reason="pip install 'asp[dexed]'")


@pytest.fixture(scope="module")
def voices():
    schema = registry.load_schema("dexed")
    return schema, sample_presets(schema, 5, np.random.default_rng(3), registry.load_sampling("dexed"))


def test_the_schema_is_the_dx7_voice():
    schema = registry.load_schema("dexed")
    assert schema.n_params == dx7.N_VOICE_PARAMS == 6 * 21 + 19
    assert schema.names[0] == "op6_eg_rate1" and schema.names[125] == "op1_detune" and schema.names[-1] == "transpose"
    kinds = {p.name: (p.kind, p.n_classes) for p in schema.params}
    assert kinds["algorithm"] == ("categorical", 32) and kinds["feedback"] == ("categorical", 8)
    assert kinds["op3_freq_coarse"] == ("categorical", 32) and kinds["op3_osc_mode"] == ("binary", 2)
    # the schema file is what asp.synths.dx7 describes
    assert [p.as_dict()["high"] for p in schema.params] == [e["high"] for e in dx7.voice_params()]


def test_single_voices_and_banks_round_trip_through_files(voices, tmp_path):
    schema, vectors = voices
    for k, v in enumerate(vectors):
        (syx, bank) = write_native(tmp_path / f"v{k}", ("dx7-sysex", "dx7-bank"), schema, v, f"VOICE {k}")
        assert syx.stat().st_size == 163 and bank.stat().st_size == 4104
        for path in (syx, bank):
            back = read_presets(path, schema)[0]
            assert back.name == f"VOICE {k}"
            # equal after the voice bytes' rounding: the same bytes again
            assert dx7.voice_bytes(schema_natural(schema, back.vector)) == dx7.voice_bytes(schema_natural(schema, v))
    bank = tmp_path / "bank.syx"
    dx7.write_bank_file(bank, schema, [(f"P{k}", v) for k, v in enumerate(vectors)])
    presets = read_presets(bank, schema)
    assert len(presets) == 32 and [p.name for p in presets[:5]] == [f"P{k}" for k in range(5)]
    assert presets[5].name == "INIT VOICE"


def schema_natural(schema, vector):
    return np.array([p.to_natural(x) for p, x in zip(schema.params, vector)])


def test_a_broken_file_is_refused_naming_it(tmp_path, voices):
    schema, vectors = voices
    path = tmp_path / "broken.syx"
    path.write_bytes(dx7.single_voice_sysex(schema_natural(schema, vectors[0]))[:-5])
    with pytest.raises(SchemaError, match="broken.syx: not a DX7 single-voice sysex"):
        read_presets(path, schema)
    good = bytearray(dx7.bank_sysex([("A", schema_natural(schema, vectors[0]))]))
    good[100] ^= 1
    path.write_bytes(bytes(good))
    with pytest.raises(SchemaError, match="broken.syx: DX7 bank checksum mismatch"):
        read_presets(path, schema)


@needs_dexed
def test_the_packed_format_is_dexeds_and_a_voice_read_back_renders_the_same(voices, tmp_path):
    import dexed

    from asp.render import RenderSettings, make_renderer

    schema, vectors = voices
    for v in vectors:
        data = dx7.voice_bytes(schema_natural(schema, v), "X")
        assert dexed.Patch.from_sysex(data + b"\x3f").to_packed() == dx7.pack_voice(data)
        assert dx7.unpack_voice(dx7.pack_voice(data)) == data
    bank = tmp_path / "bank.syx"
    dx7.write_bank_file(bank, schema, [(f"P{k}", v) for k, v in enumerate(vectors)])
    loaded = dexed.Patch.load_bank(str(bank))  # Dexed reads asp's bank
    assert [bytes(p.to_raw())[:145] for p in loaded[:5]] == [
        dx7.voice_bytes(schema_natural(schema, v))[:145] for v in vectors
    ]
    r = make_renderer("dexed", RenderSettings(note_seconds=0.5, render_seconds=0.75))
    loudness = []
    for v, back in zip(vectors, read_presets(bank, schema)):
        a, b = r.render(v, 57), r.render(back.vector, 57)
        np.testing.assert_array_equal(a, b)
        loudness.append(float(np.sqrt(np.mean(a**2))))
    assert sum(x > 1e-3 for x in loudness) >= 3, loudness  # most random voices speak within the note


@needs_dexed
@pytest.mark.skipif(not Path(ROMS).is_file(), reason="apt-get install hexter (the DX7 ROM voices)")
def test_the_dx7_rom_voices_are_the_factory_presets_and_read_as_dexed_reads_them():
    import dexed

    schema = registry.load_schema("dexed")
    presets = read_presets(registry.factory_presets("dexed"), schema)
    assert len(presets) == 128 and presets[0].name == "BRASS   1" and presets[10].name == "E.PIANO 1"
    raw = Path(ROMS).read_bytes()
    for k in range(0, 128, 9):
        theirs = bytes(dexed.Patch.from_packed(raw[k * 128 : (k + 1) * 128]).to_raw())
        assert dx7.voice_bytes(schema_natural(schema, presets[k].vector), presets[k].name) == theirs
