"""Ctrl-C as a stop request (`cli.interrupt`): the first SIGINT is a request the input reads, not an exception."""

from __future__ import annotations

import os
import signal

import pytest

from cli.interrupt import Interrupt
from connectors.bytewax_io import IterableSource


def test_the_first_sigint_is_a_request_and_the_handler_is_restored() -> None:
    before = signal.getsignal(signal.SIGINT)
    with Interrupt() as interrupt:
        assert not interrupt()
        os.kill(os.getpid(), signal.SIGINT)  # would raise KeyboardInterrupt under the default handler
        assert interrupt.requested
        assert interrupt()
    assert signal.getsignal(signal.SIGINT) is before


def test_a_requested_stop_ends_the_input_before_the_next_batch() -> None:
    asked = [False]
    source = IterableSource(lambda: range(10), batch_size=3, stop=lambda: asked[0])
    part = source.build_part("input", "0", None)
    assert part.next_batch() == [0, 1, 2]
    asked[0] = True
    with pytest.raises(StopIteration):
        part.next_batch()
    assert part.snapshot() == 3, "what was read is what the snapshot says"
