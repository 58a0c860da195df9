"""The voice: what perfplan tells people (bilingual Jinja2 templates), how it
travels (email, webhooks, chat robots, a file outbox), and the delivery ledger
that records every message before it is sent and every attempt after
(docs/notifications.md)."""
