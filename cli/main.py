"""The `flowtape` command: demo, replay, evaluate, services, api, bench, db, config."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path


def _add_demo(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "demo",
        help="run the synthetic market through the flows in-process, store in chDB, serve the API, show alerts",
        description="The embedded default: synthetic market -> options flow -> chDB -> API on 127.0.0.1:8000, "
        "with a live alert tape in the terminal. Stop with Ctrl-C.",
    )
    p.add_argument("--seed", type=int, default=None, help="synthetic market seed (default FLOWTAPE_SYNTHETIC_SEED)")
    p.add_argument("--profile", choices=["realistic", "active", "firehose"], default=None, help="market intensity")
    p.add_argument("--speed", type=float, default=1.0, help="pace as a multiple of real time; 0 = as fast as possible")
    p.add_argument("--duration-s", type=float, default=6.5 * 3600, help="length of the synthetic session, seconds")
    p.add_argument("--port", type=int, default=None, help="API port (default FLOWTAPE_API_PORT, 8000)")
    p.add_argument("--no-api", action="store_true", help="do not serve the API")
    p.add_argument(
        "--input",
        nargs="+",
        type=Path,
        default=None,
        metavar="FILE",
        help="recorded files (.dbn, .dbn.zst, .jsonl; merged by event time) instead of the synthetic market; the API "
        "keeps serving once they end, until Ctrl-C",
    )
    p.add_argument(
        "--keep",
        action="store_true",
        help="keep what earlier demo sessions stored (default: each session starts from an empty demo database)",
    )
    p.add_argument(
        "--min-severity",
        choices=["low", "medium", "high"],
        default="medium",
        help="alert tape filter (every alert is still computed, stored and served)",
    )
    p.add_argument(
        "--view",
        choices=["smart-money", "balanced", "all"],
        default="all",
        help="presentation filter of the alert tape (BEHAVIOR section 6; the API takes ?view= too)",
    )


def _add_replay(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "replay",
        help="run recorded input (DBN or JSONL files, or a synthetic session) through the flows, write JSONL",
        description="Replay recorded input in-process as fast as possible and write every derived topic as "
        "JSONL into --out (sorted, so the same input gives byte-identical files).",
    )
    p.add_argument("files", nargs="*", type=Path, help=".dbn, .dbn.zst or .jsonl files (merged by ts_event)")
    p.add_argument("--out", type=Path, required=True, help="output directory")
    p.add_argument("--workers", type=int, default=1, help="Bytewax workers in this process (in each, with --processes)")
    p.add_argument(
        "--processes",
        type=int,
        default=1,
        help="split the replay by underlying over N local processes (same output files as one process)",
    )
    p.add_argument("--synthetic-s", type=float, default=None, help="replay N seconds of the synthetic market")
    p.add_argument("--seed", type=int, default=7, help="synthetic seed (with --synthetic-s)")
    p.add_argument("--profile", choices=["realistic", "active", "firehose"], default="realistic")
    p.add_argument("--underlyings", default=None, help="synthetic universe, comma-separated (default: settings)")
    p.add_argument("--write-input", action="store_true", help="also write the input events as input.jsonl")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def _add_evaluate(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "evaluate",
        help="score every classifier against a labeled synthetic session (precision, recall, misses)",
        description="Replay a synthetic session with planted, labeled scenarios (positives and hard negatives) "
        "through the flows in-process with the default thresholds, and print precision and recall per "
        "classifier for hits and for alerts (a hit or alert on background prints is a false positive), false "
        "alerts per underlying-hour, misses, false positives and false alerts with their explanations. Exits 1 "
        "when an evaluated classifier is below --min or false alerts per underlying-hour exceed --max-false-alerts.",
    )
    p.add_argument("--seed", type=int, default=7, help="synthetic market seed (default 7)")
    p.add_argument(
        "--profile", choices=["realistic", "active", "firehose"], default="realistic", help="market intensity"
    )
    p.add_argument("--seconds", type=float, default=300.0, help="length of the synthetic session (default 300)")
    p.add_argument(
        "--plant-every-s",
        type=float,
        default=2.0,
        help="mean seconds between planted scenarios per underlying (default 2)",
    )
    p.add_argument("--underlyings", default=None, help="comma-separated universe (default SPY,QQQ,AAPL,NVDA,TSLA)")
    p.add_argument(
        "--min",
        type=float,
        default=0.9,
        help="minimum recall and precision per classifier, hits and alerts (default 0.9)",
    )
    p.add_argument(
        "--max-false-alerts",
        type=float,
        default=1.0,
        help="maximum false alerts per underlying-hour: false alerts / (underlyings x session hours) (default 1)",
    )
    p.add_argument("--workers", type=int, default=1, help="Bytewax workers in this process")
    p.add_argument(
        "--max-rows", type=int, default=20, help="rows shown of the misses, false positives and false alerts tables"
    )
    p.add_argument("--require-all", action="store_true", help="also fail when a classifier could not be evaluated")


PASSTHROUGH = ("services", "db", "bench", "baselines")
"""Subcommands that parse their own arguments (their modules also run standalone)."""


def _add_passthrough(sub: argparse._SubParsersAction[argparse.ArgumentParser], name: str, help_text: str) -> None:
    p = sub.add_parser(name, help=help_text, add_help=False)
    p.add_argument("args", nargs=argparse.REMAINDER)


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the `flowtape` command."""
    parser = argparse.ArgumentParser(
        prog="flowtape",
        description="Real-time, explainable options-flow and off-exchange print analysis.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_demo(sub)
    _add_replay(sub)
    _add_evaluate(sub)
    _add_passthrough(sub, "services", "start/stop/status of the local Kafka broker, ClickHouse server and Redis")
    _add_passthrough(sub, "db", "apply the ClickHouse DDL to chDB or the server")
    _add_passthrough(sub, "bench", "measure pipeline throughput in-process and versus a plain loop")
    _add_passthrough(sub, "baselines", "daily job: historical volume baselines from ClickHouse into Redis")
    api = sub.add_parser("api", help="serve the REST API from the configured store")
    api.add_argument("--port", type=int, default=None, help="port (default FLOWTAPE_API_PORT)")
    keep = sub.add_parser("retention", help="drop the stored days older than --keep-days, in every table")
    keep.add_argument("--keep-days", type=int, required=True, help="days kept before today (UTC); 0 keeps today only")
    keep.add_argument("--dry-run", action="store_true", help="list what would be dropped, drop nothing")
    cfg = sub.add_parser("config", help="print every setting with its default, as a Markdown table")
    cfg.add_argument("--current", action="store_true", help="show current values (secrets masked)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the `flowtape` command."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in PASSTHROUGH:
        # argparse's REMAINDER drops a leading option such as --help: hand the rest over untouched.
        args = argparse.Namespace(command=argv[0], args=argv[1:])
    else:
        args = build_parser().parse_args(argv)
    try:
        from connectors.settings import Settings
        from flows.collector import tune_collector

        tune_collector(Settings().gc_threshold)
        return _dispatch(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except (FileNotFoundError, ValueError) as exc:
        print(f"flowtape {args.command}: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except RuntimeError as exc:
        from connectors.clickhouse.store import StoreError  # imported here: only an error pays for it

        if not isinstance(exc, StoreError):
            raise
        # The store is down or held by another process: one line, not a traceback.
        print(f"flowtape {args.command}: error: {str(exc).splitlines()[0]}", file=sys.stderr)
        return 1


def _one_line(exc: Exception) -> str:
    """A user error in one line: a settings model's validation errors joined, else the message."""
    from pydantic import ValidationError

    if not isinstance(exc, ValidationError):
        return str(exc)
    problems = []
    for error in exc.errors():
        name = ".".join(str(part) for part in error["loc"])
        where = f"{name} (FLOWTAPE_{name.upper()})" if len(error["loc"]) == 1 else name  # the settings' env prefix
        problems.append(f"{where}: {error['msg']} (got {error.get('input')!r})")
    return f"invalid {exc.title}: " + "; ".join(problems)


def _dispatch(args: argparse.Namespace) -> int:
    command: str = args.command
    if command == "demo":
        from cli.demo import run_demo

        return run_demo(args)
    if command == "replay":
        from cli.replay import run_replay_cli

        return run_replay_cli(args)
    if command == "evaluate":
        from cli.evaluate import run_evaluate_cli

        return run_evaluate_cli(args)
    if command == "services":
        from deploy.services import main as services_main

        return services_main(list(args.args))
    if command == "db":
        from connectors.clickhouse.store import main as db_main

        return db_main(list(args.args))
    if command == "bench":
        from cli.bench import main as bench_main

        return bench_main(list(args.args))
    if command == "baselines":
        from cli.baselines import main as baselines_main

        return baselines_main(list(args.args))
    if command == "api":
        from cli.api import run_api

        return run_api(args.port)
    if command == "retention":
        from cli.retention import run_retention

        return run_retention(args)
    if command == "config":
        from cli.config import print_settings

        return print_settings(current=args.current)
    raise AssertionError(command)


if __name__ == "__main__":
    raise SystemExit(main())
