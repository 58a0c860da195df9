"""The front door's HTTP side: a JSON API under /api and server-rendered pages,
both thin over the same services as the CLI. `create_app` builds it."""
