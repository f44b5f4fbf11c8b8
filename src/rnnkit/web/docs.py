"""The API's documentation page at /docs, with Swagger UI served from this machine, not a CDN.

FastAPI's own /docs loads Swagger UI's script and style sheet from a CDN, so offline it is a
blank page. Here the same page (`fastapi.openapi.docs.get_swagger_ui_html`) points at the files
the `swagger-ui-bundle-v2` package ships (Swagger UI 5, which reads OpenAPI 3.1 as FastAPI
writes it), mounted at /docs/assets; ReDoc, which has no such package, is not offered.

References:
    https://fastapi.tiangolo.com/how-to/custom-docs-ui-assets/
    https://pypi.org/project/swagger-ui-bundle-v2/
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

DOCS_PATH = "/docs"
ASSETS_PATH = "/docs/assets"  # swagger-ui-bundle.js, swagger-ui.css, favicon-32x32.png
SWAGGER_UI = Path(str(swagger_ui_path))
PARAMETERS = {"validatorUrl": None}  # no badge from an online validator


def install(app: FastAPI) -> None:
    """Serve /docs and its assets on `app`, made with docs_url=None and redoc_url=None."""
    if not (SWAGGER_UI / "swagger-ui-bundle.js").is_file():  # pragma: no cover - a broken install
        raise FileNotFoundError(f"Swagger UI is missing from {SWAGGER_UI}: reinstall rnnkit[web]")
    app.mount(ASSETS_PATH, StaticFiles(directory=SWAGGER_UI), name="swagger-ui")

    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} — API",
            swagger_js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_PATH}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS_PATH}/favicon-32x32.png",
            swagger_ui_parameters=PARAMETERS,
        )

    app.add_api_route(DOCS_PATH, docs, include_in_schema=False)


__all__ = ["ASSETS_PATH", "DOCS_PATH", "install"]
