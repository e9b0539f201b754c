"""Storage: ClickHouse server (clickhouse-driver) or embedded chDB behind one `Store` interface.

`schema` generates the portable DDL and the rows from the event contracts; `store` runs it.
"""
