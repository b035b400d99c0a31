"""asp: automatic synthesizer programming for several synths at once."""

__version__ = "0.1.0"
