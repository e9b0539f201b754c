"""`flowtape demo`: the embedded default. Synthetic market -> the same options flow in-process -> chDB,
the API on 127.0.0.1:8000, and a live alert tape in the terminal.

`--input FILE...` runs recorded files (DBN, JSONL; merged by event time, as `flowtape replay` reads them) instead
of the synthetic market, at `--speed` (0: as fast as the flows go), and keeps the API serving what they derived
once they end, until Ctrl-C. Input lines that are not valid events are stored as dead letters.
"""

from __future__ import annotations

import argparse
import socket
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

from bytewax.testing import run_main
from rich.console import Console

from cli.interrupt import EXIT_INTERRUPTED, Interrupt
from connectors.bytewax_io import CallbackSink, IterableSource, StoreSink
from connectors.clickhouse.store import Store, open_store
from connectors.settings import Settings
from events.calendar import NEW_YORK
from events.config import OptionsConfig
from events.models import Alert, AnyEvent, DarkInference, DeadLetter, DerivedEvent
from events.units import NS_PER_S, format_price, format_usd
from events.views import etf_symbols, filter_profile, visible
from flows.embedded import build_embedded_flow
from flows.inputs import InputStats, check_inputs, guarded, read_inputs

DEMO_DATABASE_SUFFIX = "_demo"
"""The demo stores into a database of its own, `<FLOWTAPE_CLICKHOUSE_DATABASE>_demo`, never the real one."""
_SEVERITY_RANK = {"low": 0, "medium": 1, "high": 2}
_STYLE = {"low": "dim", "medium": "yellow", "high": "bold red"}
IDLE_POLL_S = 0.2
"""How often a demo that has read all its recorded input checks for Ctrl-C while it keeps serving."""
API_STOP_S = 5.0
"""How long the demo waits for the API to finish its requests when the session ends."""
_DIRECTION_STYLE = {"bullish": "green", "bearish": "red", "neutral": "white"}


def format_tape_line(alert: Alert) -> str:
    """Return one rich-markup line of the alert tape (event time shown in New York time)."""
    when = datetime.fromtimestamp(alert.ts_event / NS_PER_S, tz=UTC).astimezone(NEW_YORK)
    sev = alert.severity
    updated = f" [dim](update {alert.revision})[/]" if alert.revision else ""
    return (
        f"{when:%H:%M:%S}.{when.microsecond // 1000:03d} [{_STYLE[sev]}]{sev.upper():<6} {alert.score:>3}[/] "
        f"[{_DIRECTION_STYLE[alert.direction]}]{alert.headline}[/]{updated}"
    )


def format_dark_line(inference: DarkInference) -> str:
    """Return one rich-markup line of the tape for a dark-pool inference."""
    when = datetime.fromtimestamp(inference.ts_event / NS_PER_S, tz=UTC).astimezone(NEW_YORK)
    return (
        f"{when:%H:%M:%S}.{when.microsecond // 1000:03d} [magenta]DARK  {round(inference.confidence * 100):>3}[/] "
        f"[{_DIRECTION_STYLE[inference.direction]}]{inference.underlying} {inference.kind}: "
        f"{inference.size_shares:,} sh in {inference.print_count} off-exchange prints @ "
        f"{format_price(inference.vwap_e9, 4)} ({format_usd(inference.notional_cents)})[/]"
    )


def _port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def start_api(store: Store, settings: Settings, port: int) -> Callable[[], None]:
    """Serve the API from `store` in a daemon thread; raise if the port is taken. Return what stops it."""
    import uvicorn

    from api.app import create_app

    if not _port_free(settings.api_host, port):
        raise ValueError(f"{settings.api_host}:{port} is in use: stop the other server or pass --port")
    app = create_app(store_factory=lambda: store, settings=settings, check_redis=False)  # the demo needs no Redis
    server = uvicorn.Server(uvicorn.Config(app, host=settings.api_host, port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="flowtape-api", daemon=True)
    thread.start()

    def stop() -> None:
        server.should_exit = True
        thread.join(timeout=API_STOP_S)

    return stop


def run_demo(args: argparse.Namespace) -> int:
    """Run the demo until the synthetic session ends (recorded input: until Ctrl-C) or Ctrl-C."""
    from connectors.synthetic import SyntheticConfig, SyntheticMarket, iter_paced

    files: list[Path] = list(args.input or [])
    stats = InputStats()
    if files:
        check_inputs(files)  # a missing, unsupported or unreadable file is one line before any work
    settings = Settings()
    settings = settings.model_copy(update={"clickhouse_database": settings.clickhouse_database + DEMO_DATABASE_SUFFIX})
    console = Console()
    seed = settings.synthetic_seed if args.seed is None else args.seed
    profile = args.profile or settings.synthetic_profile
    port = args.port or settings.api_port
    store = open_store(settings)
    if not args.keep:
        store.drop_database()  # the demo's own database: a session shows its own tape, not the last one's
    store.ensure_schema()
    kept = "kept from earlier sessions" if args.keep else "emptied; --keep keeps it"
    source = f"{len(files)} recorded file(s)" if files else f"synthetic market (seed {seed}, {profile})"
    console.print(
        f"[bold]flowtape demo[/]: {source} -> options and equities flows -> {store.backend} "
        f"(database {store.database}, {kept})"
    )
    stop_api: Callable[[], None] | None = None
    if not args.no_api:
        stop_api = start_api(store, settings, port)
        base = f"http://{settings.api_host}:{port}"
        console.print(f"API {base}/alerts  docs {base}/docs  health {base}/health")
    console.print("[dim]alert tape (event time, New York); Ctrl-C to stop[/]")

    market = SyntheticMarket(
        SyntheticConfig(seed=seed, profile=profile, underlyings=settings.universe, duration_s=args.duration_s),
        keep_truth=False,
    )
    min_rank = _SEVERITY_RANK[args.min_severity]
    config = OptionsConfig()
    profile = filter_profile(args.view, config)
    etfs = etf_symbols(config)

    def events() -> Iterator[AnyEvent]:
        tape = guarded(read_inputs(files, stats), stats) if files else market.events()
        yield from iter_paced(tape, args.speed)

    def show(items: list[DerivedEvent]) -> None:
        for item in items:
            if (
                isinstance(item, Alert)
                and _SEVERITY_RANK[item.severity] >= min_rank
                and visible(item, profile, etf_symbols=etfs)
            ):
                console.print(format_tape_line(item), highlight=False, soft_wrap=True)
            elif isinstance(item, DarkInference):
                console.print(format_dark_line(item), highlight=False, soft_wrap=True)

    derived_sink: StoreSink[DerivedEvent] = StoreSink(store, batch_rows=settings.sink_batch_rows, flush_s=0.5)
    raw_sink: StoreSink[AnyEvent] = StoreSink(store, batch_rows=settings.sink_batch_rows, flush_s=0.5)
    dead_sink: StoreSink[DeadLetter] = StoreSink(store, batch_rows=settings.sink_batch_rows, flush_s=0.5)
    batch = 64 if args.speed > 0 else 4096
    interrupt = Interrupt()
    flow = build_embedded_flow(
        IterableSource(events, batch_size=batch, stop=interrupt),
        {"store_derived": derived_sink, "show_alert_tape": CallbackSink(show)},
        config=config,
        raw_sink=raw_sink,
        name="flowtape_demo",
        dead_letter_sink=dead_sink,  # events an engine raised on: the dead_letters table
    )
    try:
        with interrupt:
            run_main(flow)  # type: ignore[no-untyped-call]
            if stats.dead_letters:
                store.insert("dead_letters", stats.dead_letters)
                console.print(f"[yellow]{len(stats.dead_letters):,} input lines were not events: dead_letters[/]")
            if stats.error is not None:
                console.print(f"[red]input stopped: {stats.error}[/]")
            if files and stop_api is not None and not interrupt.requested:
                console.print(
                    f"[dim]input done: stored {store.count('flow.alerts'):,} alert rows; serving until Ctrl-C[/]"
                )
                while not interrupt.requested:
                    time.sleep(IDLE_POLL_S)
    finally:
        console.print(f"[dim]stored {store.count('flow.alerts'):,} alert rows in {store.backend}[/]")
        # Stop serving before the store goes: an API thread still querying chDB while the interpreter tears the
        # engine down crashed the process on exit.
        if stop_api is not None:
            stop_api()
        store.close()
    return EXIT_INTERRUPTED if interrupt.requested else 0
