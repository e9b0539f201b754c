"""ClickHouse tables generated from the event contracts, and the conversion of events to rows and columns.

One table per registered payload model (`events.models.registry`), columns in the model's field order,
then `day` (the partition key). The DDL is portable: it runs on the ClickHouse server Debian ships (18.16)
and on chDB (26.x), so it uses only Int64 nanosecond timestamps, `Date`, `String` (Literals and JSON text:
dicts and tuples of nested records), `UInt8` booleans, `Array(String)`, `Nullable(scalar)` and
`ReplacingMergeTree(<version>) PARTITION BY day ORDER BY id`. Reads take the latest version of each id with
`FINAL` (or `argMax`).

`python -m connectors.clickhouse.schema` rewrites `deploy/clickhouse/001_tables.sql`; a test keeps the
checked-in file equal to the generated one, so the contracts and the DDL cannot drift.
"""

from __future__ import annotations

import json
import re
import sys
import types
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel

from events import topics
from events.ids import derived_event_id
from events.models import DeadLetter
from events.models.registry import REGISTRY
from events.units import NS_PER_S

ColumnKind = Literal["int", "float", "str", "bool", "date", "json", "array"]

DAY_COLUMN = "day"
DEAD_LETTERS = "dead_letters"
DEFAULT_DATABASE = "flowtape"
DDL_FILE = Path(__file__).resolve().parents[2] / "deploy" / "clickhouse" / "001_tables.sql"

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
_EPOCH = date(1970, 1, 1)
_NS_PER_DAY = 86_400 * NS_PER_S


def check_identifier(name: str) -> str:
    """Return `name` if it is a plain identifier (letters, digits, `_`; not leading digit), else raise."""
    if not _IDENTIFIER.fullmatch(name):
        raise ValueError(f"not a valid ClickHouse identifier: {name!r}")
    return name


def quote(name: str) -> str:
    """Return a validated identifier in backticks (safe for reserved words such as `partition`)."""
    return f"`{check_identifier(name)}`"


@dataclass(frozen=True, slots=True)
class Column:
    """One table column: its ClickHouse type and how a Python value becomes a stored value."""

    name: str
    type: str
    kind: ColumnKind
    nullable: bool = False

    def ddl(self) -> str:
        return f"{quote(self.name)} {self.type}"


@dataclass(frozen=True, slots=True)
class TableSpec:
    """A table made from one payload model.

    `version` is the ReplacingMergeTree version column (the highest wins per id); `day_from` is the
    nanosecond field the `day` partition is computed from. It must not change between versions of an id,
    or two versions would land in different partitions and FINAL would keep both.
    """

    name: str
    topic: str
    model: type[BaseModel]
    event_type: str
    columns: tuple[Column, ...]
    version: str
    day_from: str

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def model_columns(self) -> tuple[Column, ...]:
        """Columns that are fields of the model (everything but the computed ones)."""
        fields = self.model.model_fields
        return tuple(c for c in self.columns if c.name in fields)

    def qualified(self, database: str) -> str:
        return f"{quote(database)}.{quote(self.name)}"

    def create_sql(self, database: str) -> str:
        cols = ",\n".join(f"    {c.ddl()}" for c in self.columns)
        return (
            f"CREATE TABLE IF NOT EXISTS {self.qualified(database)}\n(\n{cols}\n)\n"
            f"ENGINE = ReplacingMergeTree({quote(self.version)})\n"
            f"PARTITION BY {quote(DAY_COLUMN)}\n"
            f"ORDER BY {quote('id')}"
        )

    def insert_sql(self, database: str) -> str:
        """Return `INSERT INTO db.t (every column, in order)` without VALUES or FORMAT."""
        names = ", ".join(quote(n) for n in self.column_names)
        return f"INSERT INTO {self.qualified(database)} ({names})"


# --------------------------------------------------------------------------------- type mapping


def _strip_annotated(tp: Any) -> Any:
    while get_origin(tp) is Annotated:
        tp = get_args(tp)[0]
    return tp


def _scalar(tp: Any, where: str) -> tuple[str, ColumnKind]:
    if tp is bool:
        return "UInt8", "bool"
    if tp is int:
        return "Int64", "int"
    if tp is float:
        return "Float64", "float"
    if tp is str:
        return "String", "str"
    if tp is date:
        return "Date", "date"
    if get_origin(tp) is Literal:
        values = get_args(tp)
        if all(isinstance(v, bool) for v in values):
            return "UInt8", "bool"
        if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            return "Int64", "int"
        if all(isinstance(v, str) for v in values):
            # String, not Enum8: a new literal value must not need an ALTER on every server.
            return "String", "str"
    raise TypeError(f"{where}: no portable ClickHouse type for {tp!r}")


def column_for(name: str, annotation: Any, where: str = "") -> Column:
    """Map a model field to a column: int → Int64, bool → UInt8, float → Float64, str/Literal → String,
    date → Date, X | None → Nullable(X), tuple[str, ...] → Array(String), dict, tuple[int | float, ...] and
    tuple[Model, ...] → String (JSON)."""
    where = where or name
    tp = _strip_annotated(annotation)
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        args = [a for a in get_args(tp) if a is not type(None)]
        if len(args) != 1 or len(get_args(tp)) != 2:
            raise TypeError(f"{where}: only `X | None` unions are storable, got {tp!r}")
        inner = column_for(name, args[0], where)
        if inner.kind in ("array", "json"):
            # 18.16 has no Nullable(Array); an optional dict or tuple has no use yet.
            raise TypeError(f"{where}: optional {inner.type} is not storable portably")
        return Column(name, f"Nullable({inner.type})", inner.kind, nullable=True)
    if origin is tuple:
        items = get_args(tp)
        if len(items) == 2 and items[1] is Ellipsis:
            item = _strip_annotated(items[0])
            if isinstance(item, type) and issubclass(item, BaseModel):
                # Nested records (structure legs): 18.16 has no Tuple/Nested we can rely on, so JSON text.
                return Column(name, "String", "json")
            item_type, _ = _scalar(item, where)
            if item_type == "String":
                return Column(name, "Array(String)", "array")
            if item_type in ("Int64", "Float64"):
                # Numeric vectors (a baseline's 78 bucket means) are read whole, never filtered on: JSON text.
                return Column(name, "String", "json")
        raise TypeError(f"{where}: only tuple[str | int | float, ...] or a tuple of models is storable, got {tp!r}")
    if origin is dict or tp is dict:
        return Column(name, "String", "json")
    ch_type, kind = _scalar(tp, where)
    return Column(name, ch_type, kind)


def _columns_of(model: type[BaseModel], extra_first: Sequence[Column] = ()) -> tuple[Column, ...]:
    cols = list(extra_first)
    for name, field in model.model_fields.items():
        cols.append(column_for(name, field.annotation, f"{model.__name__}.{name}"))
    cols.append(Column(DAY_COLUMN, "Date", "date"))
    return tuple(cols)


def _spec(
    name: str, topic: str, model: type[BaseModel], *, version: str = "ts_event", day_from: str = "ts_event"
) -> TableSpec:
    event_type = model.model_fields["event_type"].default
    columns = _columns_of(model)
    names = {c.name for c in columns}
    if not {"id", version, day_from} <= names:
        raise TypeError(f"{model.__name__}: needs id, {version} and {day_from} fields to be stored")
    return TableSpec(name, topic, model, event_type, columns, version, day_from)


# Dead letters carry no id and no event time: the sink gives them a content id and its receive time.
_DEAD_LETTER_EXTRA = (Column("id", "String", "str"), Column("ts_recv", "Int64", "int"))

_SPECS: tuple[TableSpec, ...] = (
    *(_spec(e.table, e.topic, e.model, version=e.version, day_from=e.day_from) for e in REGISTRY),
    TableSpec(
        DEAD_LETTERS,
        "*" + topics.DLQ_SUFFIX,
        DeadLetter,
        "dead_letter",
        _columns_of(DeadLetter, _DEAD_LETTER_EXTRA),
        version="ts_recv",
        day_from="ts_recv",
    ),
)
"""Every table: one per registered event type (`events.models.registry`), then the dead letters."""

TABLES: dict[str, TableSpec] = {s.name: s for s in _SPECS}
"""Every table, by table name (the refdata topic feeds two tables, so topics are not unique keys)."""

TABLE_BY_EVENT_TYPE: dict[str, TableSpec] = {s.event_type: s for s in _SPECS}

TOPIC_TABLES: dict[str, tuple[str, ...]] = {
    topic: tuple(s.name for s in _SPECS if s.topic == topic) for topic in topics.ALL_TOPICS
}
"""The tables each topic is stored in (`refdata.options` → definitions and open interest)."""


def spec(table: str) -> TableSpec:
    """Return the spec of an allow-listed table, or raise KeyError."""
    try:
        return TABLES[table]
    except KeyError:
        raise KeyError(f"unknown table {table!r}; known: {', '.join(TABLES)}") from None


def tables_for_topic(topic: str) -> tuple[TableSpec, ...]:
    """Return the table specs a topic (namespaced or not, or `<topic>.dlq`, or a table name) lands in."""
    if topic in TABLES:
        return (TABLES[topic],)
    if topic.endswith(topics.DLQ_SUFFIX):
        return (TABLES[DEAD_LETTERS],)
    return tuple(TABLES[name] for name in TOPIC_TABLES[topics.base_topic(topic)])


def table_for(event: BaseModel) -> TableSpec:
    """Return the table an event is stored in."""
    try:
        return TABLE_BY_EVENT_TYPE[event.event_type]  # type: ignore[attr-defined]
    except (AttributeError, KeyError):
        raise TypeError(f"not a storable event: {type(event).__name__}") from None


# ------------------------------------------------------------------------------------------ DDL


def render_ddl(database: str = DEFAULT_DATABASE) -> list[str]:
    """Return the statements that create the database and every table (idempotent: IF NOT EXISTS)."""
    return [f"CREATE DATABASE IF NOT EXISTS {quote(database)}"] + [s.create_sql(database) for s in _SPECS]


def render_ddl_file(database: str = DEFAULT_DATABASE) -> str:
    header = (
        "-- Generated from events/models.py by `python -m connectors.clickhouse.schema`: do not edit.\n"
        "-- Portable: ClickHouse 18.16 and current releases (chDB). Apply with\n"
        "--   clickhouse-client --multiquery < deploy/clickhouse/001_tables.sql\n"
    )
    return header + "".join(f"\n{stmt};\n" for stmt in render_ddl(database))


def write_ddl_files(path: Path = DDL_FILE, database: str = DEFAULT_DATABASE) -> Path:
    """Write the generated DDL to `deploy/clickhouse/001_tables.sql` (or `path`)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_ddl_file(database), encoding="utf-8")
    return path


# ----------------------------------------------------------------------------- rows and columns


def day_of(ts_ns: int) -> date:
    """Return the UTC calendar day of a nanosecond timestamp."""
    return _EPOCH + timedelta(days=ts_ns // _NS_PER_DAY)


def _days_of(timestamps: Sequence[int]) -> list[date]:
    # A batch spans a day or two: build each date once.
    cache: dict[int, date] = {}
    out: list[date] = []
    for ts in timestamps:
        n = ts // _NS_PER_DAY
        day = cache.get(n)
        if day is None:
            day = cache[n] = _EPOCH + timedelta(days=n)
        out.append(day)
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    raise TypeError(f"not JSON-storable: {type(value).__name__}")


def _json_text(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True, default=_plain)


def _converter(column: Column) -> Callable[[Any], Any] | None:
    """Return how a model value becomes a stored value, or None when it is stored as is."""
    if column.kind == "bool":
        return lambda v: None if v is None else int(v)
    if column.kind == "json":
        return _json_text
    # Tuples go as they are: clickhouse-driver and pyarrow both take them for Array(String).
    return None


def dead_letter_id(letter: DeadLetter) -> str:
    """Return the content id of a dead letter (same payload at the same place → same id)."""
    parts = (letter.topic, letter.partition, letter.offset, letter.key, letter.error, letter.payload)
    return derived_event_id("dead_letter", (str(p) for p in parts))


def _check_events(table: TableSpec, events: Iterable[BaseModel]) -> None:
    model = table.model
    for event in events:
        if type(event) is not model:
            raise TypeError(f"table {table.name} stores {model.__name__}, got {type(event).__name__}")


def columns_for(
    events: Sequence[BaseModel], table: TableSpec | None = None, *, ts_recv_ns: int | None = None
) -> dict[str, list[Any]]:
    """Return the table's columns, in order, for a batch of events of one model (columnar insert).

    `ts_recv_ns` is the receive time given to dead letters (they carry none); other tables ignore it.
    """
    if table is None:
        if not events:
            raise ValueError("an empty batch needs its table")
        table = table_for(events[0])
    _check_events(table, events)
    out: dict[str, list[Any]] = {}
    for column in table.model_columns:
        values = [getattr(e, column.name) for e in events]
        convert = _converter(column)
        out[column.name] = values if convert is None else [convert(v) for v in values]
    if table.name == DEAD_LETTERS:
        if ts_recv_ns is None:
            raise ValueError("dead letters need ts_recv_ns (the sink's receive time)")
        out["id"] = [dead_letter_id(e) for e in events]  # type: ignore[arg-type]
        out["ts_recv"] = [ts_recv_ns] * len(events)
    out[DAY_COLUMN] = _days_of(out[table.day_from])
    return {name: out[name] for name in table.column_names}


def row_for(event: BaseModel, *, ts_recv_ns: int | None = None) -> tuple[Any, ...]:
    """Return one event as a row with exactly its table's columns, in order."""
    table = table_for(event)
    columns = columns_for([event], table, ts_recv_ns=ts_recv_ns)
    return tuple(values[0] for values in columns.values())


def event_from_row(table: TableSpec, row: dict[str, Any]) -> BaseModel:
    """Rebuild the event a stored row came from (JSON text back to dicts; computed columns dropped)."""
    data: dict[str, Any] = {}
    for column in table.model_columns:
        value = row[column.name]
        if column.kind == "json" and isinstance(value, str):
            value = json.loads(value)
        elif column.kind == "bool" and value is not None:
            value = bool(value)
        data[column.name] = value
    return table.model.model_validate(data)


def main(argv: Sequence[str] | None = None) -> int:
    """Write the generated DDL file; `--check` only compares it and exits 1 on drift."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args == ["--check"]:
        current = DDL_FILE.read_text(encoding="utf-8") if DDL_FILE.exists() else ""
        if current != render_ddl_file():
            print(f"{DDL_FILE} is out of date: run python -m connectors.clickhouse.schema", file=sys.stderr)
            return 1
        return 0
    if args:
        print("usage: python -m connectors.clickhouse.schema [--check]", file=sys.stderr)
        return 2
    print(write_ddl_files())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
