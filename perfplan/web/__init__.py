"""The front door's HTTP side: a JSON API under /api (`api/`) and server-rendered
pages (`pages/`), both thin over the same services and plan activities
(`perfplan.activities`) as the CLI. `app.create_app` builds it."""
