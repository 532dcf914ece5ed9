"""Filing through the service layer, the working tree against a git ref, turn about.

On a shared 2-core machine, latency moves by a third with the load and a whole run can
come out 1.5 times slower on another day. Two versions compare fairly only in one
run: this one files the same notices into fresh copies of the same store, the ref's
code and the working tree's in turn, ``--rounds`` times, and prints both with their
ratio::

    python -m benchmarks.ab 0af1f9f                          # 1M store, 150 filings, 2 rounds
    python -m benchmarks.ab HEAD~3 --size 10000 --filings 300 --rounds 3

The ref is checked out in a temporary git worktree (removed afterwards). Each turn runs
in its own process with that version's ``src`` first on the path, filing with this
tree's ``benchmarks.strategic.file_through_service``, so the ref must have the service
API it calls. Both must store volumes alike (the same migrations): the store is built,
or taken from the cache, by the working tree's code.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from benchmarks._latency import summarise
from benchmarks._store import StoreSpec, cached_store, copy_store
from benchmarks._volumes import VolumeMix
from benchmarks.strategic import CACHE_DIR, FILINGS, file_through_service

__all__ = ["Turn", "main", "turn"]

_ROOT = Path(__file__).resolve().parent.parent
_MIGRATIONS = Path("src/deconfliction/store/migrations/versions")


@dataclass(frozen=True)
class Turn:
    """One version's filings in one round: latencies and CPU per filing (seconds)."""

    latencies_s: list[float]
    cpu_s: list[float]
    conflicts: list[int]


def turn(root: Path, store: Path, seed: int, filings: int, warmup: int) -> Turn:
    """File ``filings`` notices (after ``warmup``) with the code under ``root``, in a
    process of its own, into a fresh copy of ``store``."""
    with tempfile.TemporaryDirectory(prefix="ab-") as work:
        url = copy_store(store, Path(work) / "store.db")
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root / "src"), str(_ROOT)])}
        command = [sys.executable, "-m", "benchmarks.ab", "--turn", url, "--seed", str(seed)]
        command += ["--filings", str(filings), "--warmup", str(warmup)]
        done = subprocess.run(
            command, cwd=_ROOT, env=env, capture_output=True, text=True, check=False
        )
    if done.returncode != 0:
        raise RuntimeError(f"the turn with the code under {root} failed:\n{done.stderr}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    if not result["src"].startswith(str(root / "src")):
        raise RuntimeError(f"the turn ran {result['src']}, not the code under {root}")
    return Turn(result["latencies_s"], result["cpu_s"], result["conflicts"])


def _take_turn(url: str, seed: int, filings: int, warmup: int) -> None:
    """In the turn's process: file, then print the samples as one line of JSON."""
    import deconfliction

    filed = file_through_service(url, VolumeMix(), seed, FILINGS, filings, warmup)
    samples = {"latencies_s": filed.latencies_s, "cpu_s": filed.cpu_s}
    conflicts = filed.conflicts[warmup:]
    print(json.dumps({"src": deconfliction.__file__, **samples, "conflicts": conflicts}))


@contextmanager
def _worktree(ref: str) -> Iterator[tuple[Path, str]]:
    """The ref checked out in a temporary worktree: (its root, its commit)."""
    commit = _git("rev-parse", "--verify", f"{ref}^{{commit}}").strip()
    with tempfile.TemporaryDirectory(prefix="ab-ref-") as parent:
        root = Path(parent) / "ref"
        _git("worktree", "add", "--detach", "--quiet", str(root), commit)
        try:
            yield root, commit
        finally:
            _git("worktree", "remove", "--force", str(root))


def _git(*args: str) -> str:
    done = subprocess.run(["git", *args], cwd=_ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"git {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout


def _same_migrations(ref_root: Path) -> bool:
    def files(root: Path) -> dict[str, bytes]:
        return {p.name: p.read_bytes() for p in sorted((root / _MIGRATIONS).glob("*.py"))}

    return files(ref_root) == files(_ROOT)


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.ab",
        description="Service-layer filing: the working tree against a git ref, in turns.",
    )
    parser.add_argument("ref", nargs="?", help="the git ref to compare with (a commit, HEAD~3)")
    parser.add_argument("--size", type=int, default=1_000_000, help="stored volumes (1M)")
    parser.add_argument("--filings", type=int, default=150, help="filings per turn (150)")
    parser.add_argument("--warmup", type=int, default=5, help="filings per turn not counted (5)")
    parser.add_argument("--rounds", type=int, default=2, help="turns of each version (2)")
    parser.add_argument("--seed", type=int, default=1, help="seed of every draw (1)")
    parser.add_argument(
        "--cache-dir", type=Path, default=CACHE_DIR, help=f"where stores are kept ({CACHE_DIR})"
    )
    parser.add_argument("--turn", help=argparse.SUPPRESS)  # internal: a turn's store URL
    args = parser.parse_args(argv)
    if args.turn is None and args.ref is None:
        parser.error("name the git ref to compare with, e.g. HEAD~1")
    if min(args.size, args.filings, args.rounds) < 1 or args.warmup < 0:
        parser.error("--size, --filings and --rounds must be at least 1, --warmup at least 0")
    return args


def _row(name: str, turns: Sequence[Turn]) -> list[str]:
    cpu = [statistics.mean(t.cpu_s) * 1e3 for t in turns]
    latency = [summarise(t.latencies_s, sum(t.latencies_s)) for t in turns]
    conflicts = statistics.mean(c for t in turns for c in t.conflicts)
    return [
        name,
        " / ".join(f"{c:.1f}" for c in cpu),
        " / ".join(f"{s.p50_ms:.1f}" for s in latency),
        " / ".join(f"{s.p99_ms:.1f}" for s in latency),
        f"{conflicts:.1f}",
    ]


def _ratio(ref: Sequence[Turn], now: Sequence[Turn]) -> str:
    def cpu(turns: Sequence[Turn]) -> float:
        return statistics.mean(c for t in turns for c in t.cpu_s)

    def p99(turns: Sequence[Turn]) -> float:
        return statistics.mean(summarise(t.latencies_s, 1.0).p99_ms for t in turns)

    return f"now / ref: CPU x{cpu(now) / cpu(ref):.2f}, p99 x{p99(now) / p99(ref):.2f}"


def main(argv: Sequence[str] | None = None) -> int:
    args = _arguments(argv)
    if args.turn is not None:
        _take_turn(args.turn, args.seed, args.filings, args.warmup)
        return 0
    console = Console()
    with _worktree(args.ref) as (ref_root, commit):
        if not _same_migrations(ref_root):
            console.print(
                f"[red]{args.ref} ({commit[:10]}) has other migrations than the working tree: "
                "one store cannot serve both. Compare with a ref of the same schema."
            )
            return 2
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
        with Progress(*columns, console=console) as progress:
            task = progress.add_task(f"store of {args.size:,} volumes", total=args.size)
            store, _ = cached_store(
                StoreSpec(args.size, args.seed, VolumeMix()),
                args.cache_dir,
                progress=partial(progress.advance, task),
            )
            progress.update(task, completed=args.size)
            turns = progress.add_task("turns (ref, then now, each round)", total=2 * args.rounds)
            results: dict[str, list[Turn]] = {"ref": [], "now": []}
            for _ in range(args.rounds):
                for side, root in (("ref", ref_root), ("now", _ROOT)):
                    taken = turn(root, store, args.seed, args.filings, args.warmup)
                    results[side].append(taken)
                    progress.advance(turns)
    table = Table(
        title=f"Filing at {args.size:,} stored: {args.ref} ({commit[:10]}) and the working tree",
        caption=(
            f"{args.filings} filings a turn through NoticeService.file, {args.rounds} turns "
            f"each, in turn; {os.cpu_count()} CPUs. {_ratio(results['ref'], results['now'])}"
        ),
    )
    for column in ("code", "CPU ms a filing", "p50 ms", "p99 ms", "conflicts a filing"):
        table.add_column(column, justify="left" if column == "code" else "right")
    table.add_row(*_row(f"ref {commit[:10]}", results["ref"]))
    table.add_row(*_row("working tree", results["now"]))
    console.print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
