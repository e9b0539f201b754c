"""The DDL and rows generated from the contracts."""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Annotated, Any, Literal

import pytest
from pydantic import BaseModel, Field

from connectors.clickhouse import schema
from connectors.clickhouse.schema import TABLES, Column, column_for, columns_for, row_for, table_for
from events import topics
from tests.connectors.clickhouse import factories as f
from tests.factories import flow_context, quote, structure, trade


def test_checked_in_ddl_file_is_the_generated_one() -> None:
    assert schema.DDL_FILE.read_text(encoding="utf-8") == schema.render_ddl_file(), (
        "deploy/clickhouse/001_tables.sql is stale: run `python -m connectors.clickhouse.schema`"
    )


def test_schema_cli_check_passes() -> None:
    assert schema.main(["--check"]) == 0


def test_every_topic_has_a_table() -> None:
    assert set(schema.TOPIC_TABLES) == set(topics.ALL_TOPICS)
    assert all(schema.TOPIC_TABLES[t] for t in topics.ALL_TOPICS)
    assert schema.TOPIC_TABLES[topics.REFDATA_OPTIONS] == (
        "refdata_options_definitions",
        "refdata_open_interest",
        "refdata_volume_baselines",
    )
    assert set(TABLES) == {
        "options_prints",
        "options_nbbo",
        "equities_prints",
        "equities_quotes",
        "refdata_options_definitions",
        "refdata_open_interest",
        "refdata_volume_baselines",
        "flow_packets",
        "flow_hits",
        "flow_alerts",
        "flow_structures",
        "flow_context",
        "equities_trades",
        "dark_inferences",
        "dark_levels",
        "equities_candles",
        "dead_letters",
    }


@pytest.mark.parametrize("table", list(TABLES))
def test_columns_are_the_model_fields_then_day(table: str) -> None:
    spec = TABLES[table]
    names = spec.column_names
    extra = ("id", "ts_recv") if table == "dead_letters" else ()
    assert names == (*extra, *spec.model.model_fields, "day")
    assert len(set(names)) == len(names)
    assert {"id", spec.version, spec.day_from} <= set(names)


def test_alerts_are_versioned_by_revision_and_partitioned_by_first_sight() -> None:
    alerts = TABLES["flow_alerts"]
    assert (alerts.version, alerts.day_from) == ("revision", "ts_first")
    assert "ReplacingMergeTree(`revision`)" in alerts.create_sql("db")
    assert "ReplacingMergeTree(`ts_event`)" in TABLES["flow_packets"].create_sql("db")


class _Record(BaseModel):
    n: int
    d: date


class _Sample(BaseModel):
    i: int
    b: bool
    x: float
    s: str
    d: date
    oi: int | None
    of: float | None
    os: str | None
    tags: tuple[str, ...]
    ids: tuple[Annotated[str, Field(min_length=1)], ...]
    m: dict[str, float]
    records: tuple[_Record, ...]
    lit: Literal["buy", "sell"]
    ver: Literal[1]
    bounded: Annotated[int, Field(ge=0)]


class _NotAnEvent(BaseModel):
    x: int = 0


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        ("i", Column("i", "Int64", "int")),
        ("b", Column("b", "UInt8", "bool")),
        ("x", Column("x", "Float64", "float")),
        ("s", Column("s", "String", "str")),
        ("d", Column("d", "Date", "date")),
        ("oi", Column("oi", "Nullable(Int64)", "int", nullable=True)),
        ("of", Column("of", "Nullable(Float64)", "float", nullable=True)),
        ("os", Column("os", "Nullable(String)", "str", nullable=True)),
        ("tags", Column("tags", "Array(String)", "array")),
        ("ids", Column("ids", "Array(String)", "array")),
        ("m", Column("m", "String", "json")),
        ("records", Column("records", "String", "json")),
        ("lit", Column("lit", "String", "str")),
        ("ver", Column("ver", "Int64", "int")),
        ("bounded", Column("bounded", "Int64", "int")),
    ],
)
def test_field_types_map_to_portable_columns(field: str, expected: Column) -> None:
    assert column_for(field, _Sample.model_fields[field].annotation) == expected


@pytest.mark.parametrize(
    "annotation",
    [list[str], tuple[date, ...], tuple[str, str], dict[str, int] | None, tuple[str, ...] | None, int | str, bytes],
    ids=["list", "date-tuple", "fixed-tuple", "optional-dict", "optional-array", "union", "bytes"],
)
def test_unportable_field_types_fail_fast(annotation: Any) -> None:
    with pytest.raises(TypeError, match=r"storable|portable"):
        column_for("f", annotation)


@pytest.mark.parametrize("annotation", [tuple[float, ...], tuple[int, ...]], ids=["float-tuple", "int-tuple"])
def test_numeric_vectors_are_stored_as_json_text(annotation: Any) -> None:
    assert column_for("f", annotation) == Column("f", "String", "json")


_FORBIDDEN = [r"DateTime64", r"\bTTL\b", r"CODEC", r"\bMap\(", r"\bJSON\b", r"\bBool\b", r"LowCardinality", r"\bWITH\b"]


@pytest.mark.parametrize("pattern", _FORBIDDEN)
def test_ddl_uses_only_what_clickhouse_18_16_has(pattern: str) -> None:
    ddl = "\n".join(schema.render_ddl("flowtape"))
    assert not re.search(pattern, ddl)


def test_ddl_creates_the_database_first_and_is_idempotent() -> None:
    statements = schema.render_ddl("research")
    assert statements[0] == "CREATE DATABASE IF NOT EXISTS `research`"
    assert all(s.startswith("CREATE TABLE IF NOT EXISTS `research`.") for s in statements[1:])
    assert len(statements) == 1 + len(TABLES)


@pytest.mark.parametrize("name", ["", "1abc", "a-b", "a.b", "a`b", "x" * 64, "db; DROP TABLE t"])
def test_bad_database_names_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match="identifier"):
        schema.render_ddl(name)


@pytest.mark.parametrize(
    ("ts_ns", "day"),
    [
        (1, date(1970, 1, 1)),
        (f.T0, date(2026, 3, 2)),
        (1_772_495_999_999_999_999, date(2026, 3, 2)),
        (1_772_496_000_000_000_000, date(2026, 3, 3)),
    ],
    ids=["epoch", "session-open", "last-ns-of-day", "midnight-utc"],
)
def test_day_is_the_utc_date(ts_ns: int, day: date) -> None:
    assert schema.day_of(ts_ns) == day


def test_columns_for_a_packet_batch() -> None:
    packets = [f.packet(0), f.packet(1_000, size=80)]
    cols = columns_for(packets)
    assert tuple(cols) == TABLES["flow_packets"].column_names
    assert all(len(v) == 2 for v in cols.values())
    assert cols["size_contracts"] == [420, 80]
    assert cols["day"] == [date(2026, 3, 2)] * 2
    assert cols["expiry"] == [date(2026, 3, 20)] * 2
    assert json.loads(cols["placement_counts"][0]) == {"A": 3, "AA": 1}
    assert cols["venues"][0] == ("XCBO", "XISX", "XPHL", "AMXO")


def test_booleans_are_stored_as_uint8() -> None:
    cols = columns_for([f.equity_print(0), f.equity_print(1, off_exchange=False)])
    assert cols["off_exchange"] == [1, 0]


def test_alert_day_comes_from_ts_first() -> None:
    late = f.alert(0, revision=3, ts_first=1_772_495_999_000_000_000)  # revision lands after midnight UTC
    assert schema.day_of(late.ts_event) == date(2026, 3, 3)
    assert row_for(late)[-1] == date(2026, 3, 2)


@pytest.mark.parametrize(
    "event",
    [
        trade(0, "2.45", 3),
        quote(0, "2.40", "2.45"),
        f.packet(0),
        f.hit(f.packet(0)),
        f.alert(0),
        f.open_interest(),
        structure(),
        flow_context(),
    ],
    ids=lambda e: type(e).__name__,
)
def test_row_matches_columns_and_round_trips(event: BaseModel) -> None:
    table = table_for(event)
    row = row_for(event)
    assert row == tuple(v[0] for v in columns_for([event]).values())
    assert schema.event_from_row(table, dict(zip(table.column_names, row, strict=True))) == event


def test_dead_letters_need_a_receive_time_and_get_a_content_id() -> None:
    letter = f.dead_letter(7)
    with pytest.raises(ValueError, match="ts_recv_ns"):
        row_for(letter)
    row = dict(zip(TABLES["dead_letters"].column_names, row_for(letter, ts_recv_ns=f.T0), strict=True))
    assert row["id"] == schema.dead_letter_id(letter) == schema.dead_letter_id(f.dead_letter(7))
    assert row["id"] != schema.dead_letter_id(f.dead_letter(8))
    assert (row["ts_recv"], row["day"], row["offset"]) == (f.T0, date(2026, 3, 2), 7)
    assert table_for(letter).name == "dead_letters"


def test_a_batch_must_be_one_model() -> None:
    with pytest.raises(TypeError, match="stores Packet"):
        columns_for([f.packet(0), f.alert(0)])
    with pytest.raises(TypeError, match="not a storable event"):
        table_for(_NotAnEvent())
    with pytest.raises(ValueError, match="empty batch"):
        columns_for([])


@pytest.mark.parametrize(
    ("topic", "tables"),
    [
        ("flow.alerts", ("flow_alerts",)),
        ("replay7.flow.alerts", ("flow_alerts",)),
        ("refdata.options", ("refdata_options_definitions", "refdata_open_interest", "refdata_volume_baselines")),
        ("options.prints.dlq", ("dead_letters",)),
        ("replay7.options.prints.dlq", ("dead_letters",)),
        ("flow_hits", ("flow_hits",)),
    ],
)
def test_tables_for_topic(topic: str, tables: tuple[str, ...]) -> None:
    assert tuple(t.name for t in schema.tables_for_topic(topic)) == tables
