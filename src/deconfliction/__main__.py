"""``python -m deconfliction``: the same as the ``deconfliction`` command."""

from deconfliction.cli import main

main()
