"""Request and response bodies of the web API, as pydantic models; FastAPI derives /openapi.json.

The limits that depend on the server's `ServeSettings` (longest text, most tokens, widest
beam …) are named in each request model's `limits`: `check_limits` applies them after pydantic
has parsed a request and answers as pydantic would (422, FastAPI's error list), and
`rnnkit.web.openapi` writes them into the OpenAPI schema, so the schema states the limits in force.
A default above a lowered limit (length 200 with max_generate_tokens 100) reads as the limit,
in a request and in the schema alike, so a request that leaves the field out is still valid.

Texts are Unicode scalar values: a lone surrogate (JSON allows "\\ud800") reads as U+FFFD, since
it could not be written back in a UTF-8 response. History values must be finite float32 numbers.

Unknown fields are refused; past MAX_UNKNOWN_FIELDS of them, with one error that counts them,
found before pydantic looks at the body (it made one error per key: 390,000 unknown keys were a
39 MB answer after 50 s of CPU).

References:
    https://fastapi.tiangolo.com/tutorial/body/
    https://spec.openapis.org/oas/v3.1.0 (the schema keywords maximum, maxLength, maxItems)
"""

from __future__ import annotations

import itertools
from typing import Annotated, Any, ClassVar, Literal

from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, FiniteFloat, model_validator
from pydantic_core import PydanticCustomError

from rnnkit.web.settings import ServeSettings

Capability = Literal[
    "generate", "classify", "tag", "translate", "caption", "forecast", "inspect", "gradients",
    "compose",
]  # fmt: skip
Stopped = Literal["length", "time_limit", "eos"]
MAX_SEED = 2**63 - 1  # torch.Generator.manual_seed takes 64-bit seeds
FLOAT32_MAX = 3.4028234663852886e38  # the largest finite float32: the models compute in float32
MAX_UNKNOWN_FIELDS = 5  # more unknown fields than this in a request are one error, not one each


def scalar_values(text: Any) -> Any:
    """`text` with each lone surrogate (U+D800 … U+DFFF) replaced by U+FFFD; a non-str as is.

    >>> scalar_values("a\\ud800b") == "a\\ufffdb", scalar_values("ok"), scalar_values(1)
    (True, 'ok', 1)
    """
    if not isinstance(text, str):
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text


Text = Annotated[str, BeforeValidator(scalar_values)]  # a str that UTF-8 can encode
HistoryValue = Annotated[FiniteFloat, Field(ge=-FLOAT32_MAX, le=FLOAT32_MAX)]


class Request(BaseModel):
    """A request body: unknown fields are refused; `limits` maps a field to a ServeSettings one."""

    model_config = ConfigDict(extra="forbid")
    limits: ClassVar[dict[str, str]] = {}

    @model_validator(mode="before")
    @classmethod
    def _few_unknown_fields(cls, data: Any) -> Any:
        """One error for many unknown fields, found by a set difference; a few: pydantic's own.

        >>> from pydantic import ValidationError
        >>> try:
        ...     TextRequest.model_validate({"text": "a", **{f"k{i}": 0 for i in range(9)}})
        ... except ValidationError as err:
        ...     print(err.errors()[0]["msg"])
        9 unknown fields: 'k0', 'k1', 'k2', 'k3', 'k4', …; the fields are: text
        """
        if isinstance(data, dict) and len(data) > MAX_UNKNOWN_FIELDS:
            unknown = data.keys() - cls.model_fields.keys()
            if len(unknown) > MAX_UNKNOWN_FIELDS:
                names = (str(key)[:40] for key in data if key in unknown)  # in the body's order
                first = list(itertools.islice(names, MAX_UNKNOWN_FIELDS))
                raise PydanticCustomError(
                    "extra_forbidden",
                    "{count} unknown fields: {first}, …; the fields are: {fields}",
                    {"count": len(unknown), "first": ", ".join(map(repr, first)),
                     "fields": ", ".join(cls.model_fields)},
                )  # fmt: skip
        return data


class GenerateRequest(Request):
    """Sample `length` tokens after `prime` (a condlm run needs `condition` and no prime)."""

    prime: Text = Field("", description="text read before sampling; empty: a newline")
    length: int = Field(200, ge=1, description="tokens to generate (condlm: at most)")
    temperature: FiniteFloat = Field(1.0, ge=0.0, description="τ; 0: greedy")
    top_k: int | None = Field(None, ge=1, description="sample among the k most probable tokens")
    top_p: float | None = Field(
        None, gt=0.0, le=1.0, description="sample among the fewest tokens with mass ≥ p"
    )
    beam: int | None = Field(
        None, ge=1, description="beam search of this width (no sampling): the whole text is "
        "searched before the first token is sent; 1: greedy",
    )  # fmt: skip
    condition: Text | None = Field(None, description="condlm: the class to write for")
    seed: int | None = Field(None, ge=0, le=MAX_SEED, description="same seed, same text")
    limits: ClassVar[dict[str, str]] = {
        "prime": "max_text_chars",
        "length": "max_generate_tokens",
        "temperature": "max_temperature",
        "beam": "max_beam",
    }


class GenerateQuery(GenerateRequest):
    """GenerateRequest read from a query string, where an empty value means the default."""

    @model_validator(mode="before")
    @classmethod
    def _drop_empty(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {key: value for key, value in data.items() if value != "" or key == "prime"}
        return data


class CurvesQuery(Request):
    """How many points of each training curve to send (from a query string)."""

    points: int = Field(2000, ge=1, description="most points per curve; longer ones are thinned")
    limits: ClassVar[dict[str, str]] = {"points": "max_curve_points"}


class TextRequest(Request):
    """One text to read."""

    text: Text = Field(min_length=1, description="the text, in characters")
    limits: ClassVar[dict[str, str]] = {"text": "max_text_chars"}


class TranslateRequest(TextRequest):
    """A text to translate (or answer) with a beam of `beam` hypotheses."""

    beam: int = Field(5, ge=1, description="beam width; 1: greedy")
    limits: ClassVar[dict[str, str]] = {"text": "max_text_chars", "beam": "max_beam"}


class InspectRequest(TextRequest):
    """A text to read while recording every gate; maps keep `units` units from `first_unit`."""

    units: int = Field(32, ge=1, description="U, the units of each map")
    first_unit: int = Field(0, ge=0, le=2**31, description="the first unit of each map (paging)")
    limits: ClassVar[dict[str, str]] = {"text": "max_inspect_chars", "units": "max_inspect_units"}


class ForecastRequest(Request):
    """Forecast `horizon` steps after `history` (the run's own series when null)."""

    horizon: int = Field(24, ge=1, description="k, steps ahead")
    history: list[HistoryValue] | None = Field(
        None, min_length=1, description="one value per step (one-column runs only), float32"
    )
    limits: ClassVar[dict[str, str]] = {"horizon": "max_horizon", "history": "max_history_points"}


class ComposeRequest(Request):
    """Sample `frames` piano-roll frames from a music run, from x_0 = 0, at temperature τ."""

    frames: int = Field(64, ge=1, description="frames to sample (64 quarter notes: 16 bars of 4/4)")
    temperature: FiniteFloat = Field(
        1.0, ge=0.0, description="τ: key p on with probability σ(a_p / τ); 0: on when σ(a_p) > 1/2"
    )
    seed: int | None = Field(None, ge=0, le=MAX_SEED, description="same seed, same piano roll")
    limits: ClassVar[dict[str, str]] = {
        "frames": "max_music_frames",
        "temperature": "max_temperature",
    }


class ModelInfo(BaseModel):
    """One served run: its id, task, folder name, what it can do and facts about it."""

    id: str
    task: str
    run: str
    capabilities: list[Capability]
    info: dict[str, Any]


class ModelList(BaseModel):
    models: list[ModelInfo]


class GenerateResponse(BaseModel):
    """The generated text (without the prime), its token count and why it stopped."""

    text: str
    tokens: int
    stopped: Stopped


class Truncation(BaseModel):
    """The model read only `kept` of the text's `total` tokens: its `keep` (first or last) ones."""

    kept: int
    total: int
    keep: Literal["first", "last"]


class ClassifyResponse(BaseModel):
    """Class probabilities; the tokens the model read (cut as the run cut its corpus), which of
    them it never saw in training (read as <unk>) and their share (unknown / tokens)."""

    classes: list[str]
    probabilities: list[float]
    label: str
    tokens: list[str]
    unknown: list[bool]
    unknown_share: float
    truncated: Truncation | None = None  # the run reads at most max_tokens tokens


class Entity(BaseModel):
    """An entity: its type and tokens [start, end) (end exclusive)."""

    type: str
    start: int
    end: int
    text: str


class TagResponse(BaseModel):
    """A tag per token; `unknown[i]`: token i is not in the run's vocabulary (read as <unk>)."""

    tokens: list[str]
    tags: list[str]
    entities: list[Entity]
    unknown: list[bool]
    unknown_share: float


class TranslateResponse(BaseModel):
    """The output; attention α (T, S): output token (then <eos> if it ended) × source token.

    `unknown[s]`: source token s is not in the source vocabulary (read as <unk>)."""

    text: str
    tokens: list[str]
    source_tokens: list[str]
    attention: list[list[float]] | None
    score: float
    unknown: list[bool]
    unknown_share: float


class ComposeResponse(BaseModel):
    """A sampled piano roll and its MIDI file.

    roll[t][p] = 1 when key p (MIDI pitch lowest_pitch + p, named pitches[p]) sounds in frame t;
    a frame lasts step_quarters quarter notes. `notes` counts the runs of on-frames of a key
    (each one MIDI note); `midi` is the standard MIDI file, base64; `seed` repeats the roll.
    """

    frames: int
    step_quarters: float
    lowest_pitch: int
    pitches: list[str]
    roll: list[list[Literal[0, 1]]]
    notes: int
    seed: int
    midi: str = Field(description="the roll as a standard MIDI file (format 0), base64")


class CaptionResponse(BaseModel):
    caption: str


class ForecastResponse(BaseModel):
    """The history read and the forecast after it (first column), and the series' name."""

    history: list[float]
    forecast: list[float]
    series: str


class LayerMaps(BaseModel):
    """Maps (T × U) of one cell: hidden, and cell/gates as its equations define them."""

    layer: int
    direction: int
    hidden_size: int = 0  # H of this cell; the maps hold U of its units
    maps: dict[str, list[list[float]]]


class InspectResponse(BaseModel):
    """Maps of units first_unit … first_unit + U − 1 of the hidden_size H of each cell."""

    tokens: list[str]
    cell: Literal["lstm", "gru", "rnn"]
    layers: list[LayerMaps]
    probabilities: list[float] | None = None
    first_unit: int = 0
    hidden_size: int = 0
    truncated: Truncation | None = None


class GradientsResponse(BaseModel):
    """‖∂L/∂h_t‖ of the top layer for every input token x_t (the text's last token is a target)."""

    tokens: list[str]
    norms: list[float]
    label: str | None = Field(None, description="a classifier's: L = −ln Pr(label | text)")
    truncated: Truncation | None = None


class Curve(BaseModel):
    """One training curve: `values` at `steps`, thinned from `total` logged rows."""

    name: str
    kind: Literal["train", "eval"]
    steps: list[int]
    values: list[float]
    total: int


class CurvesResponse(BaseModel):
    """The run's curves from its metrics.jsonl (none when nothing is logged yet)."""

    run: str
    curves: list[Curve]


class ErrorResponse(BaseModel):
    detail: str


class FieldError(BaseModel):
    """One error of an invalid request, as pydantic reports it: where, what, and the input."""

    loc: list[str | int]
    msg: str
    type: str
    input: Any = None
    ctx: dict[str, Any] | None = None


class UnprocessableResponse(BaseModel):
    """422: pydantic's list of errors for an invalid request, or a task's message for a
    request it cannot serve (an unknown condition, a text without tokens …)."""

    detail: str | list[FieldError]


def _limit_error(where: str, field: str, value: Any, limit: int | float) -> dict | None:
    """Pydantic's error for `value` over `limit` (too long a str or list, too large a number)."""
    location = (where, field)
    if isinstance(value, str):
        if len(value) <= limit:
            return None
        return {
            "type": "string_too_long",
            "loc": location,
            "input": value[:100] + "…",
            "msg": f"String should have at most {limit} characters",
            "ctx": {"max_length": limit},
        }
    if isinstance(value, list):
        if len(value) <= limit:
            return None
        return {
            "type": "too_long",
            "loc": location,
            "input": f"{len(value)} items",
            "msg": f"List should have at most {limit} items",
            "ctx": {"field_type": "List", "max_length": limit, "actual_length": len(value)},
        }
    if value is None or value <= limit:
        return None
    return {
        "type": "less_than_equal",
        "loc": location,
        "input": value,
        "msg": f"Input should be less than or equal to {limit}",
        "ctx": {"le": limit},
    }


def check_limits(request: Request, settings: ServeSettings, where: str = "body") -> None:
    """Raise RequestValidationError (422) for every field of `request` over its setting.

    A number the request left out takes its default, or the limit where that is lower.
    """
    errors = []
    for field, setting in type(request).limits.items():
        value, limit = getattr(request, field), getattr(settings, setting)
        if field not in request.model_fields_set and isinstance(value, int | float):
            setattr(request, field, min(value, type(value)(limit)))  # default, capped
            continue
        error = _limit_error(where, field, value, limit)
        if error is not None:
            errors.append(error)
    if errors:
        raise RequestValidationError(errors)


def limit_error(where: str, field: str, value: Any, limit: int | float) -> RequestValidationError:
    """The 422 error of one value over its limit (for form fields outside a Request model)."""
    return RequestValidationError([_limit_error(where, field, value, limit)])


REQUEST_MODELS = (
    GenerateRequest, TextRequest, TranslateRequest, InspectRequest, ForecastRequest, ComposeRequest
)  # fmt: skip
