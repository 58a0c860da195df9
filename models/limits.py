"""What the columns hold (light: the CLI's argument types import it)."""

from __future__ import annotations

# Ids and versions fit the databases' integer columns (a signed 32-bit integer).
MAX_ID = 2**31 - 1
