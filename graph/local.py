"""The embedded local Neo4j: start it from the `neo4j-local` Maven module's jars, wait, stop it, and (for the
service) supervise it: `Supervisor` restarts it when its JVM dies.

The Java side (`neo4j-local/src/main/java/.../LocalNeo4j.java`) prints `READY bolt://...` once the
database answers a query, or one `ERROR ...` sentence when it cannot start. This module turns that
into a Python object with `start()`, `stop()` and `kill()`, verifies readiness over Bolt itself,
and keeps a pid file in the Neo4j home so a second command can find (or recover from) a first one.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from neo4j import GraphDatabase
from neo4j.exceptions import Neo4jError, ServiceUnavailable

from graph.password import neo4j_password, take_over
from graph.settings import Settings

log = logging.getLogger(__name__)

MAIN_CLASS = "org.grassroots.neo4jlocal.LocalNeo4j"
JAR_NAME = "neo4j-local-0.1.0.jar"
PID_FILE = "neo4j-local.pid"

#: Flags Neo4j 5 needs on Java 17 (the same as its own neo4j.conf ships), plus sane JVM defaults.
JVM_FLAGS = (
    "--add-opens=java.base/java.nio=ALL-UNNAMED",
    "--add-opens=java.base/java.io=ALL-UNNAMED",
    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
    "--add-opens=java.base/java.lang=ALL-UNNAMED",
    "--enable-native-access=ALL-UNNAMED",
    "-Dio.netty.tryReflectionSetAccessible=true",
    "-Djdk.nio.maxCachedBufferSize=1024",
    "-Dlog4j2.disable.jmx=true",
    "-Dfile.encoding=UTF-8",
    "-XX:-OmitStackTraceInFastThrow",
    "-XX:+ExitOnOutOfMemoryError",
)


class LocalNeo4jError(RuntimeError):
    """The local Neo4j could not start; the message is one sentence saying what to do."""


@dataclass
class LocalNeo4j:
    """One embedded Neo4j Community process on loopback, owned by this Python process."""

    home: Path
    port: int
    user: str
    password: str
    database: str = "neo4j"
    listen: str = "127.0.0.1"
    heap: str = "4g"
    pagecache: str = "4g"
    gc: str = "Parallel"  # the JVM's collector: Parallel or G1 (NEO4J_GC)
    dist: Path = Path("neo4j-local")
    start_timeout: float = 300.0
    config: str = ""  # extra Neo4j settings, "name=value;name=value", after NEO4J_CONFIG's
    process: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)
    _lines: list[str] = field(default_factory=list, init=False, repr=False)
    _ready: threading.Event = field(default_factory=threading.Event, init=False, repr=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> LocalNeo4j:
        """The local server the settings describe (NEO4J_LOCAL_*, NEO4J_HEAP, NEO4J_PAGECACHE...)."""
        return cls(
            home=Path(settings.local_home).resolve(),
            port=settings.local_port,
            user=settings.neo4j_user,
            password=neo4j_password(settings),
            database=settings.neo4j_database,
            listen=settings.local_listen,
            heap=settings.local_heap,
            pagecache=settings.local_pagecache,
            gc=settings.local_gc,
            dist=Path(settings.local_dist).resolve(),
            start_timeout=settings.local_start_timeout,
        )

    @property
    def uri(self) -> str:
        """The Bolt URI clients use."""
        return f"bolt://{self.listen}:{self.port}"

    @property
    def pid_file(self) -> Path:
        """Where the running server's pid is kept."""
        return self.home / PID_FILE

    @property
    def pid(self) -> int | None:
        """The pid of the Java process, while it runs."""
        return self.process.pid if self.process and self.process.poll() is None else None

    # ----------------------------------------------------------------- start-up
    def command(self) -> list[str]:
        """The `java <flags> -cp ... LocalNeo4j` command line; checks Java and the build first."""
        java = _find_java()
        jar = self.dist / "target" / JAR_NAME
        lib = self.dist / "target" / "lib"
        if not jar.is_file() or not lib.is_dir():
            hint = "运行 make neo4j-local 构建 / run `make neo4j-local` to build it"
            if shutil.which("mvn") is None:
                hint = "需要 Maven / Maven is missing: install it (apt-get install maven), then run `make neo4j-local`"
            raise LocalNeo4jError(f"本地 Neo4j 尚未构建 / The local Neo4j is not built ({jar} is missing): {hint}.")
        heap = self.heap
        return [
            java,
            f"-Xms{heap}",
            f"-Xmx{heap}",
            f"-XX:+Use{_collector(self.gc)}GC",
            *JVM_FLAGS,
            "-cp",
            f"{jar}{os.pathsep}{lib}{os.sep}*",
            MAIN_CLASS,
        ]

    def start(self) -> LocalNeo4j:
        """Start the server and return once it answers a Bolt query; raise LocalNeo4jError otherwise."""
        cmd = self.command()
        self.home.mkdir(parents=True, exist_ok=True)
        self._recover_stale_pid_file()
        _check_port_free(self.listen, self.port)
        env = {
            **os.environ,
            "NEO4J_LOCAL_HOME": str(self.home),
            "NEO4J_LOCAL_LISTEN": self.listen,
            "NEO4J_LOCAL_PORT": str(self.port),
            "NEO4J_PAGECACHE": self.pagecache,
            "NEO4J_USER": self.user,
            "NEO4J_PASSWORD": self.password,
            "NEO4J_DATABASE": self.database,
            "NEO4J_LOCAL_PARENT_PID": str(os.getpid()),
            "NEO4J_CONFIG": ";".join(c for c in (os.environ.get("NEO4J_CONFIG", ""), self.config) if c),
        }
        (self.home / "logs").mkdir(exist_ok=True)
        stderr = (self.home / "logs" / "neo4j-local.stderr.log").open("ab")
        started = time.monotonic()
        self._lines.clear()
        self._ready.clear()
        # Own session: a Ctrl-C in the terminal reaches us, and we stop Neo4j after the service.
        self.process = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=stderr, start_new_session=True)
        stderr.close()
        threading.Thread(target=self._pump, name="neo4j-local-stdout", daemon=True).start()
        try:
            self._await_ready(started)
        except BaseException:
            self.kill()
            raise
        self.pid_file.write_text(str(self.process.pid))
        log.info("本地 Neo4j 已就绪 / local Neo4j ready at %s in %.1f s", self.uri, time.monotonic() - started)
        return self

    def _pump(self) -> None:
        assert self.process is not None
        assert self.process.stdout is not None
        for raw in self.process.stdout:
            line = raw.decode("utf-8", "replace").rstrip()
            self._lines.append(line)
            if line.startswith(("READY", "ERROR")):
                self._ready.set()
            log.debug("neo4j-local: %s", line)
        self._ready.set()

    def _await_ready(self, started: float) -> None:
        assert self.process is not None
        deadline = started + self.start_timeout
        while not self._ready.wait(timeout=0.5):
            if time.monotonic() > deadline:
                raise LocalNeo4jError(
                    f"本地 Neo4j 启动超时 / The local Neo4j did not start within {self.start_timeout:.0f} s: "
                    f"see {self.home / 'logs' / 'debug.log'}, or raise NEO4J_LOCAL_START_TIMEOUT."
                )
        errors = [line[len("ERROR ") :] for line in self._lines if line.startswith("ERROR")]
        if errors:
            raise LocalNeo4jError(errors[0])
        if not any(line.startswith("READY") for line in self._lines):
            code = self.process.wait(timeout=30)
            raise LocalNeo4jError(
                f"本地 Neo4j 意外退出 / The local Neo4j exited with code {code} before it was ready: "
                f"see {self.home / 'logs' / 'neo4j-local.stderr.log'}."
            )
        self._verify_bolt(deadline)

    def _verify_bolt(self, deadline: float) -> None:
        """Ready means a query answers over Bolt, with the configured credentials."""
        last: Exception | None = None
        with GraphDatabase.driver(self.uri, auth=(self.user, self.password), connection_timeout=3) as driver:
            while time.monotonic() < deadline:
                try:
                    driver.execute_query("RETURN 1 AS ok", database_=self.database)
                    return
                except (ServiceUnavailable, OSError) as exc:
                    last = exc
                    time.sleep(0.2)
                except Neo4jError as exc:
                    raise LocalNeo4jError(
                        f"本地 Neo4j 拒绝查询 / The local Neo4j refused a query ({exc.code}): "
                        "check NEO4J_USER and NEO4J_PASSWORD."
                    ) from exc
        raise LocalNeo4jError(f"Bolt 未响应 / Bolt at {self.uri} did not answer: {last}")

    def _recover_stale_pid_file(self) -> None:
        """A pid file left by a killed run is removed; one of a live server is a clear error."""
        if not self.pid_file.exists():
            return
        try:
            old = int(self.pid_file.read_text().strip())
        except ValueError:
            old = -1
        if old > 0 and _is_local_neo4j(old):
            raise LocalNeo4jError(
                f"本地 Neo4j 已在运行 / A local Neo4j (pid {old}) already uses {self.home}: stop it first "
                f"(kill {old}), or set NEO4J_URI={self.uri} to use it, or set NEO4J_LOCAL_HOME elsewhere."
            )
        log.warning("清除过期的锁 / removing the stale pid file of a killed run (pid %s)", old)
        self.pid_file.unlink(missing_ok=True)

    # ----------------------------------------------------------------- shutdown
    def stop(self, timeout: float = 120.0) -> int | None:
        """Clean shutdown (SIGTERM, Neo4j flushes and closes its store); SIGKILL after `timeout`."""
        proc = self.process
        if proc is None:
            return None
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                log.error("本地 Neo4j 未能按时关闭 / local Neo4j did not stop in %.0f s: killing it", timeout)
                proc.kill()
                proc.wait()
        self._forget()
        return proc.returncode

    def kill(self) -> None:
        """Kill at once (SIGKILL), as a crash would. The next start recovers."""
        proc = self.process
        if proc is None:
            return
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        self._forget()

    def _forget(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            if self.process and self.pid_file.read_text().strip() == str(self.process.pid):
                self.pid_file.unlink()

    @property
    def output(self) -> list[str]:
        """The lines the Java process printed (READY, ERROR, STOPPING, STOPPED...)."""
        return list(self._lines)

    def __enter__(self) -> LocalNeo4j:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def _collector(name: str) -> str:
    if name not in ("G1", "Parallel"):
        raise LocalNeo4jError(f"未知的垃圾回收器 / Unknown garbage collector {name!r}: NEO4J_GC is G1 or Parallel.")
    return name


def _find_java() -> str:
    java_home = os.environ.get("JAVA_HOME")
    if java_home and (Path(java_home) / "bin" / "java").is_file():
        return str(Path(java_home) / "bin" / "java")
    found = shutil.which("java")
    if found is None:
        raise LocalNeo4jError(
            "未找到 Java / Java 17 or newer was not found: install it (apt-get install openjdk-17-jdk-headless) "
            "or set JAVA_HOME."
        )
    return found


def _check_port_free(host: str, port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # SO_REUSEADDR as Neo4j itself binds: a listener fails the check, TIME_WAIT leftovers do not.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise LocalNeo4jError(
                f"端口已被占用 / Port {port} on {host} is already in use: stop the program that holds it, "
                "or set NEO4J_LOCAL_PORT to a free port."
            ) from exc


def _is_local_neo4j(pid: int) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return MAIN_CLASS.encode() in cmdline


def free_port(host: str = "127.0.0.1") -> int:
    """A port the OS says is free now (for tests and benchmarks that start their own server)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def exit_reason(code: int) -> str:
    """A child's exit status in words: `signal 9 (SIGKILL)` or `exit code 1`."""
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"signal {-code} ({signal.Signals(-code).name})"
        return f"signal {-code}"
    return f"exit code {code}"


class Supervisor:
    """Restarts a local Neo4j this process started when its JVM dies, with back-off, until it gives up.

    Rules: the watcher thread waits on the child (`Popen.wait`, i.e. waitpid), so a dead JVM is reaped at once
    and never left a zombie; the n-th restart within the window waits `backoff * 2**(n-1)` seconds, at most
    `backoff_max`; after `limit` crashes or failed starts within `window` seconds it gives up (`gave_up`), and
    liveness (`/healthz`) turns 503. The port and home stay the same, so the service's driver reconnects by
    itself. Each death and restart is logged with its exit code or signal.
    """

    def __init__(self, local: LocalNeo4j, *, backoff: float, backoff_max: float, limit: int, window: float) -> None:
        self.local = local
        self.backoff = backoff
        self.backoff_max = backoff_max
        self.limit = limit
        self.window = window
        #: Restarts that succeeded so far.
        self.restarts = 0
        self.gave_up = False
        #: Set from the JVM's death until a restart answers over Bolt (and for good once given up).
        self.down = threading.Event()
        self._failures: deque[float] = deque()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="neo4j-local-supervisor", daemon=True)

    @classmethod
    def from_settings(cls, local: LocalNeo4j, settings: Settings) -> Supervisor:
        """The supervision the settings describe (GRASSROOTS_RESTART_*)."""
        return cls(
            local,
            backoff=settings.restart_backoff,
            backoff_max=settings.restart_backoff_max,
            limit=settings.restart_limit,
            window=settings.restart_window,
        )

    @property
    def running(self) -> bool:
        """The server is up and answering: not dead, not restarting."""
        return not self.down.is_set() and self.local.pid is not None

    def restarting(self) -> bool:
        """The server is dead or being restarted: queries should fail at once rather than try to connect."""
        return self.down.is_set()

    def start(self) -> Supervisor:
        """Watch the (started) server from a daemon thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop watching (the caller stops the server after it, so a clean stop is no crash)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=self.backoff_max + self.local.start_timeout)

    def _watch(self) -> None:
        while not self._stop.is_set():
            proc = self.local.process
            if proc is None:
                return
            try:
                code = proc.wait(timeout=0.5)  # waitpid: the dead JVM is reaped here
            except subprocess.TimeoutExpired:
                continue
            if self._stop.is_set():
                return
            self.down.set()
            log.error(
                "本地 Neo4j 意外退出(%s)/ the local Neo4j (pid %s) died: %s",
                exit_reason(code), proc.pid, exit_reason(code),
            )  # fmt: skip
            self._restart()

    def _restart(self) -> None:
        """Restart after a death, with back-off; give up after `limit` failures within `window` seconds."""
        while not self._stop.is_set():
            now = time.monotonic()
            self._failures.append(now)
            while self._failures and now - self._failures[0] > self.window:
                self._failures.popleft()
            if len(self._failures) > self.limit:
                self.gave_up = True
                log.critical(
                    "本地 Neo4j 在 %.0f 秒内失败 %d 次,不再重启 / the local Neo4j failed %d times within %.0f s: "
                    "no more restarts, restart the service",
                    self.window, len(self._failures), len(self._failures), self.window,
                )  # fmt: skip
                return
            delay = min(self.backoff * 2 ** (len(self._failures) - 1), self.backoff_max)
            log.warning(
                "%.1f 秒后重启本地 Neo4j(第 %d 次)/ restarting the local Neo4j in %.1f s (attempt %d)",
                delay, len(self._failures), delay, len(self._failures),
            )  # fmt: skip
            if self._stop.wait(delay):
                return
            started = time.monotonic()
            try:
                self.local.start()
            except LocalNeo4jError as exc:
                log.error("本地 Neo4j 重启失败 / restarting the local Neo4j failed: %s", exc)
                continue
            self.restarts += 1
            self.down.clear()
            log.warning(
                "本地 Neo4j 已重启(pid %s,%.1f 秒)/ the local Neo4j restarted (pid %s) in %.1f s",
                self.local.pid, time.monotonic() - started, self.local.pid, time.monotonic() - started,
            )  # fmt: skip
            return


@contextlib.contextmanager
def database_uri(settings: Settings) -> Iterator[str]:
    """The Bolt URI to use: NEO4J_URI when set (nothing started), else the embedded local server.

    A local server already started by another command (its pid file is live) is used as it is and
    left running; otherwise one is started for the duration of the block and stopped after it.
    """
    with supervised_database(settings, supervise=False) as (uri, _):
        yield uri


@contextlib.contextmanager
def supervised_database(settings: Settings, *, supervise: bool) -> Iterator[tuple[str, Supervisor | None]]:
    """As `database_uri`; with `supervise`, a local server started here is restarted after a crash (its
    `Supervisor` is yielded beside the URI; None when nothing is supervised)."""
    if not settings.uses_local:
        yield settings.effective_uri, None
        return
    local = LocalNeo4j.from_settings(settings)
    if local.pid_file.exists():
        with contextlib.suppress(ValueError):
            pid = int(local.pid_file.read_text().strip())
            if _is_local_neo4j(pid):
                log.info("使用已运行的本地 Neo4j / using the running local Neo4j (pid %s)", pid)
                if settings.neo4j_password is None:  # the install's own password: a server of an earlier version
                    take_over(local.uri, local.user, local.password)  # may still have the former default
                yield local.uri, None
                return
    local.start()
    supervisor = Supervisor.from_settings(local, settings).start() if supervise else None
    try:
        yield local.uri, supervisor
    finally:
        if supervisor is not None:
            supervisor.stop()
        local.stop()
