"""The voice: what perfplan tells people, and how it travels (docs/notifications.md).

- `kinds`, `samples`, `context`: the message kinds and what each needs, sample
  contexts for previews and tests, and a context as the ledger keeps it;
- `rendering`, `formats`, `templates/`: the bilingual Jinja2 templates and the
  filters they read values with;
- `routing`, `registry`, `channels/`: which channels carry which kind to whom,
  and the channels (email, webhooks, chat robots, a file outbox, the console);
- `ledger/`: the delivery ledger, which records every message before it is sent
  and every attempt after;
- `config`, `settings`, `message`, `errors`: what those share.
"""
