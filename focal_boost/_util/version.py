"""The package's version (read by the build from this file), in one place below every layer."""

__version__ = "0.1.0.dev0"
