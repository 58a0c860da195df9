"""Firing events and signing approval chains, in the caller's one transaction: who may
(authority), whether now (guards), the move itself (the shared machine), the audit
record, and the effects it starts (outbox rows). The names a definition may use for
guards, actions, flows and activities are registered here."""
