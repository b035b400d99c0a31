"""The DX7 voice, as Dexed and every DX7 read it: 155 bytes of single-voice data (the 145 voice parameters, then a
10-character name), and the sysex messages that carry one voice or a 32-voice bank.

The byte layout is Yamaha's (DX7 owner's manual, "voice data" table): six operators of 21 bytes each, operator 6
first, then the pitch envelope, algorithm, feedback, oscillator key sync, the LFO, pitch modulation sensitivity and
transpose. asp's ``dexed`` schema lists the 145 voice parameters in that order (``asp/synths/data/schemas/dexed.yaml``
is written from :func:`voice_params`), so a native vector's natural values are the voice bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

import numpy as np

N_VOICE_PARAMS = 145
NAME_BYTES = 10
CURVES = ("-lin", "-exp", "+exp", "+lin")
LFO_WAVES = ("triangle", "saw down", "saw up", "square", "sine", "sample and hold")
# (name, max value, kind, group) per operator, in sysex order
OPERATOR = (
    *((f"eg_rate{k}", 99, "continuous", "env") for k in range(1, 5)),
    *((f"eg_level{k}", 99, "continuous", "env") for k in range(1, 5)),
    ("kbd_breakpoint", 99, "continuous", "vol"),
    ("kbd_left_depth", 99, "continuous", "vol"),
    ("kbd_right_depth", 99, "continuous", "vol"),
    ("kbd_left_curve", 3, "categorical", "vol"),
    ("kbd_right_curve", 3, "categorical", "vol"),
    ("rate_scaling", 7, "continuous", "env"),
    ("amp_mod_sens", 3, "continuous", "mod"),
    ("velocity_sens", 7, "continuous", "vol"),
    ("output_level", 99, "continuous", "vol"),
    ("osc_mode", 1, "binary", "osc"),
    ("freq_coarse", 31, "categorical", "osc"),
    ("freq_fine", 99, "continuous", "osc"),
    ("detune", 14, "continuous", "osc"),
)
GLOBAL = (
    *((f"pitch_eg_rate{k}", 99, "continuous", "pitch") for k in range(1, 5)),
    *((f"pitch_eg_level{k}", 99, "continuous", "pitch") for k in range(1, 5)),
    ("algorithm", 31, "categorical", "osc"),
    ("feedback", 7, "categorical", "osc"),
    ("osc_key_sync", 1, "binary", "osc"),
    ("lfo_speed", 99, "continuous", "lfo"),
    ("lfo_delay", 99, "continuous", "lfo"),
    ("lfo_pitch_mod_depth", 99, "continuous", "lfo"),
    ("lfo_amp_mod_depth", 99, "continuous", "lfo"),
    ("lfo_sync", 1, "binary", "lfo"),
    ("lfo_wave", 5, "categorical", "lfo"),
    ("pitch_mod_sens", 7, "continuous", "pitch"),
    ("transpose", 48, "continuous", "pitch"),
)
# the defaults of Yamaha's initialised voice (INIT VOICE): operator 1 alone at full level, ratio 1
_OP_DEFAULT = {"eg_rate": 99, "eg_level": 99, "eg_level4": 0, "kbd_breakpoint": 39, "detune": 7, "freq_coarse": 1}
_GLOBAL_DEFAULT = {
    "pitch_eg_rate": 99,
    "pitch_eg_level": 50,
    "osc_key_sync": 1,
    "lfo_speed": 35,
    "lfo_wave": 4,
    "pitch_mod_sens": 3,
    "transpose": 24,
}
_LABELS = {
    "kbd_left_curve": CURVES,
    "kbd_right_curve": CURVES,
    "lfo_wave": LFO_WAVES,
    "algorithm": tuple(str(k) for k in range(1, 33)),
    "feedback": tuple(str(k) for k in range(8)),
    "osc_mode": ("ratio", "fixed"),
    "osc_key_sync": ("off", "on"),
    "lfo_sync": ("off", "on"),
}
VOICE_HEADER = bytes([0xF0, 0x43, 0x00, 0x00, 0x01, 0x1B])  # one voice: 155 data bytes
BANK_HEADER = bytes([0xF0, 0x43, 0x00, 0x09, 0x20, 0x00])  # 32 packed voices: 4096 data bytes


def _default(name: str, table: dict[str, int]) -> int:
    for key in (name, name.rstrip("1234")):
        if key in table:
            return table[key]
    return 0


def voice_params() -> list[dict[str, Any]]:
    """The 145 voice parameters in sysex order, as schema entries (natural value = the voice byte)."""
    out: list[dict[str, Any]] = []
    for op in range(6, 0, -1):
        for name, top, kind, group in OPERATOR:
            default = 99 if (op, name) == (1, "output_level") else _default(name, _OP_DEFAULT)
            out.append(_entry(f"op{op}_{name}", top, kind, group, default, _LABELS.get(name, ())))
    for name, top, kind, group in GLOBAL:
        out.append(_entry(name, top, kind, group, _default(name, _GLOBAL_DEFAULT), _LABELS.get(name, ())))
    for i, p in enumerate(out):
        p["index"] = i
    return out


def _entry(name: str, top: int, kind: str, group: str, default: int, labels: Sequence[str]) -> dict[str, Any]:
    e: dict[str, Any] = {
        "name": name,
        "kind": kind,
        "low": 0.0,
        "high": float(top),
        "default": float(default),
        "n_classes": top + 1 if kind != "continuous" else 0,
        "group": group,
        "scale": "linear",
    }
    if labels:
        e["labels"] = list(labels)
    return e


@cache
def _tops() -> np.ndarray:
    """Each voice byte's largest value, in sysex order."""
    return np.array([p["high"] for p in voice_params()])


def voice_bytes(values: np.ndarray, name: str = "ASP") -> bytes:
    """155 bytes of single-voice data from the 145 natural values (rounded, clipped into each byte's range)."""
    x = np.asarray(values, dtype=np.float64)
    if x.shape != (N_VOICE_PARAMS,):
        raise ValueError(f"a DX7 voice has {N_VOICE_PARAMS} parameters, got shape {x.shape}")
    v = np.clip(np.rint(x), 0, _tops()).astype(np.uint8)
    label = name.encode("ascii", "replace")[:NAME_BYTES].ljust(NAME_BYTES, b" ")
    return bytes(v) + bytes(min(c, 127) for c in label)


def voice_values(data: bytes) -> tuple[np.ndarray, str]:
    """(145 natural values, name) from 155 bytes of single-voice data (out-of-range bytes clipped)."""
    if len(data) < N_VOICE_PARAMS + NAME_BYTES:
        raise ValueError(f"DX7 voice data has {N_VOICE_PARAMS + NAME_BYTES} bytes, got {len(data)}")
    v = np.minimum(np.frombuffer(data[:N_VOICE_PARAMS], np.uint8).astype(np.float64), _tops())
    name = data[N_VOICE_PARAMS : N_VOICE_PARAMS + NAME_BYTES].decode("ascii", "replace").rstrip()
    return v, name


def checksum(data: bytes) -> int:
    """The DX7 sysex checksum: the two's complement of the data's sum, 7 bits."""
    return (-sum(data)) & 0x7F


def single_voice_sysex(values: np.ndarray, name: str = "ASP") -> bytes:
    """A complete single-voice sysex message (163 bytes)."""
    return _frame(VOICE_HEADER, voice_bytes(values, name))


def _frame(header: bytes, data: bytes) -> bytes:
    """A sysex message: header, data, checksum, end of exclusive."""
    return header + data + bytes([checksum(data), 0xF7])


def _unframe(message: bytes, header: bytes, n_data: int, what: str, short: str, where: str) -> bytes:
    """The data bytes of a sysex message with this header and length, checksum checked (ValueError naming
    ``where`` and the reason)."""
    at = f"{where}: " if where else ""
    size = len(header) + n_data + 2
    if len(message) != size or not message.startswith(header) or message[-1] != 0xF7:
        raise ValueError(f"{at}not a DX7 {what} sysex message ({len(message)} bytes, expected {size})")
    data = message[len(header) : -2]
    if checksum(data) != message[-2]:
        raise ValueError(f"{at}DX7 {short} checksum mismatch")
    return data


def read_single_voice_sysex(message: bytes, where: str = "") -> tuple[np.ndarray, str]:
    """The voice of a single-voice sysex message (ValueError naming ``where`` and the reason)."""
    return voice_values(_unframe(message, VOICE_HEADER, N_VOICE_PARAMS + NAME_BYTES, "single-voice", "sysex", where))


# ---------------------------------------------------------------------- 32-voice banks (the packed format)
VOICES_PER_BANK = 32
PACKED_BYTES = 128


def pack_voice(data: bytes) -> bytes:
    """155 bytes of single-voice data -> the 128-byte packed form a bank holds (bit fields shared per byte)."""
    d = list(data[: N_VOICE_PARAMS + NAME_BYTES])
    out: list[int] = []
    for op in range(6):
        o = d[op * 21 : op * 21 + 21]
        out += o[0:11]
        out += [(o[12] << 2) | o[11], (o[20] << 3) | o[13], (o[15] << 2) | o[14], o[16], (o[18] << 1) | o[17], o[19]]
    g = d[126:145]
    out += g[0:8] + [g[8], (g[10] << 3) | g[9], g[11], g[12], g[13], g[14], (g[17] << 4) | (g[16] << 1) | g[15], g[18]]
    out += d[145:155]
    return bytes(b & 0x7F for b in out)


def unpack_voice(packed: bytes) -> bytes:
    """The inverse of :func:`pack_voice`: 128 packed bytes -> 155 bytes of single-voice data."""
    p = list(packed[:PACKED_BYTES])
    out: list[int] = []
    for op in range(6):
        o = p[op * 17 : op * 17 + 17]
        out += o[0:11]
        out += [o[11] & 3, (o[11] >> 2) & 3, o[12] & 7, o[13] & 3, (o[13] >> 2) & 7, o[14], o[15] & 1]
        out += [(o[15] >> 1) & 31, o[16], (o[12] >> 3) & 15]
    g = p[102:118]
    out += g[0:8] + [g[8] & 31, g[9] & 7, (g[9] >> 3) & 1, g[10], g[11], g[12], g[13], g[14] & 1, (g[14] >> 1) & 7]
    out += [(g[14] >> 4) & 7, g[15]]
    out += p[118:128]
    return bytes(out)


def bank_sysex(voices: Sequence[tuple[str, np.ndarray]]) -> bytes:
    """A 32-voice bank sysex message (4104 bytes) from up to 32 (name, natural values); empty slots are the
    initialised voice."""
    if len(voices) > VOICES_PER_BANK:
        raise ValueError(f"a DX7 bank holds {VOICES_PER_BANK} voices, got {len(voices)}")
    init = np.array([p["default"] for p in voice_params()])
    slots = list(voices) + [("INIT VOICE", init)] * (VOICES_PER_BANK - len(voices))
    return _frame(BANK_HEADER, b"".join(pack_voice(voice_bytes(v, name)) for name, v in slots))


def _unpack_all(data: bytes) -> list[tuple[np.ndarray, str]]:
    """Every voice of consecutive 128-byte packed voices."""
    return [voice_values(unpack_voice(data[k : k + PACKED_BYTES])) for k in range(0, len(data), PACKED_BYTES)]


def read_bank_sysex(message: bytes, where: str = "") -> list[tuple[np.ndarray, str]]:
    """The 32 voices of a bank sysex message (ValueError naming ``where`` and the reason)."""
    return _unpack_all(_unframe(message, BANK_HEADER, VOICES_PER_BANK * PACKED_BYTES, "32-voice bank", "bank", where))


def read_sysex(message: bytes, where: str = "") -> list[tuple[np.ndarray, str]]:
    """The voices of a ``.syx`` file: one (single-voice message) or 32 (a bank); or of a raw dump of packed voices
    (128 bytes each, no sysex framing: the ``.dx7`` ROM banks Debian's ``hexter`` ships)."""
    if message.startswith(BANK_HEADER):
        return read_bank_sysex(message, where)
    if message[:1] != b"\xf0" and message and len(message) % PACKED_BYTES == 0:
        return _unpack_all(message)
    return [read_single_voice_sysex(message, where)]


# ---------------------------------------------------------------------- files, in schema terms
def natural(schema: Any, vector: np.ndarray) -> np.ndarray:
    """The 145 natural values (voice bytes, before rounding) of a normalised native vector of the ``dexed`` schema."""
    return np.fromiter(schema.to_natural(vector).values(), dtype=np.float64)


def write_voice_file(path: Any, schema: Any, vector: np.ndarray, name: str) -> None:
    """A single-voice ``.syx`` (atomically) from a normalised native vector of the ``dexed`` schema."""
    from asp.atomic import atomic_write_bytes

    atomic_write_bytes(path, single_voice_sysex(natural(schema, vector), name))


def write_bank_file(path: Any, schema: Any, presets: Sequence[tuple[str, np.ndarray]]) -> None:
    """A 32-voice bank ``.syx`` (atomically) from up to 32 (name, normalised native vector)."""
    from asp.atomic import atomic_write_bytes

    atomic_write_bytes(path, bank_sysex([(n, natural(schema, v)) for n, v in presets]))


def read_voice_files(path: Any, schema: Any) -> list[tuple[str, np.ndarray]]:
    """(name, normalised native vector) per voice of a ``.syx`` file (a single voice or a bank)."""
    from pathlib import Path

    p = Path(path)
    return [
        (name or p.stem, schema.from_natural(dict(zip(schema.names, v)), fill_defaults=False, source=str(p)))
        for v, name in read_sysex(p.read_bytes(), str(p))
    ]
