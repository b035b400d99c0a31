"""Vital (the ``vita`` binding, ``pip install 'asp[vital]'``, GPL-3.0): how asp's ``vital`` schema maps onto the
engine's controls, shared by the renderer (``asp.render.vital_backend``) and the ``.vital`` preset files.

A native vector's natural values are Vital's own control values (the units ``get_control_details`` gives: semitones
for a cutoff, seconds before Vital's display curve for an envelope time; a class index for a discrete control).
Every patch starts from Vital's init preset; then the fixed settings below; then the schema's controls.

Vital runs in a process of its own (:func:`call`, started on first use): with Vital's engine loaded, a later Faust
compile in DawDreamer aborted the whole process (seen in the test suite), so asp never loads ``vita`` beside
DawDreamer. Everything here that touches the engine takes and returns plain data (natural values by control name).

Fixed (not in the schema), and why:

* ``osc_{1,2,3}_random_phase`` = 0: Vital draws each voice's start phase from process-wide random state, so a render
  would depend on what was rendered before; with the phase fixed, renders repeat (to float rounding, about 1e-7).
* The rates of LFOs 1-2, chorus, delay, phaser and flanger in seconds (``*_sync`` = 0): a single note has no tempo.
* Four modulation routings, their amounts in the schema: envelope 2 -> filter 1 cutoff, LFO 1 -> oscillator 1 wave
  frame, LFO 2 -> filter 1 cutoff, envelope 3 -> oscillator 2 wave frame (the binding connects any source to any
  destination; a fixed small matrix keeps the schema a fixed vector).

Wavetables: the binding has no control for an oscillator's table; a preset's JSON carries it. ``osc_{1,2,3}_wavetable``
(asp's own parameters, categorical, :data:`WAVETABLES`) choose among Vital's init table (a saw) and the 8 tables of
asp's built-in wavetable synth (``asp.synths.wavetables``: 16 frames each, written as Vital keyframes spread over
its 256 frame positions, so ``osc_N_wave_frame`` morphs through them). A patch that picks one is loaded as its JSON
with those tables in place, and ``.vital`` files carry them. Read back, a table asp did not write (a factory
preset's own) counts as ``init``: the schema has no class for it.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

import numpy as np

from asp.synths.wavetables import TABLE_NAMES, wavetables

INSTALL_HINT = "the vital synth needs its binding: pip install 'asp[vital]' (vita, GPL-3.0)"
FIXED: dict[str, float] = {
    "osc_1_random_phase": 0.0,
    "osc_2_random_phase": 0.0,
    "osc_3_random_phase": 0.0,
    # rates in seconds: a single note has no tempo (Vital's init syncs them to one)
    **{f"{fx}_sync": 0.0 for fx in ("lfo_1", "lfo_2", "chorus", "delay", "phaser", "flanger")},
}
ROUTINGS: tuple[tuple[str, str], ...] = (
    ("env_2", "filter_1_cutoff"),
    ("lfo_1", "osc_1_wave_frame"),
    ("lfo_2", "filter_1_cutoff"),
    ("env_3", "osc_2_wave_frame"),
)


WAVETABLES: tuple[str, ...] = ("init", *TABLE_NAMES)
TABLE_PARAMS: dict[str, int] = {f"osc_{k}_wavetable": k - 1 for k in (1, 2, 3)}  # name -> the oscillator's table slot
_TABLE_PREFIX = "asp "  # how a table asp wrote is named in a preset


@cache
def table_data(k: int) -> dict[str, Any]:
    """Vital's JSON (parsed; shared, so not to be changed) of table ``k`` of :data:`WAVETABLES` (k >= 1): the
    built-in wavetable synth's frames resampled to Vital's 2,048 samples (``scipy.signal.resample``: the same
    harmonics), as keyframes spread over positions 0-255 that Vital interpolates linearly in time, as the Faust synth
    does (measured: about 55 ms per table for Vital to load, against 85-107 ms with its spectral interpolation)."""
    import base64

    from scipy.signal import resample

    frames = wavetables()[k - 1]
    keyframes = [
        {
            "position": round(i * 255 / (len(frames) - 1)),
            "wave_data": base64.b64encode(resample(frame.astype(np.float64), 2048).astype("<f4").tobytes()).decode(),
        }
        for i, frame in enumerate(frames)
    ]
    wave_source = {"interpolation": 0, "interpolation_style": 1, "keyframes": keyframes, "type": "Wave Source"}
    return {
        "author": "asp",
        "full_normalize": True,
        "name": _TABLE_PREFIX + WAVETABLES[k],
        "remove_all_dc": True,
        "version": "1.5.5",
        "groups": [{"components": [wave_source]}],
    }


def table_class(table: Mapping[str, Any]) -> int:
    """The :data:`WAVETABLES` class of a table in a preset's JSON (0, ``init``, for any table asp did not write)."""
    name = str(table.get("name", ""))
    label = name[len(_TABLE_PREFIX) :] if name.startswith(_TABLE_PREFIX) else ""
    return WAVETABLES.index(label) if label in WAVETABLES[1:] else 0


def import_vita() -> Any:
    """The ``vita`` module, or ImportError saying how to install it."""
    try:
        import vita
    except ImportError:
        raise ImportError(INSTALL_HINT) from None
    return vita


def new_synth(sample_rate: int) -> Any:
    """A Vital engine at ``sample_rate``."""
    synth = import_vita().Synth()
    synth.set_sample_rate(float(sample_rate))
    return synth


def apply_natural(synth: Any, values: Mapping[str, float], sounding_only: bool = False) -> None:
    """Load a patch into the engine: init preset (with the wavetables ``values`` pick), fixed settings, routings,
    then ``values`` (natural, by name). ``sounding_only``: load the tables of the oscillators that are on only (for
    a render: an off oscillator's table is not heard, and each table costs Vital about 55 ms to load)."""
    import json

    synth.load_init_preset()
    tables = {slot: round(values.get(n, 0)) for n, slot in TABLE_PARAMS.items()}
    if sounding_only:
        init = synth.get_controls()
        tables = {
            s: k for s, k in tables.items() if round(values.get(f"osc_{s + 1}_on", init[f"osc_{s + 1}_on"].value()))
        }
    tables = {slot: k for slot, k in tables.items() if k > 0}
    if tables:
        data = json.loads(synth.to_json())
        for slot, k in tables.items():
            data["settings"]["wavetables"][slot] = table_data(k)
        if not synth.load_json(json.dumps(data)):
            raise RuntimeError(f"vital: the engine refused wavetables {tables}")
    synth.clear_modulations()
    controls = synth.get_controls()
    for name, value in FIXED.items():
        controls[name].set(float(value))
    for source, destination in ROUTINGS:
        if not synth.connect_modulation(source, destination):
            raise RuntimeError(f"vital: cannot route {source} to {destination}")
    for name, value in values.items():
        if name not in TABLE_PARAMS:
            controls[name].set(float(value))


# ---------------------------------------------------------------------- run in Vital's own process (plain data)
_BASE: dict[int, Any] = {}  # sample rate -> an engine that is never given a patch or a note (copied by fork)


def render_notes_natural(
    sample_rate: int,
    values: Mapping[str, float],
    notes: tuple[int, ...],
    velocity: float,
    note_s: float,
    render_s: float,
) -> list[np.ndarray]:
    """(2, n) audio of one patch at each of ``notes``, every note played on a fresh engine with the patch loaded.

    A new engine costs Vital 150-350 ms to build, a patch about 12 ms plus 55 ms per wavetable: so this process
    builds one engine per rate, never plays it, and copies it by ``fork`` per patch; the copy loads the patch and
    copies itself again per note but the last, which it plays itself. Each note hears the same engine state as
    on a newly built engine. Off Linux (no ``fork``, or macOS, where forking a process with Apple's frameworks
    loaded is unsafe): a new engine per note, the same audio."""

    def play(synth: Any, note: int) -> np.ndarray:
        return np.asarray(synth.render(int(note), float(velocity), float(note_s), float(render_s)), dtype=np.float32)

    from asp.synths.registry import FORK_SAFE

    if not FORK_SAFE:
        out = []
        for note in notes:
            synth = new_synth(sample_rate)
            apply_natural(synth, values, sounding_only=True)
            out.append(play(synth, note))
        return out
    if sample_rate not in _BASE:
        # a wavetable into a throw-away engine first: Vital sets up process-wide state on the first table it loads
        # (about 0.6 s), which every copy would otherwise set up again and throw away
        apply_natural(new_synth(sample_rate), {name: 1 for name in TABLE_PARAMS})
        _BASE[sample_rate] = new_synth(sample_rate)
    per_note = 2 * (int(render_s * sample_rate) + 4096)  # floats: Vital's stereo render, with room to spare

    def patch_and_play() -> list[np.ndarray]:  # in the copy of the base engine
        synth = _BASE[sample_rate]
        apply_natural(synth, values, sounding_only=True)
        first = [_in_copy(lambda n=n: [play(synth, n)], per_note)[0] for n in notes[:-1]]
        return [*first, play(synth, notes[-1])]

    return _in_copy(patch_and_play, per_note * len(notes))


_HEAD = 1 << 16  # bytes of the shared block before the audio: status, shapes or a pickled exception


def _in_copy(work: Any, capacity: int) -> list[np.ndarray]:
    """``work()`` (a list of float32 arrays of at most ``capacity`` values in all) run in a forked copy of this
    process, its arrays written into memory shared with this one; an exception it raises is raised here."""
    import mmap
    import os
    import pickle

    with mmap.mmap(-1, _HEAD + 4 * capacity) as shared:
        head = np.frombuffer(shared, dtype=np.int64, count=_HEAD // 8)
        pid = os.fork()
        if pid == 0:  # the copy: work, write, leave without this process's exit handlers
            code = 1
            try:
                try:
                    arrays = work()
                    if sum(a.size for a in arrays) > capacity or 2 + 2 * len(arrays) > head.size:
                        raise RuntimeError(f"vital: a render is longer than the {capacity} samples expected")
                    body = np.frombuffer(shared, dtype=np.float32, offset=_HEAD)
                    at = 0
                    for i, a in enumerate(arrays):
                        head[2 + 2 * i : 4 + 2 * i] = a.shape
                        body[at : at + a.size] = a.ravel()
                        at += a.size
                    head[1] = len(arrays)
                    del body
                except Exception as err:  # pickled into the block for the parent to raise
                    try:
                        data = pickle.dumps(err)
                    except Exception:  # an exception that does not pickle: its text
                        data = b""
                    if not data or len(data) > _HEAD - 16:
                        data = pickle.dumps(RuntimeError(f"vital: {type(err).__name__}: {str(err)[:2000]}"))
                    head[1] = len(data)
                    shared[16 : 16 + len(data)] = data
                    head[0] = 1
                code = 0
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        failed, count = int(head[0]), int(head[1])
        shapes = [] if failed else [tuple(int(x) for x in head[2 + 2 * i : 4 + 2 * i]) for i in range(count)]
        del head  # the block closes only when no array views it
        error = pickle.loads(shared[16 : 16 + count]) if failed else None
        out, at = [], 0
        body = np.frombuffer(shared, dtype=np.float32, offset=_HEAD)
        for rows, cols in shapes:
            out.append(body[at : at + rows * cols].reshape(rows, cols).copy())
            at += rows * cols
        del body
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"vital: the engine's copy died (wait status {status})")
    if error is not None:
        raise error
    return out


def preset_json(values: Mapping[str, float], name: str) -> str:
    """Vital's own preset JSON of a patch."""
    import json

    synth = new_synth(44100)
    apply_natural(synth, values)
    data = json.loads(synth.to_json())
    data["preset_name"] = name
    data["author"] = data.get("author") or "asp"
    return json.dumps(data)


def preset_values(text: str, names: list[str], where: str) -> dict[str, float]:
    """The natural values of ``names`` in a Vital preset's JSON (ValueError naming ``where`` if Vital refuses it)."""
    import json

    synth = new_synth(44100)
    if not synth.load_json(text):
        raise ValueError(f"{where}: Vital could not load this preset")
    controls = synth.get_controls()
    tables = json.loads(text).get("settings", {}).get("wavetables", [])
    return {
        n: float(table_class(tables[TABLE_PARAMS[n]]) if TABLE_PARAMS[n] < len(tables) else 0)
        if n in TABLE_PARAMS
        else float(controls[n].value())
        for n in names
    }


def all_control_records() -> list[Mapping[str, Any]]:
    return control_records(new_synth(44100))


def check_binding() -> bool:
    """True where the binding imports (ImportError saying how to install it otherwise)."""
    import_vita()
    return True


def control_records(synth: Any) -> list[Mapping[str, Any]]:
    """Every control of the engine as a schema record (natural value = Vital's control value): discrete controls
    with two values are binary, with more categorical (their option names as labels where Vital gives them all)."""
    out: list[Mapping[str, Any]] = []
    for name in sorted(synth.get_controls()):
        d = synth.get_control_details(name)
        lo, hi = float(d.min), float(d.max)
        if hi <= lo:
            continue  # a control with no range
        rec: dict[str, Any] = {"name": name, "low": lo, "high": hi, "group": name.split("_", 1)[0]}
        default = float(np.clip(d.default_value, lo, hi))
        if d.is_discrete:
            n = int(round(hi - lo)) + 1
            rec.update(kind="binary" if n == 2 else "categorical", n_classes=n, default=float(round(default)))
            if len(d.options) == n:
                rec["labels"] = [str(o) for o in d.options]
        else:
            rec.update(kind="continuous", default=default)
            if str(d.display_units).strip():
                rec["unit"] = str(d.display_units).strip()
        out.append(rec)
    return out


# ---------------------------------------------------------------------- .vital preset files
def write_preset_file(path: Any, schema: Any, vector: np.ndarray, name: str) -> None:
    """A ``.vital`` preset (Vital's own JSON, atomically) of a normalised native vector: what Vital loads."""
    write_values_file(path, schema.to_natural(vector), name)


def write_values_file(path: Any, values: Mapping[str, float], name: str) -> None:
    """A ``.vital`` preset of natural values by Vital control name (the schema's and any others), atomically."""
    from asp.atomic import atomic_write_bytes

    atomic_write_bytes(path, call("preset_json", dict(values), name).encode())


def read_preset_file(path: Any, schema: Any) -> tuple[str, np.ndarray]:
    """(name, normalised native vector) of a ``.vital`` file (ValueError naming it when Vital refuses it)."""
    import json
    from pathlib import Path

    p = Path(path)
    text = p.read_text()
    values = call("preset_values", text, list(schema.names), str(p))
    try:
        name = str(json.loads(text).get("preset_name") or p.stem)
    except json.JSONDecodeError:
        name = p.stem
    return name, schema.from_natural(values, fill_defaults=False, source=str(p))


# ---------------------------------------------------------------------- Vital's process
_PROC: Any = None
_EXPORTED = (
    "render_notes_natural",
    "preset_json",
    "preset_values",
    "all_control_records",
    "check_binding",
)


def _send(stream: Any, obj: Any) -> None:
    import pickle

    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(len(data).to_bytes(8, "little") + data)
    stream.flush()


def _recv(stream: Any) -> Any:
    import pickle

    head = stream.read(8)
    if len(head) < 8:
        raise EOFError
    return pickle.loads(stream.read(int.from_bytes(head, "little")))


def call(fn: str, *args: Any) -> Any:
    """Run one of this module's engine functions in Vital's own process (a ``python -m asp.synths.vital`` child,
    started on first use and kept for the life of this one); exceptions come back as they were raised.

    Raises:
        ImportError: the binding is not installed (saying how to install it); RuntimeError: the process died.
    """
    import subprocess
    import sys

    global _PROC
    if fn not in _EXPORTED:
        raise ValueError(f"not a Vital process function: {fn!r}")
    if _PROC is None or _PROC.poll() is not None:
        _PROC = subprocess.Popen(
            [sys.executable, "-m", "asp.synths.vital"], stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
    try:
        _send(_PROC.stdin, (fn, args))
        kind, result = _recv(_PROC.stdout)
    except (EOFError, BrokenPipeError, OSError):
        code = _PROC.wait()
        _PROC = None
        raise RuntimeError(f"Vital's process died (exit code {code}) running {fn}") from None
    if kind == "error":
        raise result
    return result


def _serve() -> None:
    import sys

    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # anything printed must not corrupt the channel
    while True:
        try:
            fn, args = _recv(stdin)
        except EOFError:
            return
        try:
            _send(stdout, ("ok", globals()[fn](*args)))
        except Exception as err:  # returned to the caller, raised there
            _send(stdout, ("error", err))


if __name__ == "__main__":
    _serve()
