"""One behaviour suite for every Store backend (chDB here, the 18.16 server in tests/integration).

A test module subclasses `StoreContract` and provides a `store` fixture: an open store on a fresh database
with the schema applied. Also the chDB fixtures shared by the storage and API tests (chDB opens one path
per process, so every test uses `embedded_store_for_tests` and a database of its own).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from pydantic import BaseModel

from connectors.clickhouse import schema
from connectors.clickhouse.store import EmbeddedStore, InvalidCursor, Store, embedded_store_for_tests, insert_or_refuse
from events.ids import derived_event_id
from events.models import Alert
from tests.connectors.clickhouse import factories as f
from tests.factories import (
    candle_example,
    dark_inference_example,
    dark_level_example,
    equity_trade_example,
    flow_context,
    quote,
    structure,
    trade,
    volume_baseline,
)


def _unvalidated(event: Any, **changes: Any) -> Any:
    """A copy of `event` with `changes` and no validation (what a contract bug would let through)."""
    copy = getattr(event, "model_copy", None)
    if copy is not None:
        return copy(update=changes)
    import msgspec

    return msgspec.structs.replace(event, **changes)


# ------------------------------------------------------------------------------------ chDB fixtures


def fresh_database_name() -> str:
    return f"t_{uuid.uuid4().hex[:16]}"


@pytest.fixture(scope="session")
def chdb_store() -> Iterator[EmbeddedStore]:
    """The process's test chDB engine (one temp path for the whole session)."""
    store = embedded_store_for_tests("flowtape_session")
    yield store
    store.close()


@pytest.fixture
def chdb_fresh_store(chdb_store: EmbeddedStore) -> Iterator[EmbeddedStore]:
    """A store on its own new database inside the session's chDB path, schema applied."""
    store = chdb_store.for_database(fresh_database_name())
    store.ensure_schema()
    yield store
    # The test may have closed its store (the API closes it at shutdown): drop through the session's.
    dropper = chdb_store.for_database(store.database)
    dropper.drop_database()
    dropper.close()
    store.close()


# ------------------------------------------------------------------------------------------ helpers


def stored(store: Store, table: str) -> list[BaseModel]:
    """Return every event in a table at its latest version, ordered by id."""
    spec = schema.TABLES[table]
    rows = store.query(f"SELECT * FROM {store.table(table)} FINAL ORDER BY id", {})
    return [schema.event_from_row(spec, row) for row in rows]


def alerts_in_order(alerts: list[Alert]) -> list[str]:
    return [a.id for a in sorted(alerts, key=lambda a: (a.ts_first, a.id), reverse=True)]


def numbered_alert(i: int, *, ts_first: int | None = None, symbol: str = f.CALL, **kwargs: Any) -> Alert:
    return f.alert(i * 1_000, alert_id=derived_event_id("alert", (str(i),)), ts_first=ts_first, symbol=symbol, **kwargs)


def every_page(store: Store, limit: int, **kwargs: Any) -> list[list[str]]:
    pages: list[list[str]] = []
    cursor: str | None = None
    while True:
        page = store.latest_alerts(limit=limit, cursor=cursor, **kwargs)
        pages.append([a.id for a in page.items])
        if page.next_cursor is None:
            return pages
        cursor = page.next_cursor
        assert len(pages) < 100, "cursor does not advance"


ONE_OF_EACH: list[tuple[str, BaseModel]] = [
    ("options.prints", trade(0, "2.45", 12, nbbo=("2.40", "2.45"), conditions=("iso",))),
    ("options.nbbo", quote(0, "2.40", "2.45")),
    ("equities.prints", f.equity_print(0)),
    ("equities.prints", f.equity_print(1, off_exchange=False, size=40)),
    ("equities.quotes", f.equity_quote(0)),
    ("refdata.options", f.definition()),
    ("refdata.options", f.open_interest()),
    ("refdata.options", volume_baseline()),
    ("flow.packets", f.packet(0)),
    ("flow.hits", f.hit(f.packet(0))),
    ("flow.alerts", f.alert(0)),
    ("flow.structures", structure()),
    ("flow.context", flow_context()),
    ("equities.trades", equity_trade_example()),
    ("dark.inferences", dark_inference_example()),
    ("dark.levels", dark_level_example()),
    ("equities.candles", candle_example()),
]


# ------------------------------------------------------------------------------------------- suite


class StoreContract:
    """Behaviour every Store must have; subclasses provide the `store` fixture."""

    def test_ensure_schema_is_idempotent_and_creates_every_table(self, store: Store) -> None:
        assert store.ensure_schema() == list(schema.TABLES)
        rows = store.query(
            "SELECT name FROM system.tables WHERE database = {db:String} ORDER BY name", {"db": store.database}
        )
        assert [r["name"] for r in rows] == sorted(schema.TABLES)

    def test_stream_pages_never_skip_or_repeat_a_row_ties_included(self, store: Store) -> None:
        symbols = [f.CALL, f.PUT, "SPY   260320P00570000"]
        packets = [f.packet(float(i // 3) * 5, symbol=symbols[i % 3]) for i in range(20)]  # three per time stamp
        store.insert("flow.packets", packets)
        newest_first = [p.id for p in sorted(packets, key=lambda p: (p.ts_event, p.id), reverse=True)]

        def walk(**first: Any) -> list[str]:
            seen: list[str] = []
            page = store.read_page("flow_packets", limit=4, **first)
            while True:
                seen.extend(p.id for p in page.items)  # type: ignore[attr-defined]
                if page.next_cursor is None:
                    return seen
                direction = "after" if "after" in first or "from_ns" in first else "before"
                rest = {k: v for k, v in first.items() if k in ("from_ns", "to_ns", "equal")}
                page = store.read_page("flow_packets", limit=4, **rest, **{direction: page.next_cursor})
                assert len(seen) < 100, "the cursor does not advance"

        assert walk() == newest_first, "latest, then history before each cursor"
        assert walk(from_ns=0) == newest_first[::-1], "a range from the start, oldest first"
        middle = sorted({p.ts_event for p in packets})[2:5]
        in_range = [i for i in newest_first[::-1] if next(p for p in packets if p.id == i).ts_event in middle]
        assert walk(from_ns=middle[0], to_ns=middle[-1] + 1) == in_range
        assert walk(equal={"symbol": f.PUT}) == [i for i in newest_first if i in {p.id for p in packets[1::3]}]
        with pytest.raises(ValueError, match="no column"):
            store.read_page("flow_packets", equal={"nope": "x"})

    def test_events_by_id_and_the_quote_in_force(self, store: Store) -> None:
        first, second = f.packet(0), f.packet(1_000)
        store.insert("flow.packets", [first, second])
        assert store.events_by_id("flow_packets", [second.id, "0" * 32, first.id, second.id]) == [second, first]
        assert store.events_by_id("flow_packets", []) == []
        early, late = quote(0, "1.00", "1.10"), quote(500, "1.05", "1.15")
        venue = quote(600, "0.50", "2.00", venue="XCBO")  # a venue's quote is not the consolidated one
        store.insert("options.nbbo", [early, late, venue])
        assert store.quote_as_of(early.symbol, early.ts_event - 1) is None
        assert store.quote_as_of(early.symbol, early.ts_event) == early
        assert store.quote_as_of(early.symbol, late.ts_event - 1) == early
        assert store.quote_as_of(early.symbol, venue.ts_event + 1) == late
        assert store.quote_as_of("SPY   260320C00999000", late.ts_event) is None

    def test_retention_drops_whole_days_before_the_cutoff_and_nothing_else(self, store: Store) -> None:
        one_day_ms = 86_400_000
        old, kept = f.packet(0), f.packet(one_day_ms)  # 2026-03-02 and 2026-03-03 (UTC)
        store.insert("flow.packets", [old, kept])
        store.insert("equities.quotes", [f.equity_quote(0)])
        packets, quotes = schema.table_for(old).name, schema.table_for(f.equity_quote(0)).name
        first, second = date(2026, 3, 2), date(2026, 3, 3)
        assert store.stored_days() == {packets: [first, second], quotes: [first]}
        would = store.drop_days_before(second, dry_run=True)
        assert sorted(would) == sorted([(packets, first), (quotes, first)])
        assert len(stored(store, packets)) == 2, "a dry run drops nothing"
        assert sorted(store.drop_days_before(second)) == sorted(would)
        assert stored(store, packets) == [kept]
        assert stored(store, quotes) == []
        assert store.stored_days() == {packets: [second]}
        assert store.drop_days_before(first) == [], "nothing before the first day"

    @pytest.mark.parametrize(("topic", "event"), ONE_OF_EACH, ids=[type(e).__name__ for _, e in ONE_OF_EACH])
    def test_every_event_type_round_trips(self, store: Store, topic: str, event: BaseModel) -> None:
        assert store.insert(topic, [event]) == 1
        assert stored(store, schema.table_for(event).name) == [event]

    def test_reinserting_a_batch_leaves_one_row_per_id(self, store: Store) -> None:
        packets = [f.packet(i * 1_000) for i in range(25)]
        store.insert("flow.packets", packets)
        store.insert("flow.packets", packets)
        store.insert("flow.packets", packets[:10])
        assert store.count("flow.packets") == 25
        assert stored(store, "flow_packets") == sorted(packets, key=lambda p: p.id)

    def test_refdata_topic_fills_its_three_tables(self, store: Store) -> None:
        refdata = [f.definition(), f.open_interest(), f.open_interest(f.PUT, 3), volume_baseline()]
        store.insert("refdata.options", refdata)
        assert store.count("refdata_options_definitions") == 1
        assert store.count("refdata_open_interest") == 2
        assert store.count("refdata_volume_baselines") == 1
        assert store.count("refdata.options") == 4

    def test_namespaced_topic_lands_in_the_same_table(self, store: Store) -> None:
        store.insert("replay1.flow.alerts", [f.alert(0)])
        assert store.count("flow.alerts") == 1

    def test_dead_letters_are_idempotent_on_their_content(self, store: Store) -> None:
        store.insert("options.prints.dlq", [f.dead_letter(7), f.dead_letter(8)])
        store.insert("options.prints.dlq", [f.dead_letter(7)])
        assert store.count("dead_letters") == 2
        rows = store.query(f"SELECT `offset`, reason FROM {store.table('dead_letters')} FINAL ORDER BY `offset`", {})
        assert [r["offset"] for r in rows] == [7, 8]

    def test_insert_rejects_an_event_on_another_topic(self, store: Store) -> None:
        with pytest.raises(TypeError, match="does not belong"):
            store.insert("flow.alerts", [f.packet(0)])
        assert store.count("flow.alerts") == 0

    def test_insert_of_nothing_writes_nothing(self, store: Store) -> None:
        assert store.insert("flow.alerts", []) == 0

    def test_unknown_topic_is_refused(self, store: Store) -> None:
        with pytest.raises(KeyError):
            store.count("flow.nonsense")

    def test_a_batch_of_10k_rows(self, store: Store) -> None:
        prints = [trade(i / 10, "2.45", 1 + i % 90) for i in range(10_000)]
        assert store.insert("options.prints", prints) == 10_000
        rows = store.query(
            f"SELECT count() AS n, sum(size_contracts) AS size FROM {store.table('options_prints')} FINAL", {}
        )
        assert rows == [{"n": 10_000, "size": sum(p.size_contracts for p in prints)}]

    # -- rows the store cannot hold

    @pytest.mark.parametrize(
        "change",
        [
            pytest.param({"size_contracts": 10**30}, id="size-1e30"),
            pytest.param({"ts_event": 2**63 + 5}, id="ts-past-int64"),
            pytest.param({"price_e9": -(2**64)}, id="price-below-int64"),
            pytest.param({"venue": "X\udc00"}, id="lone-surrogate"),
        ],
    )
    def test_a_row_the_store_cannot_hold_is_refused_alone(self, store: Store, change: dict[str, object]) -> None:
        prints = [trade(i, "2.45", 1 + i) for i in range(9)]
        bad = _unvalidated(prints[4], **change)
        batch = [*prints[:4], bad, *prints[5:]]
        refused = insert_or_refuse(store, "options.prints", batch)
        assert [event for event, _ in refused] == [bad]
        assert refused[0][1].strip()
        assert store.count("options.prints") == 8
        assert insert_or_refuse(store, "options.prints", prints) == []
        assert store.count("options.prints") == 9

    # -- alerts page

    def test_no_alerts_is_an_empty_last_page(self, store: Store) -> None:
        page = store.latest_alerts()
        assert page.items == ()
        assert page.next_cursor is None

    def test_alerts_page_newest_first_with_a_cursor_through_ties(self, store: Store) -> None:
        tied = f.ts(3_000)
        alerts = [numbered_alert(i) for i in range(7)] + [numbered_alert(i, ts_first=tied) for i in (10, 11, 12)]
        store.insert("flow.alerts", alerts)
        pages = every_page(store, limit=3)
        assert [len(p) for p in pages] == [3, 3, 3, 1]
        assert [a for p in pages for a in p] == alerts_in_order(alerts)

    def test_cursor_stays_put_when_newer_alerts_arrive(self, store: Store) -> None:
        old = [numbered_alert(i) for i in range(6)]
        store.insert("flow.alerts", old)
        first = store.latest_alerts(limit=2)
        store.insert("flow.alerts", [numbered_alert(i) for i in range(50, 55)])
        second = store.latest_alerts(limit=10, cursor=first.next_cursor)
        assert [a.id for a in first.items + second.items] == alerts_in_order(old)

    def test_each_alert_once_at_its_latest_revision(self, store: Store) -> None:
        store.insert("flow.alerts", [f.alert(0, revision=0, severity="high")])
        store.insert("flow.alerts", [f.alert(0, revision=2, severity="low"), f.alert(0, revision=1)])
        page = store.latest_alerts()
        assert [(a.revision, a.severity) for a in page.items] == [(2, "low")]

    def test_severity_filter_reads_the_latest_revision(self, store: Store) -> None:
        store.insert("flow.alerts", [f.alert(0, revision=0, severity="high"), f.alert(5, severity="high")])
        store.insert("flow.alerts", [f.alert(0, revision=1, severity="medium")])
        assert [a.id for a in store.latest_alerts(severity="high").items] == [f.alert(5).id]
        assert [a.id for a in store.latest_alerts(severity="medium").items] == [f.alert(0).id]

    def test_underlying_filter(self, store: Store) -> None:
        spy = [numbered_alert(i) for i in range(3)]
        qqq = [numbered_alert(i, symbol=f.PUT) for i in range(3, 5)]
        store.insert("flow.alerts", spy + qqq)
        assert [a.id for a in store.latest_alerts("QQQ").items] == alerts_in_order(qqq)
        assert every_page(store, 2, underlying="SPY") == [
            alerts_in_order(spy)[:2],
            alerts_in_order(spy)[2:],
        ]
        assert store.latest_alerts("IWM").items == ()

    @pytest.mark.parametrize(
        "cursor", ["", "not base64!", "bm9jb2xvbg", "LTE6YWJj", "MTIzOg", "MTIzOmEnIG9yIDE9MQ", "x" * 300]
    )
    def test_foreign_cursors_are_refused(self, store: Store, cursor: str) -> None:
        with pytest.raises(InvalidCursor):
            store.latest_alerts(cursor=cursor)

    @pytest.mark.parametrize("limit", [0, -1, 501])
    def test_page_size_is_bounded(self, store: Store, limit: int) -> None:
        with pytest.raises(ValueError, match="limit"):
            store.latest_alerts(limit=limit)

    # -- parameterized queries

    @pytest.mark.parametrize(
        "value",
        ["SPY", "it's", "back\\slash", "tab\there", "new\nline", "50% off", "{x:String}", "é ☃", "\\N", ""],
        ids=[
            "plain",
            "quote",
            "backslash",
            "tab",
            "newline",
            "percent",
            "placeholder",
            "unicode",
            "null-text",
            "empty",
        ],
    )
    def test_string_parameters_arrive_verbatim(self, store: Store, value: str) -> None:
        assert store.query("SELECT {v:String} AS v, length({v:String}) AS n", {"v": value}) == [
            {"v": value, "n": len(value.encode())}
        ]

    @pytest.mark.parametrize(
        ("ch_type", "value"),
        [
            ("Int64", -5),
            ("UInt32", 7),
            ("Float64", 0.25),
            ("Nullable(Int64)", None),
            ("Array(String)", ["a", "b'c", "t\tab", "back\\slash", "new\nline", ""]),
        ],
    )
    def test_typed_parameters(self, store: Store, ch_type: str, value: object) -> None:
        rows = store.query(f"SELECT {{v:{ch_type}}} AS v", {"v": value})
        assert rows == [{"v": value}]

    @pytest.mark.parametrize(
        ("sql", "params"),
        [
            ("SELECT {a:String} AS a", {}),
            ("SELECT 1 AS a", {"a": "unused"}),
            ("SELECT {a:Int64} AS a", {"a": "1; DROP TABLE x"}),
            ("SELECT {a:String} AS a", {"a": 1}),
            ("SELECT {a:Int64} AS a", {"a": None}),
            ("SELECT {a:Decimal(9, 2)} AS a", {"a": 1}),
        ],
        ids=["missing", "unused", "not-an-int", "not-a-string", "null-not-nullable", "unsupported-type"],
    )
    def test_bad_parameters_are_refused_before_the_query(
        self, store: Store, sql: str, params: dict[str, object]
    ) -> None:
        with pytest.raises(ValueError, match="parameter"):
            store.query(sql, params)

    def test_percent_in_sql_text(self, store: Store) -> None:
        store.insert("flow.alerts", [f.alert(0)])
        rows = store.query(
            f"SELECT count() AS n FROM {store.table('flow_alerts')} "
            "WHERE headline LIKE '%sweep%' AND underlying = {u:String}",
            {"u": "SPY"},
        )
        assert rows == [{"n": 1}]

    def test_table_names_come_from_the_allow_list(self, store: Store) -> None:
        assert store.table("flow_alerts") == f"`{store.database}`.`flow_alerts`"
        with pytest.raises(KeyError):
            store.table("system.users")

    def test_health_is_ok_with_a_version(self, store: Store) -> None:
        info = store.health()
        assert info["status"] == "ok"
        assert info["backend"] == store.backend
        assert str(info["version"])[:2].isdigit()
