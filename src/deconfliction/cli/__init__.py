"""The ``deconfliction`` command line."""

import sys

from deconfliction.cli.app import build

__all__ = ["main"]


def main() -> None:
    """Entry point of the console script: builds only the command being run."""
    named = next((arg for arg in sys.argv[1:] if not arg.startswith("-")), None)
    build(named)()
