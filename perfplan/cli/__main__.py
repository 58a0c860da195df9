"""`python -m perfplan.cli`: the `perfplan` command, as the console script runs it."""

from perfplan.cli import main

main()
