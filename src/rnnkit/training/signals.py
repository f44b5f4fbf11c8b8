"""SIGINT and SIGTERM ask the trainer to stop after the current update and write a checkpoint.

The first signal only sets a flag that the training loop reads between updates; a second
SIGINT falls through to Python's default handler (KeyboardInterrupt) for an impatient user.
Handlers are installed only in the main thread and restored on exit.

References:
    https://docs.python.org/3/library/signal.html
"""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType, TracebackType

logger = logging.getLogger(__name__)

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopSignals:
    """Context manager that records the first SIGINT/SIGTERM in `received` (its number)."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled and threading.current_thread() is threading.main_thread()
        self.received: int | None = None
        self._previous: dict[int, object] = {}

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.received is not None and signum == signal.SIGINT:
            signal.signal(signal.SIGINT, signal.default_int_handler)
            raise KeyboardInterrupt
        self.received = signum
        logger.warning(
            "%s received: stopping after this update and writing a checkpoint",
            signal.Signals(signum).name,
        )

    def __enter__(self) -> StopSignals:
        if self.enabled:
            for signum in STOP_SIGNALS:
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)  # type: ignore[arg-type]
        self._previous.clear()
