"""The OpenAPI schema of the app (/openapi.json) with the limits of `ServeSettings` in force.

FastAPI derives the schema from the pydantic models of `rnnkit.web.schemas`; `document_limits`
then writes each limit named in a request model's `limits` onto its property (maxLength,
maxItems or maximum), for JSON bodies, the query of the stream route and the caption form, and
caps a default above its limit as `rnnkit.web.schemas.check_limits` does. The page reads the
limits from here, and a schema-driven client (schemathesis) sends only what the server accepts.

References:
    https://spec.openapis.org/oas/v3.1.0 (the schema keywords maximum, maxLength, maxItems)
    https://fastapi.tiangolo.com/how-to/extending-openapi/
"""

from __future__ import annotations

from fastapi import FastAPI

from rnnkit.web import schemas
from rnnkit.web.settings import ServeSettings


def _constrain(schema: dict, limit: int | float) -> None:
    """Put `limit` on a property's schema (each non-null branch of an anyOf), and cap a
    numeric default at it, as `check_limits` does."""
    for branch in schema.get("anyOf", [schema]):
        kind = branch.get("type")
        if kind == "null":
            continue
        key = {"string": "maxLength", "array": "maxItems"}.get(kind, "maximum")
        branch[key] = limit
    default = schema.get("default")
    if isinstance(default, int | float) and not isinstance(default, bool) and default > limit:
        schema["default"] = type(default)(limit)


def document_limits(
    openapi: dict,
    settings: ServeSettings,
    routes: dict[str, type],
    forms: dict[str, dict[str, str]] | None = None,
) -> dict:
    """Write the limits of `settings` into an OpenAPI schema (in place; returns it).

    `routes` maps a GET path whose query parameters come from a Request model to that model;
    `forms` maps a POST path with a multipart form to {field: ServeSettings field}.
    """
    components = openapi.get("components", {}).get("schemas", {})
    for model in schemas.REQUEST_MODELS:
        properties = components.get(model.__name__, {}).get("properties", {})
        for field, setting in model.limits.items():
            if field in properties:
                _constrain(properties[field], getattr(settings, setting))
    for path, model in routes.items():
        for parameter in openapi["paths"][path]["get"].get("parameters", []):
            setting = model.limits.get(parameter["name"])
            if setting is not None:
                _constrain(parameter["schema"], getattr(settings, setting))
    for path, limits in (forms or {}).items():
        content = openapi["paths"][path]["post"]["requestBody"]["content"]
        reference = content["multipart/form-data"]["schema"]["$ref"]
        properties = components[reference.rsplit("/", 1)[-1]]["properties"]
        for field, setting in limits.items():
            _constrain(properties[field], getattr(settings, setting))
    return openapi


def install(
    app: FastAPI,
    settings: ServeSettings,
    routes: dict[str, type],
    forms: dict[str, dict[str, str]] | None = None,
) -> None:
    """Make `app.openapi()` (and so /openapi.json) state the limits of `settings`."""
    base_openapi = app.openapi

    def openapi() -> dict:
        return document_limits(base_openapi(), settings, routes, forms)

    app.openapi = openapi  # type: ignore[method-assign]


__all__ = ["document_limits", "install"]
