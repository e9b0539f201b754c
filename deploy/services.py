"""Start, stop and report the real local services (Kafka, ClickHouse, Redis) on loopback.

No Docker and no mocks: Apache Kafka runs from Maven Central jars (cached under ``~/.cache/flowtape``),
ClickHouse and Redis are Debian's packages run with the project's own configs, ports and data
directories under ``<state>/services/<name>/`` (state is ``$FLOWTAPE_STATE_DIR`` or ``./.flowtape``).

CLI: ``flowtape services up|down|status [kafka|clickhouse|redis ...]`` (also ``python -m deploy.services``).
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import ClassVar

__all__ = [
    "ALL",
    "KAFKA_VERSION",
    "ServiceError",
    "ServiceStatus",
    "ServicesConfig",
    "clickhouse_config_xml",
    "clickhouse_users_xml",
    "down",
    "fetch_kafka_jars",
    "kafka_log4j_properties",
    "kafka_pom_xml",
    "kafka_server_properties",
    "main",
    "redis_command",
    "status",
    "tail",
    "up",
]

ALL: tuple[str, ...] = ("kafka", "clickhouse", "redis")

KAFKA_VERSION = "3.9.2"
SCALA_VERSION = "2.13"
# Kafka 3.9's own build pins these; the core jar's pom does not bring a logging backend.
RELOAD4J_VERSION = "1.2.25"
SLF4J_VERSION = "1.7.36"
# Named in full: the short "dependency:" prefix fails with a vague "No plugin found" when Maven
# cannot reach the repository, while the full name makes Maven print the transfer error.
MAVEN_COPY_GOAL = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies"

LOG_TAIL_LINES = 40
_START_MARK = "=== flowtape: starting"
MAVEN_TIMEOUT_S = 900.0
KAFKA_JVM_OPTS: tuple[str, ...] = ("-Xms512m", "-Xmx1g", "-XX:+UseG1GC", "-XX:ActiveProcessorCount=2")

# Maven 3.8 prints colour resets even in batch mode; they are noise in an error message.
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
# Maven prints these when it cannot talk to the repository at all (as opposed to a missing artifact).
_MAVEN_NETWORK_ERRORS = re.compile(
    r"Could not transfer|UnknownHost|Unknown host|Name or service not known|Temporary failure in name"
    r"|Connection refused|Connect to .* failed|Network is unreachable|No route to host|timed out"
    r"|transfer failed|PKIX path",
    re.IGNORECASE,
)


class ServiceError(RuntimeError):
    """A service could not be installed, started, made ready or stopped."""

    def __init__(
        self,
        service: str,
        message: str,
        *,
        command: Sequence[str] | None = None,
        log_tail: str = "",
    ) -> None:
        self.service = service
        self.message = message
        self.command = list(command) if command is not None else None
        self.log_tail = log_tail
        super().__init__(self._render())

    def _render(self) -> str:
        parts = [f"{self.service}: {self.message}"]
        if self.command:
            parts.append(f"command: {_shell_join(self.command)}")
        if self.log_tail:
            parts.append(self.log_tail.rstrip("\n"))
        return "\n".join(parts)


def _port_from_env(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        port = int(raw)
    except ValueError:
        raise ValueError(f"{name}={raw!r} is not a port number") from None
    if not 1 <= port <= 65535:
        raise ValueError(f"{name}={port} is outside 1..65535")
    return port


def _default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "flowtape"


@dataclass(frozen=True)
class ServicesConfig:
    """Where the local services live and which loopback ports they use."""

    state_dir: Path
    host: str = "127.0.0.1"
    kafka_port: int = 19092
    kafka_controller_port: int = 19093
    clickhouse_port: int = 19000
    clickhouse_http_port: int = 18123
    redis_port: int = 16379
    kafka_version: str = KAFKA_VERSION
    cache_dir: Path = field(default_factory=_default_cache_dir)

    def __post_init__(self) -> None:
        ports = [
            self.kafka_port,
            self.kafka_controller_port,
            self.clickhouse_port,
            self.clickhouse_http_port,
            self.redis_port,
        ]
        if len(set(ports)) != len(ports):
            raise ValueError(f"the service ports must all differ, got {ports}")

    @classmethod
    def from_env(
        cls,
        environ: Mapping[str, str] | None = None,
        *,
        default_state_dir: Path | None = None,
    ) -> ServicesConfig:
        """Build the config from ``FLOWTAPE_*`` variables; the state dir defaults to ``./.flowtape``."""
        env = os.environ if environ is None else environ
        raw_state = env.get("FLOWTAPE_STATE_DIR", "").strip()
        if raw_state:
            state_dir = Path(raw_state).expanduser()
        elif default_state_dir is not None:
            state_dir = default_state_dir
        else:
            state_dir = Path.cwd() / ".flowtape"
        return cls(
            state_dir=state_dir.absolute(),
            kafka_port=_port_from_env(env, "FLOWTAPE_KAFKA_PORT", cls.kafka_port),
            kafka_controller_port=_port_from_env(env, "FLOWTAPE_KAFKA_CONTROLLER_PORT", cls.kafka_controller_port),
            clickhouse_port=_port_from_env(env, "FLOWTAPE_CLICKHOUSE_PORT", cls.clickhouse_port),
            clickhouse_http_port=_port_from_env(env, "FLOWTAPE_CLICKHOUSE_HTTP_PORT", cls.clickhouse_http_port),
            redis_port=_port_from_env(env, "FLOWTAPE_REDIS_PORT", cls.redis_port),
        )

    @property
    def kafka_bootstrap(self) -> str:
        """Return the ``bootstrap.servers`` value for clients."""
        return f"{self.host}:{self.kafka_port}"

    @property
    def redis_url(self) -> str:
        """Return a ``redis://`` URL for database 0."""
        return f"redis://{self.host}:{self.redis_port}/0"

    def service_dir(self, name: str) -> Path:
        """Return ``<state>/services/<name>``."""
        return self.state_dir / "services" / name

    @property
    def kafka_cache_dir(self) -> Path:
        """Return the per-version jar cache directory (``lib/`` plus a completion marker)."""
        return self.cache_dir / f"kafka-{self.kafka_version}"


@dataclass(frozen=True)
class ServiceStatus:
    """What one service is doing right now."""

    name: str
    running: bool
    pid: int | None
    address: str
    healthy: bool
    detail: str = ""
    started: bool = False
    startup_seconds: float | None = None

    def line(self) -> str:
        """Render the one-line status shown by ``flowtape services status``."""
        state = "running" if self.running else "stopped"
        pid = f"pid {self.pid}" if self.pid is not None else "pid -"
        health = "healthy" if self.healthy else ("unhealthy" if self.running else "-")
        text = f"{self.name:<10} {state:<7} {pid:<11} {self.address:<21} {health}"
        return f"{text}  ({self.detail})" if self.detail else text


# --------------------------------------------------------------------------------------------------------
# Generated configuration (pure functions, unit-tested)
# --------------------------------------------------------------------------------------------------------


def kafka_pom_xml(version: str = KAFKA_VERSION) -> str:
    """Return the pom whose runtime dependencies are everything ``kafka.Kafka`` needs."""
    if not version.startswith("3."):
        # 4.x needs a log4j2 backend and config; only the proven 3.x layout is wired here.
        raise ValueError(f"Kafka {version}: only 3.x is supported by deploy.services")
    deps = [
        ("org.apache.kafka", f"kafka_{SCALA_VERSION}", version),
        ("ch.qos.reload4j", "reload4j", RELOAD4J_VERSION),
        ("org.slf4j", "slf4j-reload4j", SLF4J_VERSION),
    ]
    dep_xml = "\n".join(
        "    <dependency>\n"
        f"      <groupId>{g}</groupId>\n"
        f"      <artifactId>{a}</artifactId>\n"
        f"      <version>{v}</version>\n"
        "    </dependency>"
        for g, a, v in deps
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0"
         xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
         xsi:schemaLocation="http://maven.apache.org/POM/4.0.0 https://maven.apache.org/xsd/maven-4.0.0.xsd">
  <modelVersion>4.0.0</modelVersion>
  <groupId>dev.flowtape.local</groupId>
  <artifactId>kafka-runtime</artifactId>
  <version>{version}</version>
  <packaging>pom</packaging>
  <dependencies>
{dep_xml}
  </dependencies>
</project>
"""


def kafka_server_properties(cfg: ServicesConfig) -> str:
    """Return ``server.properties`` for a single combined broker+controller on loopback."""
    data = cfg.service_dir("kafka") / "data"
    h, p, c = cfg.host, cfg.kafka_port, cfg.kafka_controller_port
    props = {
        "process.roles": "broker,controller",
        "node.id": "1",
        "controller.quorum.voters": f"1@{h}:{c}",
        "listeners": f"PLAINTEXT://{h}:{p},CONTROLLER://{h}:{c}",
        "advertised.listeners": f"PLAINTEXT://{h}:{p}",
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "log.dirs": str(data),
        "num.partitions": "4",
        "default.replication.factor": "1",
        "min.insync.replicas": "1",
        "offsets.topic.replication.factor": "1",
        # Fewer internal partitions: the first consumer group on a fresh broker is ready sooner.
        "offsets.topic.num.partitions": "4",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "transaction.state.log.num.partitions": "4",
        "group.initial.rebalance.delay.ms": "0",
        "auto.create.topics.enable": "false",
        "delete.topic.enable": "true",
        # Two cores on the dev box: the defaults (3 network, 8 io threads) only add contention.
        "num.network.threads": "2",
        "num.io.threads": "4",
        "log.retention.hours": "168",
    }
    lines = ["# Generated by deploy/services.py on every start; edits are overwritten."]
    lines += [f"{k}={_escape_properties(v)}" for k, v in props.items()]
    return "\n".join(lines) + "\n"


def kafka_log4j_properties() -> str:
    """Return the reload4j config: INFO to stdout, which ``up`` redirects into the service log."""
    return """\
log4j.rootLogger=INFO, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.request.logger=WARN
log4j.logger.kafka.network.RequestChannel$=WARN
log4j.logger.state.change.logger=WARN
log4j.logger.kafka.log.LogCleaner=WARN
log4j.logger.kafka.authorizer.logger=WARN
"""


def _sub(parent: ET.Element, tag: str, text: str | int | Path | None = None) -> ET.Element:
    el = ET.SubElement(parent, tag)
    if text is not None:
        el.text = str(text)
    return el


def _xml_text(root: ET.Element) -> str:
    ET.indent(root, space="    ")
    return '<?xml version="1.0"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def clickhouse_config_xml(cfg: ServicesConfig) -> str:
    """Return the ClickHouse 18.16 server ``config.xml`` for this project's data dir and ports."""
    base = cfg.service_dir("clickhouse")
    data, logs = base / "data", base / "logs"
    root = ET.Element("yandex")
    logger = _sub(root, "logger")
    _sub(logger, "level", "information")
    _sub(logger, "log", logs / "clickhouse-server.log")
    _sub(logger, "errorlog", logs / "clickhouse-server.err.log")
    _sub(logger, "size", "100M")
    _sub(logger, "count", 3)
    _sub(root, "listen_host", cfg.host)
    _sub(root, "tcp_port", cfg.clickhouse_port)
    _sub(root, "http_port", cfg.clickhouse_http_port)
    # No interserver_http_port: nothing replicates from this server, and it would need a third port.
    _sub(root, "path", f"{data}/")
    _sub(root, "tmp_path", f"{data}/tmp/")
    _sub(root, "user_files_path", f"{data}/user_files/")
    _sub(root, "format_schema_path", f"{data}/format_schemas/")
    _sub(root, "users_config", base / "users.xml")
    _sub(root, "default_profile", "default")
    _sub(root, "default_database", "default")
    _sub(root, "timezone", "UTC")
    _sub(root, "umask", "022")
    _sub(root, "mlock_executable", "false")
    _sub(root, "max_connections", 1024)
    _sub(root, "keep_alive_timeout", 3)
    _sub(root, "max_concurrent_queries", 100)
    # The packaged defaults (8 GB / 5 GB) are sized for a dedicated server, not a laptop test box.
    _sub(root, "uncompressed_cache_size", 268435456)
    _sub(root, "mark_cache_size", 268435456)
    _sub(root, "builtin_dictionaries_reload_interval", 3600)
    _sub(root, "max_session_timeout", 3600)
    _sub(root, "default_session_timeout", 60)
    # Tests drop whole databases and partitions; the 50 GB guard only gets in the way here.
    _sub(root, "max_table_size_to_drop", 0)
    _sub(root, "max_partition_size_to_drop", 0)
    query_log = _sub(root, "query_log")
    _sub(query_log, "database", "system")
    _sub(query_log, "table", "query_log")
    _sub(query_log, "partition_by", "toYYYYMM(event_date)")
    _sub(query_log, "flush_interval_milliseconds", 7500)
    return _xml_text(root)


def clickhouse_users_xml() -> str:
    """Return ``users.xml``: a passwordless ``default`` user reachable from loopback only."""
    root = ET.Element("yandex")
    profiles = _sub(root, "profiles")
    default_profile = _sub(profiles, "default")
    _sub(default_profile, "max_memory_usage", 4000000000)
    _sub(default_profile, "use_uncompressed_cache", 0)
    _sub(default_profile, "load_balancing", "random")
    readonly = _sub(profiles, "readonly")
    _sub(readonly, "readonly", 1)
    users = _sub(root, "users")
    default_user = _sub(users, "default")
    _sub(default_user, "password", "")
    networks = _sub(default_user, "networks")
    _sub(networks, "ip", "127.0.0.1")
    _sub(networks, "ip", "::1")
    _sub(default_user, "profile", "default")
    _sub(default_user, "quota", "default")
    quotas = _sub(root, "quotas")
    interval = _sub(_sub(quotas, "default"), "interval")
    for tag, value in (
        ("duration", 3600),
        ("queries", 0),
        ("errors", 0),
        ("result_rows", 0),
        ("read_rows", 0),
        ("execution_time", 0),
    ):
        _sub(interval, tag, value)
    return _xml_text(root)


def redis_command(cfg: ServicesConfig, binary: str = "redis-server") -> list[str]:
    """Return the ``redis-server`` command line (no persistence, loopback only, foreground)."""
    data = cfg.service_dir("redis") / "data"
    return [
        binary,
        "--port", str(cfg.redis_port),
        "--bind", cfg.host,
        "--save", "",
        "--appendonly", "no",
        "--dir", str(data),
        "--daemonize", "no",
        # Room for one logical database per concurrent test session (see tests/integration/conftest.py).
        "--databases", "32",
    ]  # fmt: skip


def _escape_properties(value: str) -> str:
    return value.replace("\\", "\\\\")


# --------------------------------------------------------------------------------------------------------
# Small process and file helpers
# --------------------------------------------------------------------------------------------------------

# Popen objects of services this interpreter started: holding them stops Popen.__del__ from warning
# (ResourceWarning, an error under pytest) and lets us reap the child once it exits.
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}
# Exit codes of those children once reaped, for the "exited with code N during startup" message.
_EXIT_CODES: dict[int, int] = {}


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _shell_join(argv: Sequence[str]) -> str:
    return shlex.join(argv)


def tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    """Return the last ``lines`` lines of a text file, or an empty string if it is missing."""
    try:
        with path.open("rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            # Enough bytes for 40 long log lines without reading a huge file whole.
            fh.seek(max(0, size - 256 * 1024))
            data = fh.read()
    except OSError:
        return ""
    return "\n".join(data.decode("utf-8", "replace").splitlines()[-lines:])


def _log_tails(paths: Sequence[Path]) -> str:
    chunks = []
    for path in paths:
        text = tail(path)
        # Only the current run: earlier starts appended to the same file would only mislead.
        start = text.rfind(_START_MARK)
        if start >= 0:
            text = text[start:]
        if text.strip():
            chunks.append(f"--- last {LOG_TAIL_LINES} lines of {path} ---\n{text}")
    return "\n".join(chunks) if chunks else "(no log output)"


def _proc_state(pid: int) -> str | None:
    """Return the one-letter state from /proc (None if the process does not exist)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name is in parentheses and may contain spaces: the state follows the last ')'.
    return stat.rsplit(")", 1)[1].split()[0]


def _alive(pid: int) -> bool:
    child = _CHILDREN.get(pid)
    if child is not None and child.poll() is not None:
        _EXIT_CODES[pid] = child.returncode
        del _CHILDREN[pid]  # the pid may be reused by an unrelated process from now on
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # An exited child of another parent stays a zombie until reaped: it is not running.
    return _proc_state(pid) not in (None, "Z", "X")


def _exit_code(pid: int) -> int | None:
    return _EXIT_CODES.get(pid)


def _owned_by(pid: int, service_dir: Path) -> bool:
    """Tell whether ``pid`` is a service we started in ``service_dir``.

    Our services run with their working directory inside the service dir (Redis and ClickHouse may
    chdir into their data dirs), which survives pid reuse where a bare pid file would not.
    """
    try:
        cwd = Path(os.readlink(f"/proc/{pid}/cwd"))
    except PermissionError:
        return True
    except OSError:
        return False
    return cwd == service_dir or service_dir in cwd.parents


def _read_pid(pid_file: Path) -> int | None:
    try:
        text = pid_file.read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def _port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _listener_pids(port: int) -> list[int]:
    """Return pids listening on TCP ``port`` (best effort, from /proc)."""
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            cols = row.split()
            if len(cols) > 9 and cols[3] == "0A" and int(cols[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(f"socket:[{cols[9]}]")
    if not inodes:
        return []
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            fds = list((proc / "fd").iterdir())
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(fd) in inodes:
                    pids.append(int(proc.name))
                    break
            except OSError:
                continue
    return pids


def _describe_pid(pid: int) -> str:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return f"pid {pid}"
    cmd = " ".join(raw.replace(b"\0", b" ").decode("utf-8", "replace").split())
    return f"pid {pid} ({cmd if len(cmd) <= 200 else cmd[:200] + '…'})"


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold an exclusive advisory lock so concurrent ``up``/``down`` calls take turns."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def _find_binary(candidates: Sequence[str]) -> str | None:
    for candidate in candidates:
        if os.path.isabs(candidate):
            if os.access(candidate, os.X_OK):
                return candidate
        elif found := shutil.which(candidate):
            return found
    return None


def _apt_install(service: str, package: str) -> None:
    """Install a Debian package, refreshing the package lists once if the first attempt fails."""
    if os.geteuid() != 0:
        raise ServiceError(service, f"{package} is not installed; run: sudo apt-get install -y {package}")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-q", package]
    _say(f"{service}: installing {package} with apt-get…")
    result = subprocess.run(install, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        _say(f"{service}: apt-get install failed; running apt-get update and retrying…")
        subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True, text=True, check=False)
        result = subprocess.run(install, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        output = "\n".join((result.stdout + result.stderr).splitlines()[-LOG_TAIL_LINES:])
        raise ServiceError(
            service,
            f"apt-get install {package} failed (exit {result.returncode})",
            command=install,
            log_tail=output,
        )


# --------------------------------------------------------------------------------------------------------
# The three services
# --------------------------------------------------------------------------------------------------------


class _Service:
    """How to prepare, launch and probe one service; subclasses fill in the specifics."""

    name: ClassVar[str]
    start_timeout_s: ClassVar[float]
    stop_timeout_s: ClassVar[float] = 20.0

    def __init__(self, cfg: ServicesConfig) -> None:
        self.cfg = cfg
        self.dir = cfg.service_dir(self.name)
        self.data_dir = self.dir / "data"
        self.log_dir = self.dir / "logs"
        self.pid_file = self.dir / f"{self.name}.pid"
        self.lock_file = self.dir / ".lock"
        self.stdout_log = self.log_dir / f"{self.name}.out"

    def ports(self) -> list[int]:
        raise NotImplementedError

    def address(self) -> str:
        return f"{self.cfg.host}:{self.ports()[0]}"

    def logs(self) -> list[Path]:
        """Return the log files whose tails explain a failure."""
        return [self.stdout_log]

    def prepare(self) -> list[str]:
        """Install/fetch what is missing, write configs, and return the command to run."""
        raise NotImplementedError

    def probe(self, timeout: float) -> str:
        """Return a short health detail, or raise if the service does not answer."""
        raise NotImplementedError


class _Kafka(_Service):
    name = "kafka"
    start_timeout_s = 90.0
    stop_timeout_s = 30.0

    def ports(self) -> list[int]:
        return [self.cfg.kafka_port, self.cfg.kafka_controller_port]

    def prepare(self) -> list[str]:
        java = _find_binary(["java"])
        if java is None:
            _apt_install(self.name, "openjdk-17-jre-headless")
            java = _find_binary(["java"])
        if java is None:
            raise ServiceError(self.name, "java not found after installing openjdk-17-jre-headless")
        lib = fetch_kafka_jars(self.cfg)
        props = self.dir / "server.properties"
        log4j = self.dir / "log4j.properties"
        props.write_text(kafka_server_properties(self.cfg))
        log4j.write_text(kafka_log4j_properties())
        jvm = [java, f"-Dlog4j.configuration=file:{log4j}", "-cp", f"{lib}/*"]
        if not (self.data_dir / "meta.properties").exists():
            self._format(jvm, props)
        return [
            java,
            *KAFKA_JVM_OPTS,
            "-Djava.awt.headless=true",
            *jvm[1:],
            "kafka.Kafka",
            str(props),
        ]

    def _format(self, tool: list[str], props: Path) -> None:
        _say(f"{self.name}: formatting KRaft storage in {self.data_dir}…")
        cluster_id = self._storage_tool([*tool, "kafka.tools.StorageTool", "random-uuid"]).splitlines()[-1]
        if not re.fullmatch(r"[A-Za-z0-9_-]{22}", cluster_id):
            raise ServiceError(self.name, f"StorageTool random-uuid printed {cluster_id!r}, not a cluster id")
        self._storage_tool([*tool, "kafka.tools.StorageTool", "format", "-t", cluster_id, "-c", str(props)])

    def _storage_tool(self, cmd: list[str]) -> str:
        """Run one StorageTool command and return its stdout; raise ServiceError with its output."""
        try:
            res = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
        except subprocess.TimeoutExpired as exc:
            output = _decode(exc.stdout) + _decode(exc.stderr)
            raise ServiceError(self.name, "StorageTool did not finish in 120s", command=cmd, log_tail=output) from None
        if res.returncode != 0 or not res.stdout.strip():
            raise ServiceError(
                self.name,
                f"StorageTool failed (exit {res.returncode})",
                command=cmd,
                log_tail="\n".join((res.stdout + res.stderr).splitlines()[-LOG_TAIL_LINES:]),
            )
        return res.stdout.strip()

    def probe(self, timeout: float) -> str:
        from confluent_kafka.admin import AdminClient

        # A closed port would make librdkafka retry until the timeout: check it first.
        _require_port(self.cfg.host, self.cfg.kafka_port)
        # log_level 0: a failed probe is reported by us; librdkafka's own connect errors are noise.
        admin = AdminClient({"bootstrap.servers": self.cfg.kafka_bootstrap, "log_level": 0})
        metadata = admin.list_topics(timeout=timeout)
        if not metadata.brokers:
            raise RuntimeError("metadata lists no brokers yet")
        user_topics = [t for t in metadata.topics if not str(t).startswith("__")]
        return f"Kafka {self.cfg.kafka_version}, {len(user_topics)} topics"


class _ClickHouse(_Service):
    name = "clickhouse"
    start_timeout_s = 60.0
    binaries: ClassVar[tuple[str, ...]] = ("/usr/sbin/clickhouse-server", "/usr/bin/clickhouse-server")

    def ports(self) -> list[int]:
        return [self.cfg.clickhouse_port, self.cfg.clickhouse_http_port]

    def logs(self) -> list[Path]:
        return [
            self.stdout_log,
            self.log_dir / "clickhouse-server.err.log",
            self.log_dir / "clickhouse-server.log",
        ]

    def prepare(self) -> list[str]:
        binary = _find_binary(self.binaries)
        if binary is None:
            _apt_install(self.name, "clickhouse-server")
            binary = _find_binary(self.binaries)
            if binary is None:
                raise ServiceError(self.name, f"clickhouse-server installed but not found at {self.binaries}")
        for sub in ("tmp", "user_files", "format_schemas"):
            (self.data_dir / sub).mkdir(parents=True, exist_ok=True)
        config = self.dir / "config.xml"
        config.write_text(clickhouse_config_xml(self.cfg))
        (self.dir / "users.xml").write_text(clickhouse_users_xml())
        return [binary, f"--config-file={config}"]

    def probe(self, timeout: float) -> str:
        from clickhouse_driver import Client

        # The native port is checked by the query below; a bare connect to it only logs a warning.
        _require_port(self.cfg.host, self.cfg.clickhouse_http_port)
        client = Client(
            host=self.cfg.host,
            port=self.cfg.clickhouse_port,
            connect_timeout=min(timeout, 2.0),
            send_receive_timeout=timeout,
            sync_request_timeout=timeout,
        )
        try:
            rows = client.execute("SELECT version()")
        finally:
            client.disconnect()
        return f"ClickHouse {rows[0][0]}"


class _Redis(_Service):
    name = "redis"
    start_timeout_s = 15.0
    stop_timeout_s = 10.0
    binaries: ClassVar[tuple[str, ...]] = ("redis-server", "/usr/bin/redis-server", "/usr/sbin/redis-server")

    def ports(self) -> list[int]:
        return [self.cfg.redis_port]

    def prepare(self) -> list[str]:
        binary = _find_binary(self.binaries)
        if binary is None:
            _apt_install(self.name, "redis-server")
            binary = _find_binary(self.binaries)
            if binary is None:
                raise ServiceError(self.name, "redis-server installed but not found on PATH")
        return redis_command(self.cfg, binary)

    def probe(self, timeout: float) -> str:
        import redis

        client = redis.Redis(
            host=self.cfg.host,
            port=self.cfg.redis_port,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
        )
        try:
            client.ping()
            info = client.info("server")
        finally:
            client.close()
        return f"Redis {info.get('redis_version', '?')}"


_SERVICES: dict[str, type[_Service]] = {"kafka": _Kafka, "clickhouse": _ClickHouse, "redis": _Redis}


def fetch_kafka_jars(cfg: ServicesConfig) -> Path:
    """Return the cached Kafka ``lib`` dir, fetching the jars from Maven Central on first use."""
    root = cfg.kafka_cache_dir
    lib, marker = root / "lib", root / ".complete"
    if marker.exists() and lib.is_dir():
        return lib
    with _locked(root.parent / f".kafka-{cfg.kafka_version}.lock"):
        if marker.exists() and lib.is_dir():  # another process finished the fetch while we waited
            return lib
        mvn = _find_binary(["mvn"])
        if mvn is None:
            _apt_install("kafka", "maven")
            mvn = _find_binary(["mvn"])
        if mvn is None:
            raise ServiceError("kafka", "mvn not found after installing maven")
        root.mkdir(parents=True, exist_ok=True)
        partial = root / "lib.partial"
        shutil.rmtree(partial, ignore_errors=True)
        pom = root / "pom.xml"
        pom.write_text(kafka_pom_xml(cfg.kafka_version))
        cmd = [
            mvn, "-q", "-B", "-Dstyle.color=never", "-f", str(pom), MAVEN_COPY_GOAL,
            "-DincludeScope=runtime", f"-DoutputDirectory={partial}",
        ]  # fmt: skip
        _say(f"kafka: fetching Kafka {cfg.kafka_version} jars from Maven Central (first run only)…")
        started = time.monotonic()
        try:
            res = subprocess.run(cmd, capture_output=True, text=True, timeout=MAVEN_TIMEOUT_S, cwd=root, check=False)
        except subprocess.TimeoutExpired as exc:
            output = _ANSI.sub("", _decode(exc.stdout) + _decode(exc.stderr)).strip()
            raise ServiceError(
                "kafka",
                f"Maven did not finish within {MAVEN_TIMEOUT_S:.0f}s; Maven Central may be unreachable. Maven output:",
                command=cmd,
                log_tail=output or "(none)",
            ) from None
        output = _ANSI.sub("", res.stdout + res.stderr).strip()
        core = partial / f"kafka_{SCALA_VERSION}-{cfg.kafka_version}.jar"
        if res.returncode != 0 or not core.exists():
            if _MAVEN_NETWORK_ERRORS.search(output):
                why = "could not reach Maven Central (or the configured mirror) to fetch the Kafka jars"
            else:
                why = "Maven failed to fetch the Kafka jars"
            raise ServiceError(
                "kafka",
                f"{why} (mvn exit {res.returncode}); Maven's output is below",
                command=cmd,
                log_tail=output or "(none)",
            )
        shutil.rmtree(lib, ignore_errors=True)
        partial.rename(lib)
        # The marker is written last: an interrupted fetch is simply redone on the next run.
        marker.write_text(f"{cfg.kafka_version}\n")
        count = len(list(lib.glob("*.jar")))
        _say(f"kafka: fetched {count} jars in {time.monotonic() - started:.1f}s into {lib}")
        return lib


def _decode(data: bytes | str | None) -> str:
    if data is None:
        return ""
    return data if isinstance(data, str) else data.decode("utf-8", "replace")


# --------------------------------------------------------------------------------------------------------
# Lifecycle
# --------------------------------------------------------------------------------------------------------


def _validate(names: Sequence[str]) -> list[str]:
    if isinstance(names, str):  # a bare "kafka" would otherwise iterate as k, a, f, k, a
        names = [names]
    unknown = [n for n in names if n not in _SERVICES]
    if unknown:
        raise ValueError(f"unknown service(s) {', '.join(unknown)}; choose from {', '.join(ALL)}")
    return list(dict.fromkeys(names))  # keep order, drop duplicates


def _running_pid(svc: _Service, *, adopt: bool) -> int | None:
    """Return the pid of our running process, cleaning a stale pid file on the way.

    With ``adopt``, a process of ours that lost its pid file (found by its listening port and working
    directory) gets a fresh pid file instead of being reported as a stranger.
    """
    pid = _read_pid(svc.pid_file)
    if pid is not None:
        if _alive(pid) and _owned_by(pid, svc.dir):
            return pid
        if adopt:
            _say(f"{svc.name}: removing stale pid file (pid {pid} is gone or is not this service)")
            svc.pid_file.unlink(missing_ok=True)
        else:
            return None
    for port in svc.ports():
        for other in _listener_pids(port):
            if _owned_by(other, svc.dir):
                if adopt:
                    svc.pid_file.write_text(f"{other}\n")
                return other
    return None


def _foreign_listeners(svc: _Service) -> list[str]:
    """Describe who holds this service's ports (empty if they are free)."""
    by_owner: dict[str, list[str]] = {}
    for port in svc.ports():
        if _port_open(svc.cfg.host, port):
            owners = _listener_pids(port)
            key = ", ".join(_describe_owner(p, svc.name) for p in owners) or "an unknown process"
            by_owner.setdefault(key, []).append(f"{svc.cfg.host}:{port}")
    return [f"{' and '.join(addrs)} already in use by {owner}" for owner, addrs in by_owner.items()]


def _describe_owner(pid: int, name: str) -> str:
    text = _describe_pid(pid)
    try:
        cwd = Path(os.readlink(f"/proc/{pid}/cwd"))
    except OSError:
        return text
    # Our services run inside <state>/services/<name>: point at the state dir that owns this one.
    for parent in (cwd, *cwd.parents):
        if parent.name == name and parent.parent.name == "services":
            state = parent.parent.parent
            return f"{text}, the flowtape {name} of FLOWTAPE_STATE_DIR={state}"
    return text


def _probe(svc: _Service, timeout: float) -> tuple[bool, str]:
    try:
        return True, svc.probe(timeout)
    except Exception as exc:  # any client error just means "not healthy (yet)"
        return False, f"{type(exc).__name__}: {exc}".strip()[:300]


def _require_port(host: str, port: int) -> None:
    if not _port_open(host, port):
        raise ConnectionRefusedError(f"{host}:{port} is not accepting connections")


@dataclass
class _Launch:
    svc: _Service
    pid: int
    command: list[str]
    started: float
    last_check: str = "starting"


def _launch(svc: _Service) -> _Launch:
    for d in (svc.dir, svc.data_dir, svc.log_dir):
        d.mkdir(parents=True, exist_ok=True)
    command = svc.prepare()
    mark = f"\n{_START_MARK} {svc.name} at {time.strftime('%Y-%m-%d %H:%M:%S')}: {_shell_join(command)}\n"
    # Mark every log (the services append to their own files too) so failure tails show only this run.
    for log in svc.logs():
        if log != svc.stdout_log and log.exists():
            with log.open("a") as fh:
                fh.write(mark)
    with svc.stdout_log.open("ab") as out:
        out.write(mark.encode())
        out.flush()
        started = time.monotonic()
        try:
            proc = subprocess.Popen(
                command,
                cwd=svc.dir,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                # Own session: Ctrl-C in the terminal or the end of a pytest run must not stop it,
                # and down() can signal the whole process group.
                start_new_session=True,
            )
        except OSError as exc:
            raise ServiceError(svc.name, f"cannot execute: {exc}", command=command) from None
    _CHILDREN[proc.pid] = proc
    _EXIT_CODES.pop(proc.pid, None)
    svc.pid_file.write_text(f"{proc.pid}\n")
    _say(f"{svc.name}: started pid {proc.pid}, waiting for {svc.address()} (log {svc.stdout_log})…")
    return _Launch(svc, proc.pid, command, started)


def _wait_ready(launches: Sequence[_Launch]) -> tuple[list[ServiceStatus], list[ServiceError]]:
    """Poll all launched services round-robin until each is ready, dead or out of time."""
    pending = list(launches)
    ready: list[ServiceStatus] = []
    errors: list[ServiceError] = []
    next_note = time.monotonic() + 15.0
    while pending:
        for launch in list(pending):
            try:
                st = _check_ready(launch)
            except ServiceError as exc:
                errors.append(exc)
                pending.remove(launch)
                continue
            if st is not None:
                ready.append(st)
                pending.remove(launch)
        if not pending:
            break
        now = time.monotonic()
        if now >= next_note:
            for launch in pending:
                _say(f"{launch.svc.name}: still waiting ({now - launch.started:.0f}s, {launch.last_check})…")
            next_note = now + 15.0
        time.sleep(0.2)
    return ready, errors


def _check_ready(launch: _Launch) -> ServiceStatus | None:
    """Return the status once ready, None while starting; raise if it died or ran out of time."""
    svc = launch.svc
    if not _alive(launch.pid):
        code = _exit_code(launch.pid)
        svc.pid_file.unlink(missing_ok=True)
        how = f"exited with code {code}" if code is not None else "exited"
        raise ServiceError(svc.name, f"{how} during startup", command=launch.command, log_tail=_log_tails(svc.logs()))
    healthy, launch.last_check = _probe(svc, timeout=2.0)
    elapsed = time.monotonic() - launch.started
    if healthy:
        _say(f"{svc.name}: ready on {svc.address()} in {elapsed:.1f}s ({launch.last_check})")
        return ServiceStatus(
            svc.name,
            True,
            launch.pid,
            svc.address(),
            True,
            launch.last_check,
            started=True,
            startup_seconds=elapsed,
        )
    if elapsed >= svc.start_timeout_s:
        _stop_pid(svc, launch.pid)
        raise ServiceError(
            svc.name,
            f"not ready within {svc.start_timeout_s:.0f}s (last check: {launch.last_check}); stopped it",
            command=launch.command,
            log_tail=_log_tails(svc.logs()),
        )
    return None


def _stop_pid(svc: _Service, pid: int) -> None:
    """SIGTERM the process group, SIGKILL it after the service's stop timeout, and remove the pid file."""

    def signal_group(sig: signal.Signals) -> None:
        try:
            # start_new_session made the service its group leader; fall back to the pid if it is not.
            if os.getpgid(pid) == pid:
                os.killpg(pid, sig)
            else:
                os.kill(pid, sig)
        except ProcessLookupError:
            pass

    signal_group(signal.SIGTERM)
    deadline = time.monotonic() + svc.stop_timeout_s
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if _alive(pid):
        _say(f"{svc.name}: pid {pid} ignored SIGTERM for {svc.stop_timeout_s:.0f}s; sending SIGKILL")
        signal_group(signal.SIGKILL)
        deadline = time.monotonic() + 10.0
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if _alive(pid):
            raise ServiceError(svc.name, f"pid {pid} survived SIGKILL")
    svc.pid_file.unlink(missing_ok=True)


def up(names: Sequence[str] = ALL, *, config: ServicesConfig | None = None) -> dict[str, ServiceStatus]:
    """Start the named services unless they already run healthy; return their status.

    Raises ServiceError (naming the service, the command and the log tail) if any cannot start; the
    others are still started and left running.
    """
    cfg = config or ServicesConfig.from_env()
    wanted = _validate(names)
    result: dict[str, ServiceStatus] = {}
    errors: list[ServiceError] = []
    launches: list[_Launch] = []
    with contextlib.ExitStack() as stack:
        # Launch everything first, then wait: ClickHouse and Redis come up while the JVM warms up.
        for name in wanted:
            svc = _SERVICES[name](cfg)
            stack.enter_context(_locked(svc.lock_file))
            try:
                pid = _running_pid(svc, adopt=True)
                if pid is not None:
                    result[name] = _already_running(svc, pid)
                    continue
                taken = _foreign_listeners(svc)
                if taken:
                    raise ServiceError(
                        name,
                        "cannot start: "
                        + "; ".join(taken)
                        + ". Stop that process or choose other ports (FLOWTAPE_*_PORT).",
                    )
                launches.append(_launch(svc))
            except ServiceError as exc:
                errors.append(exc)
        ready, failed = _wait_ready(launches)
        result.update((st.name, st) for st in ready)
        errors.extend(failed)
    if errors:
        if len(errors) == 1:
            raise errors[0]
        detail = "\n\n".join(str(e) for e in errors)
        raise ServiceError(", ".join(e.service for e in errors), f"{len(errors)} services failed:\n\n{detail}")
    return {name: result[name] for name in wanted}


def _already_running(svc: _Service, pid: int) -> ServiceStatus:
    healthy, detail = _probe(svc, timeout=5.0)
    if not healthy:
        # Ours but not answering: give it the normal start-up allowance (it may be recovering).
        _say(f"{svc.name}: pid {pid} is running but not answering ({detail}); waiting…")
        launch = _Launch(svc, pid, [f"(already running pid {pid})"], time.monotonic())
        ready, failed = _wait_ready([launch])
        if failed:
            raise failed[0]
        return replace(ready[0], started=False, startup_seconds=None)
    _say(f"{svc.name}: already running (pid {pid}) and healthy on {svc.address()}")
    return ServiceStatus(svc.name, True, pid, svc.address(), True, detail)


def down(names: Sequence[str] = ALL, *, config: ServicesConfig | None = None) -> dict[str, ServiceStatus]:
    """Stop the named services (SIGTERM, then SIGKILL after a timeout); stopped ones are fine."""
    cfg = config or ServicesConfig.from_env()
    wanted = _validate(names)
    result: dict[str, ServiceStatus] = {}
    # Reverse order: consumers of Kafka (ClickHouse Kafka engines) go before the broker.
    for name in reversed(wanted):
        svc = _SERVICES[name](cfg)
        with _locked(svc.lock_file):
            pid = _running_pid(svc, adopt=True)
            if pid is None:
                _say(f"{name}: not running")
            else:
                started = time.monotonic()
                _stop_pid(svc, pid)
                _say(f"{name}: stopped pid {pid} in {time.monotonic() - started:.1f}s")
            result[name] = ServiceStatus(name, False, None, svc.address(), False)
    return {name: result[name] for name in wanted}


def status(names: Sequence[str] = ALL, *, config: ServicesConfig | None = None) -> dict[str, ServiceStatus]:
    """Report whether each named service runs and answers (read-only)."""
    cfg = config or ServicesConfig.from_env()
    result: dict[str, ServiceStatus] = {}
    for name in _validate(names):
        svc = _SERVICES[name](cfg)
        pid = _running_pid(svc, adopt=False)
        if pid is not None:
            healthy, detail = _probe(svc, timeout=3.0)
            result[name] = ServiceStatus(name, True, pid, svc.address(), healthy, detail)
            continue
        stale = _read_pid(svc.pid_file)
        taken = _foreign_listeners(svc)
        detail = "; ".join(taken) if taken else (f"stale pid file (pid {stale})" if stale is not None else "")
        result[name] = ServiceStatus(name, False, None, svc.address(), False, detail)
    return result


# --------------------------------------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="flowtape services",
        description=(
            "Run the real local services on 127.0.0.1: Apache Kafka (KRaft, jars from Maven Central), "
            "ClickHouse server and Redis, with data under $FLOWTAPE_STATE_DIR/services "
            "(default ./.flowtape/services)."
        ),
        epilog=(
            "Ports: FLOWTAPE_KAFKA_PORT (19092), FLOWTAPE_KAFKA_CONTROLLER_PORT (19093), "
            "FLOWTAPE_CLICKHOUSE_PORT (19000), FLOWTAPE_CLICKHOUSE_HTTP_PORT (18123), "
            "FLOWTAPE_REDIS_PORT (16379). 'status' exits 0 when every named service is running and "
            "healthy, 3 otherwise."
        ),
    )
    sub = parser.add_subparsers(dest="action", required=True, metavar="{up,down,status}")
    for action, text in (
        ("up", "start the services (no-op for those already running and healthy)"),
        ("down", "stop the services"),
        ("status", "print one line per service: name, state, pid, address, health"),
    ):
        p = sub.add_parser(action, help=text, description=text)
        p.add_argument("names", nargs="*", metavar="SERVICE", help=f"any of {', '.join(ALL)} (default: all)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run ``flowtape services up|down|status [SERVICE ...]`` and return the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    names: list[str] = args.names or list(ALL)
    try:
        wanted = _validate(names)
        cfg = ServicesConfig.from_env()
    except ValueError as exc:
        parser.error(str(exc))
    try:
        if args.action == "up":
            for st in up(wanted, config=cfg).values():
                print(st.line())
            return 0
        if args.action == "down":
            down(wanted, config=cfg)
            return 0
        statuses = status(wanted, config=cfg)
        for st in statuses.values():
            print(st.line())
        return 0 if all(st.running and st.healthy for st in statuses.values()) else 3
    except ServiceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
