"""The package's version, from its installed metadata; modules import it from here, never from
the package root (which imports them)."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("sanctions-model")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"
