"""Connection and runtime settings, read from `FLOWTAPE_<NAME>` environment variables.

Provider secrets come only from the environment and are never logged (`SecretStr`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from events.units import NS_PER_MS


class Settings(BaseSettings):
    """Where flowtape reads and writes: broker, stores, cache, API, synthetic market."""

    model_config = SettingsConfigDict(env_prefix="FLOWTAPE_", frozen=True, extra="ignore")

    state_dir: Path = Field(Path(".flowtape"), description="local state: chDB data, service data, recovery")
    kafka_bootstrap: str = Field("127.0.0.1:19092", description="Kafka-API bootstrap servers")
    kafka_partitions: int = Field(4, gt=0, description="partitions per topic when flowtape creates topics")
    namespace: str = Field("", description="topic namespace for input and output (an isolated world)")
    output_namespace: str | None = Field(
        None, description="replay: write derived topics under this namespace instead (default: namespace)"
    )
    kafka_tail: bool = Field(True, description="keep consuming at the end of topics (live); false: stop (replay)")
    replay_from_ts_ms: int | None = Field(None, description="replay: start consuming at this Kafka timestamp")
    idle_close_ms: int = Field(
        1000,
        ge=0,
        description="live flows (kafka_tail): an underlying without a new print this long (wall time) has its event "
        "time moved on by the wall time passed, closing its packets, structures, context and candles; 0 = off; "
        "never in replay",
    )
    ingest_source: Literal["synthetic", "files"] = Field("synthetic", description="flows.ingest input")
    ingest_files: str = Field("", description="flows.ingest: DBN/JSONL files, separated by ':' (os.pathsep)")
    ingest_speed: float = Field(
        1.0, ge=0, description="flows.ingest synthetic pacing, multiple of real time; 0 = as fast as possible"
    )
    store: Literal["chdb", "clickhouse"] = Field("chdb", description="embedded chDB or a ClickHouse server")
    chdb_path: Path | None = Field(None, description="chDB data directory (default <state_dir>/chdb)")
    clickhouse_host: str = Field("127.0.0.1", description="ClickHouse server host (native protocol)")
    clickhouse_port: int = Field(19000, gt=0, description="ClickHouse server native TCP port")
    clickhouse_database: str = Field("flowtape", description="ClickHouse database")
    clickhouse_user: str = Field("default", description="ClickHouse user")
    clickhouse_password: SecretStr = Field(SecretStr(""), description="ClickHouse password")
    redis_url: str = Field("redis://127.0.0.1:16379/0", description="Redis URL (hot cache, baselines)")
    baselines: Literal["redis", "off"] = Field(
        "redis",
        description="flows.options and flows.equities: read volume baselines (and average daily volumes) from Redis "
        "at start (off: none)",
    )
    api_host: str = Field("127.0.0.1", description="API bind address; anything but loopback needs a token")
    api_port: int = Field(8000, gt=0, description="API port")
    api_token: SecretStr | None = Field(
        None,
        description="bearer token required when binding off loopback; with one set, /health tells a request without "
        "it only up or down",
    )
    sink_batch_rows: int = Field(5000, gt=0, description="rows per ClickHouse insert batch")
    synthetic_seed: int = Field(7, description="seed of the synthetic market")
    synthetic_profile: Literal["realistic", "active", "firehose"] = Field(
        "realistic", description="synthetic market intensity"
    )
    synthetic_duration_s: float = Field(23_400.0, gt=0, description="length of the synthetic session")
    synthetic_underlyings: str = Field("SPY,QQQ,AAPL,NVDA,TSLA", description="comma-separated universe")
    databento_api_key: SecretStr | None = Field(None, description="Databento key (live/historical download)")
    metrics_port: int = Field(
        0,
        ge=0,
        lt=65536,
        description="flows.options, flows.equities, flows.sink and flows.ingest: serve their Kafka counters at "
        "http://<api_host>:<port>/metrics (one port per process); 0 = off",
    )
    gc_threshold: int = Field(
        50_000,
        ge=0,
        description="flowtape's processes: allocations between two young garbage collections (fewer, so a long "
        "session's cost stays flat; see flows/collector.py); 0 = Python's default",
    )

    @property
    def idle_ns(self) -> int | None:
        """The flows' idle timer in ns: set while tailing live topics, None in replay or when switched off."""
        return self.idle_close_ms * NS_PER_MS if self.kafka_tail and self.idle_close_ms > 0 else None

    @property
    def chdb_dir(self) -> Path:
        return self.chdb_path or self.state_dir / "chdb"

    @property
    def derived_namespace(self) -> str:
        return self.namespace if self.output_namespace is None else self.output_namespace

    @property
    def universe(self) -> tuple[str, ...]:
        return tuple(s.strip().upper() for s in self.synthetic_underlyings.split(",") if s.strip())
