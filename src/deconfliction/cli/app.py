"""Assembles the command line from one module per command (each owns its options)."""

from __future__ import annotations

import typer

__all__ = ["build"]


def build() -> typer.Typer:
    """The Typer application with every command registered."""
    from deconfliction.cli import (
        agreement,
        check,
        demo,
        detect,
        feed,
        journal,
        party,
        replay,
        serve,
        stats,
        zones,
    )

    app = typer.Typer(
        name="deconfliction",
        help="Deconfliction: independent parties in one airspace, without accidental clashes.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
    )
    app.add_typer(party.app, name="party")
    app.add_typer(journal.app, name="journal")
    app.add_typer(agreement.app, name="agreement")
    app.add_typer(zones.app, name="zones")
    app.command("stats")(stats.stats)
    app.command("serve")(serve.serve)
    app.command("demo")(demo.demo)
    app.command("detect")(detect.detect)
    app.command("check")(check.check)
    app.command("replay")(replay.replay)
    app.command("feed")(feed.feed)
    return app
