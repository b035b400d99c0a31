"""Schema drafts: from a Faust DSP's controls, or from an installed VST2/VST3 plugin's parameter descriptions.

A draft is a starting point to edit and register; kinds and class counts are guesses:

* Faust: controls in declaration order; an ``nentry`` (or slider) with step 1 over at most 64 integer values is
  discrete: a ``[style:menu{'a':0;...}]`` gives class labels, two classes ``off``/``on`` (or a ``checkbox``) make a
  binary; ``[scale:log]``, ``[unit:..]`` and ``[group:..]`` metadata are kept.
* Plugin: a parameter the host reports as boolean is binary; one the host reports as discrete with at most 64
  steps, or whose value text takes at most 32 distinct non-numeric values over a sweep of 0..1 (or is integral),
  is categorical; everything else is continuous on [0, 1].
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from asp.synths.schema import SynthSchema, schema_from_records

# the voice controls the renderer sets (asp.render.faust_backend.VOICE_CONTROLS), and a MIDI host's gate
VOICE_CONTROLS = {"freq", "gain", "note_samples", "gate"}
MAX_CLASSES = 64
_CONTROL = re.compile(
    r'\b(hslider|vslider|nentry|checkbox|button)\s*\(\s*"([^"]*)"\s*(?:,\s*([^,()]+?)\s*,\s*([^,()]+?)\s*,'
    r"\s*([^,()]+?)\s*,\s*([^,()]+?)\s*)?\)"
)
_META = re.compile(r"\[([^:\]]+):([^\]]*)\]")


_ARITH = re.compile(r"^[\d\s.eE+\-*/()]+$")


def _number(text: str) -> float:
    """A slider argument: a number or plain arithmetic on numbers (``44100/2``)."""
    text = text.strip()
    if not _ARITH.match(text):
        raise ValueError(f"cannot read the Faust control argument {text!r} (use a number)")
    return float(eval(text, {"__builtins__": {}}, {}))  # only digits and arithmetic reach here


def draft_from_faust(source: str | Path, name: str | None = None) -> SynthSchema:
    """Draft a schema from a Faust DSP file (or its text)."""
    path = None if isinstance(source, str) and "\n" in source else Path(source)
    text = path.read_text() if path is not None else str(source)
    records: list[dict[str, Any]] = []
    for m in _CONTROL.finditer(text):
        widget, label = m.group(1), m.group(2)
        meta = dict(_META.findall(label))
        pname = _META.sub("", label).strip()
        if pname in VOICE_CONTROLS or widget == "button":
            continue
        rec: dict[str, Any] = {"name": pname, "index": len(records), "group": meta.get("group", "")}
        if widget == "checkbox":
            rec.update(kind="binary", low=0.0, high=1.0, default=0.0, labels=["off", "on"])
        else:
            init, lo, hi, step = (_number(m.group(i)) for i in range(3, 7))
            n = int(round(hi - lo)) + 1
            discrete = step == 1 and float(lo).is_integer() and float(hi).is_integer() and 2 <= n <= MAX_CLASSES
            rec.update(low=lo, high=hi, default=init)
            if discrete:
                labels = re.findall(r"'([^']*)'\s*:\s*[-\d.]+", meta.get("style", ""))
                binary = n == 2 and labels in ([], ["off", "on"])
                rec.update(kind="binary" if binary else "categorical", n_classes=n)
                if labels:
                    rec["labels"] = labels
            else:
                rec["kind"] = "continuous"
                if meta.get("scale") == "log":
                    rec["scale"] = "log"
        if meta.get("unit"):
            rec["unit"] = meta["unit"]
        records.append(rec)
    declared = re.search(r'declare\s+name\s+"([^"]+)"', text)
    desc = re.search(r'declare\s+description\s+"([^"]+)"', text)
    synth = name or (declared.group(1) if declared else (path.stem if path else "faust_synth"))
    return schema_from_records(synth, records, description=desc.group(1) if desc else "")


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def draft_from_plugin(plugin_path: str | Path, name: str | None = None, sweep: int = 101) -> SynthSchema:
    """Draft a schema from an installed plugin, hosted by DawDreamer (may take a few seconds)."""
    import dawdreamer as daw

    path = Path(plugin_path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such plugin file")
    from asp.render.quiet import quiet_fds

    engine = daw.RenderEngine(44100, 512)
    with quiet_fds():
        proc = engine.make_plugin_processor("draft", str(path))
    records: list[dict[str, Any]] = []
    used: set[str] = set()
    for d in proc.get_parameters_description():
        i = int(d["index"])
        pname = re.sub(r"\W+", "_", str(d.get("name") or f"param_{i}")).strip("_").lower() or f"param_{i}"
        if pname in used:
            pname = f"{pname}_{i}"
        used.add(pname)
        default = float(proc.get_parameter(i))
        texts = []
        for k in range(sweep):
            proc.set_parameter(i, k / (sweep - 1))
            texts.append(str(proc.get_parameter_text(i)).strip())
        proc.set_parameter(i, default)
        distinct = list(dict.fromkeys(texts))
        rec: dict[str, Any] = {"name": pname, "index": i, "low": 0.0, "high": 1.0, "group": ""}
        steps = int(d.get("numSteps") or 0)
        if d.get("isBoolean") or (len(distinct) == 2 and sweep > 2):
            rec.update(kind="binary", default=float(default >= 0.5), labels=distinct if len(distinct) == 2 else [])
        elif (
            (d.get("isDiscrete") and 2 <= steps <= MAX_CLASSES)
            or 2 < len(distinct) <= 32
            and (not all(_is_number(t) for t in distinct) or all(float(t).is_integer() for t in distinct))
        ):
            n = steps if d.get("isDiscrete") and 2 <= steps <= MAX_CLASSES else len(distinct)
            k = int(np.round(default * (n - 1)))
            rec.update(kind="categorical", n_classes=n, default=k / (n - 1))
            if len(distinct) == n:
                rec["labels"] = distinct
        else:
            rec.update(kind="continuous", default=default)
        if rec.get("labels") == []:
            rec.pop("labels")
        unit = str(d.get("label") or "").strip()
        if unit and rec["kind"] == "continuous":
            rec["unit"] = unit
        records.append(rec)
    return schema_from_records(
        name or re.sub(r"\W+", "_", path.stem).lower(),
        records,
        description=f"draft from {path.name}; check kinds, classes and names",
    )


def draft_from_pip(synth: str, name: str | None = None) -> SynthSchema:
    """A schema of every control of a synth with a Python binding (``vital``), from the engine's own control details
    (range, default, discrete options); curate it to the parameters that shape a patch before use.

    Raises:
        ValueError: a synth with no binding drafter.
    """
    if synth != "vital":
        raise ValueError(f"no schema drafter for the pip synth {synth!r}; known: vital")
    from asp.synths import vital

    records = vital.call("all_control_records")
    return schema_from_records(name or synth, records, description="drafted from Vital's control details")
