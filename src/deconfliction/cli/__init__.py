"""The ``deconfliction`` command line."""

from deconfliction.cli.app import build

__all__ = ["main"]


def main() -> None:
    """Entry point of the console script."""
    build()()
