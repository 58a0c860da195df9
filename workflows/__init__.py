"""The clockwork: Prefect flows started from the outbox (issue 4)."""
