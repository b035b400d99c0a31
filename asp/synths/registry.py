"""The synth registry: stable short names -> schema + render backend. A synth is registered here, once.

Researchers add their own with :func:`register` (see the README, "Registering a synth").
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass, fields
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Literal

import yaml

from asp.paths import presets_dir
from asp.synths.params import SchemaError
from asp.synths.sampling import SamplingSpec
from asp.synths.schema import SynthSchema
from asp.synths.schema_io import load_schema_file

FORK_SAFE = hasattr(os, "fork") and sys.platform.startswith("linux")
"""Whether a renderer may copy its process by ``fork`` here (Linux; on macOS forking a process with Apple's frameworks
loaded is unsafe). Vital then renders every note on a forked copy of one engine that never plays
(``asp.synths.vital.render_notes_natural``): nothing a render does reaches the process the next render is copied
from, even through Vital's process-wide random state, so its datasets need no fresh worker per shard
(``SynthEntry.process_state``). Elsewhere each note gets a new engine in one long-lived process instead."""

Backend = Literal["faust", "plugin", "pip"]
BACKENDS = ("faust", "plugin", "pip")
_DATA = resources.files("asp.synths") / "data"
CONFIG_ENV = "ASP_CONFIG"
DEFAULT_CONFIG = Path("~/.config/asp/config.yaml")


class PluginNotFoundError(FileNotFoundError):
    """The plugin binary for a plugin-hosted synth is not on this machine."""


@dataclass(frozen=True)
class SynthEntry:
    """A registered synth.

    Args:
        name: short stable name (``serum``, ``amsynth``, ``wavetable`` ...).
        schema: schema file: a file name under ``asp/synths/data/schemas`` or a path.
        backend: ``faust`` (a DSP file compiled inside DawDreamer), ``plugin`` (a VST2/VST3 hosted by DawDreamer) or
            ``pip`` (a synth engine with a Python binding, rendered by a ``Renderer`` class of its own).
        source: Faust: the ``.dsp`` file name under ``asp/render/faust`` or a path; plugin: the default plugin path
            (empty when there is none, as for commercial plugins); pip: the renderer class, ``module:Class``
            (constructed as ``Class(schema, settings)``).
        sampling: optional sampling spec file (same lookup as ``schema``).
        description: one line for listings.
        native: native preset formats written beside the JSON preset (names in ``asp.synths.native.FORMATS``);
            empty where the JSON is the native format (the Faust built-ins) or none is known.
        factory_presets: where the synth's own hand-made presets are installed (a file or folder), if anywhere;
            otherwise ``presets/<name>/`` of this repository is used when it exists.
    """

    name: str
    schema: str
    backend: Backend
    source: str = ""
    sampling: str | None = None
    description: str = ""
    native: tuple[str, ...] = ()
    factory_presets: str = ""
    process_state: bool = False  # keeps process-wide state a new instance does not reset: a dataset renders each
    # of its shards in a newly started worker process, so a shard does not depend on what the worker rendered before
    binding: str = ""  # pip: the Python module the renderer needs (its absence is reported, not raised)
    extra: str = ""  # pip: the asp extra that installs the binding (``pip install 'asp[<extra>]'``)

    @property
    def env_var(self) -> str:
        """Environment variable that overrides the plugin path."""
        return f"ASP_PLUGIN_{self.name.upper()}"


_REGISTRY: dict[str, SynthEntry] = {}


PRESETS_DIR = presets_dir()


def factory_presets(name: str) -> Path:
    """The hand-made presets of a synth: its installed factory presets, else ``presets/<name>/`` here.

    Raises:
        FileNotFoundError: naming where it looked.
    """
    entry = get(name)
    places = [Path(entry.factory_presets)] if entry.factory_presets else []
    places.append(PRESETS_DIR / name)
    for p in places:
        if p.exists():
            return p
    raise FileNotFoundError(f"{name}: no hand-made presets found (looked in {', '.join(map(str, places))})")


def register(entry: SynthEntry, *, replace: bool = False) -> SynthEntry:
    """Add a synth to the registry.

    Raises:
        ValueError: the name is taken (unless ``replace``) or the backend is unknown.
    """
    if entry.backend not in BACKENDS:
        raise ValueError(f"synth {entry.name!r}: unknown backend {entry.backend!r}; valid: {', '.join(BACKENDS)}")
    if entry.backend == "pip" and ":" not in entry.source:
        raise ValueError(f"synth {entry.name!r}: a pip synth's source is its renderer class, 'module:Class'")
    if entry.name in _REGISTRY and not replace:
        raise ValueError(f"synth {entry.name!r} is already registered")
    _REGISTRY[entry.name] = entry
    load_schema.cache_clear()
    return entry


def unregister(name: str) -> None:
    """Remove a synth (tests and notebooks)."""
    _REGISTRY.pop(name, None)
    load_schema.cache_clear()


def names() -> list[str]:
    """Registered synth names, in registration order."""
    return list(_REGISTRY)


def builtin_names() -> list[str]:
    """The synths that render with pip alone (Faust built-ins)."""
    return [n for n, e in _REGISTRY.items() if e.backend == "faust"]


def get(name: str) -> SynthEntry:
    """The registry entry for ``name``.

    Raises:
        KeyError: listing the valid names.
    """
    try:
        return _REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown synth {name!r}; valid synths: {', '.join(_REGISTRY)}") from None


def needs_fresh_process(synths: Iterable[str]) -> bool:
    """Whether a job rendering ``synths`` must run in a newly started process to give the same audio whatever ran
    before it in that process: true when one of them keeps process-wide state (``SynthEntry.process_state``).
    The job pools of datasets, ``asp infer --refine`` and ``asp eval --refine`` give such jobs a fresh worker."""
    return any(get(s).process_state for s in synths)


def _data_path(ref: str, sub: str) -> Path:
    p = Path(ref).expanduser()
    if p.is_absolute() or p.exists():
        return p
    return Path(str(_DATA / sub / ref))


@cache
def load_schema(name: str) -> SynthSchema:
    """The schema of a registered synth (cached)."""
    entry = get(name)
    return load_schema_file(_data_path(entry.schema, "schemas"), name=name)


def load_sampling(name: str) -> SamplingSpec:
    """The synth's default sampling spec (empty if it has none)."""
    entry = get(name)
    if not entry.sampling:
        return SamplingSpec()
    return SamplingSpec.from_file(_data_path(entry.sampling, "sampling"))


def user_config() -> dict:
    """The user's asp config (``$ASP_CONFIG`` or ``~/.config/asp/config.yaml``), empty if absent."""
    path = Path(os.environ.get(CONFIG_ENV, str(DEFAULT_CONFIG))).expanduser()
    if not path.is_file():
        return {}
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as err:
        raise SchemaError(f"{path}: cannot read asp config: {err}") from None
    if not isinstance(data, dict):
        raise SchemaError(f"{path}: asp config must be a mapping")
    return data


def config_path() -> Path:
    return Path(os.environ.get(CONFIG_ENV, str(DEFAULT_CONFIG))).expanduser()


def plugin_path(name: str) -> Path:
    """Where the plugin binary of a plugin-hosted synth is, from (in order) the environment variable
    ``ASP_PLUGIN_<NAME>``, the ``plugins:`` section of the asp config, or the registry default.

    Raises:
        PluginNotFoundError: saying where it looked and how to set the path.
    """
    entry = get(name)
    if entry.backend != "plugin":
        raise ValueError(f"synth {name!r} is not plugin-hosted (backend {entry.backend})")
    tried: list[str] = []
    candidates: list[tuple[str, str]] = []
    if os.environ.get(entry.env_var):
        candidates.append((f"${entry.env_var}", os.environ[entry.env_var]))
    configured = (user_config().get("plugins") or {}).get(name)
    if configured:
        candidates.append((f"plugins.{name} in {config_path()}", str(configured)))
    if entry.source:
        candidates.append(("registry default", entry.source))
    for origin, raw in candidates:
        p = Path(raw).expanduser()
        if p.exists():
            return p
        tried.append(f"{p} ({origin})")
    where = "; looked at " + ", ".join(tried) if tried else ""
    raise PluginNotFoundError(
        f"synth {name!r} needs its plugin binary{where}. Set the environment variable {entry.env_var}=/path/to/plugin "
        f"or add 'plugins: {{{name}: /path/to/plugin}}' to {config_path()}"
    )


def binding_identity(name: str) -> dict[str, str]:
    """A pip synth's binding as a dataset card records it: the module and its distribution's version."""
    from importlib import metadata

    entry = get(name)
    module = entry.binding or entry.source.split(":", 1)[0]
    dist = (metadata.packages_distributions().get(module) or [module])[0]
    try:
        version = metadata.version(dist)
    except metadata.PackageNotFoundError:
        version = "unknown"
    return {"module": module, "distribution": dist, "version": version}


def faust_source(name: str) -> Path:
    """The DSP file of a Faust built-in."""
    entry = get(name)
    if entry.backend != "faust":
        raise ValueError(f"synth {name!r} is not a Faust built-in (backend {entry.backend})")
    p = Path(entry.source).expanduser()
    if p.is_absolute() or p.exists():
        return p
    return Path(str(resources.files("asp.render") / "faust" / entry.source))


def render_status(name: str) -> tuple[bool, str]:
    """(can render here, reason) without importing the render layer."""
    entry = get(name)
    if entry.backend == "faust":
        return True, "faust (built-in)"
    if entry.backend == "pip":
        import importlib.util

        if entry.binding and importlib.util.find_spec(entry.binding) is None:
            return False, f"binding missing: pip install 'asp[{entry.extra or entry.binding}]'"
        return True, f"pip ({entry.binding or entry.source})"
    try:
        return True, str(plugin_path(name))
    except PluginNotFoundError:
        return False, f"plugin missing: set {entry.env_var}"


# ---------------------------------------------------------------------- the shipped synths
for _entry in (
    SynthEntry(
        "wavetable",
        "wavetable.yaml",
        "faust",
        "wavetable.dsp",
        "wavetable.yaml",
        "built-in wavetable synth: two morphing wavetable oscillators with unison, sub, noise, multimode "
        "filter, mod matrix, FX",
    ),
    SynthEntry(
        "vapoly",
        "vapoly.yaml",
        "faust",
        "vapoly.dsp",
        "vapoly.yaml",
        "built-in virtual-analog polysynth: three oscillators, sync/ring/FM, four filter models, two LFOs",
    ),
    SynthEntry(
        "subtractive",
        "subtractive.yaml",
        "faust",
        "subtractive.dsp",
        "subtractive.yaml",
        "built-in two-oscillator subtractive synth",
    ),
    SynthEntry(
        "amsynth",
        "amsynth.yaml",
        "plugin",
        "/usr/lib/vst/amsynth_vst.so",
        "amsynth.yaml",
        "amsynth VST2 (Debian package amsynth), hosted by DawDreamer",
        native=("amsynth-bank", "amsynth-fxp"),
        factory_presets="/usr/share/amsynth/banks",
        process_state=True,  # its noise source (README, "Rendering guarantees")
    ),
    SynthEntry(
        "dexed",
        "dexed.yaml",
        "pip",
        "asp.render.dexed_backend:DexedRenderer",
        "dexed.yaml",
        "Dexed, the DX7 emulation (pip install 'asp[dexed]', GPL-3.0): six operators, 32 algorithms",
        native=("dx7-sysex", "dx7-bank"),
        factory_presets="/usr/share/hexter/dx7_roms.dx7",  # Yamaha's DX7 ROM voices, from Debian's hexter
        binding="dexed",
        extra="dexed",
    ),
    SynthEntry(
        "vital",
        "vital.yaml",
        "pip",
        "asp.render.vital_backend:VitalRenderer",
        "vital.yaml",
        "Vital, the wavetable synth (pip install 'asp[vital]', GPL-3.0), with its own effect rack",
        native=("vital",),
        binding="vita",
        extra="vital",
        # Vital has process-wide random state; on Linux every render is a forked copy of an engine that never plays
        process_state=not FORK_SAFE,
    ),
    SynthEntry("serum", "serum.csv", "plugin", "", None, "Xfer Serum (VST2; bring your own plugin)"),
    SynthEntry("diva", "diva.csv", "plugin", "", None, "u-he Diva (bring your own plugin)"),
    SynthEntry("tyrelln6", "tyrelln6.csv", "plugin", "", None, "u-he TyrellN6 (bring your own plugin)"),
):
    register(_entry)


# ---------------------------------------------------------------------- synths registered once, for every command
ENTRY_POINT_GROUP = "asp.synths"
_USER_FIELDS = tuple(f.name for f in fields(SynthEntry) if f.name != "name")


def _entry_from_record(name: str, rec: object, where: str) -> SynthEntry:
    if not isinstance(rec, dict):
        raise SchemaError(f"{where}: synth {name!r} must be a mapping of {', '.join(_USER_FIELDS)}")
    unknown = sorted(set(rec) - set(_USER_FIELDS))
    if unknown:
        raise SchemaError(f"{where}: synth {name!r}: unknown field(s) {unknown}; valid: {', '.join(_USER_FIELDS)}")
    if "schema" not in rec or "backend" not in rec:
        raise SchemaError(f"{where}: synth {name!r} needs a schema and a backend")
    fields = dict(rec)
    fields["native"] = tuple(fields.get("native") or ())
    return SynthEntry(name=name, **fields)


def _load_user_synths() -> None:
    """Register the synths of the user config's ``synths:`` section and of installed packages' ``asp.synths``
    entry points (each a SynthEntry, a list of them, or a callable returning either). A broken one is skipped
    with a warning naming where it came from, so one bad entry does not stop every command."""
    import sys
    from importlib import metadata

    found: list[tuple[str, SynthEntry]] = []
    try:
        for name, rec in (user_config().get("synths") or {}).items():
            found.append((f"{config_path()}", _entry_from_record(str(name), rec, str(config_path()))))
    except SchemaError as err:
        print(f"warning: asp: user synths not loaded: {err}", file=sys.stderr)
    for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
        try:
            obj = ep.load()
            obj = obj() if callable(obj) and not isinstance(obj, SynthEntry) else obj
            for entry in obj if isinstance(obj, list | tuple) else [obj]:
                found.append((f"entry point {ep.name} ({ep.value})", entry))
        except Exception as err:  # a broken package must not break asp
            print(f"warning: asp synth entry point {ep.name} ({ep.value}) not loaded: {err}", file=sys.stderr)
    for where, entry in found:
        try:
            register(entry)
        except ValueError as err:
            print(f"warning: {where}: {err}", file=sys.stderr)


def _write_user_config(data: dict) -> None:
    from asp.atomic import atomic_write_bytes

    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, yaml.safe_dump(data, sort_keys=False).encode())


def add_user_synth(
    name: str,
    schema: str | Path,
    backend: Backend,
    source: str | Path,
    sampling: str | Path | None = None,
    description: str = "",
) -> SynthEntry:
    """Register a synth for every later command and process: checked, then recorded (absolute paths) in the user
    config's ``synths:`` section (``$ASP_CONFIG`` or ``~/.config/asp/config.yaml``).

    Raises:
        FileNotFoundError: the schema, the plugin or DSP file, or the sampling spec is missing (naming it).
        ValueError: the name is taken or not a plain name; SchemaError: the schema or sampling spec is invalid.
    """
    import re

    if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        raise ValueError(f"synth name {name!r}: use lower-case letters, digits and _ (starting with a letter)")
    if name in _REGISTRY:
        raise ValueError(f"synth {name!r} is already registered ({get(name).description or get(name).backend})")
    schema_path = Path(schema).expanduser().resolve()
    if not schema_path.is_file():
        raise FileNotFoundError(f"{schema_path}: no such schema file")
    source_path = Path(source).expanduser().resolve()
    if backend in ("plugin", "faust") and not source_path.exists():
        what = "plugin" if backend == "plugin" else "Faust DSP file"
        raise FileNotFoundError(f"{source_path}: no such {what}")
    loaded = load_schema_file(schema_path, name=name)  # SchemaError naming the parameter
    sampling_path = Path(sampling).expanduser().resolve() if sampling else None
    if sampling_path is not None:
        if not sampling_path.is_file():
            raise FileNotFoundError(f"{sampling_path}: no such sampling spec")
        SamplingSpec.from_file(sampling_path).check(loaded)
    rec: dict[str, object] = {"schema": str(schema_path), "backend": backend, "source": str(source_path)}
    if sampling_path is not None:
        rec["sampling"] = str(sampling_path)
    if description:
        rec["description"] = description
    entry = register(_entry_from_record(name, rec, str(config_path())))
    data = user_config()
    data.setdefault("synths", {})[name] = rec
    _write_user_config(data)
    return entry


def remove_user_synth(name: str) -> None:
    """Forget a synth added with :func:`add_user_synth` (KeyError if it is not one)."""
    data = user_config()
    synths = data.get("synths") or {}
    if name not in synths:
        raise KeyError(f"{name!r} is not a synth added to {config_path()} (added: {', '.join(synths) or 'none'})")
    del synths[name]
    data["synths"] = synths
    _write_user_config(data)
    unregister(name)


_load_user_synths()
