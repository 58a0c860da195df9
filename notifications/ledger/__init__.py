"""The delivery ledger: every message is a row, with its template context, before
it is sent, and every attempt to send it is a row too (docs/notifications.md).

`recording` writes a message's rows in the caller's transaction, once whoever
asks; `delivery` claims due rows under a lease, renders those never rendered,
sends them and records each attempt, so that a crash repeats a message at most
once and never loses one; `history` is the ledger as people read it (a plan's
messages, the dead letters, queuing them again); `rows` names the tables and
statuses they share. Callers import the module they use.
"""
