"""What a synth is: parameter specs, schemas, sampling, the registry and preset files.

Imports no torch, Lightning or DawDreamer.
"""

from asp.synths.params import ParamSpec, SchemaError
from asp.synths.registry import (
    PluginNotFoundError,
    SynthEntry,
    get,
    load_sampling,
    load_schema,
    names,
    register,
    unregister,
)
from asp.synths.sampling import SamplingSpec, sample_presets
from asp.synths.schema import SynthSchema

__all__ = [
    "ParamSpec",
    "PluginNotFoundError",
    "SamplingSpec",
    "SchemaError",
    "SynthEntry",
    "SynthSchema",
    "get",
    "load_sampling",
    "load_schema",
    "names",
    "register",
    "sample_presets",
    "unregister",
]
