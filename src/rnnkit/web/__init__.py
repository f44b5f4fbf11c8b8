"""The web demo and JSON API of trained runs: `rnnkit serve RUN_DIR ...` (needs `rnnkit[web]`).

    app.py          the FastAPI app factory `create_app(run_dirs, settings)`, routes, errors
    models.py       the served runs, each loaded by its task's loader
    adapters.py     one adapter per task: capabilities, info, the calls
    schemas.py      request and response bodies (the OpenAPI schema), the limit checks
    settings.py     ServeSettings, the per-request limits
    generation.py   token-by-token generation under a time limit, server-sent events
    inspect.py      gate maps of every cell and ‖∂L/∂h_t‖ for the page
    limits.py       the request-body size cap
    curves.py       a run's training curves from its metrics.jsonl
    pianoroll.py    a music run's answer: key names, the MIDI file as base64, its NLL
    docs.py         /docs with Swagger UI from local files (no CDN)
    static/         the page: index.html, app.js, style.css

Importing this package imports no web framework; `rnnkit.web.app` does.
"""
