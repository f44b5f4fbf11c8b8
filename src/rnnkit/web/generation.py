"""Generation for the web API: text pieces one token at a time, under a length and a time limit.

A request's pieces come from its own iterator (its own recurrent state and random generator),
so requests share nothing but the read-only model. `Generation` stops the pieces after
`length` tokens, when they end (<eos>), or when `seconds` have passed, checked before every
token, and records why. A step that fails in torch (NaN probabilities: the numbers of the model
overflowed float32) is a DataError: a 422 for POST …/generate, an `error` event in a stream.
`sampling_of` reads a request's τ, top-k and top-p, a τ too small for float32 as greedy (τ → 0);
`beam_of` its beam width. A beam search samples nothing and finds the whole text before its
first token is given (its cost is bounded by max_generate_tokens × max_beam steps, not by the
time limit), so POST …/generate returns it whole and a stream sends all its tokens at once;
asking for top-k or top-p with a beam is a ConfigError (422).
`sse_events` writes a generation as server-sent events:

    event: token        data: {"text": piece}          one per token
    event: done         data: {"tokens": n, "stopped": "length" | "time_limit" | "eos"}
    event: error        data: {"detail": message}      instead of done, if a step fails

Each event is made in a worker thread, one `next` per call, possibly in a different thread each
time (`in_worker_threads`); grad mode is per thread, so every step of the model runs inside its
own `torch.no_grad()`. A client that leaves mid-stream gets its generation closed at once, from
the outside in, in a worker thread. Left to the garbage collector (Starlette's own thread-pool
stream), the generators were finalised in any order in any thread, and the no_grad block of the
innermost one, ending last, switched autograd off for good in whichever thread that was.

References:
    https://html.spec.whatwg.org/multipage/server-sent-events.html
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator, Callable, Generator, Iterator

import anyio
import torch

from rnnkit.errors import ConfigError, DataError
from rnnkit.models.decoding import MIN_TEMPERATURE, SamplingConfig
from rnnkit.web import schemas

logger = logging.getLogger(__name__)
GREEDY_BELOW = MIN_TEMPERATURE  # τ under this: argmax (SamplingConfig refuses 0 < τ < it)


def sampling_of(request: schemas.GenerateRequest) -> SamplingConfig:
    """The request's τ, top-k and top-p; a τ below GREEDY_BELOW samples greedily (τ → 0).

    Below it, logits / τ overflow float32 to ±inf and softmax gives NaN probabilities.

    >>> sampling_of(schemas.GenerateRequest(temperature=1e-40)).temperature
    0.0
    """
    temperature = request.temperature if request.temperature >= GREEDY_BELOW else 0.0
    return SamplingConfig(temperature=temperature, top_k=request.top_k, top_p=request.top_p)


def beam_of(request: schemas.GenerateRequest) -> int | None:
    """The request's beam width, or None to sample; ConfigError if it also names top-k or top-p.

    >>> beam_of(schemas.GenerateRequest(beam=3, top_p=0.9))
    Traceback (most recent call last):
    ...
    rnnkit.errors.ConfigError: a beam search takes no top_p (it samples nothing); leave top_p out
    """
    if request.beam is None:
        return None
    for name in ("top_k", "top_p"):
        if getattr(request, name) is not None:
            raise ConfigError(
                f"a beam search takes no {name} (it samples nothing); leave {name} out"
            )
    return request.beam


class Generation:
    """The pieces of one generation, stopped at `length` tokens, at their end or at `seconds`.

    Iterate it once; afterwards `tokens` counts the pieces given and `stopped` says why they
    stopped.

    >>> generation = Generation(iter(["a", "b", "c"]), length=2, seconds=10.0)
    >>> list(generation), generation.tokens, generation.stopped
    (['a', 'b'], 2, 'length')
    >>> generation = Generation(iter(["a"]), length=5, seconds=10.0)
    >>> "".join(generation), generation.stopped
    ('a', 'eos')
    """

    def __init__(self, pieces: Iterator[str], *, length: int, seconds: float) -> None:
        self.pieces, self.length, self.seconds = pieces, length, seconds
        self.tokens = 0
        self.stopped = "length"

    def __iter__(self) -> Generator[str, None, None]:
        deadline = time.monotonic() + self.seconds
        try:
            while self.tokens < self.length:
                if time.monotonic() >= deadline:
                    self.stopped = "time_limit"
                    return
                with torch.no_grad():
                    piece = self._next_piece()
                if piece is None:
                    self.stopped = "eos"
                    return
                self.tokens += 1
                yield piece
        finally:
            close = getattr(self.pieces, "close", None)
            if close is not None:
                with torch.no_grad():  # the pieces' own no_grad block ends in this thread
                    close()

    def _next_piece(self) -> str | None:
        """The next piece, None at the end; DataError if the model's numbers overflowed."""
        try:
            return next(self.pieces, None)
        except RuntimeError as err:  # torch: "probability tensor contains either inf, nan …"
            logger.warning("generation failed after %d tokens: %s", self.tokens, err)
            raise DataError(
                f"generation failed after {self.tokens} tokens: {err} (the model's numbers "
                "overflowed float32 on this prime; try a shorter one or a temperature of 0)"
            ) from err


def sse(event: str, data: dict) -> str:
    """One server-sent event.

    >>> sse("token", {"text": "a"})
    'event: token\\ndata: {"text": "a"}\\n\\n'
    """
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def sse_events(generation: Generation) -> Iterator[str]:
    """A `token` event per piece, then `done`, or `error` if a step raises."""
    try:
        for piece in generation:
            yield sse("token", {"text": piece})
    except Exception as err:  # the stream has started: report it as an event, not a status
        if not isinstance(err, DataError):
            logger.exception("generation failed after %d tokens", generation.tokens)
            err = DataError(f"generation failed after {generation.tokens} tokens: {err}")
        yield sse("error", {"detail": str(err)})
        return
    yield sse("done", {"tokens": generation.tokens, "stopped": generation.stopped})


async def in_worker_threads(
    events: Iterator[str], done: Callable[[], None] | None = None
) -> AsyncIterator[str]:
    """`events` made one by one in worker threads, and closed there when the stream ends,
    even when the client has gone (the task is cancelled: the close is shielded); then `done`
    is called (it gives back the generation's slot)."""
    try:
        while (event := await anyio.to_thread.run_sync(next, events, None)) is not None:
            yield event
    finally:
        try:
            close = getattr(events, "close", None)
            if close is not None:
                with anyio.CancelScope(shield=True):
                    await anyio.to_thread.run_sync(close)
        finally:
            if done is not None:
                done()


__all__ = [
    "GREEDY_BELOW",
    "Generation",
    "beam_of",
    "in_worker_threads",
    "sampling_of",
    "sse",
    "sse_events",
]
