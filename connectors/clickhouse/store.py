"""The store: ClickHouse server (clickhouse-driver) or embedded chDB behind one small interface.

Both run the same generated DDL (`schema.render_ddl`) and the same portable SQL. Inserts are columnar
batches into ReplacingMergeTree tables keyed by event id, so re-inserting a batch is harmless: reads use
`FINAL` and see each id once, at its latest version.

Queries are parameterized with ClickHouse placeholders, `{name:Type}`, on both backends (on the 18.16
server they are rendered client-side by clickhouse-driver's escaping, which has no server-side
parameters). Identifiers never come from user input: tables are looked up in `schema.TABLES` and the
database name is validated.

chDB allows one data path per process (and one process per path): `EmbeddedStore`s share one engine per
process, reference-counted; asking for a second path while the first is open is an error.

CLI: `python -m connectors.clickhouse.store apply --store clickhouse` applies the DDL.
"""

from __future__ import annotations

import argparse
import atexit
import base64
import binascii
import contextlib
import logging
import re
import shutil
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Protocol, cast, runtime_checkable

from pydantic import BaseModel

from connectors.clickhouse import schema
from connectors.clickhouse.schema import TableSpec, check_identifier, quote
from connectors.settings import Settings
from events.models import Alert, OptionNbbo

MAX_ALERTS_PAGE = 500
MAX_IDS = 1_000
"""Ids one `events_by_id` read takes at most (a drill-down reads an alert's hits, packets and prints)."""
_ALERTS = schema.TABLES["flow_alerts"]
_CURSOR_ID = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*):([A-Za-z0-9_(), ]+)\}")


class StoreError(RuntimeError):
    """A store operation failed (connection, SQL or data error)."""


class StoreUnavailable(StoreError):
    """The store cannot take writes now (connection refused, reset or timed out, server overloaded): an outage,
    to retry with backoff, never a reason to drop or dead-letter a row."""


class ChdbPathInUse(StoreError):
    """chDB is already open at another path in this process, or another process holds the path."""


class InvalidCursor(ValueError):
    """A page cursor that this store did not produce."""


@dataclass(frozen=True, slots=True)
class EventPage:
    """A page of one table's events by (ts_event, id): newest first, or oldest first for `after` and ranges;
    `next_cursor` continues in the same direction (None: no more)."""

    items: tuple[BaseModel, ...]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class AlertPage:
    """One page of alerts, newest first; `next_cursor` is None on the last page."""

    items: tuple[Alert, ...]
    next_cursor: str | None


@runtime_checkable
class Store(Protocol):
    """What the sink flow and the API need from storage."""

    @property
    def backend(self) -> str: ...

    @property
    def database(self) -> str: ...

    def ensure_schema(self) -> list[str]: ...

    def insert(self, topic: str, events: Sequence[BaseModel]) -> int: ...

    def query(self, sql: str, params: Mapping[str, object] | None = None) -> list[dict[str, Any]]: ...

    def latest_alerts(
        self,
        underlying: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
        *,
        severity: str | None = None,
    ) -> AlertPage: ...

    def health(self) -> dict[str, Any]: ...

    def count(self, topic: str) -> int: ...

    def table(self, name: str) -> str: ...

    def drop_database(self) -> None: ...

    def stored_days(self) -> dict[str, list[date]]: ...

    def events_by_id(self, table: str, ids: Sequence[str]) -> list[BaseModel]: ...

    def read_page(
        self,
        table: str,
        *,
        equal: Mapping[str, str] | None = None,
        before: str | None = None,
        after: str | None = None,
        from_ns: int | None = None,
        to_ns: int | None = None,
        limit: int = 50,
    ) -> EventPage: ...

    def quote_as_of(self, symbol: str, ts_event: int) -> OptionNbbo | None: ...

    def drop_days_before(self, day: date, *, dry_run: bool = False) -> list[tuple[str, date]]: ...

    def close(self) -> None: ...


# ------------------------------------------------------------------------------------------ cursor


def encode_cursor(ts_first: int, alert_id: str) -> str:
    """Return the opaque cursor after the alert (ts_first, id): urlsafe base64 of `ts_first:id`."""
    raw = f"{ts_first}:{alert_id}".encode()
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_cursor(cursor: str) -> tuple[int, str]:
    """Return (ts_first, id) from a cursor, or raise InvalidCursor."""
    if not cursor or len(cursor) > 200:
        raise InvalidCursor("cursor is empty or too long")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
        ts_text, alert_id = raw.split(":", 1)
        ts_first = int(ts_text)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidCursor("cursor is not one this API returned") from None
    if ts_first <= 0 or not _CURSOR_ID.fullmatch(alert_id):
        raise InvalidCursor("cursor is not one this API returned")
    return ts_first, alert_id


def _past_cursor(cursor: str, ts_column: str, op: str, params: dict[str, object]) -> str:
    """The condition of the rows past `cursor` on (`ts_column`, id), older (`<`) or newer (`>`), ties broken by
    id so a page never skips or repeats one; puts the cursor's values into `params`."""
    params["cursor_ts"], params["cursor_id"] = decode_cursor(cursor)
    return (
        f"({ts_column} {op} {{cursor_ts:Int64}} "
        f"OR ({ts_column} = {{cursor_ts:Int64}} AND id {op} {{cursor_id:String}}))"
    )


def _select_list(spec: TableSpec) -> str:
    """A table's model columns, quoted, as a SELECT list."""
    return ", ".join(quote(c.name) for c in spec.model_columns)


# ------------------------------------------------------------------------------------- parameters

_INT_TYPES = re.compile(r"^U?Int(8|16|32|64)$")


def _check_param(name: str, ch_type: str, value: object) -> None:
    """Reject a value that does not fit its placeholder type, the same way on both backends."""
    ch_type = ch_type.strip()
    if ch_type.startswith("Nullable(") and ch_type.endswith(")"):
        if value is None:
            return
        ch_type = ch_type[len("Nullable(") : -1]
    ok: bool
    if _INT_TYPES.match(ch_type):
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif ch_type in ("Float32", "Float64"):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    elif ch_type == "String":
        ok = isinstance(value, str)
    elif ch_type == "Date":
        ok = isinstance(value, date)
    elif ch_type.startswith("Array(") and ch_type.endswith(")"):
        ok = isinstance(value, (list, tuple))
        for item in value if isinstance(value, (list, tuple)) else ():
            _check_param(name, ch_type[len("Array(") : -1], item)
    else:
        raise ValueError(f"parameter {name!r}: unsupported placeholder type {ch_type!r}")
    if not ok:
        raise ValueError(f"parameter {name!r}: {value!r} is not a {ch_type}")


def _placeholders(sql: str, params: Mapping[str, object]) -> list[tuple[str, str]]:
    found = [(m.group(1), m.group(2)) for m in _PLACEHOLDER.finditer(sql)]
    names = {n for n, _ in found}
    missing = names - params.keys()
    unused = params.keys() - names
    if missing or unused:
        raise ValueError(f"query parameters: missing {sorted(missing)}, unused {sorted(unused)}")
    for name, ch_type in found:
        _check_param(name, ch_type, params[name])
    return found


def _escaped_text(value: object) -> str:
    """Render a value in ClickHouse's escaped (TSV) text form, which chDB parses `{x:Type}` values from."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    if isinstance(value, (list, tuple)):
        # Composite values are read with their own text parser: quoted items, no outer escaping.
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    raise ValueError(f"unsupported parameter value {value!r}")


def _literal(value: object) -> str:
    if isinstance(value, str):
        return "'" + _escaped_text(value).replace("'", "\\'") + "'"
    if value is None:
        return "NULL"
    if isinstance(value, date):
        return f"'{value.isoformat()}'"
    return _escaped_text(value)


# ------------------------------------------------------------------------------------- base store


class _BaseStore:
    """The SQL both backends share; subclasses provide `_select`, `_command`, `_insert_columns`."""

    backend = "base"

    def __init__(self, database: str) -> None:
        self._database = check_identifier(database)

    @property
    def database(self) -> str:
        return self._database

    # -- backend primitives
    def _select(self, sql: str, params: Mapping[str, object]) -> list[dict[str, Any]]:
        raise NotImplementedError

    def _command(self, sql: str) -> None:
        raise NotImplementedError

    def _insert_columns(self, table: TableSpec, columns: dict[str, list[Any]]) -> None:
        raise NotImplementedError

    # -- public API
    def table(self, name: str) -> str:
        """Return the quoted, database-qualified name of an allow-listed table."""
        return schema.spec(name).qualified(self._database)

    def ensure_schema(self) -> list[str]:
        """Create the database and every table if missing; return the table names."""
        for statement in schema.render_ddl(self._database):
            self._command(statement)
        return list(schema.TABLES)

    def query(self, sql: str, params: Mapping[str, object] | None = None) -> list[dict[str, Any]]:
        """Run a SELECT with `{name:Type}` placeholders; return rows as dicts (column → Python value)."""
        params = dict(params or {})
        _placeholders(sql, params)
        return self._select(sql, params)

    def insert(self, topic: str, events: Sequence[BaseModel]) -> int:
        """Insert events read from `topic` (or for a table name); return the rows written.

        Idempotent: a re-inserted id collapses to one row (its highest version) under FINAL.
        """
        if not events:
            return 0
        specs = schema.tables_for_topic(topic)
        by_table: dict[str, list[BaseModel]] = defaultdict(list)
        for event in events:
            table = schema.table_for(event)
            if table not in specs:
                raise TypeError(f"{type(event).__name__} does not belong on topic {topic!r}")
            by_table[table.name].append(event)
        ts_recv_ns = time.time_ns()  # only dead letters use it: they carry no time of their own
        for name, batch in by_table.items():
            table = schema.TABLES[name]
            self._insert_columns(table, schema.columns_for(batch, table, ts_recv_ns=ts_recv_ns))
        return len(events)

    def count(self, topic: str) -> int:
        """Return the number of distinct ids (latest versions) stored for a topic or table."""
        total = 0
        for table in schema.tables_for_topic(topic):
            rows = self._select(f"SELECT count() AS n FROM {table.qualified(self._database)} FINAL", {})
            total += int(rows[0]["n"])
        return total

    def latest_alerts(
        self,
        underlying: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
        *,
        severity: str | None = None,
    ) -> AlertPage:
        """Return alerts newest first by (ts_first, id), each id once at its latest revision."""
        if not 1 <= limit <= MAX_ALERTS_PAGE:
            raise ValueError(f"limit must be within 1..{MAX_ALERTS_PAGE}")
        columns = _select_list(_ALERTS)
        inner_where = ["1"]
        params: dict[str, object] = {"limit": limit + 1}
        if underlying is not None:
            # underlying and ts_first never change between revisions: safe to filter before FINAL merges.
            inner_where.append("underlying = {underlying:String}")
            params["underlying"] = underlying
        if cursor is not None:
            inner_where.append(_past_cursor(cursor, "ts_first", "<", params))
        outer_where = ""
        if severity is not None:
            # severity changes with revisions: filter only after FINAL picked the latest one.
            outer_where = "WHERE severity = {severity:String} "
            params["severity"] = severity
        sql = (
            f"SELECT {columns} FROM (SELECT {columns} FROM {self.table('flow_alerts')} FINAL "
            f"WHERE {' AND '.join(inner_where)}) AS a "
            f"{outer_where}ORDER BY ts_first DESC, id DESC LIMIT {{limit:UInt32}}"
        )
        rows = self.query(sql, params)
        alerts = tuple(cast(Alert, schema.event_from_row(_ALERTS, row)) for row in rows[:limit])
        next_cursor = None
        if len(rows) > limit:  # one row more than asked: there is a next page
            next_cursor = encode_cursor(alerts[-1].ts_first, alerts[-1].id)
        return AlertPage(items=alerts, next_cursor=next_cursor)

    def read_page(
        self,
        table: str,
        *,
        equal: Mapping[str, str] | None = None,
        before: str | None = None,
        after: str | None = None,
        from_ns: int | None = None,
        to_ns: int | None = None,
        limit: int = 50,
    ) -> EventPage:
        """One page of a table's events at their latest version, ordered by (ts_event, id), so a cursor never
        skips or repeats one, ties included: the latest (newest first), history `before` a cursor (newest first),
        a replay `after` a cursor (oldest first), or a range `from_ns` (inclusive) .. `to_ns` (exclusive), oldest
        first unless `before` is given. `equal` keeps the rows whose columns hold these texts."""
        if not 1 <= limit <= MAX_ALERTS_PAGE:
            raise ValueError(f"limit must be within 1..{MAX_ALERTS_PAGE}")
        if before is not None and after is not None:
            raise ValueError("give before or after, not both")
        spec = schema.spec(table)
        names = {c.name for c in spec.model_columns}
        where = ["1"]
        params: dict[str, object] = {"limit": limit + 1}
        for i, (column, value) in enumerate(sorted((equal or {}).items())):
            if column not in names:
                raise ValueError(f"{table} has no column {column!r}")
            where.append(f"{quote(column)} = {{eq{i}:String}}")
            params[f"eq{i}"] = value
        if from_ns is not None:
            where.append("ts_event >= {from_ns:Int64}")
            params["from_ns"] = from_ns
        if to_ns is not None:
            where.append("ts_event < {to_ns:Int64}")
            params["to_ns"] = to_ns
        oldest_first = after is not None or (before is None and (from_ns is not None or to_ns is not None))
        cursor = after if after is not None else before
        if cursor is not None:
            where.append(_past_cursor(cursor, "ts_event", ">" if after is not None else "<", params))
        order = "ASC" if oldest_first else "DESC"
        rows = self.query(
            f"SELECT {_select_list(spec)} FROM {self.table(table)} FINAL WHERE {' AND '.join(where)} "
            f"ORDER BY ts_event {order}, id {order} LIMIT {{limit:UInt32}}",
            params,
        )
        items = tuple(schema.event_from_row(spec, row) for row in rows[:limit])
        last = rows[limit - 1] if len(rows) > limit else None
        next_cursor = None if last is None else encode_cursor(int(last["ts_event"]), str(last["id"]))
        return EventPage(items=items, next_cursor=next_cursor)

    def events_by_id(self, table: str, ids: Sequence[str]) -> list[BaseModel]:
        """The events of `table` with these ids, each at its latest version, in the order of `ids` (ids the table
        does not hold are left out; at most `MAX_IDS` ids)."""
        if len(ids) > MAX_IDS:
            raise ValueError(f"at most {MAX_IDS} ids per read, got {len(ids)}")
        if not ids:
            return []
        spec = schema.spec(table)
        rows = self.query(
            f"SELECT {_select_list(spec)} FROM {self.table(table)} FINAL WHERE has({{ids:Array(String)}}, id)",
            {"ids": list(ids)},
        )
        found = {row["id"]: schema.event_from_row(spec, row) for row in rows}
        return [found[i] for i in dict.fromkeys(ids) if i in found]

    def quote_as_of(self, symbol: str, ts_event: int) -> OptionNbbo | None:
        """The consolidated quote (venue `NBBO`) of an option contract in force at `ts_event`: the latest stored at
        or before it, or None."""
        spec = schema.TABLE_BY_EVENT_TYPE["option_nbbo"]
        rows = self.query(
            f"SELECT {_select_list(spec)} FROM {self.table(spec.name)} FINAL WHERE symbol = {{symbol:String}} "
            "AND venue = 'NBBO' AND ts_event <= {ts:Int64} ORDER BY ts_event DESC, id DESC LIMIT 1",
            {"symbol": symbol, "ts": ts_event},
        )
        return cast(OptionNbbo, schema.event_from_row(spec, rows[0])) if rows else None

    def drop_database(self) -> None:
        """Drop this store's database (tests and resets)."""
        self._command(f"DROP DATABASE IF EXISTS {quote(self._database)}")

    def stored_days(self) -> dict[str, list[date]]:
        """The days each of flowtape's tables holds (its `day` partitions: UTC dates), oldest first; tables that
        hold nothing are left out."""
        rows = self._select(
            "SELECT table, partition FROM system.parts WHERE database = {db:String} AND active "
            "GROUP BY table, partition ORDER BY table, partition",
            {"db": self._database},
        )
        days: dict[str, list[date]] = defaultdict(list)
        for row in rows:
            if row["table"] in schema.TABLES:
                days[str(row["table"])].append(date.fromisoformat(str(row["partition"]).strip("'")))
        return {table: sorted(found) for table, found in days.items()}

    def drop_days_before(self, day: date, *, dry_run: bool = False) -> list[tuple[str, date]]:
        """Drop every table's partitions of the days before `day` (retention); return (table, day) of each one
        dropped, or with `dry_run` of each one that would be, dropping nothing."""
        dropped: list[tuple[str, date]] = []
        for table, days in self.stored_days().items():
            for old in (d for d in days if d < day):
                if not dry_run:
                    self._command(f"ALTER TABLE {self.table(table)} DROP PARTITION '{old.isoformat()}'")
                dropped.append((table, old))
        return dropped


# ---------------------------------------------------------------------------------- refused rows

Refused = tuple[BaseModel, str]
"""A row the store would not take, with the store's reason."""


def insert_or_refuse(store: Any, topic: str, events: Sequence[BaseModel]) -> list[Refused]:
    """Insert events read from `topic` (`Store.insert`); return the rows the store refuses, each with the reason.

    A batch that fails for its data is split in halves until each failing row stands alone (inserts are
    idempotent on id, so re-inserting the rows of a half that did go in is harmless): one bad row costs about
    2 log2(batch) inserts and never holds the others back. `StoreUnavailable` (an outage) is raised, untouched:
    the caller retries the batch, and no row is refused for it.
    """
    if not events:
        return []
    try:
        store.insert(topic, events)
        return []
    except StoreUnavailable:
        raise
    except Exception as exc:  # a data error: a value the store's types cannot hold, a refused string, ...
        if len(events) == 1:
            return [(events[0], " ".join(f"{type(exc).__name__}: {exc}".split())[:2_000])]
    half = len(events) // 2
    return insert_or_refuse(store, topic, events[:half]) + insert_or_refuse(store, topic, events[half:])


# ------------------------------------------------------------------------------------ server store

TRANSIENT_SERVER_ERRORS = frozenset({159, 202, 209, 210, 236, 241, 252, 394})
"""Server error codes of an overloaded or interrupted server, not of the data: TIMEOUT_EXCEEDED,
TOO_MANY_SIMULTANEOUS_QUERIES, SOCKET_TIMEOUT, NETWORK_ERROR, ABORTED, MEMORY_LIMIT_EXCEEDED, TOO_MANY_PARTS,
QUERY_WAS_CANCELLED."""


class ServerStore(_BaseStore):
    """A ClickHouse server over the native protocol (clickhouse-driver); works with 18.16 and current."""

    backend = "clickhouse"

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 9000,
        database: str = schema.DEFAULT_DATABASE,
        user: str = "default",
        password: str = "",
        *,
        connect_timeout_s: float = 5.0,
        send_receive_timeout_s: float = 60.0,
    ) -> None:
        from clickhouse_driver import Client

        super().__init__(database)
        self._params = {"host": host, "port": port, "user": user, "password": password}
        # The database may not exist yet: connect to `default` and qualify every table instead.
        self._client = Client(
            **self._params,
            database="default",
            connect_timeout=connect_timeout_s,
            send_receive_timeout=send_receive_timeout_s,
        )
        # clickhouse-driver's Client is not thread-safe; the API calls it from a thread pool.
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> ServerStore:
        return cls(
            host=settings.clickhouse_host,
            port=settings.clickhouse_port,
            database=settings.clickhouse_database,
            user=settings.clickhouse_user,
            password=settings.clickhouse_password.get_secret_value(),
        )

    def _run(self, sql: str, params: object, **kwargs: Any) -> Any:
        from clickhouse_driver.errors import Error as DriverError
        from clickhouse_driver.errors import NetworkError, ServerException, SocketTimeoutError

        where = f"clickhouse {self._params['host']}:{self._params['port']}"
        try:
            with self._lock:
                return self._client.execute(sql, params, **kwargs)
        except (NetworkError, SocketTimeoutError) as exc:
            raise StoreUnavailable(f"{where}: {exc}") from exc
        except ServerException as exc:
            if exc.code in TRANSIENT_SERVER_ERRORS:
                raise StoreUnavailable(f"{where}: {exc}") from exc
            raise StoreError(f"clickhouse: {exc}") from exc
        except DriverError as exc:
            raise StoreError(f"clickhouse: {exc}") from exc
        except (OSError, EOFError) as exc:
            raise StoreUnavailable(f"{where}: {exc}") from exc

    def _select(self, sql: str, params: Mapping[str, object]) -> list[dict[str, Any]]:
        # `{name:Type}` → `%(name)s`: clickhouse-driver escapes the values client-side; literal `%`
        # in the SQL must be doubled because it formats the query with `%`.
        text = _PLACEHOLDER.sub(lambda m: f"%({m.group(1)})s", sql.replace("%", "%%"))
        rows, types = self._run(text, dict(params), with_column_types=True)
        names = [name for name, _ in types]
        return [dict(zip(names, row, strict=True)) for row in rows]

    def _command(self, sql: str) -> None:
        self._run(sql, None)

    def _insert_columns(self, table: TableSpec, columns: dict[str, list[Any]]) -> None:
        self._run(table.insert_sql(self._database) + " VALUES", list(columns.values()), columnar=True)

    def health(self) -> dict[str, Any]:
        """Return {status: ok|error, backend, version | error}; a dead server answers within about 1 s."""
        from clickhouse_driver import Client

        info: dict[str, Any] = {"backend": self.backend, "database": self._database}
        probe = Client(**self._params, connect_timeout=0.5, send_receive_timeout=1.0, sync_request_timeout=1.0)
        try:
            info["version"] = str(probe.execute("SELECT version()")[0][0])
            info["status"] = "ok"
        except Exception as exc:  # any failure is a health answer, not an error
            info["status"] = "error"
            info["error"] = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
        finally:
            probe.disconnect()
        return info

    def close(self) -> None:
        with self._lock:
            self._client.disconnect()

    def __del__(self) -> None:
        # A store held for a flow's lifetime has no explicit close point: do not leak its socket.
        with contextlib.suppress(Exception):
            self._client.disconnect()


# ---------------------------------------------------------------------------------- embedded store


class _ChdbEngine:
    """The process's one chDB session (one data path per process), shared by every EmbeddedStore."""

    def __init__(self, path: Path) -> None:
        from chdb import session as chdb_session

        self.path = path
        self.refs = 0
        # Streaming inserts need the connection to themselves; one lock orders every statement.
        self.lock = threading.RLock()
        path.mkdir(parents=True, exist_ok=True)
        try:
            factory: Any = chdb_session.Session  # untyped: keep the session as Any
            self.session: Any = factory(str(path))
        except Exception as exc:
            raise ChdbPathInUse(
                f"cannot open chDB at {path}: {exc}. Only one process may open a chDB path; "
                "stop the other flowtape process (demo or api), or give this one another directory "
                "(FLOWTAPE_CHDB_PATH), or use a ClickHouse server (FLOWTAPE_STORE=clickhouse)"
            ) from exc


_ENGINE: _ChdbEngine | None = None
_ENGINE_LOCK = threading.Lock()
_TEST_LOCK = threading.Lock()


def _acquire_engine(path: Path) -> _ChdbEngine:
    global _ENGINE
    path = path.resolve()
    with _ENGINE_LOCK:
        if _ENGINE is None:
            _ENGINE = _ChdbEngine(path)
        elif _ENGINE.path != path:
            raise ChdbPathInUse(
                f"chDB is open at {_ENGINE.path} in this process; it cannot also open {path} "
                "(one path per process: close every store on the first path, or use the same path)"
            )
        _ENGINE.refs += 1
        return _ENGINE


def _release_engine(engine: _ChdbEngine) -> None:
    global _ENGINE
    with _ENGINE_LOCK:
        engine.refs -= 1
        if engine.refs == 0 and _ENGINE is engine:
            with engine.lock:
                engine.session.close()
            _ENGINE = None


def _arrow_type(column: schema.Column) -> Any:
    import pyarrow as pa  # type: ignore[import-untyped]

    base = column.type.removeprefix("Nullable(").removesuffix(")") if column.nullable else column.type
    types = {
        "Int64": pa.int64(),
        "Float64": pa.float64(),
        "String": pa.string(),
        "Date": pa.date32(),
        "UInt8": pa.uint8(),
        "Array(String)": pa.list_(pa.string()),
    }
    return types[base]


class EmbeddedStore(_BaseStore):
    """chDB in this process: the same DDL and SQL as the server, data under one directory."""

    backend = "chdb"

    def __init__(self, path: Path | str, database: str = schema.DEFAULT_DATABASE) -> None:
        super().__init__(database)
        self._engine = _acquire_engine(Path(path))
        self._closed = False
        self._arrow_schemas: dict[str, Any] = {}

    @property
    def path(self) -> Path:
        return self._engine.path

    @classmethod
    def from_settings(cls, settings: Settings) -> EmbeddedStore:
        return cls(settings.chdb_dir, settings.clickhouse_database)

    def for_database(self, database: str) -> EmbeddedStore:
        """Return another store on the same chDB engine, bound to another database."""
        self._check_open()
        return EmbeddedStore(self._engine.path, database)

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError("store is closed")

    def _run(self, sql: str, fmt: str, params: Mapping[str, object] | None = None) -> Any:
        self._check_open()
        text_params = {k: _escaped_text(v) for k, v in params.items()} if params else None
        try:
            with self._engine.lock:
                return self._engine.session.query(sql, fmt, params=text_params)
        except Exception as exc:  # chDB raises ChdbError / RuntimeError with the server's message
            raise StoreError(f"chdb: {exc}") from exc

    def _select(self, sql: str, params: Mapping[str, object]) -> list[dict[str, Any]]:
        table = self._run(sql, "ArrowTable", params)
        rows: list[dict[str, Any]] = table.to_pylist()
        return rows

    def _command(self, sql: str) -> None:
        self._run(sql, "CSV")

    def _arrow_schema(self, table: TableSpec) -> Any:
        import pyarrow as pa

        cached = self._arrow_schemas.get(table.name)
        if cached is None:
            cached = pa.schema([pa.field(c.name, _arrow_type(c), nullable=c.nullable) for c in table.columns])
            self._arrow_schemas[table.name] = cached
        return cached

    def _insert_columns(self, table: TableSpec, columns: dict[str, list[Any]]) -> None:
        # Arrow IPC through a streaming insert: about 4x JSONEachRow, and no frame-inspecting
        # `Python()` table function (measured in tests/connectors/clickhouse/test_store_chdb.py).
        import pyarrow as pa

        self._check_open()
        try:
            batch = pa.Table.from_pydict(columns, schema=self._arrow_schema(table))
            sink = pa.BufferOutputStream()
            with pa.ipc.new_stream(sink, batch.schema) as writer:
                writer.write_table(batch)
            payload = sink.getvalue().to_pybytes()
        except (pa.ArrowException, TypeError, ValueError) as exc:
            raise StoreError(f"chdb: cannot encode {table.name} batch: {exc}") from exc
        try:
            with (
                self._engine.lock,
                self._engine.session.send_insert(table.insert_sql(self._database), "ArrowStream") as inserter,
            ):
                inserter.append(payload)
                inserter.finish()
        except Exception as exc:
            raise StoreError(f"chdb: insert into {table.name}: {exc}") from exc

    def health(self) -> dict[str, Any]:
        info: dict[str, Any] = {"backend": self.backend, "database": self._database, "path": str(self.path)}
        try:
            info["version"] = str(self._select("SELECT version() AS v", {})[0]["v"])
            info["status"] = "ok"
        except Exception as exc:
            info["status"] = "error"
            info["error"] = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
        return info

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            _release_engine(self._engine)

    def __del__(self) -> None:
        # Dropped without close(): release this store's reference so the path can close.
        if not getattr(self, "_closed", True):
            with contextlib.suppress(Exception):
                self.close()


# -------------------------------------------------------------------------------------- factories


def open_store(settings: Settings) -> Store:
    """Open the store the settings name: embedded chDB (`chdb`) or a ClickHouse server (`clickhouse`)."""
    if settings.store == "clickhouse":
        return ServerStore.from_settings(settings)
    return EmbeddedStore.from_settings(settings)


def apply_ddl(store: Store) -> list[str]:
    """Create the store's database and tables (idempotent); return the table names."""
    return store.ensure_schema()


_TEST_DIR: Path | None = None
_TEST_BASE: EmbeddedStore | None = None


def embedded_store_for_tests(database: str = "flowtape_test") -> EmbeddedStore:
    """Return a new store bound to `database` on this process's one test chDB path (a temp dir).

    Every chDB test in a session must use it (chDB opens one path per process); give each test its own
    `database` for isolation and close the store when done. The path stays open, and is removed, at exit.
    """
    global _TEST_DIR, _TEST_BASE
    with _TEST_LOCK:
        if _TEST_BASE is None:
            _TEST_DIR = Path(tempfile.mkdtemp(prefix="flowtape-chdb-tests-"))
            _TEST_BASE = EmbeddedStore(_TEST_DIR / "chdb", "default")
            atexit.register(_remove_test_dir, _TEST_DIR)
        return _TEST_BASE.for_database(database)


def _remove_test_dir(path: Path) -> None:
    global _ENGINE, _TEST_BASE
    _TEST_BASE = None
    with _ENGINE_LOCK:
        engine = _ENGINE
        if engine is not None and engine.path.is_relative_to(path.resolve()):
            _ENGINE = None
        else:
            engine = None
    if engine is not None:
        # Stores still open at exit share this engine: close it for all of them before removing its files.
        with engine.lock, contextlib.suppress(Exception):
            engine.session.close()
    shutil.rmtree(path, ignore_errors=True)


# -------------------------------------------------------------------------------------------- CLI


def main(argv: Sequence[str] | None = None) -> int:
    """`apply [--store chdb|clickhouse] [--database NAME]`: create the tables; `ddl`: print the DDL."""
    parser = argparse.ArgumentParser(prog="python -m connectors.clickhouse.store")
    sub = parser.add_subparsers(dest="command", required=True)
    apply_cmd = sub.add_parser("apply", help="create the database and tables (idempotent)")
    apply_cmd.add_argument("--store", choices=("chdb", "clickhouse"), default=None)
    apply_cmd.add_argument("--database", default=None)
    ddl_cmd = sub.add_parser("ddl", help="print the DDL")
    ddl_cmd.add_argument("--database", default=schema.DEFAULT_DATABASE)
    args = parser.parse_args(argv)
    # The driver logs a traceback per failed connect; the one-line error below says the same.
    logging.getLogger("clickhouse_driver").setLevel(logging.CRITICAL)

    if args.command == "ddl":
        print(";\n\n".join(schema.render_ddl(check_identifier(args.database))) + ";")
        return 0
    overrides: dict[str, Any] = {}
    if args.store:
        overrides["store"] = args.store
    if args.database:
        overrides["clickhouse_database"] = check_identifier(args.database)
    settings = Settings(**overrides)
    store = open_store(settings)
    try:
        tables = apply_ddl(store)
    except StoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        store.close()
    print(f"{store.backend}: database {store.database}: {len(tables)} tables ({', '.join(tables)})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
