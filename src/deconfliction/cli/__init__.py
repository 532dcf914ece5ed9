"""The ``deconfliction`` command line."""

import os
import sys

__all__ = ["main"]


def main() -> None:
    """Entry point of the console script: builds only the command being run.

    ``deconfliction detect`` with a command line that the fast start reads exactly as
    Typer would runs without Typer (:func:`~deconfliction.cli.detect_run.fast_main`):
    on a big file the start-up is most of the time otherwise.
    """
    args = sys.argv[1:]
    if args[:1] == ["detect"]:
        # Detection does no linear algebra: spare NumPy's OpenBLAS its thread pool,
        # whose start costs about as much as a 20,000-aircraft detection.
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
        from deconfliction.cli.detect_run import fast_main

        code = fast_main(args[1:], os.environ)
        if code is not None:
            sys.exit(code)
    from deconfliction.cli.app import build

    named = next((arg for arg in args if not arg.startswith("-")), None)
    build(named)()
