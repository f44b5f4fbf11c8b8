"""The FastAPI app of `rnnkit serve`: the demo page at /, the JSON API under /api, errors as JSON.

    app = create_app([Path("runs/charlm-…")])       # loads each run once, read-only
    uvicorn.run(app, host="127.0.0.1", port=8000)   # what `rnnkit serve` does

Routes (the OpenAPI schema is at /openapi.json, its pages at /docs, made from local files):

    GET  /api/models                              the served runs and what each can do
    GET  /api/models/{id}/curves                  training curves and validation metrics
    POST /api/models/{id}/generate                text after a prime (charlm) or a class (condlm)
    GET  /api/models/{id}/generate/stream         the same as server-sent events, token by token
    POST /api/models/{id}/classify | tag | translate | forecast | inspect | gradients
    POST /api/models/{id}/caption                 multipart form: image (file), beam
    POST /api/models/{id}/compose                 a piano roll sampled by a music run, its MIDI

Every error is a 4xx JSON body {"detail": …} (`rnnkit.web.handlers`): an unknown id 404, a
capability the run does not offer 400, a request over a limit of `ServeSettings` 422 (pydantic's
error list, as for any invalid request), a body that is not readable JSON 400 or 422, a body or
upload too large 413, an upload that is not an image 415, and a RnnkitError raised by a task
422 with its message. The schema documents each of these statuses with its body.

Bounds on the server as a whole (`rnnkit.web.limits`, `rnnkit.web.hosts`): each route caps its
body at what its largest valid request needs (`body_cap`: 28 KB for the text routes, 5 MB for
an upload); at most `max_generations` generations run at once (`max_generations_per_model` of
one model) and `max_image_decodes` captions, past which the answer is 503 with Retry-After, so
that the cheap routes always find a worker thread; a Host that is not this server's gets 400
and a request from another site's page 403.

References:
    https://fastapi.tiangolo.com/
    https://www.starlette.io/responses/#streamingresponse
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import torch
from fastapi import APIRouter, FastAPI, File, Form, Query, UploadFile
from fastapi import Request as HTTPRequest
from fastapi.exceptions import HTTPException
from fastapi.responses import FileResponse, HTMLResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles

from rnnkit import __version__
from rnnkit.errors import DataError, RnnkitError
from rnnkit.web import docs, handlers, openapi, schemas
from rnnkit.web.curves import run_curves
from rnnkit.web.generation import Generation, in_worker_threads, sse_events
from rnnkit.web.hosts import HostCheck
from rnnkit.web.limits import BodyLimit, Slot, Slots, body_cap
from rnnkit.web.models import Adapter, ServedModel, load_runs
from rnnkit.web.settings import ServeSettings

logger = logging.getLogger(__name__)

STATIC = Path(__file__).resolve().parent / "static"
IMAGE_TYPES = ("image/jpeg", "image/png", "image/webp", "image/bmp", "image/gif")
STREAM_PATH = "/api/models/{model_id}/generate/stream"
CURVES_PATH = "/api/models/{model_id}/curves"
CAPTION_PATH = "/api/models/{model_id}/caption"
TOUR_LINK = (  # added to the page's header when a tour is served
    '<p class="tour-link"><a href="/tour/" data-testid="tour-link">The guided tour</a> of the '
    "lectures: worked examples, gradients and one application per pattern.</p>"
)
CAPTION_BEAM = 3  # the beam of a caption request that names none (max_beam if that is lower)
ERRORS: dict[int | str, dict] = {
    **{code: {"model": schemas.ErrorResponse} for code in (400, 404, 413)},
    422: {"model": schemas.UnprocessableResponse, "description": "an invalid request"},
}
BUSY = {  # the answer past a bound of `Slots`
    503: {"model": schemas.ErrorResponse, "description": "busy: retry after Retry-After seconds"}
}

api = APIRouter(prefix="/api")


def settings_of(request: HTTPRequest) -> ServeSettings:
    return request.app.state.settings


def served_model(request: HTTPRequest, model_id: str) -> ServedModel:
    """The served run `model_id`; 404 if there is none."""
    served = request.app.state.models.get(model_id)
    if served is None:
        known = ", ".join(request.app.state.models) or "none"
        raise HTTPException(404, f"no model {model_id!r}; the models served are: {known}")
    return served


def adapter_for(request: HTTPRequest, model_id: str, capability: str) -> Adapter:
    """The adapter of model `model_id`; 404 if there is none, 400 if it lacks `capability`."""
    served = served_model(request, model_id)
    offered = served.adapter.offers()
    if capability not in offered:
        raise HTTPException(
            400,
            f"model {model_id!r} ({served.task}) cannot {capability}; "
            f"it offers: {', '.join(offered)}",
        )
    return served.adapter


@api.get("/models", response_model=schemas.ModelList)
def list_models(request: HTTPRequest) -> schemas.ModelList:
    """The served runs, with their capabilities and facts for the page."""
    return schemas.ModelList(models=[m.describe() for m in request.app.state.models.values()])


@api.get(CURVES_PATH.removeprefix("/api"), response_model=schemas.CurvesResponse, responses=ERRORS)
def curves(
    request: HTTPRequest, model_id: str, query: Annotated[schemas.CurvesQuery, Query()]
) -> schemas.CurvesResponse:
    """The run's training loss, η and ‖g‖ per logged step and its validation metrics."""
    served = served_model(request, model_id)
    schemas.check_limits(query, settings_of(request), "query")
    if served.run_dir is None:
        return schemas.CurvesResponse(run=served.run, curves=[])
    return run_curves(served.run_dir, query.points)


def _generation(
    request: HTTPRequest, model_id: str, body: schemas.GenerateRequest, where: str
) -> tuple[Generation, Slot]:
    """The request's generation and the slot it holds until it ends; 503 past the bounds."""
    settings = settings_of(request)
    adapter = adapter_for(request, model_id, "generate")
    schemas.check_limits(body, settings, where)
    slot = request.app.state.generations.take(model_id)
    try:
        pieces = adapter.pieces(body)
    except BaseException:
        slot.release()
        raise
    return Generation(pieces, length=body.length, seconds=settings.generation_seconds), slot


@api.post(
    "/models/{model_id}/generate",
    response_model=schemas.GenerateResponse,
    responses={**ERRORS, **BUSY},
)
def generate(
    request: HTTPRequest, model_id: str, body: schemas.GenerateRequest
) -> schemas.GenerateResponse:
    """Text after `prime` (charlm) or for `condition` (condlm), without the prime."""
    generation, slot = _generation(request, model_id, body, "body")
    with slot:
        text = "".join(generation)
    return schemas.GenerateResponse(text=text, tokens=generation.tokens, stopped=generation.stopped)


@api.get(
    STREAM_PATH.removeprefix("/api"),
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {"text/event-stream": {}},
            "description": "events token …, then done (or error)",
        },
        **ERRORS,
        **BUSY,
    },
)
def generate_stream(
    request: HTTPRequest, model_id: str, query: Annotated[schemas.GenerateQuery, Query()]
) -> StreamingResponse:
    """The same generation as server-sent events: `token` per token, then `done`."""
    generation, slot = _generation(request, model_id, query, "query")
    return StreamingResponse(
        in_worker_threads(sse_events(generation), slot.release),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache"},
    )


@api.post("/models/{model_id}/classify", response_model=schemas.ClassifyResponse, responses=ERRORS)
def classify(
    request: HTTPRequest, model_id: str, body: schemas.TextRequest
) -> schemas.ClassifyResponse:
    """The probability of each class and the label decided."""
    adapter = adapter_for(request, model_id, "classify")
    schemas.check_limits(body, settings_of(request))
    with torch.no_grad():
        return adapter.classify(body.text)


@api.post("/models/{model_id}/tag", response_model=schemas.TagResponse, responses=ERRORS)
def tag(request: HTTPRequest, model_id: str, body: schemas.TextRequest) -> schemas.TagResponse:
    """The BIO tag of every word and the entities (token spans, end exclusive)."""
    adapter = adapter_for(request, model_id, "tag")
    schemas.check_limits(body, settings_of(request))
    with torch.no_grad():
        return adapter.tag(body.text)


@api.post(
    "/models/{model_id}/translate", response_model=schemas.TranslateResponse, responses=ERRORS
)
def translate(
    request: HTTPRequest, model_id: str, body: schemas.TranslateRequest
) -> schemas.TranslateResponse:
    """The best output of a beam search, with the attention weights when the model has them."""
    adapter = adapter_for(request, model_id, "translate")
    schemas.check_limits(body, settings_of(request))
    with torch.no_grad():
        return adapter.translate(body.text, body.beam)


@api.post(
    CAPTION_PATH.removeprefix("/api"),
    response_model=schemas.CaptionResponse,
    responses={
        **ERRORS,
        415: {"model": schemas.ErrorResponse},
        **BUSY,
    },
)
def caption(
    request: HTTPRequest,
    model_id: str,
    image: Annotated[UploadFile, File(description="JPEG, PNG, WebP, BMP or GIF")],
    beam: Annotated[
        int | None, Form(ge=1, description=f"beam width; 1: greedy; none: {CAPTION_BEAM}")
    ] = None,
) -> schemas.CaptionResponse:
    """A caption for the uploaded image."""
    settings = settings_of(request)
    adapter = adapter_for(request, model_id, "caption")
    if beam is None:
        beam = min(CAPTION_BEAM, settings.max_beam)
    if beam > settings.max_beam:
        raise schemas.limit_error("body", "beam", beam, settings.max_beam)
    media_type = (image.content_type or "").split(";")[0].strip().lower()  # without parameters
    if media_type not in IMAGE_TYPES:
        sent = f"{image.content_type!r}" if image.content_type else "sent without a content type"
        raise HTTPException(415, f"the upload is {sent}; send an image: {', '.join(IMAGE_TYPES)}")
    data = image.file.read(settings.max_upload_bytes + 1)
    if len(data) > settings.max_upload_bytes:
        raise HTTPException(
            413, f"the image is over {settings.max_upload_bytes} bytes; send a smaller one"
        )
    try:
        with request.app.state.decodes.take(model_id), torch.no_grad():
            return adapter.caption(data, beam)
    except RnnkitError as err:  # not an image Pillow can read, or too many pixels
        raise HTTPException(415, str(err)) from err


@api.post("/models/{model_id}/forecast", response_model=schemas.ForecastResponse, responses=ERRORS)
def forecast(
    request: HTTPRequest, model_id: str, body: schemas.ForecastRequest
) -> schemas.ForecastResponse:
    """`horizon` values after the history, each forecast fed back as the next input."""
    adapter = adapter_for(request, model_id, "forecast")
    schemas.check_limits(body, settings_of(request))
    with torch.no_grad():
        return adapter.forecast(body.horizon, body.history)


@api.post(
    "/models/{model_id}/compose",
    response_model=schemas.ComposeResponse,
    responses={**ERRORS, **BUSY},
)
def compose(
    request: HTTPRequest, model_id: str, body: schemas.ComposeRequest
) -> schemas.ComposeResponse:
    """`frames` piano-roll frames sampled one by one from x_0 = 0 (a music run), with the
    roll as a MIDI file (base64). It holds a generation slot while it samples."""
    adapter = adapter_for(request, model_id, "compose")
    schemas.check_limits(body, settings_of(request))
    with request.app.state.generations.take(model_id), torch.no_grad():
        return adapter.compose(body.frames, body.temperature, body.seed)


@api.post("/models/{model_id}/inspect", response_model=schemas.InspectResponse, responses=ERRORS)
def inspect(
    request: HTTPRequest, model_id: str, body: schemas.InspectRequest
) -> schemas.InspectResponse:
    """Every gate, cell and hidden value (T × U) of every layer while reading the text."""
    adapter = adapter_for(request, model_id, "inspect")
    schemas.check_limits(body, settings_of(request))
    return adapter.inspect(body.text, body.units, body.first_unit)


@api.post(
    "/models/{model_id}/gradients", response_model=schemas.GradientsResponse, responses=ERRORS
)
def gradients(
    request: HTTPRequest, model_id: str, body: schemas.TextRequest
) -> schemas.GradientsResponse:
    """‖∂L/∂h_t‖ for each input token: of the next-token loss over the text (a language
    model), or of −ln Pr(ŷ | text) for the class ŷ decided (a classifier)."""
    adapter = adapter_for(request, model_id, "gradients")
    schemas.check_limits(body, settings_of(request))
    return adapter.gradients(body.text)


def index(request: HTTPRequest) -> Response:
    """The demo page; with a tour served (`rnnkit serve --tour DIR`), its header links /tour/."""
    page = STATIC / "index.html"
    if not page.is_file():
        raise HTTPException(404, f"the page is missing: {page}")
    if request.app.state.tour is None:
        return FileResponse(page)
    text = page.read_text(encoding="utf-8")
    return HTMLResponse(text.replace("</header>", f"  {TOUR_LINK}\n  </header>", 1))


def tour_folder(tour: Path | None) -> Path | None:
    """The folder of a tour page written by `rnnkit tour --out DIR` (its index.html), or None."""
    if tour is not None and not (Path(tour) / "index.html").is_file():
        raise DataError(
            f"{tour} holds no tour page (index.html); write one with "
            f"`rnnkit tour --quick --out {tour}`"
        )
    return None if tour is None else Path(tour)


def create_app(
    run_dirs: list[Path], settings: ServeSettings | None = None, *, tour: Path | None = None
) -> FastAPI:
    """The app serving `run_dirs` (each loaded now, once) under the limits of `settings`; with
    `tour`, the folder of a `rnnkit tour` page served at /tour/ and linked from the page."""
    settings = settings or ServeSettings()
    tour = tour_folder(tour)
    app = FastAPI(
        title="rnnkit",
        version=__version__,
        description="Recurrent models trained with rnnkit, served for the demo page.",
        docs_url=None,  # `rnnkit.web.docs` serves /docs from local files, not a CDN
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.tour = tour
    app.state.models = load_runs(run_dirs)
    app.state.generations = Slots(
        total=settings.max_generations,
        per_key=settings.max_generations_per_model,
        what="generations",
    )
    app.state.decodes = Slots(
        total=settings.max_image_decodes, per_key=settings.max_image_decodes, what="image decodes"
    )
    handlers.install(app)
    app.add_middleware(BodyLimit, cap_of=lambda path: body_cap(path, settings))
    app.add_middleware(HostCheck, allowed_hosts=settings.allowed_hosts)  # outermost: first
    app.include_router(api)
    app.add_api_route("/", index, include_in_schema=False)
    app.mount("/static", StaticFiles(directory=STATIC, check_dir=False), name="static")
    if tour is not None:
        app.mount("/tour", StaticFiles(directory=tour, html=True), name="tour")
    docs.install(app)
    routes = {STREAM_PATH: schemas.GenerateQuery, CURVES_PATH: schemas.CurvesQuery}
    openapi.install(app, settings, routes, forms={CAPTION_PATH: {"beam": "max_beam"}})
    return app


__all__ = ["create_app"]
