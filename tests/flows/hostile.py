"""A hostile corpus: input lines that must never become events, mixed into a normal synthetic tape.

Each category is an attack or an accident seen on real feeds and files: a corrupted, truncated or
hand-edited copy of a real event of the tape, a producer with the wrong types, a number that overflows the
storage types, text that is not text. Every line breaks the contracts as ARCHITECTURE (Contracts) states
them (exact types, timestamps within 2000-2100, sizes and prices far below int64, no control characters in
identifiers, bounded lengths and nesting), so a correct edge dead-letters every one, and the derived output
of the mixed tape equals that of the clean tape.

Deterministic by seed: the same seed gives the same bytes.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from connectors.synthetic import SyntheticConfig, SyntheticMarket
from events.serde import to_json_line

Template = dict[str, Any]
Maker = Callable[[random.Random, Template], bytes]

RAW_TYPES = (
    "option_print",
    "option_nbbo",
    "equity_print",
    "equity_quote",
    "option_definition",
    "open_interest",
    "volume_baseline",
)

# Fields of each raw type by role (those a type lacks are skipped when mutating it).
INT_FIELDS = (
    "ts_event",
    "ts_recv",
    "sequence",
    "price_e9",
    "size_contracts",
    "size_shares",
    "bid_e9",
    "ask_e9",
    "bid_size_contracts",
    "ask_size_contracts",
    "bid_size_shares",
    "ask_size_shares",
    "strike_e9",
    "multiplier",
    "open_interest_contracts",
    "sessions",
)
SIZE_FIELDS = (
    "size_contracts",
    "size_shares",
    "bid_size_contracts",
    "ask_size_contracts",
    "bid_size_shares",
    "ask_size_shares",
    "open_interest_contracts",
    "nbbo_bid_size_contracts",
    "nbbo_ask_size_contracts",
)
QUOTE_FIELDS = ("bid_e9", "ask_e9", "nbbo_bid_e9", "nbbo_ask_e9", "price_e9", "underlying_e9")
IDENT_FIELDS = ("id", "symbol", "underlying", "root", "venue", "venue_id", "provider", "subject")
TIME_FIELDS = ("ts_event", "ts_recv", "nbbo_ts", "ts_ref")
NULLABLE = frozenset(
    {"ts_recv", "nbbo_bid_e9", "nbbo_ask_e9", "nbbo_bid_size_contracts", "nbbo_ask_size_contracts", "nbbo_ts",
     "underlying_e9", "instrument_id", "ts_ref", "bid_e9", "ask_e9"}
)  # fmt: skip
"""Fields that may be null on some raw type (`bid_e9`, `ask_e9`: on an equity print)."""
REQUIRED: dict[str, tuple[str, ...]] = {
    "option_print": ("id", "ts_event", "symbol", "underlying", "root", "expiry", "right", "strike_e9", "provider",
                     "venue", "venue_id", "price_e9", "size_contracts"),
    "option_nbbo": ("id", "ts_event", "provider", "symbol", "underlying", "bid_e9", "ask_e9", "bid_size_contracts",
                    "ask_size_contracts"),
    "equity_print": ("id", "ts_event", "provider", "symbol", "venue", "venue_id", "off_exchange", "price_e9",
                     "size_shares"),
    "equity_quote": ("id", "ts_event", "provider", "symbol", "bid_e9", "ask_e9", "bid_size_shares",
                     "ask_size_shares"),
    "option_definition": ("id", "ts_event", "symbol", "underlying", "root", "expiry", "right", "strike_e9",
                          "provider"),
    "open_interest": ("id", "ts_event", "provider", "symbol", "underlying", "open_interest_contracts"),
    "volume_baseline": ("id", "ts_event", "scope", "subject", "underlying", "as_of", "sessions", "day_volume_mean",
                        "bucket_volume_mean"),
}  # fmt: skip
"""The fields each raw type cannot do without (no default)."""

NS_PER_YEAR = 31_556_952 * 10**9
INT64_MAX = 2**63 - 1


def _dump(obj: Any) -> bytes:
    """Compact JSON, as the project writes it; NaN and infinity as Python's json writes them."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _present(template: Template, fields: Sequence[str], *, non_null: bool = True) -> list[str]:
    return [f for f in fields if f in template and (not non_null or template[f] is not None)]


def _set_raw(template: Template, field: str, literal: str) -> bytes:
    """The template with `field`'s value replaced by a raw JSON literal (for NaN, huge numbers, bad escapes)."""
    marker = "\x00HOSTILE\x00"
    return _dump({**template, field: marker}).replace(_dump(marker), literal.encode("utf-8"))


def _pick(rng: random.Random, fields: Sequence[str]) -> str:
    return fields[rng.randrange(len(fields))]


def _texts(template: Template) -> list[str]:
    """The template's non-empty identifier fields."""
    return [f for f in IDENT_FIELDS if isinstance(template.get(f), str) and template[f]]


# ------------------------------------------------------------------------------------------ makers


def deep_nesting(rng: random.Random, t: Template) -> bytes:
    """A deeply nested JSON array: the whole payload, or one field (the issue's RecursionError)."""
    depth = rng.choice((1_200, 5_000, 20_000)) if rng.random() < 0.97 else 100_000
    nested = "[" * depth + "]" * depth
    if rng.random() < 0.3:
        return nested.encode()
    field = _pick(rng, ("conditions", "symbol", "price_e9", "venue", "bucket_volume_mean", "nested"))
    return _set_raw(t, field, nested)


def float_timestamp_huge(rng: random.Random, t: Template) -> bytes:
    """ts_event of 1e25 and friends (a float far past any year; the issue's "year is out of range")."""
    field = _pick(rng, _present(t, TIME_FIELDS))
    return _set_raw(t, field, rng.choice(("1e25", "1e19", "9.3e18", "1.0e30", "1E+25", "3.4e38")))


def size_huge(rng: random.Random, t: Template) -> bytes:
    """size_contracts of 1e30 (float) or of 10**30 (an integer past int64): a Rust panic in the sink today."""
    fields = _present(t, SIZE_FIELDS) or _present(t, ("sessions", "multiplier"))
    field = _pick(rng, fields)
    return _set_raw(t, field, rng.choice(("1e30", str(10**30), str(2**64), str(INT64_MAX + 1), "1.8e19")))


def int64_overflow(rng: random.Random, t: Template) -> bytes:
    """ts_event of 2**63+5 (an integer just past int64) and other integers no storage type holds."""
    field = _pick(rng, _present(t, ("ts_event", "ts_recv", "sequence", "strike_e9", "price_e9", "bid_e9", "ask_e9")))
    value = rng.choice((2**63 + 5, 2**64, 2**64 + 1, -(2**63) - 1, 2**63, 10**20))
    return _dump({**t, field: value})


def negative_quote(rng: random.Random, t: Template) -> bytes:
    """Negative bid, ask or price (a sign bug in a converter, or a provider's null sentinel read as signed)."""
    field = _pick(rng, _present(t, QUOTE_FIELDS, non_null=False))
    return _dump({**t, field: -rng.choice((1, 10_000_000, 4_200_000_000, INT64_MAX))})


def negative_size(rng: random.Random, t: Template) -> bytes:
    """Negative sizes and counts (a cancel or correction encoded as a negative print)."""
    fields = _present(t, SIZE_FIELDS) or _present(t, ("sessions", "multiplier", "sequence"))
    return _dump({**t, _pick(rng, fields): -rng.choice((1, 5, 100, 2**31))})


def numeric_string(rng: random.Random, t: Template) -> bytes:
    """Integers sent as strings ("100"), as a spreadsheet export or a JavaScript producer writes them."""
    field = _pick(rng, _present(t, INT_FIELDS))
    return _dump({**t, field: str(t[field])})


def boolean_for_integer(rng: random.Random, t: Template) -> bytes:
    """true / false where an integer belongs (Python's bool is an int: easy to let through)."""
    field = _pick(rng, _present(t, INT_FIELDS))
    return _dump({**t, field: rng.random() < 0.5})


def float_for_integer(rng: random.Random, t: Template) -> bytes:
    """A float where an integer belongs: 2.0, 2.5, or a timestamp through a double (precision lost)."""
    field = _pick(rng, _present(t, INT_FIELDS))
    value = float(t[field])
    return _dump({**t, field: rng.choice((value, value + 0.5, value / 3.0 if value else 0.5))})


def control_characters(rng: random.Random, t: Template) -> bytes:
    """NUL, ESC, DEL, CR/LF or a terminal escape sequence inside an identifier (venue, symbol, id, ...)."""
    field = _pick(rng, _present(t, IDENT_FIELDS))
    bad = rng.choice(("\x00", "\x1b[2J", "\x1b]0;pwned\x07", "\x7f", "\r\n", "\x08", "\u0085", "\x00\x00\x00"))
    value = str(t[field])
    at = rng.randrange(len(value) + 1)
    return _dump({**t, field: value[:at] + bad + value[at:]})


def epoch_timestamps(rng: random.Random, t: Template) -> bytes:
    """ts_event = 1 and other times in 1970 (seconds or milliseconds mistaken for nanoseconds)."""
    seconds = t["ts_event"] // 10**9
    value = rng.choice((1, 2, 1000, seconds, seconds * 1000, seconds * 10**6))
    return _dump({**t, "ts_event": value})


def timestamps_out_of_years(rng: random.Random, t: Template) -> bytes:
    """Timestamps that fit int64 but fall outside 2000-2100: 1999, 2101, 2255 (a wrong epoch or unit)."""
    field = _pick(rng, _present(t, ("ts_event", "ts_recv")))
    year_1970 = 0
    years = rng.choice((29.9, 131.1, 285.0, 292.0))  # 1999.9, 2101.1, 2255, 2262
    return _dump({**t, field: min(INT64_MAX, year_1970 + int(years * NS_PER_YEAR))})


def truncated_json(rng: random.Random, t: Template) -> bytes:
    """A line cut short (a partial write, a full disk, a copy-paste)."""
    line = _dump(t)
    return line[: rng.randrange(1, len(line) - 1)]


def invalid_utf8(rng: random.Random, t: Template) -> bytes:
    """Bytes that are not UTF-8 inside a string (Latin-1 text, an overlong encoding, a stray byte)."""
    field = _pick(rng, _texts(t))
    bad = rng.choice((b"\xff", b"\xc0\xaf", b"\xe9", b"\xed\xa0\x80", b"\x80\x80", b"\xf8\x88\x80\x80\x80"))
    line = _dump(t)
    value = _dump(t[field])
    cut = rng.randrange(1, len(value) - 1)
    return line.replace(value, value[:cut] + bad + value[cut:], 1)


def lone_surrogate(rng: random.Random, t: Template) -> bytes:
    """A JSON escape of half a UTF-16 surrogate pair: valid JSON, not text, and it breaks UTF-8 writers."""
    field = _pick(rng, _texts(t))
    value = json.dumps(str(t[field]))
    escape = rng.choice(("\\ud800", "\\udfff", "\\udc00x", "\\ud83d"))
    return _set_raw(t, field, value[:-1] + escape + '"')


def wrong_types(rng: random.Random, t: Template) -> bytes:
    """A field of the wrong JSON type: an object, a list, a number or null where something else belongs."""
    required = [f for f in t if f not in ("event_type", "schema_version") and t[f] is not None]
    field = _pick(rng, required)
    current = t[field]
    null = () if field in NULLABLE else (None,)
    if isinstance(current, str):
        value: Any = rng.choice(({"value": current}, [current], 42, 1.5, *null))
    elif isinstance(current, list):
        value = rng.choice(("iso", {"0": "iso"}, 7)) if field != "bucket_volume_mean" else rng.choice(("0.1", {}, 3))
    elif isinstance(current, bool):
        value = rng.choice(("yes", [], {"b": 1}))
    else:
        value = rng.choice(({"$numberLong": str(current)}, [current], *null))
    return _dump({**t, field: value})


def nan_and_infinity(rng: random.Random, t: Template) -> bytes:
    """NaN, Infinity, -Infinity and 1e400 (parsed as infinity) in number fields, statistics included."""
    fields = _present(t, (*INT_FIELDS, "day_volume_mean"))
    literal = rng.choice(("NaN", "Infinity", "-Infinity", "1e400", "-1e400"))
    if "bucket_volume_mean" in t and rng.random() < 0.5:
        buckets = list(t["bucket_volume_mean"])
        at = rng.randrange(len(buckets))
        text = "[" + ",".join(literal if i == at else repr(float(b)) for i, b in enumerate(buckets)) + "]"
        return _set_raw(t, "bucket_volume_mean", text)
    return _set_raw(t, _pick(rng, fields), literal)


def missing_fields(rng: random.Random, t: Template) -> bytes:
    """A required field left out (an older producer, a projection that dropped a column)."""
    # Not event_type: on a topic of one payload type the topic names it, and the contracts default it.
    required = list(REQUIRED[t["event_type"]])
    drop = set(rng.sample(required, k=rng.choice((1, 1, 2))))
    return _dump({k: v for k, v in t.items() if k not in drop})


def renamed_fields(rng: random.Random, t: Template) -> bytes:
    """A required field under another name (a typo, camelCase, a provider's own name): unknown and missing."""
    field = _pick(rng, REQUIRED[t["event_type"]])
    parts = field.split("_")
    names = {field.removesuffix("s"), parts[0] + "".join(p.title() for p in parts[1:]), field.upper(), field + "_"}
    other = _pick(rng, sorted(names - {field}))
    return _dump({(other if k == field else k): v for k, v in t.items()})


def unknown_event_types(rng: random.Random, t: Template) -> bytes:
    """An event type this version does not know (a newer producer, a typo, a dead letter fed back, junk)."""
    value = rng.choice(
        ("option_prints", "OPTION_PRINT", "", "dead_letter", "option_trade", "__proto__", None, 1, ["option_print"])
    )
    return _dump({**t, "event_type": value})


def unknown_schema_versions(rng: random.Random, t: Template) -> bytes:
    """A schema version other than the contract's: 0, 2, 99, or the right one with the wrong type."""
    return _dump({**t, "schema_version": rng.choice((0, 2, 3, 99, -1, "1", 1.5, None, True))})


def huge_strings(rng: random.Random, t: Template) -> bytes:
    """Strings far past any bound: an identifier or a free-text field of tens of kilobytes to a megabyte."""
    field = _pick(rng, _present(t, (*IDENT_FIELDS, "raw_conditions"), non_null=False))
    size = rng.choice((10_000, 20_000)) if rng.random() < 0.995 else 1_000_000
    filler = rng.choice(("A", "9", " ", "é", "SPY   "))
    return _dump({**t, field: str(t.get(field) or "") + filler * (size // len(filler))})


def huge_ids(rng: random.Random, t: Template) -> bytes:
    """Ids far past any bound, or of the wrong kind: 10k characters, a 40-digit number, an id of ids."""
    choice = rng.randrange(4)
    if choice == 0:
        return _dump({**t, "id": str(t["id"]) * rng.choice((200, 2_000))})
    if choice == 1:
        return _dump({**t, "id": 10 ** rng.choice((20, 40, 100))})
    if choice == 2:
        return _dump({**t, "id": [str(t["id"])] * 50})
    return _dump({**t, "sequence": 10 ** rng.choice((19, 25, 50)), "id": str(t["id"])[:8] * 100})


def huge_number_literals(rng: random.Random, t: Template) -> bytes:
    """Integers with thousands of digits (past Python's int-parsing limit) or exponents past any float."""
    field = _pick(rng, _present(t, INT_FIELDS))
    literal = rng.choice(("9" * 5_000, "1" + "0" * 4_400, "1e99999", "-" + "9" * 10_000, "0." + "0" * 5_000 + "1"))
    return _set_raw(t, field, literal)


def bad_baselines(rng: random.Random, t: Template) -> bytes:
    """Volume baselines that cannot be right: a bucket count other than 78, negative or absurd means, no
    sessions, an unknown scope, an impossible date."""
    b = dict(t)
    kind = rng.randrange(8)
    buckets = list(b["bucket_volume_mean"])
    if kind == 0:
        b["bucket_volume_mean"] = buckets[: rng.choice((0, 1, 77))]
    elif kind == 1:
        b["bucket_volume_mean"] = [*buckets, *buckets[: rng.choice((1, 78, 1000))]]
    elif kind == 2:
        buckets[rng.randrange(len(buckets))] = -rng.choice((0.5, 1.0, 1e9))
        b["bucket_volume_mean"] = buckets
    elif kind == 3:
        b["day_volume_mean"] = -rng.choice((1.0, 1e6))
    elif kind == 4:
        b["sessions"] = rng.choice((0, -30))
    elif kind == 5:
        b["scope"] = rng.choice(("galaxy", "CONTRACT", "", "equities"))
    elif kind == 6:
        b["as_of"] = rng.choice(("2026-02-30", "2026-13-01", "yesterday", "20260227", ""))
    else:
        b["day_volume_mean"] = rng.choice((1e300, 1.7976931348623157e308))
        b["bucket_volume_mean"] = [1e300] * len(buckets)
    return _dump(b)


def not_an_object(rng: random.Random, t: Template) -> bytes:
    """Valid JSON that is not an event object: an array of events, a number, a string, null, true."""
    return rng.choice((b"[]", b"null", b"42", b'"option_print"', b"true", b"{}", b"[" + _dump(t) + b"]"))


def binary_garbage(rng: random.Random, t: Template) -> bytes:
    """Bytes that are not JSON at all: a gzip or zstd header, a DBN record, random bytes (a binary file
    concatenated into a JSONL file)."""
    header = rng.choice((b"\x1f\x8b\x08\x00", b"\x28\xb5\x2f\xfd", b"DBN\x03", b"\x00\x00\x00\x00", b"PK\x03\x04"))
    body = bytes(rng.randrange(256) for _ in range(rng.randrange(8, 200)))
    return (header + body).replace(b"\n", b"\x00").replace(b"\r", b"\x00")


def malformed_contracts(rng: random.Random, t: Template) -> bytes:
    """An option contract that cannot exist: a symbol disagreeing with its fields, a malformed OSI symbol,
    an impossible expiry, a zero or negative strike or multiplier, a right other than C or P."""
    kind = rng.randrange(5)
    if kind == 0:
        return _dump({**t, "strike_e9": t["strike_e9"] + 1_000_000_000})
    if kind == 1:
        return _dump({**t, "symbol": rng.choice(("SPY", "SPY 260302C00565000", "SPY   2603O2C00565000", "!" * 21))})
    if kind == 2:
        return _dump({**t, "expiry": rng.choice(("2026-02-30", "2026-3-2", "02/03/2026", "", "9999-99-99"))})
    if kind == 3:
        return _dump({**t, "right": rng.choice(("X", "c", "CALL", ""))})
    return _dump({**t, rng.choice(("strike_e9", "multiplier")): rng.choice((0, -100))})


def trailing_garbage(rng: random.Random, t: Template) -> bytes:
    """An event followed by more on the same line: two events glued by a lost newline, a stray brace."""
    line = _dump(t)
    return line + rng.choice((b"}", b",", b" x", line, b"\x00", b"]"))


CATEGORIES: dict[str, Maker] = {
    "deep_nesting": deep_nesting,
    "float_timestamp_huge": float_timestamp_huge,
    "size_huge": size_huge,
    "int64_overflow": int64_overflow,
    "negative_quote": negative_quote,
    "negative_size": negative_size,
    "numeric_string": numeric_string,
    "boolean_for_integer": boolean_for_integer,
    "float_for_integer": float_for_integer,
    "control_characters": control_characters,
    "epoch_timestamps": epoch_timestamps,
    "timestamps_out_of_years": timestamps_out_of_years,
    "truncated_json": truncated_json,
    "invalid_utf8": invalid_utf8,
    "lone_surrogate": lone_surrogate,
    "wrong_types": wrong_types,
    "nan_and_infinity": nan_and_infinity,
    "missing_fields": missing_fields,
    "renamed_fields": renamed_fields,
    "unknown_event_types": unknown_event_types,
    "unknown_schema_versions": unknown_schema_versions,
    "huge_strings": huge_strings,
    "huge_ids": huge_ids,
    "huge_number_literals": huge_number_literals,
    "bad_baselines": bad_baselines,
    "not_an_object": not_an_object,
    "binary_garbage": binary_garbage,
    "malformed_contracts": malformed_contracts,
    "trailing_garbage": trailing_garbage,
}
"""Category name -> maker (rng, a clean event's fields) -> one hostile line (no newline)."""

ONLY_TYPES: dict[str, tuple[str, ...]] = {
    "bad_baselines": ("volume_baseline",),
    "malformed_contracts": ("option_print", "option_definition"),
    "negative_quote": ("option_print", "option_nbbo", "equity_print", "equity_quote"),
}
"""Categories that apply to some event types only (the others draw from every raw type)."""


@dataclass(frozen=True)
class HostileLine:
    """One hostile line and what it is."""

    category: str
    event_type: str
    """The clean event's type it was made from (the line itself may claim any type, or none)."""
    line: bytes


def clean_events(seed: int = 5, seconds: float = 12.0, underlyings: tuple[str, ...] = ("SPY", "TSLA")) -> list[Any]:
    """A normal synthetic session (reference data, quotes, prints of both engines), in event time."""
    return list(SyntheticMarket(SyntheticConfig(seed=seed, duration_s=seconds, underlyings=underlyings)).events())


def clean_lines(events: Sequence[Any]) -> list[bytes]:
    """The events as the project writes them, one JSON line each."""
    return [to_json_line(e).encode("utf-8") for e in events]


def hostile_lines(templates: Sequence[Template], count: int, seed: int) -> list[HostileLine]:
    """`count` hostile lines, the categories in turn (so each gets count / len(CATEGORIES)), each made from a
    clean event of the tape drawn at random."""
    rng = random.Random(seed)
    by_type: dict[str, list[Template]] = {}
    for template in templates:
        by_type.setdefault(template["event_type"], []).append(template)
    names = sorted(CATEGORIES)
    out: list[HostileLine] = []
    for i in range(count):
        name = names[i % len(names)]
        types = [t for t in ONLY_TYPES.get(name, RAW_TYPES) if t in by_type]
        event_type = types[rng.randrange(len(types))]
        pool = by_type[event_type]
        line = CATEGORIES[name](rng, dict(pool[rng.randrange(len(pool))]))
        if b"\n" in line or b"\r" in line:
            raise AssertionError(f"{name}: a hostile line must be one line")
        out.append(HostileLine(name, event_type, line))
    return out


@dataclass(frozen=True)
class MixedTape:
    """A clean tape with hostile lines inserted at random places."""

    lines: list[bytes]
    hostile: dict[int, HostileLine]
    """1-based line number -> the hostile line there."""

    def counts(self) -> Counter[str]:
        """Hostile lines per category."""
        return Counter(h.category for h in self.hostile.values())

    def text(self) -> bytes:
        """The tape as a JSONL file's bytes."""
        return b"".join(line + b"\n" for line in self.lines)


def mixed_tape(clean: Sequence[bytes], count: int = 10_000, seed: int = 11) -> MixedTape:
    """`clean` with `count` hostile lines (made from its own events) inserted at random places."""
    templates = [json.loads(line) for line in clean]
    hostile = hostile_lines(templates, count, seed)
    rng = random.Random(seed + 1)
    slots = sorted(rng.randrange(len(clean) + 1) for _ in hostile)
    rng.shuffle(hostile)
    lines: list[bytes] = []
    where: dict[int, HostileLine] = {}
    at = 0
    for i, line in enumerate(clean):
        while at < len(slots) and slots[at] == i:
            lines.append(hostile[at].line)
            where[len(lines)] = hostile[at]
            at += 1
        lines.append(line)
    while at < len(slots):
        lines.append(hostile[at].line)
        where[len(lines)] = hostile[at]
        at += 1
    return MixedTape(lines, where)
