"""Assembles the command line from one module per command (each owns its options).

A command's module is imported only when it is needed: :func:`build` with the name of
the command being run imports that one module (a command starts without loading the
store, the web stack or the other commands); without one, every command is registered
(``deconfliction --help`` lists them all). ``deconfliction detect`` mostly skips Typer
altogether: see :func:`deconfliction.cli.main`.
"""

from __future__ import annotations

import importlib

import typer

__all__ = ["COMMANDS", "GROUPS", "build"]

GROUPS = ("party", "journal", "agreement", "zones")
"""Commands with subcommands: their module's ``app``."""
COMMANDS = ("stats", "serve", "demo", "detect", "check", "replay", "feed")
"""Commands: their module's function of the same name."""


def build(only: str | None = None) -> typer.Typer:
    """The Typer application with every command registered, or only the command
    ``only`` when it names one."""
    app = typer.Typer(
        name="deconfliction",
        help="Deconfliction: independent parties in one airspace, without accidental clashes.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
    )

    @app.callback()
    def root() -> None:
        """Deconfliction: independent parties in one airspace, without accidental clashes."""

    names = (only,) if only in GROUPS + COMMANDS else GROUPS + COMMANDS
    for name in names:
        module = importlib.import_module(f"deconfliction.cli.{name}")
        if name in GROUPS:
            app.add_typer(module.app, name=name)
        else:
            app.command(name)(getattr(module, name))
    return app
