"""Fast tests for deploy.services: generated configs, settings and CLI parsing; no services started."""

from __future__ import annotations

import os
import stat
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from deploy import services
from deploy.services import ServiceError, ServicesConfig

POM_NS = {"m": "http://maven.apache.org/POM/4.0.0"}


@pytest.fixture
def cfg(tmp_path: Path) -> ServicesConfig:
    return ServicesConfig(state_dir=tmp_path / "state", cache_dir=tmp_path / "cache")


def _properties(text: str) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#"))
    return dict(pairs)


# ---- ServicesConfig ------------------------------------------------------------------------------------


def test_defaults_use_project_ports_and_cwd_state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    c = ServicesConfig.from_env({})
    assert c.state_dir == tmp_path / ".flowtape"
    assert (c.kafka_port, c.kafka_controller_port) == (19092, 19093)
    assert (c.clickhouse_port, c.clickhouse_http_port, c.redis_port) == (19000, 18123, 16379)
    assert c.host == "127.0.0.1"
    assert c.kafka_bootstrap == "127.0.0.1:19092"
    assert c.service_dir("kafka") == tmp_path / ".flowtape" / "services" / "kafka"


def test_env_overrides_ports_and_state_dir(tmp_path: Path) -> None:
    env = {
        "FLOWTAPE_STATE_DIR": str(tmp_path / "elsewhere"),
        "FLOWTAPE_KAFKA_PORT": "29092",
        "FLOWTAPE_KAFKA_CONTROLLER_PORT": "29093",
        "FLOWTAPE_CLICKHOUSE_PORT": "29000",
        "FLOWTAPE_CLICKHOUSE_HTTP_PORT": "28123",
        "FLOWTAPE_REDIS_PORT": "26379",
    }
    c = ServicesConfig.from_env(env)
    assert c.state_dir == tmp_path / "elsewhere"
    assert (c.kafka_port, c.kafka_controller_port) == (29092, 29093)
    assert (c.clickhouse_port, c.clickhouse_http_port, c.redis_port) == (29000, 28123, 26379)
    assert c.redis_url == "redis://127.0.0.1:26379/0"


def test_relative_state_dir_is_made_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert ServicesConfig.from_env({"FLOWTAPE_STATE_DIR": "rel/state"}).state_dir == tmp_path / "rel" / "state"


def test_default_state_dir_applies_only_without_env(tmp_path: Path) -> None:
    assert ServicesConfig.from_env({}, default_state_dir=tmp_path).state_dir == tmp_path
    env = {"FLOWTAPE_STATE_DIR": str(tmp_path / "env")}
    assert ServicesConfig.from_env(env, default_state_dir=tmp_path).state_dir == tmp_path / "env"


def test_from_env_reads_os_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLOWTAPE_REDIS_PORT", "26380")
    assert ServicesConfig.from_env().redis_port == 26380


@pytest.mark.parametrize("value", ["abc", "0", "70000", "-1"])
def test_bad_port_is_a_clear_error(value: str) -> None:
    with pytest.raises(ValueError, match="FLOWTAPE_KAFKA_PORT"):
        ServicesConfig.from_env({"FLOWTAPE_KAFKA_PORT": value})


def test_config_is_frozen(cfg: ServicesConfig) -> None:
    with pytest.raises(AttributeError):
        cfg.kafka_port = 1  # type: ignore[misc]


# ---- Kafka ---------------------------------------------------------------------------------------------


def test_kafka_server_properties(cfg: ServicesConfig) -> None:
    props = _properties(services.kafka_server_properties(cfg))
    assert props["process.roles"] == "broker,controller"
    assert props["node.id"] == "1"
    assert props["controller.quorum.voters"] == "1@127.0.0.1:19093"
    assert props["listeners"] == "PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093"
    assert props["advertised.listeners"] == "PLAINTEXT://127.0.0.1:19092"
    assert props["listener.security.protocol.map"] == "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT"
    assert props["controller.listener.names"] == "CONTROLLER"
    assert props["inter.broker.listener.name"] == "PLAINTEXT"
    assert props["log.dirs"] == str(cfg.service_dir("kafka") / "data")
    assert props["offsets.topic.replication.factor"] == "1"
    assert props["transaction.state.log.replication.factor"] == "1"
    assert props["transaction.state.log.min.isr"] == "1"
    assert props["group.initial.rebalance.delay.ms"] == "0"
    assert props["auto.create.topics.enable"] == "false"
    assert props["num.partitions"] == "4"


def test_kafka_server_properties_follow_port_overrides(tmp_path: Path) -> None:
    c = ServicesConfig(state_dir=tmp_path, kafka_port=29092, kafka_controller_port=29093)
    props = _properties(services.kafka_server_properties(c))
    assert props["listeners"] == "PLAINTEXT://127.0.0.1:29092,CONTROLLER://127.0.0.1:29093"
    assert props["controller.quorum.voters"] == "1@127.0.0.1:29093"


def test_kafka_pom_has_core_and_logging_backend() -> None:
    root = ET.fromstring(services.kafka_pom_xml("3.9.2"))
    deps = {
        (d.findtext("m:groupId", namespaces=POM_NS), d.findtext("m:artifactId", namespaces=POM_NS)): d.findtext(
            "m:version", namespaces=POM_NS
        )
        for d in root.iterfind("m:dependencies/m:dependency", POM_NS)
    }
    assert deps[("org.apache.kafka", "kafka_2.13")] == "3.9.2"
    assert ("ch.qos.reload4j", "reload4j") in deps
    assert ("org.slf4j", "slf4j-reload4j") in deps
    assert root.findtext("m:packaging", namespaces=POM_NS) == "pom"


def test_kafka_pom_rejects_unwired_major_version() -> None:
    with pytest.raises(ValueError, match=r"only 3\.x"):
        services.kafka_pom_xml("4.1.0")


def test_kafka_log4j_logs_to_stdout() -> None:
    props = _properties(services.kafka_log4j_properties())
    assert props["log4j.rootLogger"] == "INFO, stdout"
    assert props["log4j.appender.stdout"] == "org.apache.log4j.ConsoleAppender"


def test_kafka_cache_dir_is_per_version(cfg: ServicesConfig) -> None:
    assert cfg.kafka_cache_dir == cfg.cache_dir / f"kafka-{services.KAFKA_VERSION}"


def test_cached_jars_are_used_without_maven(cfg: ServicesConfig, monkeypatch: pytest.MonkeyPatch) -> None:
    lib = cfg.kafka_cache_dir / "lib"
    lib.mkdir(parents=True)
    (cfg.kafka_cache_dir / ".complete").write_text("x\n")
    monkeypatch.setenv("PATH", "/nonexistent")  # a mvn call would now fail
    assert services.fetch_kafka_jars(cfg) == lib


def _fake_mvn(bin_dir: Path, script: str) -> None:
    bin_dir.mkdir()
    mvn = bin_dir / "mvn"
    mvn.write_text("#!/bin/sh\n" + script)
    mvn.chmod(mvn.stat().st_mode | stat.S_IXUSR)


MAVEN_OFFLINE_OUTPUT = (
    "[ERROR] Plugin org.apache.maven.plugins:maven-dependency-plugin:3.8.1 or one of its dependencies could "
    "not be resolved: Could not transfer artifact org.apache.maven.plugins:maven-dependency-plugin:pom:3.8.1 "
    "from/to central (https://repo.maven.apache.org/maven2): repo.maven.apache.org: Temporary failure in "
    "name resolution"
)


def test_unreachable_maven_central_is_reported_with_maven_output(
    cfg: ServicesConfig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_mvn(tmp_path / "bin", f"echo '{MAVEN_OFFLINE_OUTPUT}'\nexit 1\n")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    with pytest.raises(ServiceError) as info:
        services.fetch_kafka_jars(cfg)
    text = str(info.value)
    assert text.startswith("kafka: could not reach Maven Central")
    assert MAVEN_OFFLINE_OUTPUT in text
    assert "copy-dependencies" in text  # the command is part of the report
    assert not (cfg.kafka_cache_dir / ".complete").exists()


def test_other_maven_failures_are_not_blamed_on_the_network(
    cfg: ServicesConfig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_mvn(tmp_path / "bin", "echo '[ERROR] Non-resolvable artifact: bogus'\nexit 1\n")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    with pytest.raises(ServiceError, match="Maven failed to fetch") as info:
        services.fetch_kafka_jars(cfg)
    assert "[ERROR] Non-resolvable artifact: bogus" in str(info.value)


def test_complete_fetch_writes_marker_last(
    cfg: ServicesConfig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The fake mvn drops the core jar into -DoutputDirectory like the real plugin would.
    jar = f"kafka_2.13-{cfg.kafka_version}.jar"
    script = 'for a; do case "$a" in -DoutputDirectory=*) d="${a#-DoutputDirectory=}";; esac; done\n'
    script += f'mkdir -p "$d" && touch "$d/{jar}"\n'
    _fake_mvn(tmp_path / "bin", script)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    lib = services.fetch_kafka_jars(cfg)
    assert (lib / jar).exists()
    assert (cfg.kafka_cache_dir / ".complete").exists()
    assert not (cfg.kafka_cache_dir / "lib.partial").exists()


# ---- ClickHouse ----------------------------------------------------------------------------------------


def test_clickhouse_config_is_well_formed_with_project_ports(cfg: ServicesConfig) -> None:
    root = ET.fromstring(services.clickhouse_config_xml(cfg))
    base = cfg.service_dir("clickhouse")
    assert root.tag == "yandex"
    assert root.findtext("tcp_port") == "19000"
    assert root.findtext("http_port") == "18123"
    assert [e.text for e in root.findall("listen_host")] == ["127.0.0.1"]
    assert root.find("interserver_http_port") is None
    assert root.findtext("path") == f"{base / 'data'}/"
    for tag in ("tmp_path", "user_files_path", "format_schema_path"):
        assert (root.findtext(tag) or "").startswith(f"{base / 'data'}/"), tag
    assert root.findtext("users_config") == str(base / "users.xml")
    assert root.findtext("logger/log") == str(base / "logs" / "clickhouse-server.log")
    assert root.findtext("logger/errorlog") == str(base / "logs" / "clickhouse-server.err.log")


def test_clickhouse_config_follows_port_overrides(tmp_path: Path) -> None:
    c = ServicesConfig(state_dir=tmp_path, clickhouse_port=29000, clickhouse_http_port=28123)
    root = ET.fromstring(services.clickhouse_config_xml(c))
    assert (root.findtext("tcp_port"), root.findtext("http_port")) == ("29000", "28123")


def test_clickhouse_config_escapes_odd_paths(tmp_path: Path) -> None:
    c = ServicesConfig(state_dir=tmp_path / "a&b <c>")
    root = ET.fromstring(services.clickhouse_config_xml(c))
    assert "a&b <c>" in (root.findtext("path") or "")


def test_clickhouse_users_default_user_on_loopback_only() -> None:
    root = ET.fromstring(services.clickhouse_users_xml())
    user = root.find("users/default")
    assert user is not None
    assert user.findtext("password") in ("", None)
    assert sorted(e.text or "" for e in user.findall("networks/ip")) == ["127.0.0.1", "::1"]
    assert user.findtext("profile") == "default"
    assert user.findtext("quota") == "default"
    assert root.find("profiles/default") is not None
    assert root.find("quotas/default/interval/duration") is not None


# ---- Redis ---------------------------------------------------------------------------------------------


def test_redis_command(cfg: ServicesConfig) -> None:
    cmd = services.redis_command(cfg, "/usr/bin/redis-server")
    assert cmd[0] == "/usr/bin/redis-server"
    args = dict(zip(cmd[1::2], cmd[2::2], strict=True))
    assert args["--port"] == "16379"
    assert args["--bind"] == "127.0.0.1"
    assert args["--save"] == ""
    assert args["--appendonly"] == "no"
    assert args["--daemonize"] == "no"
    assert args["--dir"] == str(cfg.service_dir("redis") / "data")


# ---- Errors, status and CLI (no processes started: ports are unused ones) --------------------------------


def test_service_error_names_service_command_and_log() -> None:
    err = ServiceError("redis", "exited with code 1", command=["redis-server", "--port", "1"], log_tail="boom")
    text = str(err)
    assert text.splitlines()[0] == "redis: exited with code 1"
    assert "command: redis-server --port 1" in text
    assert text.endswith("boom")


def test_tail_returns_last_lines(tmp_path: Path) -> None:
    log = tmp_path / "x.log"
    log.write_text("".join(f"line {i}\n" for i in range(100)))
    lines = services.tail(log).splitlines()
    assert len(lines) == 40
    assert lines[-1] == "line 99"
    assert services.tail(tmp_path / "missing.log") == ""


def _free_port_config(tmp_path: Path) -> ServicesConfig:
    import socket

    socks = [socket.socket() for _ in range(5)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        ports = [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()
    return ServicesConfig(
        state_dir=tmp_path / "state",
        cache_dir=tmp_path / "cache",
        kafka_port=ports[0],
        kafka_controller_port=ports[1],
        clickhouse_port=ports[2],
        clickhouse_http_port=ports[3],
        redis_port=ports[4],
    )


def test_status_of_never_started_services(tmp_path: Path) -> None:
    c = _free_port_config(tmp_path)
    result = services.status(config=c)
    assert list(result) == list(services.ALL)
    for st in result.values():
        assert (st.running, st.healthy, st.pid) == (False, False, None)
        assert "stopped" in st.line()


def test_down_removes_stale_pid_file_and_spares_unrelated_pids(tmp_path: Path) -> None:
    c = _free_port_config(tmp_path)
    dead = c.service_dir("redis") / "redis.pid"
    dead.parent.mkdir(parents=True)
    dead.write_text("2147483000\n")  # above any pid_max: certainly not running
    alive_not_ours = c.service_dir("clickhouse") / "clickhouse.pid"
    alive_not_ours.parent.mkdir(parents=True)
    alive_not_ours.write_text(f"{os.getpid()}\n")  # this pytest process: alive, but not running there

    assert services.status(["redis"], config=c)["redis"].detail == "stale pid file (pid 2147483000)"
    services.down(["redis", "clickhouse"], config=c)
    assert not dead.exists()
    assert not alive_not_ours.exists()


def test_unknown_service_name() -> None:
    with pytest.raises(ValueError, match="unknown service"):
        services.status(["postgres"])


def test_cli_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        services.main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert "flowtape services" in out
    assert "FLOWTAPE_KAFKA_PORT" in out


def test_cli_rejects_unknown_service(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        services.main(["up", "postgres"])
    assert info.value.code == 2
    assert "unknown service" in capsys.readouterr().err


def test_cli_status_exit_code_when_stopped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    c = _free_port_config(tmp_path)
    monkeypatch.setenv("FLOWTAPE_STATE_DIR", str(c.state_dir))
    monkeypatch.setenv("FLOWTAPE_REDIS_PORT", str(c.redis_port))
    assert services.main(["status", "redis"]) == 3
    out = capsys.readouterr().out
    assert out.startswith("redis")
    assert "stopped" in out


# ---- apt fallback (the commands are recorded, not run) ---------------------------------------------------


class _FakeRun:
    def __init__(self, returncodes: list[int]) -> None:
        self.returncodes = returncodes
        self.calls: list[tuple[list[str], str | None]] = []

    def __call__(self, cmd: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
        env = kwargs.get("env")
        self.calls.append((cmd, env.get("DEBIAN_FRONTEND") if isinstance(env, dict) else None))
        return subprocess.CompletedProcess(cmd, self.returncodes.pop(0), "out\n", "E: Unable to locate package\n")


def test_apt_install_retries_after_update(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = _FakeRun([100, 0, 0])
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    monkeypatch.setattr(subprocess, "run", fake)
    services._apt_install("redis", "redis-server")
    assert [c[0][:2] for c in fake.calls] == [["apt-get", "install"], ["apt-get", "update"], ["apt-get", "install"]]
    assert fake.calls[0][0][-2:] == ["-q", "redis-server"]
    assert "-y" in fake.calls[0][0]
    assert {c[1] for c in fake.calls} == {"noninteractive"}


def test_apt_install_failure_is_a_service_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    monkeypatch.setattr(subprocess, "run", _FakeRun([100, 0, 100]))
    with pytest.raises(ServiceError, match="apt-get install clickhouse-server failed") as info:
        services._apt_install("clickhouse", "clickhouse-server")
    assert "E: Unable to locate package" in str(info.value)


def test_clashing_ports_are_rejected() -> None:
    with pytest.raises(ValueError, match="ports must all differ"):
        ServicesConfig.from_env({"FLOWTAPE_CLICKHOUSE_HTTP_PORT": "19000"})
