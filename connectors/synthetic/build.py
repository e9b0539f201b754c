"""Build raw events from values the synthetic market generated itself, without per-event validation.

`BaseModel.model_construct` costs more than validation on these models, so the builders fill a copy of a
per-instrument template (the fields that never change) and set the instance state directly, the way
`model_construct` does. Ids are `events.ids.raw_event_id`, hashed from a prefix primed per instrument.
`check_builders` validates one event of each type against its model and its id against `raw_event_id`, so a
contract change fails fast instead of producing wrong events.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache
from hashlib import blake2b
from typing import Any, Final, TypeVar

from pydantic import BaseModel

from events.ids import raw_event_id
from events.models import (
    SCHEMA_VERSION,
    EquityPrint,
    EquityQuote,
    OptionNbbo,
    OptionPrint,
)
from events.symbology import Right
from events.topics import EQUITIES_PRINTS, EQUITIES_QUOTES, OPTIONS_NBBO, OPTIONS_PRINTS

PROVIDER: Final = "synthetic"
NBBO: Final = "NBBO"

E = TypeVar("E", bound=BaseModel)

_new_object = object.__new__
# The instance slots every BaseModel carries; setting them through their descriptors is what
# `model_construct` does, minus its per-field loop. A pydantic that moved them fails here, at import.
_set_dict = BaseModel.__dict__["__dict__"].__set__
_set_fields_set = BaseModel.__dict__["__pydantic_fields_set__"].__set__
_set_extra = BaseModel.__dict__["__pydantic_extra__"].__set__
_set_private = BaseModel.__dict__["__pydantic_private__"].__set__
# events.ids joins the id parts with this separator (the builders inline it); check_builders proves they agree.
_SEP: Final = "\x1f"
# Every field is set explicitly. One shared set per model: pydantic copies it before any change.
_NBBO_FIELDS: Final = set(OptionNbbo.model_fields)
_PRINT_FIELDS: Final = set(OptionPrint.model_fields)
_EQUITY_QUOTE_FIELDS: Final = set(EquityQuote.model_fields)
_EQUITY_PRINT_FIELDS: Final = set(EquityPrint.model_fields)


@dataclass(frozen=True, slots=True, eq=False)
class Template:
    """What every event of one instrument on one channel shares: fixed fields and the id hash prefix."""

    values: dict[str, Any]
    """All fields in model order; the per-event ones are None here and set on a copy."""
    id_prefix: blake2b


def _template(channel: str, instrument: str, values: dict[str, Any]) -> Template:
    prefix = blake2b(f"{PROVIDER}{_SEP}{channel}{_SEP}{instrument}{_SEP}".encode(), digest_size=16)
    return Template(values=values, id_prefix=prefix)


def nbbo_template(symbol: str, underlying: str) -> Template:
    """Return the template of one contract's consolidated quotes."""
    return _template(OPTIONS_NBBO, symbol, {
        "event_type": "option_nbbo",
        "schema_version": SCHEMA_VERSION,
        "id": None,
        "ts_event": None,
        "provider": PROVIDER,
        "ts_recv": None,
        "sequence": None,
        "symbol": symbol,
        "underlying": underlying,
        "venue": NBBO,
        "bid_e9": None,
        "ask_e9": None,
        "bid_size_contracts": None,
        "ask_size_contracts": None,
    })  # fmt: skip


def print_template(symbol: str, underlying: str, expiry: date, right: Right, strike_e9: int) -> Template:
    """Return the template of one contract's prints (no NBBO and no underlying price attached: consumers join
    them as-of)."""
    return _template(OPTIONS_PRINTS, symbol, {
        "event_type": "option_print",
        "schema_version": SCHEMA_VERSION,
        "id": None,
        "ts_event": None,
        "symbol": symbol,
        "underlying": underlying,
        "root": underlying,
        "expiry": expiry,
        "right": right,
        "strike_e9": strike_e9,
        "provider": PROVIDER,
        "ts_recv": None,
        "sequence": None,
        "multiplier": 100,
        "venue": None,
        "venue_id": None,
        "price_e9": None,
        "size_contracts": None,
        "conditions": None,
        "raw_conditions": None,
        "nbbo_bid_e9": None,
        "nbbo_ask_e9": None,
        "nbbo_bid_size_contracts": None,
        "nbbo_ask_size_contracts": None,
        "nbbo_ts": None,
        "underlying_e9": None,
    })  # fmt: skip


def equity_quote_template(symbol: str) -> Template:
    """Return the template of one underlying's consolidated quotes."""
    return _template(EQUITIES_QUOTES, symbol, {
        "event_type": "equity_quote",
        "schema_version": SCHEMA_VERSION,
        "id": None,
        "ts_event": None,
        "provider": PROVIDER,
        "ts_recv": None,
        "sequence": None,
        "symbol": symbol,
        "venue": NBBO,
        "bid_e9": None,
        "ask_e9": None,
        "bid_size_shares": None,
        "ask_size_shares": None,
    })  # fmt: skip


def equity_print_template(symbol: str) -> Template:
    """Return the template of one underlying's prints (no quote attached: consumers join it as-of)."""
    return _template(EQUITIES_PRINTS, symbol, {
        "event_type": "equity_print",
        "schema_version": SCHEMA_VERSION,
        "id": None,
        "ts_event": None,
        "provider": PROVIDER,
        "ts_recv": None,
        "sequence": None,
        "symbol": symbol,
        "venue": None,
        "venue_id": None,
        "off_exchange": None,
        "price_e9": None,
        "size_shares": None,
        "conditions": None,
        "raw_conditions": None,
        "bid_e9": None,
        "ask_e9": None,
    })  # fmt: skip


def _stamped(tpl: Template, seq: int, ts: int, ts_recv: int) -> dict[str, Any]:
    """Return a copy of the template's values with this event's id, times and sequence."""
    digest = tpl.id_prefix.copy()
    digest.update(f"{ts}\x1f{seq}".encode())
    values = tpl.values.copy()
    values["id"] = digest.hexdigest()
    values["ts_event"] = ts
    values["ts_recv"] = ts_recv
    values["sequence"] = seq
    return values


def _construct(cls: type[E], values: dict[str, Any], fields_set: set[str]) -> E:
    """Build a model instance from values our own code produced, as `model_construct` would, but cheaper."""
    event: E = _new_object(cls)
    _set_dict(event, values)
    _set_fields_set(event, fields_set)
    _set_extra(event, None)
    _set_private(event, None)
    return event


def option_nbbo(
    tpl: Template, seq: int, ts: int, ts_recv: int, bid_e9: int, ask_e9: int, bid_size: int, ask_size: int
) -> OptionNbbo:
    """Build a consolidated option quote from its contract's `nbbo_template`."""
    values = _stamped(tpl, seq, ts, ts_recv)
    values["bid_e9"] = bid_e9
    values["ask_e9"] = ask_e9
    values["bid_size_contracts"] = bid_size
    values["ask_size_contracts"] = ask_size
    return _construct(OptionNbbo, values, _NBBO_FIELDS)


def option_print(
    tpl: Template, seq: int, ts: int, ts_recv: int, venue: str, venue_id: str, price_e9: int, size: int,
    conditions: tuple[str, ...], raw_conditions: str,
) -> OptionPrint:  # fmt: skip
    """Build an option print from its contract's `print_template`.

    No underlying price is stamped on it, as on a real options tape: the options engine reads the underlying's
    equity quotes (which the synthetic market emits) or implies the price from the chain.
    """
    values = _stamped(tpl, seq, ts, ts_recv)
    values["venue"] = venue
    values["venue_id"] = venue_id
    values["price_e9"] = price_e9
    values["size_contracts"] = size
    values["conditions"] = conditions
    values["raw_conditions"] = raw_conditions
    return _construct(OptionPrint, values, _PRINT_FIELDS)


def equity_quote(
    tpl: Template, seq: int, ts: int, ts_recv: int, bid_e9: int, ask_e9: int, bid_size: int, ask_size: int
) -> EquityQuote:
    """Build a consolidated equity quote from its underlying's `equity_quote_template`."""
    values = _stamped(tpl, seq, ts, ts_recv)
    values["bid_e9"] = bid_e9
    values["ask_e9"] = ask_e9
    values["bid_size_shares"] = bid_size
    values["ask_size_shares"] = ask_size
    return _construct(EquityQuote, values, _EQUITY_QUOTE_FIELDS)


def equity_print(
    tpl: Template, seq: int, ts: int, ts_recv: int, venue: str, venue_id: str, off_exchange: bool, price_e9: int,
    size: int, conditions: tuple[str, ...], raw_conditions: str,
) -> EquityPrint:  # fmt: skip
    """Build an equity print, lit or off-exchange, from its underlying's `equity_print_template`."""
    values = _stamped(tpl, seq, ts, ts_recv)
    values["venue"] = venue
    values["venue_id"] = venue_id
    values["off_exchange"] = off_exchange
    values["price_e9"] = price_e9
    values["size_shares"] = size
    values["conditions"] = conditions
    values["raw_conditions"] = raw_conditions
    return _construct(EquityPrint, values, _EQUITY_PRINT_FIELDS)


@cache
def check_builders() -> None:
    """Validate one event of each type built here against its model and its id against `raw_event_id`.

    Raise RuntimeError if the contracts moved.
    """
    ts = 1_772_461_800_000_000_000
    osi = "SPY   260302C00580000"
    samples: tuple[tuple[str, str, BaseModel], ...] = (
        (OPTIONS_NBBO, osi, option_nbbo(
            nbbo_template(osi, "SPY"), 1, ts, ts + 1, 1_000_000_000, 1_010_000_000, 5, 7,
        )),
        (OPTIONS_PRINTS, osi, option_print(
            print_template(osi, "SPY", date(2026, 3, 2), "C", 580_000_000_000), 2, ts, ts + 1, "XCBO", "22",
            1_010_000_000, 3, ("iso",), "S",
        )),
        (EQUITIES_QUOTES, "SPY", equity_quote(
            equity_quote_template("SPY"), 3, ts, ts + 1, 580_000_000_000, 580_010_000_000, 400, 800,
        )),
        (EQUITIES_PRINTS, "SPY", equity_print(
            equity_print_template("SPY"), 4, ts, ts + 1, "FINRA", "TRF", True, 580_005_000_000, 100, (), "",
        )),
    )  # fmt: skip
    for channel, instrument, event in samples:
        cls = type(event)
        values = event.__dict__
        if cls.__pydantic_post_init__ is not None or list(values) != list(cls.model_fields):
            raise RuntimeError(f"{cls.__name__} changed: update connectors/synthetic/build.py")
        if cls.model_validate(dict(values)) != event:
            raise RuntimeError(f"{cls.__name__} built without validation differs from the validated one")
        if values["id"] != raw_event_id(PROVIDER, channel, instrument, ts, values["sequence"]):
            raise RuntimeError("events.ids.raw_event_id changed: update connectors/synthetic/build.py")
