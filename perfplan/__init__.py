"""The front door: the `perfplan` command line (and, later, the HTTP API and pages)."""
