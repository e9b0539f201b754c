"""Dark levels: where off-exchange volume concentrates during the session (BEHAVIOR section 8).

Per underlying and session (the New York calendar date of the print), off-exchange size-eligible prints are
grouped at their price rounded half-up to `dark_level_tick_cents`, and the levels are ranked by notional
(ties: the lower price first). The top `dark_level_top_n` levels are published as `DarkLevel` events.

Emission is bounded in event time: levels are published in rounds, at most one round per
`dark_level_emit_ms`. A round happens at the first counted print of each new emission period (periods are
aligned to the epoch) and includes that print; it publishes every top level whose figures changed since its
last publication or whose rank changed, then every previously published level that fell out of the top
(rank None). So at most `2 x dark_level_top_n` events per period per underlying, however busy the tape. Each
level keeps one id per session; `revision` counts its publications. `flush` publishes what is still
unpublished (end of input or of the session).
"""

from __future__ import annotations

import heapq
from datetime import date
from typing import Final

from events.config import EquitiesConfig
from events.ids import derived_event_id
from events.models import DarkLevel, EquityTrade
from operators.construct import Constructor
from operators.volume_baselines import SessionClock

_LEVELS: Constructor[DarkLevel] = Constructor(DarkLevel)
_E9_PER_CENT: Final = 10_000_000

# A level's state: [shares, notional cents, prints, ts_first, ts_last].
_SHARES, _NOTIONAL, _PRINTS, _FIRST, _LAST = range(5)


class _Session:
    """One underlying's levels for one session, with what was last published of each."""

    __slots__ = ("changed", "day", "levels", "notional_cents", "period", "published", "revisions")

    def __init__(self, day: date) -> None:
        self.day = day
        self.levels: dict[int, list[int]] = {}
        self.notional_cents = 0
        self.changed: set[int] = set()
        self.published: dict[int, int | None] = {}  # level -> rank last published (None: out of the top)
        self.revisions: dict[int, int] = {}
        self.period = -1


class DarkLevels:
    """Keyed state for dark levels: one `_Session` per underlying (the current session only)."""

    __slots__ = ("_clock", "_emit_ns", "_sessions", "_tick_cents", "_tick_e9", "_top_n", "late_prints")

    def __init__(self, config: EquitiesConfig) -> None:
        self._tick_cents = config.dark_level_tick_cents
        self._tick_e9 = config.dark_level_tick_cents * _E9_PER_CENT
        self._top_n = config.dark_level_top_n
        self._emit_ns = config.dark_level_emit_ns
        self._clock = SessionClock()
        self._sessions: dict[str, _Session] = {}
        self.late_prints = 0
        """Counted prints of a session already left (a previous New York date): not added to any level."""

    def level_of(self, price_e9: int) -> int:
        """Return the level (1e-9) of a price: rounded half-up to the tick, never below one tick."""
        tick = self._tick_e9
        return max(tick, (price_e9 + tick // 2) // tick * tick)

    def on_trade(self, trade: EquityTrade) -> list[DarkLevel]:
        """Add an off-exchange, size-eligible print to its level; return the levels a new round publishes."""
        fields = trade.__dict__  # see nbbo_join.QuoteBook.update_fields
        if not (fields["off_exchange"] and fields["size_eligible"]):
            return []
        underlying = fields["underlying"]
        ts = fields["ts_event"]
        day = self._clock.locate(ts)[0]
        out: list[DarkLevel] = []
        session = self._sessions.get(underlying)
        if session is None or session.day != day:
            if session is not None:
                if day < session.day:
                    self.late_prints += 1
                    return out
                out.extend(self._publish(underlying, session, _last_ts(session)))
            session = self._sessions[underlying] = _Session(day)
        level = self.level_of(fields["price_e9"])
        size = fields["size_shares"]
        notional = fields["notional_cents"]
        state = session.levels.get(level)
        if state is None:
            session.levels[level] = [size, notional, 1, ts, ts]
        else:
            state[_SHARES] += size
            state[_NOTIONAL] += notional
            state[_PRINTS] += 1
            if ts < state[_FIRST]:
                state[_FIRST] = ts
            if ts > state[_LAST]:
                state[_LAST] = ts
        session.notional_cents += notional
        session.changed.add(level)
        period = ts // self._emit_ns
        if period > session.period:
            session.period = period
            out.extend(self._publish(underlying, session, ts))
        return out

    def flush(self) -> list[DarkLevel]:
        """Publish every unpublished change of every underlying (end of input), underlyings in name order."""
        out: list[DarkLevel] = []
        for underlying in sorted(self._sessions):
            session = self._sessions[underlying]
            out.extend(self._publish(underlying, session, _last_ts(session)))
        return out

    def _publish(self, underlying: str, session: _Session, ts: int) -> list[DarkLevel]:
        levels = session.levels
        top = heapq.nlargest(self._top_n, levels, key=lambda lvl: (levels[lvl][_NOTIONAL], -lvl))
        published = session.published
        out: list[DarkLevel] = []
        for rank, level in enumerate(top, 1):
            if level in session.changed or published.get(level) != rank:
                out.append(self._build(underlying, session, level, rank, ts))
        ranked = set(top)
        dropped = sorted(lvl for lvl, rank in published.items() if rank is not None and lvl not in ranked)
        for level in dropped:
            out.append(self._build(underlying, session, level, None, ts))
        session.changed.clear()
        return out

    def _build(self, underlying: str, session: _Session, level: int, rank: int | None, ts: int) -> DarkLevel:
        shares, notional, prints, first, last = session.levels[level]
        revision = session.revisions.get(level, -1) + 1
        session.revisions[level] = revision
        session.published[level] = rank
        day = session.day
        total = session.notional_cents
        fields = _LEVELS.template()
        fields["id"] = derived_event_id("dark_level", (underlying, day.isoformat(), str(level)))
        fields["ts_event"] = max(ts, last)
        fields["revision"] = revision
        fields["underlying"] = underlying
        fields["session_date"] = day
        fields["price_e9"] = level
        fields["tick_cents"] = self._tick_cents
        fields["size_shares"] = shares
        fields["notional_cents"] = notional
        fields["print_count"] = prints
        fields["rank"] = rank
        fields["session_notional_cents"] = total
        fields["notional_share"] = notional / total if total else 0.0
        fields["ts_first"] = first
        fields["ts_last"] = last
        return _LEVELS.build(fields)


def _last_ts(session: _Session) -> int:
    """Return the newest print time over a session's levels."""
    return max((state[_LAST] for state in session.levels.values()), default=1)
