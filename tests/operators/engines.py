"""Helpers shared by the engine tests."""

from __future__ import annotations

from typing import TypeVar

from operators.tape_engine import TapeEngine

Out = TypeVar("Out")


def idle_until_quiet(engine: TapeEngine[Out], limit: int = 1_000) -> list[Out]:
    """Wake the engine at each time it says something is due, as a live flow's idle timer does, until nothing is;
    fail if a wake-up leaves it due again at or before that time (a timer would spin)."""
    out: list[Out] = []
    for _ in range(limit):
        due = engine.next_due_ns()
        if due is None:
            return out
        out.extend(engine.on_idle(due))
        after = engine.next_due_ns()
        assert after is None or after > due, f"due again at {after} after waking at {due}: an idle timer would spin"
    raise AssertionError(f"still due after {limit} wake-ups")
