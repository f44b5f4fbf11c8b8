"""How the web API answers a request it cannot serve: a 4xx JSON {"detail": …}, never a 500.

    422  a request pydantic refuses (FastAPI's error list), or a RnnkitError a task raised
    400  a body that cannot be read as JSON: not UTF-8, nested too deeply, a number too long
    4xx  every other HTTPException as FastAPI writes it (404, 405, 413, 415 …)

A 422 is bounded whatever the request held (`bounded`): at most MAX_ERRORS errors, then one
counting the rest, each input, key and message cut to ECHO_CHARS characters and each list or
object of more than ECHO_ITEMS items written as its count (a 4.7 MB body echoed back in
every one of 390,000 errors was a 39 MB answer).

A response that would carry NaN or ±inf (float32 overflowed: a forecast from huge values, an
exploding gradient) is a 422 instead (`finite`). An error body is written as UTF-8 JSON whatever
the request held (`json_safe`): NaN and ±inf become strings, raw bytes are decoded with U+FFFD
where they are not UTF-8, and lone surrogates become U+FFFD; echoing such an input used to fail
while the answer was written, and the client got a plain-text 500.

References:
    https://fastapi.tiangolo.com/tutorial/handling-errors/
    https://www.rfc-editor.org/rfc/rfc8259#section-8.1 (JSON text is UTF-8)
"""

from __future__ import annotations

import math
from typing import Any

import torch
from fastapi import FastAPI
from fastapi import Request as HTTPRequest
from fastapi.encoders import jsonable_encoder
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException

from rnnkit.errors import DataError, RnnkitError
from rnnkit.web.schemas import scalar_values

ECHO_BYTES = 100  # how much of a body that was not read as JSON an error repeats
ECHO_CHARS = 100  # the most characters of an input or a key that an error repeats
ECHO_ITEMS = 10  # a list or object in an error with more items is written as its count
ECHO_DEPTH = 3  # nesting deeper than this in an error's input is written as "…"
MAX_ERRORS = 20  # a 422 lists at most this many errors, then one saying how many more
JSON_HINT = 'send a JSON object such as {"text": "…"} with Content-Type: application/json'


def json_safe(value: Any) -> Any:
    """`value` made writable as UTF-8 JSON: NaN and ±inf floats as strings (JSON has no such
    numbers), bytes decoded as UTF-8 (U+FFFD where they are not), lone surrogates as U+FFFD,
    in nested dicts (keys too), lists and tuples.

    >>> json_safe({"input": [1.0, float("nan")], "loc": ("body", "history")})
    {'input': [1.0, 'nan'], 'loc': ('body', 'history')}
    >>> json_safe([b"a\\xffb", {"c\\udc80": 1}]) == ["a\\ufffdb", {"c\\ufffd": 1}]
    True
    """
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8", "replace")
    if isinstance(value, str):
        return scalar_values(value)
    if isinstance(value, dict):
        return {json_safe(key): json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(json_safe(item) for item in value)
    return value


def bounded(value: Any, depth: int = 0) -> Any:
    """`value` cut to a small size for an error body: a str or bytes to ECHO_CHARS (then "…"),
    a list or dict of more than ECHO_ITEMS items to its count, nesting below ECHO_DEPTH to "…".

    >>> bounded("a" * 150)[-3:], bounded(list(range(50))), bounded({"k": [1, [2, [3, [4]]]]})
    ('aa…', '50 items', {'k': [1, [2, '…']]})
    """
    if isinstance(value, str):
        return value if len(value) <= ECHO_CHARS else value[:ECHO_CHARS] + "…"
    if isinstance(value, bytes | bytearray):
        return bytes(value) if len(value) <= ECHO_CHARS else bytes(value[:ECHO_CHARS]) + b"..."
    if isinstance(value, dict | list | tuple):
        if len(value) > ECHO_ITEMS:
            return f"{len(value)} items"
        if depth >= ECHO_DEPTH:
            return "…"
        if isinstance(value, dict):
            return {bounded(key, depth): bounded(item, depth + 1) for key, item in value.items()}
        return type(value)(bounded(item, depth + 1) for item in value)
    return value


def finite(values: torch.Tensor, what: str, fix: str) -> torch.Tensor:
    """`values`, or DataError (422) if one is NaN or ±inf, naming `what` and the `fix`.

    A response must not carry them: JSON has no such numbers, and FastAPI would write null.

    >>> finite(torch.tensor([1.0, float("inf")]), "forecast", "send smaller values")
    Traceback (most recent call last):
    ...
    rnnkit.errors.DataError: the forecast: 1 of 2 values are NaN or ±inf; send smaller values
    """
    bad = int((~torch.isfinite(values)).sum())
    if bad:
        raise DataError(f"the {what}: {bad} of {values.numel()} values are NaN or ±inf; {fix}")
    return values


def validation_error(request: HTTPRequest, err: Exception) -> JSONResponse:
    """FastAPI's 422 {"detail": [errors]}, writable whatever the inputs held, and small: at most
    MAX_ERRORS errors, each `bounded`.

    A body sent with another Content-Type than JSON reaches pydantic as bytes; its error says
    so, and repeats only the first ECHO_BYTES bytes.
    """
    assert isinstance(err, RequestValidationError)
    errors, found = [], err.errors()
    for error in found[:MAX_ERRORS]:
        raw = error.get("input")
        error = {**error, "loc": [bounded(part) for part in error.get("loc", ())],
                 "input": bounded(raw), "ctx": bounded(error.get("ctx"))}  # fmt: skip
        if error["ctx"] is None:
            del error["ctx"]
        if isinstance(raw, bytes):
            got = request.headers.get("content-type", "none")
            excerpt = raw[:ECHO_BYTES] + (b"..." if len(raw) > ECHO_BYTES else b"")
            error = {**error, "input": excerpt,
                     "msg": f"{error['msg']}; the body was not read as JSON (Content-Type: "
                            f"{got!r}): {JSON_HINT}"}  # fmt: skip
        errors.append(error)
    if len(found) > MAX_ERRORS:
        where = found[MAX_ERRORS].get("loc", ("body",))[:1]
        errors.append({"type": "too_many_errors", "loc": list(where), "input": None,
                       "msg": f"{len(found) - MAX_ERRORS} more errors not listed"})  # fmt: skip
    return JSONResponse({"detail": jsonable_encoder(json_safe(errors))}, 422)


def rnnkit_error(request: HTTPRequest, err: Exception) -> JSONResponse:
    """A RnnkitError raised by a task: the request cannot be served as sent (422)."""
    return JSONResponse({"detail": json_safe(str(err))}, status_code=422)


def unreadable_body(cause: BaseException) -> str:
    """What was wrong with a body FastAPI could not parse as JSON (its 400's cause).

    >>> unreadable_body(RecursionError("maximum recursion depth exceeded"))[:42]
    'the JSON body is nested too deeply to read'
    """
    if isinstance(cause, UnicodeDecodeError):
        byte = cause.object[cause.start : cause.start + 1].hex()
        return f"the body is not UTF-8 text (byte 0x{byte} at offset {cause.start}); {JSON_HINT}"
    if isinstance(cause, RecursionError):
        return f"the JSON body is nested too deeply to read; {JSON_HINT}"
    reason = str(cause).split(";")[0]  # int digits: "Exceeds the limit (4300 digits) …"
    return f"the JSON body cannot be read: {reason}; {JSON_HINT}"


async def http_error(request: HTTPRequest, err: Exception) -> Response:
    """FastAPI's answer to an HTTPException; its vague 400 for an unparsable body made exact."""
    assert isinstance(err, HTTPException)
    cause = err.__cause__
    if err.status_code == 400 and isinstance(cause, ValueError | RecursionError):
        err = HTTPException(400, unreadable_body(cause))
    return await http_exception_handler(request, err)


def install(app: FastAPI) -> None:
    """Register the handlers above on `app`."""
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(RnnkitError, rnnkit_error)
    app.add_exception_handler(HTTPException, http_error)


__all__ = [
    "bounded",
    "finite",
    "install",
    "json_safe",
    "rnnkit_error",
    "unreadable_body",
    "validation_error",
]
