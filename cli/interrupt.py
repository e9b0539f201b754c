"""Ctrl-C as a request to stop: the input ends, the flow drains and the command exits with code 130.

A `KeyboardInterrupt` raised inside a Bytewax callback reaches Bytewax's Rust side as an error and ends the run in
a panic and tracebacks. `Interrupt` replaces the SIGINT handler for the length of a run: the first Ctrl-C only
sets `requested`, which the input source reads before each batch (`IterableSource(stop=...)`), so the flow ends as
at the end of its input (open packets close, sinks flush). A second Ctrl-C stops the process at once.
"""

from __future__ import annotations

import os
import signal
import sys
from types import FrameType, TracebackType
from typing import Any

EXIT_INTERRUPTED = 130
"""The exit code of a command stopped by Ctrl-C (128 + SIGINT), as shells report it."""


class Interrupt:
    """A context that turns SIGINT into a stop request (module docstring); call it to ask whether one came."""

    def __init__(self) -> None:
        self.requested = False
        self._previous: Any = None

    def __call__(self) -> bool:
        return self.requested

    def __enter__(self) -> Interrupt:
        self._previous = signal.signal(signal.SIGINT, self._on_signal)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        signal.signal(signal.SIGINT, self._previous)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if self.requested:
            print("\nstopped", file=sys.stderr, flush=True)
            os._exit(EXIT_INTERRUPTED)
        self.requested = True
        print("\nstopping: the input ends and the flow drains (Ctrl-C again to stop at once)", file=sys.stderr)
