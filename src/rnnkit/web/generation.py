"""Generation for the web API: text pieces one token at a time, under a length and a time limit.

A request's pieces come from its own iterator (its own recurrent state and random generator),
so requests share nothing but the read-only model. `Generation` stops the pieces after
`length` tokens, when they end (<eos>), or when `seconds` have passed, checked before every
token, and records why. `sse_events` writes a generation as server-sent events:

    event: token        data: {"text": piece}          one per token
    event: done         data: {"tokens": n, "stopped": "length" | "time_limit" | "eos"}
    event: error        data: {"detail": message}      instead of done, if a step fails

Starlette runs a synchronous stream in a thread pool, one `next` per thread call, possibly in
a different thread each time; grad mode is per thread, so every step of the model runs inside
its own `torch.no_grad()`.

References:
    https://html.spec.whatwg.org/multipage/server-sent-events.html
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Generator, Iterator

import torch

logger = logging.getLogger(__name__)


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
                    piece = next(self.pieces, None)
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
        logger.exception("generation failed after %d tokens", generation.tokens)
        yield sse("error", {"detail": f"generation failed after {generation.tokens} tokens: {err}"})
        return
    yield sse("done", {"tokens": generation.tokens, "stopped": generation.stopped})


__all__ = ["Generation", "sse", "sse_events"]
