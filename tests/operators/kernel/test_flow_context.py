"""The kernel's flow-context windows equal the Python tracker: the same events (every field, same ids) from the
same packets and watermarks, with packets arriving late, the entry list compacted and its old entries merged into
steps, and the same answers to `next_change_ns`, `current`, `entry_count` and `late_packets` after every step; the
state pickles."""

from __future__ import annotations

import pickle

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from events.config import OptionsConfig
from events.models import Packet
from events.serde import encode
from operators.classifiers.common import POOR_QUOTES_COVERAGE
from operators.flow_context import FlowContextTracker
from operators.kernel import AVAILABLE, new_options_kernel
from operators.kernel.options import _KernelFlowContext
from tests.operators.test_flow_context import COARSE_CFG, LATE_CFG, tapes

pytestmark = pytest.mark.skipif(not AVAILABLE, reason="the kernel is not built")


def _native(compact_min: int, cfg: OptionsConfig = LATE_CFG) -> _KernelFlowContext:
    kernel = new_options_kernel(cfg)
    kernel.set_flow(
        [length for _, length in cfg.flow_context_window_ns],
        cfg.flow_context_emit_ns,
        compact_min,
        cfg.flow_context_large_premium_cents,
        POOR_QUOTES_COVERAGE,
        cfg.flow_context_exact_ns,
        cfg.flow_context_step_ns,
    )
    return _KernelFlowContext(kernel, cfg)


def _answers(tracker: FlowContextTracker) -> tuple[object, ...]:
    return (
        tracker.next_change_ns(),
        tracker.entry_count(),
        tracker.late_packets("SPY"),
        [encode(c) for c in tracker.current("SPY")],
    )


@settings(max_examples=200, deadline=None)
@given(
    tapes(steps_max=80, ticks_ms=(0, 1, 150, 999, 1_000, 4_000, 59_999), lags_ms=(0, 1, 700, 1_000, 6_000, 61_000)),
    st.sampled_from([2, 8, 10_000]),
    st.integers(0, 80),
    st.sampled_from([LATE_CFG, COARSE_CFG]),
)
def test_the_kernel_windows_equal_the_tracker(
    steps: list[tuple[str, Packet | int]], compact_min: int, pickle_at: int, cfg: OptionsConfig
) -> None:
    reference = FlowContextTracker(cfg, compact_min_entries=compact_min)
    native = _native(compact_min, cfg)
    for index, (_kind, item) in enumerate(steps):
        if isinstance(item, Packet):
            assert [encode(c) for c in native.on_packet(item)] == [encode(c) for c in reference.on_packet(item)]
        else:
            assert [encode(c) for c in native.advance(item)] == [encode(c) for c in reference.advance(item)]
        assert _answers(native) == _answers(reference)
        if index == pickle_at:
            native._kernel = pickle.loads(pickle.dumps(native._kernel))
    assert [encode(c) for c in native.flush()] == [encode(c) for c in reference.flush()]


def test_the_windows_must_be_set_before_packets() -> None:
    from operators.kernel._native import OptionsKernel

    kernel = new_options_kernel(LATE_CFG)
    bare = OptionsKernel(*kernel.__getnewargs__())
    with pytest.raises(ValueError, match="set_flow"):
        bare.flow_packet(object())
    with pytest.raises(ValueError, match="positive"):
        bare.set_flow([], 1, 1, 1, 0.5, 1, 1)
    with pytest.raises(ValueError, match="step"):
        bare.set_flow([1], 1, 1, 1, 0.5, 1, 0)
