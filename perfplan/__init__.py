"""The front door: thin adapters that parse what people send, call the services of
the rooms below, and format what they answer.

    activities  the plan activities, each declared once: its model, service and answer
    inputs      the limits every door applies to what people type, and how a refusal reads
    errors      the one map of errors to exit codes and HTTP statuses
    cli/        the `perfplan` command, one module per command group
    web/        the JSON API under /api (web/api/) and the pages (web/pages/)
    demo        Zhang's plan played through its whole life (`perfplan demo`)
"""
