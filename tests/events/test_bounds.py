"""Strict, bounded contracts: hostile values are refused with a reason naming the field."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from events.models import CENTS_MAX, PRICE_MAX_E9, SIZE_MAX, TS_MAX_NS, TS_MIN_NS
from events.serde import InvalidPayload, decode, decode_any
from tests.factories import equity_print, equity_quote, open_interest, quote, trade, volume_baseline


def _print() -> dict[str, Any]:
    return trade(10, "1.10", 200, nbbo=("1.00", "1.10")).model_dump(mode="json")


def _nbbo() -> dict[str, Any]:
    return quote(0, "1.00", "1.10").model_dump(mode="json")


def _equity_print() -> dict[str, Any]:
    return equity_print(5, "580.12", 2_500).model_dump(mode="json")


def _equity_quote() -> dict[str, Any]:
    return equity_quote(0, "580.10", "580.14").model_dump(mode="json")


def _oi() -> dict[str, Any]:
    return open_interest().model_dump(mode="json")


def _baseline() -> dict[str, Any]:
    return volume_baseline().model_dump(mode="json")


TOPIC = {
    _print: "options.prints",
    _nbbo: "options.nbbo",
    _equity_print: "equities.prints",
    _equity_quote: "equities.quotes",
    _oi: "refdata.options",
    _baseline: "refdata.options",
}

HOSTILE: list[Any] = [
    pytest.param(_nbbo, "bid_e9", -1, id="negative-bid"),
    pytest.param(_nbbo, "ask_e9", -100, id="negative-ask"),
    pytest.param(_nbbo, "bid_size_contracts", -5, id="negative-quote-size"),
    pytest.param(_equity_quote, "ask_size_shares", -1, id="negative-equity-quote-size"),
    pytest.param(_print, "size_contracts", "200", id="numeric-string-size"),
    pytest.param(_print, "price_e9", "1100000000", id="numeric-string-price"),
    pytest.param(_print, "size_contracts", True, id="boolean-size"),
    pytest.param(_print, "sequence", False, id="boolean-sequence"),
    pytest.param(_print, "size_contracts", 200.0, id="float-size"),
    pytest.param(_print, "size_contracts", 1e30, id="huge-float-size"),
    pytest.param(_print, "size_contracts", SIZE_MAX + 1, id="size-above-bound"),
    pytest.param(_print, "price_e9", PRICE_MAX_E9 + 1, id="price-above-bound"),
    pytest.param(_print, "ts_event", 1, id="ts-1"),
    pytest.param(_print, "ts_event", TS_MIN_NS - 1, id="ts-before-2000"),
    pytest.param(_print, "ts_event", TS_MAX_NS, id="ts-2100"),
    pytest.param(_print, "ts_event", 10**25, id="ts-1e25"),
    pytest.param(_print, "ts_event", 2**63 + 5, id="ts-above-int64"),
    pytest.param(_print, "ts_recv", 5, id="ts-recv-tiny"),
    pytest.param(_print, "nbbo_ts", 2**70, id="nbbo-ts-huge"),
    pytest.param(_print, "nbbo_bid_e9", -1, id="negative-nbbo-bid"),
    pytest.param(_print, "nbbo_ask_size_contracts", -1, id="negative-nbbo-size"),
    pytest.param(_print, "venue", "XCB\x00", id="nul-in-venue"),
    pytest.param(_print, "venue", "\x1b[31mX", id="escape-in-venue"),
    pytest.param(_print, "venue", "X\x7f", id="del-in-venue"),
    pytest.param(_print, "provider", "a\nb", id="newline-in-provider"),
    pytest.param(_print, "id", "\x00" * 8, id="nul-id"),
    pytest.param(_print, "id", "a" * 65, id="long-id"),
    pytest.param(_print, "venue", "V" * 10_000, id="huge-venue"),
    pytest.param(_print, "provider", "", id="empty-provider"),
    pytest.param(_print, "conditions", ["iso"] * 1_000, id="too-many-conditions"),
    pytest.param(_print, "conditions", ["is\x00o"], id="nul-in-condition"),
    pytest.param(_print, "multiplier", 10**9, id="huge-multiplier"),
    pytest.param(_print, "underlying_e9", -5, id="negative-underlying"),
    pytest.param(_equity_print, "off_exchange", 1, id="integer-for-boolean"),
    pytest.param(_equity_print, "off_exchange", "true", id="string-for-boolean"),
    pytest.param(_equity_print, "size_shares", -100, id="negative-shares"),
    pytest.param(_equity_print, "symbol", "SP\x00Y", id="nul-in-symbol"),
    pytest.param(_oi, "open_interest_contracts", -1, id="negative-open-interest"),
    pytest.param(_oi, "ts_ref", -1, id="negative-ts-ref"),
    pytest.param(_baseline, "bucket_volume_mean", [1.0] * 77, id="baseline-77-buckets"),
    pytest.param(_baseline, "bucket_volume_mean", [1.0] * 79, id="baseline-79-buckets"),
    pytest.param(_baseline, "bucket_volume_mean", [-1.0] * 78, id="baseline-negative-mean"),
    pytest.param(_baseline, "day_volume_mean", -3.0, id="baseline-negative-day"),
    pytest.param(_baseline, "day_volume_mean", 1e400, id="baseline-infinite-day"),
    pytest.param(_baseline, "sessions", 0, id="baseline-no-sessions"),
    pytest.param(_baseline, "as_of", "2026-02-27T00:00:00", id="baseline-datetime-as-date"),
    pytest.param(_baseline, "as_of", 20260227, id="baseline-integer-date"),
    pytest.param(_baseline, "as_of", "1970-01-01", id="baseline-date-before-2000"),
    pytest.param(_print, "schema_version", True, id="boolean-schema-version"),
    pytest.param(_print, "schema_version", 1.0, id="float-schema-version"),
]


@pytest.mark.parametrize(("base", "field", "value"), HOSTILE)
def test_hostile_value_is_refused_naming_the_field(base: Callable[[], dict[str, Any]], field: str, value: Any) -> None:
    payload = base()
    payload[field] = value
    data = json.dumps(payload).encode()
    with pytest.raises(InvalidPayload) as info:
        decode(TOPIC[base], data)
    assert info.value.error == "invalid_field"
    assert info.value.field is not None
    assert info.value.field.split(".")[0] == field
    with pytest.raises(InvalidPayload):
        decode_any(data)


@pytest.mark.parametrize(
    "token", ["NaN", "Infinity", "-Infinity", "1e400"], ids=["nan", "inf", "minus-inf", "overflow"]
)
def test_non_finite_floats_are_refused(token: str) -> None:
    payload = _baseline()
    del payload["day_volume_mean"]
    data = json.dumps(payload).encode().replace(b"{", b'{"day_volume_mean": ' + token.encode() + b", ", 1)
    with pytest.raises(InvalidPayload) as info:
        decode("refdata.options", data)
    assert info.value.field in ("day_volume_mean", None), "a field, or invalid JSON for NaN/Infinity tokens"


def test_one_print_notional_is_bounded() -> None:
    payload = _print()
    payload.update(price_e9=PRICE_MAX_E9, size_contracts=SIZE_MAX, multiplier=100)
    with pytest.raises(InvalidPayload, match="notional"):
        decode("options.prints", json.dumps(payload))


@pytest.mark.parametrize(
    "data",
    [
        b'{"a":' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        b"[" * 100_000 + b"]" * 100_000,
        b'{"venue":' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    ],
    ids=["nested-unknown-field", "nested-top-level", "nested-known-field"],
)
def test_deep_nesting_is_invalid_not_a_crash(data: bytes) -> None:
    with pytest.raises(InvalidPayload):
        decode("options.prints", data)
    with pytest.raises(InvalidPayload):
        decode_any(data)


@pytest.mark.parametrize(
    "data",
    [b'{"id": "\xff"}', b"\xfe\xff", b'{"id": "\\ud800"}', '{"id": "\ud800"}'],
    ids=["bad-byte-in-string", "bad-bytes", "lone-surrogate-escape", "lone-surrogate-str"],
)
def test_invalid_utf8_is_invalid_json(data: bytes | str) -> None:
    with pytest.raises(InvalidPayload) as info:
        decode("options.prints", data)
    assert info.value.error == "invalid_json"


def test_money_bounds_are_far_below_int64() -> None:
    assert CENTS_MAX * 1_000 < 2**63
    assert TS_MAX_NS < 2**63
