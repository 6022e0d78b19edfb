"""Traffic benchmark (issue 22): many signed-in users at once, then one abusive client beside them, then kill -9
of the embedded Neo4j under that load.

`python -m bench traffic` (city profile; `--traffic-profile small`, `--quick` for a check run): the profile is
generated and loaded into a local Neo4j store (`--store DIR` keeps it for the next run), and the service is
started as people run it — `grassroots serve` in its own process, starting (and, where it can, supervising) the
embedded Neo4j on that store. The users (`bench.crowd`: the page's GraphQL documents, the API's typical queries,
audit workbooks at a small share; each user its own account and bearer token) run on a bounded asyncio httpx
client on loopback, in phases of a fixed duration:

1. warm-up (not reported); 2. 20 users; 3. 20 users and the abusive client (`bench.abuser`, its own process and
account); 4. 100 users warming up (not reported: the first visits of their scopes pay first plans and pages, and
the abused phase must not be charged for them); 5. 100 users without and with the abusive client in turn, half a
phase each, A B A B A B A (`SEGMENTS`); 6. 100 users, and kill -9 of the Neo4j JVM `KILL_AT` seconds in.

Per phase: requests answered well per second, latency p50/p95/p99 of every request (a failed one counts its own
time, a timed-out one its `crowd.TIMEOUT`), failures by kind, the host's load average, the service's and
Neo4j's memory. The abuse's effect is the users' p95 while abused over their p95 without it, same run (goal: below
1.20), at 20 users (one phase each) and at 100 (the requests of the abused segments pooled against those of the
unabused ones between and around them, so a drift of the host during the run falls on both sides). The phases start once
the service has read the store after its start (graph/warmup.py), as people meet it after its first minute. The kill: seconds from the kill to the first request sent after it that is answered well; requests
lost, split into those in flight at the kill and those sent while Neo4j was away.

Runs are kept by `--label` in docs/benchmarks-traffic.json, so the section shows "before" and "after" runs
side by side; `--quick` writes nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bench import abuser, crowd
from bench.abuser import AbuserProcess, Target
from bench.report import DOC, machine, write_section
from bench.signin import Account, bearer, ensure, first_city
from core.access import Role, grants
from graph.local import MAIN_CLASS, LocalNeo4j, free_port
from graph.settings import PROJECT_ROOT, Settings

#: The users of the phases (the issue's 20 and 100).
USERS = (20, 100)
#: Seconds per phase (`--seconds`), and with `--quick`.
SECONDS, QUICK_SECONDS = 60.0, 10.0
#: Mean think time between a user's actions, seconds (uniform from half to one and a half of it; `--think`).
THINK = 10.0
#: The kill -9 comes this many seconds into its phase; the phase then lasts at least `RECOVERY_WAIT` more.
KILL_AT, RECOVERY_WAIT = 10.0, 60.0
QUICK_KILL_AT, QUICK_RECOVERY_WAIT = 4.0, 40.0
#: The many users' phases without and with the abusive client alternate, each half a phase long: A B A B A B A.
SEGMENTS = 7
#: The goal: the users' p95 while one client abuses the service moves by less than 20 %.
GOAL = 1.20
ADMIN, ABUSER = "bench-admin", "bench-abuser"
HISTORY = DOC.with_name("benchmarks-traffic.json")


# ---------------------------------------------------------------- the store and the service


@dataclass
class Store:
    """A Neo4j home holding the profile, its password, and whether this run loaded it."""

    home: Path
    password: str
    profile: str
    fresh: bool


def prepare_store(profile: str, keep: Path | None, tmp: Path) -> Store:
    """The profile loaded into a local Neo4j home: `keep/profile` when it holds one already, else generated and
    loaded through `grassroots demo` and `grassroots load` (into `keep/profile`, or `tmp`)."""
    root = (keep / profile) if keep else (tmp / "store")
    marker, secret_file = root / "loaded", root / "password"
    if marker.exists():
        return Store(root / "neo4j", secret_file.read_text().strip(), profile, False)
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    password = secrets.token_urlsafe(18)
    csv = tmp / "csv"
    subprocess.run([sys.executable, "-m", "cli", "demo", "--profile", profile, "--out", str(csv)],
                   cwd=PROJECT_ROOT, check=True, capture_output=True)  # fmt: skip
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, NEO4J_LOCAL_HOME=str(root / "neo4j"), NEO4J_LOCAL_PORT=free_port(), NEO4J_PASSWORD=password
    )
    local = LocalNeo4j.from_settings(settings).start()
    try:
        env = {**os.environ, "NEO4J_URI": local.uri, "NEO4J_PASSWORD": password, "PYTHONPATH": str(PROJECT_ROOT)}
        subprocess.run([sys.executable, "-m", "cli", "load", str(csv)], cwd=PROJECT_ROOT, env=env, check=True,
                       capture_output=True)  # fmt: skip
    finally:
        local.stop()
    secret_file.write_text(password)
    secret_file.chmod(0o600)
    marker.write_text(datetime.now(UTC).isoformat())
    return Store(root / "neo4j", password, profile, True)


@dataclass
class Service:
    """`grassroots serve` running in its own process: where it answers, its Bolt port, its log."""

    proc: subprocess.Popen[bytes]
    base_url: str
    bolt: str
    log: Path

    def jvm_pids(self) -> list[int]:
        """The embedded Neo4j JVMs that are children of the service (live or zombie)."""
        out = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            with contextlib.suppress(OSError):
                stat = (entry / "stat").read_text()
                ppid = int(stat.rsplit(")", 1)[1].split()[1])
                if ppid == self.proc.pid and MAIN_CLASS.encode() in (entry / "cmdline").read_bytes():
                    out.append(int(entry.name))
        return sorted(out)

    def live_jvm(self) -> int | None:
        return next((pid for pid in self.jvm_pids() if _state(pid) not in ("Z", "")), None)


def _state(pid: int) -> str:
    """A process's state letter (`Z`: a zombie nobody reaped), or "" when it is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return ""


def _zombie(pid: int) -> bool:
    """A killed process not yet reaped: its /proc entry stays, state Z (its cmdline is empty by then)."""
    return _state(pid) == "Z"


def rss_mib(pid: int | None) -> float | None:
    if pid is None:
        return None
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return None


@contextlib.contextmanager
def service(store: Store, data_dir: Path, log: Path) -> Iterator[Service]:
    """The service as people start it (`grassroots serve`, the embedded Neo4j on `store`), until ready."""
    port, bolt = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("NEO4J_URI",)}
    env |= {
        "NEO4J_LOCAL_HOME": str(store.home),
        "NEO4J_LOCAL_PORT": str(bolt),
        "NEO4J_PASSWORD": store.password,
        "GRASSROOTS_DATA_DIR": str(data_dir),
        "GRASSROOTS_HOST": "127.0.0.1",
        "GRASSROOTS_PORT": str(port),
        "GRASSROOTS_DEMO": "none",
        "PYTHONPATH": str(PROJECT_ROOT),
    }
    with log.open("ab") as out:
        proc = subprocess.Popen([sys.executable, "-m", "cli", "serve"], cwd=PROJECT_ROOT, env=env, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
    svc = Service(proc, f"http://127.0.0.1:{port}", f"bolt://127.0.0.1:{bolt}", log)
    try:
        deadline = time.monotonic() + 600
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"the service exited ({proc.returncode}): {log.read_text()[-3000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the service was not ready within 600 s: {log.read_text()[-3000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{svc.base_url}/readyz", timeout=5).status_code == 200 and _warmed(log):
                    break
            time.sleep(0.5)
        yield svc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=120)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _warmed(log: Path) -> bool:
    """The service has read the store into Neo4j's page cache once (graph/warmup.py), as it does after each start:
    a run measures a warm service, as people meet it after its first minute."""
    text = log.read_text(errors="replace")
    return "warm-up done" in text or "warm-up left unfinished" in text


# ---------------------------------------------------------------- accounts and what they see


def user_accounts(n: int, city: str, streets: list[str]) -> list[Account]:
    """User i: every tenth an admin of the whole city, two in ten auditors of a street (they download audit
    workbooks), the rest viewers of a street; streets taken in turn."""
    out = []
    for i in range(1, n + 1):
        street = streets[i % len(streets)]
        if i % 10 == 0:
            out.append(Account(f"bench-user-{i:03d}", Role.ADMIN, city))
        elif i % 10 in (1, 2):
            out.append(Account(f"bench-user-{i:03d}", Role.AUDITOR, street))
        else:
            out.append(Account(f"bench-user-{i:03d}", Role.VIEWER, street))
    return out


def _ask(svc: Service, headers: dict[str, str], query: str, variables: dict[str, Any] | None = None) -> Any:
    response = httpx.post(f"{svc.base_url}/graphql", json={"query": query, "variables": variables or {}},
                          headers=headers, timeout=120)  # fmt: skip
    body = response.json()
    if response.status_code != 200 or body.get("errors"):
        raise RuntimeError(f"{query[:80]}: {str(body)[:500]}")
    return body["data"]


@dataclass
class Setting:
    """Everything the phases need: the service, the users' accounts and headers, the abuser's target."""

    svc: Service
    accounts: list[Account]
    headers: dict[str, dict[str, str]]
    target: Target
    city: str
    streets: int


def set_up(svc: Service, store: Store, data_dir: Path, users: int) -> Setting:
    """The accounts (made in the service's database unless there already), their tokens, the abuser's target."""
    city = first_city(svc.bolt, store.password)
    ensure(svc.bolt, store.password, Account(ADMIN, Role.ADMIN, city), Account(ABUSER, Role.VIEWER, city))
    admin = bearer(data_dir, ADMIN)
    tree = _ask(svc, admin, "{ cities { districts { streets { code communities { code } } } } }")
    streets = [s for c in tree["cities"] for d in c["districts"] for s in d["streets"]]
    accounts = user_accounts(users, city, [s["code"] for s in streets])
    ensure(svc.bolt, store.password, *accounts)
    community = streets[0]["communities"][0]["code"]
    drawing = _ask(svc, admin, crowd.NETWORK, {"root": community, "depth": 4, "max": 1000, "households": False})
    ids = tuple(n["id"] for n in drawing["network"]["nodes"] if not str(n["id"]).startswith("area:"))
    target = Target(svc.base_url, bearer(data_dir, ABUSER), city, streets[0]["code"], community, ids)
    headers = {a.login: bearer(data_dir, a.login) for a in accounts}
    return Setting(svc, accounts, headers, target, city, len(streets))


# ---------------------------------------------------------------- phases


@dataclass
class Phase:
    """One phase: its users, its length; `kind` is warm-up, plain, abused, after or kill."""

    name: str
    kind: str
    users: int
    seconds: float
    kill_at: float | None = None


@dataclass
class Kill:
    """What happened around the kill -9."""

    at: float = 0.0
    pid: int | None = None
    in_flight: int = 0
    probes: list[tuple[float, str, int]] = field(default_factory=list)  # (seconds after the kill, path, status)
    zombie_after_5s: bool | None = None
    restarted_pid: int | None = None


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def _probe(svc: Service, kill: Kill, stop: asyncio.Event) -> None:
    """Every half second after the kill: /healthz and /readyz, as a load balancer would ask."""
    async with httpx.AsyncClient(base_url=svc.base_url, timeout=5) as client:
        while not stop.is_set():
            for path in ("/healthz", "/readyz"):
                try:
                    status = (await client.get(path)).status_code
                except httpx.HTTPError:
                    status = 0
                kill.probes.append((time.perf_counter() - kill.at, path, status))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.5)


async def _killer(svc: Service, phase: Phase, recorder: crowd.Recorder, kill: Kill, stop: asyncio.Event) -> None:
    assert phase.kill_at is not None
    await asyncio.sleep(phase.kill_at)
    kill.pid = svc.live_jvm()
    if kill.pid is None:
        raise RuntimeError("no live Neo4j JVM under the service to kill")
    kill.in_flight = recorder.in_flight
    kill.at = time.perf_counter()
    os.kill(kill.pid, signal.SIGKILL)
    probe = asyncio.ensure_future(_probe(svc, kill, stop))
    await asyncio.sleep(5)
    kill.zombie_after_5s = _zombie(kill.pid)
    await probe
    kill.restarted_pid = svc.live_jvm()


def cpu_seconds(pid: int | None) -> float | None:
    """CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat; None when it is gone."""
    if pid is None:
        return None
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _spent(before: float | None, after: float | None) -> float | None:
    return round(after - before, 1) if before is not None and after is not None else None


async def _run_phase(setting: Setting, phase: Phase, seed: int, think: float) -> dict[str, Any]:
    svc = setting.svc
    recorder = crowd.Recorder()
    users = [
        crowd.User(a.login, setting.headers[a.login], grants(a.role).audit_workbook, random.Random(seed * 1000 + i))
        for i, a in enumerate(setting.accounts[: phase.users])
    ]
    limits = httpx.Limits(max_connections=2 * phase.users + 10, max_keepalive_connections=2 * phase.users + 10)
    stop = asyncio.Event()
    kill = Kill()
    bad = AbuserProcess(setting.target) if phase.kind == "abused" else None
    load_start = os.getloadavg()[0]
    jvm = svc.live_jvm()
    cpu_start = (cpu_seconds(svc.proc.pid), cpu_seconds(jvm), time.process_time())
    async with httpx.AsyncClient(base_url=svc.base_url, timeout=crowd.TIMEOUT, limits=limits) as client:
        people = crowd.Crowd(client, users, recorder, think)
        if bad:
            bad.start()
        began = time.perf_counter()
        task = asyncio.ensure_future(people.run(stop))
        killer = asyncio.ensure_future(_killer(svc, phase, recorder, kill, stop)) if phase.kill_at else None
        await asyncio.sleep(phase.seconds)
        stop.set()
        ended = time.perf_counter()
        abused = bad.stop() if bad else None
        await task
        if killer:
            await killer
    samples = [s for s in recorder.samples if began <= s.start < ended]
    out = summarise(samples, ended - began)
    out |= {
        "phase": phase.name,
        "kind": phase.kind,
        "users": phase.users,
        "load": [round(load_start, 2), round(os.getloadavg()[0], 2)],
        "service_rss_mib": rss_mib(svc.proc.pid),
        "neo4j_rss_mib": rss_mib(svc.live_jvm()),
        # CPU seconds in the phase: the service, its Neo4j (the JVM that ran at the start), the users' client
        "cpu_s": {
            "service": _spent(cpu_start[0], cpu_seconds(svc.proc.pid)),
            "neo4j": _spent(cpu_start[1], cpu_seconds(jvm)),
            "users": round(time.process_time() - cpu_start[2], 1),
        },
    }
    if phase.kind in ("plain", "abused", "after"):  # each request's time, for the verdict's pooled percentiles
        out["times_ms"] = [round(s.seconds * 1000) for s in samples]
    if abused is not None:
        out["abuser"] = abused
    if phase.kill_at:
        out["kill"] = kill_summary(kill, samples, ended)
    return out


def summarise(samples: list[crowd.Sample], seconds: float) -> dict[str, Any]:
    """Throughput, latency percentiles of every request, failures by kind, and the same per request name."""
    times = [s.seconds for s in samples]
    ok = sum(s.ok for s in samples)
    by_name: dict[str, list[crowd.Sample]] = {}
    for s in samples:
        by_name.setdefault(s.name, []).append(s)
    return {
        "seconds": round(seconds, 1),
        "requests": len(samples),
        "ok": ok,
        "ok_per_s": ok / seconds,
        "p50": _percentile(times, 0.5),
        "p95": _percentile(times, 0.95),
        "p99": _percentile(times, 0.99),
        "failures": dict(Counter(s.outcome for s in samples if not s.ok).most_common()),
        "by_name": {
            name: {
                "n": len(group),
                "failed": sum(not s.ok for s in group),
                "p50": _percentile([s.seconds for s in group], 0.5),
                "p95": _percentile([s.seconds for s in group], 0.95),
            }
            for name, group in sorted(by_name.items())
        },
    }


def kill_summary(kill: Kill, samples: list[crowd.Sample], ended: float) -> dict[str, Any]:
    """Recovery: the first request sent after the kill and answered well; losses split by when they were sent."""
    after = sorted((s for s in samples if s.start > kill.at and s.ok), key=lambda s: s.end)
    recovered = after[0].end - kill.at if after else None
    back = kill.at + recovered if recovered is not None else ended
    in_flight = [s for s in samples if s.start <= kill.at < s.end]
    ready = next((t for t, path, status in kill.probes if path == "/readyz" and status == 200), None)
    return {
        "recovered_s": recovered,
        "waited_s": ended - kill.at,
        "in_flight": kill.in_flight,
        "in_flight_failed": sum(not s.ok for s in in_flight),
        "outage_sent": sum(kill.at < s.start < back for s in samples),
        "outage_failed": sum(kill.at < s.start < back and not s.ok for s in samples),
        "failed_after_recovery": sum(s.start >= back and not s.ok for s in samples),
        "outage_failures": dict(Counter(s.outcome for s in samples if kill.at < s.start < back and not s.ok)),
        "readyz_back_s": ready,
        "healthz": dict(Counter(status for _, path, status in kill.probes if path == "/healthz")),
        "zombie_after_5s": kill.zombie_after_5s,
        "restarted": kill.restarted_pid is not None and kill.restarted_pid != kill.pid,
    }


def phases(seconds: float, quick: bool, users: tuple[int, int]) -> list[Phase]:
    few, many = users
    kill_at, wait = (QUICK_KILL_AT, QUICK_RECOVERY_WAIT) if quick else (KILL_AT, RECOVERY_WAIT)
    return [
        Phase("warm-up", "warm-up", few, min(10.0, seconds)),
        Phase(f"{few} users", "plain", few, seconds),
        Phase(f"{few} users + 1 abusive client", "abused", few, seconds),
        Phase(f"{many} users, warm-up", "warm-up", many, seconds),
        *(
            Phase(f"{many} users + 1 abusive client ({i // 2 + 1})", "abused", many, seconds / 2)
            if i % 2
            else Phase(f"{many} users ({i // 2 + 1})", "plain", many, seconds / 2)
            for i in range(SEGMENTS)
        ),
        Phase(f"{many} users, kill -9 of Neo4j", "kill", many, kill_at + max(wait, seconds - kill_at), kill_at=kill_at),
    ]


def run(
    profile: str, quick: bool, seconds: float, keep: Path | None, users: tuple[int, int], think: float = THINK
) -> dict[str, Any]:
    """Measure; the run's numbers."""
    with tempfile.TemporaryDirectory(prefix="bench-traffic-") as tmp_name:
        tmp = Path(tmp_name)
        t0 = time.monotonic()
        store = prepare_store(profile, keep, tmp)
        prepared = time.monotonic() - t0
        data_dir = tmp / "data"
        log = tmp / "service.log"
        with service(store, data_dir, log) as svc:
            setting = set_up(svc, store, data_dir, max(users))
            results = []
            for seed, phase in enumerate(phases(seconds, quick, users)):
                print(f"[traffic] {phase.name}: {phase.seconds:.0f} s …", file=sys.stderr, flush=True)
                result = asyncio.run(_run_phase(setting, phase, seed, think))
                print(f"[traffic] {_line(result)}", file=sys.stderr, flush=True)
                if phase.kind != "warm-up":
                    results.append(result)
        service_log = log.read_text(errors="replace")
        kept = Path(tempfile.gettempdir()) / "bench-traffic-service.log"
        shutil.copyfile(log, kept)
        print(f"[traffic] the service's log: {kept}", file=sys.stderr)
    return {
        "profile": profile,
        "quick": quick,
        "fresh_store": store.fresh,
        "store_seconds": round(prepared, 1),
        "streets": setting.streets,
        "think": think,
        "timeout": crowd.TIMEOUT,
        "commit": _commit(),
        "measured": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "pooled": _pool_by_users(results),
        "phases": [{k: v for k, v in r.items() if k != "times_ms"} for r in results],
        # The supervisor's lines (graph/local.py): "… died: …", "… restarted (pid …) in … s".
        "deaths_logged": sum(" died" in line for line in service_log.splitlines()),
        "restarts_logged": sum(" restarted" in line for line in service_log.splitlines()),
        "tracebacks_logged": service_log.count("Traceback (most recent call last)"),
    }


def _commit() -> str:
    out = subprocess.run(["git", "log", "-1", "--format=%h %s"], cwd=PROJECT_ROOT, capture_output=True, text=True)
    return out.stdout.strip()[:100]


# ---------------------------------------------------------------- report


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value * 1000:,.0f} ms"


def _line(r: dict[str, Any]) -> str:
    kill = r.get("kill")
    extra = f"; kill: {kill}" if kill else ""
    return (f"{r['phase']}: {r['requests']} requests, {r['ok_per_s']:.1f} ok/s, p50 {_ms(r['p50'])}, "
            f"p95 {_ms(r['p95'])}, p99 {_ms(r['p99'])}, failures {r['failures']}, load {r['load']}{extra}")  # fmt: skip


def _pairs(run: dict[str, Any]) -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """Each abused phase with the unabused phases of as many users on either side of it, same run (A-B-A): the
    phase just before and the one just after (one side when it has only one). Judged against their mean p95, a
    drift during the run — the host's load, or a phase before still warming up — cancels out instead of being
    charged to the abuse or hiding it; each side's own ratio is shown beside the verdict."""
    pairs = []
    phases_ = run["phases"]
    for i, abused in enumerate(phases_):
        if abused["kind"] != "abused":
            continue
        sides = []
        for step in (-1, 1):
            j = i + step
            while 0 <= j < len(phases_) and phases_[j]["users"] == abused["users"]:
                if phases_[j]["kind"] in ("plain", "after") and phases_[j]["p95"]:
                    sides.append(phases_[j])
                    break
                j += step
        if sides:
            pairs.append((abused, sides))
    return pairs


def _reference(sides: list[dict[str, Any]], key: str) -> float:
    return sum(p[key] for p in sides) / len(sides)


def _pooled(phases_: list[dict[str, Any]]) -> dict[str, Any] | None:
    """p95 and answers per second of these phases' requests taken together (None unless each kept its times)."""
    if not phases_ or any("times_ms" not in p for p in phases_):
        return None
    times = [t / 1000 for p in phases_ for t in p["times_ms"]]
    seconds = sum(p["seconds"] for p in phases_)
    return {
        "p95": _percentile(times, 0.95),
        "ok_per_s": sum(p["ok"] for p in phases_) / seconds if seconds else 0.0,
        "requests": len(times),
        "failed": sum(sum(p["failures"].values()) for p in phases_),
        "phases": len(phases_),
    }


def _pool_by_users(phases_: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per number of users that had an abused phase, its abused and its unabused phases pooled (`_pooled`)."""
    out = {}
    for users in sorted({p["users"] for p in phases_ if p["kind"] == "abused"}):
        bad = _pooled([p for p in phases_ if p["kind"] == "abused" and p["users"] == users])
        clean = _pooled([p for p in phases_ if p["kind"] in ("plain", "after") and p["users"] == users])
        if bad and clean:
            out[str(users)] = {"abused": bad, "unabused": clean}
    return out


def _judged(run: dict[str, Any]) -> list[tuple[int, dict[str, Any], dict[str, Any], str]]:
    """Per number of users that had an abused phase: (users, abused, unabused, how) — since 2026-12-07 23:00 the
    abused and unabused segments alternate (A B A B A B A) and each side is all its segments' requests pooled;
    earlier runs (one abused phase, times not kept) are judged A-B-A against the mean of the phases beside it."""
    out = []
    for users in sorted({p["users"] for p in run["phases"] if p["kind"] == "abused"}):
        pooled = run.get("pooled", {}).get(str(users))
        if pooled:
            bad, clean = pooled["abused"], pooled["unabused"]
            how = f"{bad['phases']} abused and {clean['phases']} unabused segments, each side's requests pooled"
            out.append((users, bad, clean, how))
            continue
        pair = next((pr for pr in _pairs(run) if pr[0]["users"] == users), None)
        if pair is None or not pair[0]["p95"]:
            continue
        abused, sides = pair
        side = {
            "p95": _reference(sides, "p95"),
            "ok_per_s": _reference(sides, "ok_per_s"),
            "requests": sum(p["requests"] for p in sides),
            "failed": sum(sum(p["failures"].values()) for p in sides),
        }
        each = ", ".join(f"“{p['phase']}” {abused['p95'] / p['p95']:.2f}" for p in sides)
        one = {"p95": abused["p95"], "ok_per_s": abused["ok_per_s"], "requests": abused["requests"],
               "failed": sum(abused["failures"].values())}  # fmt: skip
        out.append((users, one, side, f"A-B-A: the mean of the phases beside it; against each: {each}"))
    return out


def ratio(run: dict[str, Any], users: int | None = None) -> float | None:
    """The users' p95 while abused over their p95 without the abuse, same run (`_judged`): the first number of users
    judged, or `users`."""
    found = next((j for j in _judged(run) if users is None or j[0] == users), None)
    if found is None or not found[1]["p95"] or not found[2]["p95"]:
        return None
    return float(found[1]["p95"] / found[2]["p95"])


def _verdict(run: dict[str, Any]) -> list[str]:
    """Per number of users, the p95 ratio against the goal and the throughput ratio beside it. A p95 at the users'
    time-out is censored: the ratio can then not show the abuse (the host, or the users alone, already saturate
    the service)."""
    lines = []
    for users, bad, clean, how in _judged(run):
        r = ratio(run, users)
        if r is None:
            continue
        timeout = run["timeout"] * 0.99
        censored = bad["p95"] >= timeout or clean["p95"] >= timeout
        goal = "not judged: a p95 at the time-out" if censored else ("✔" if r < GOAL else "✘")
        ok = bad["ok_per_s"] / clean["ok_per_s"] if clean["ok_per_s"] else float("nan")
        lines.append(
            f"**{users} users: their p95 while abused / unabused, same run: {r:.2f}** ({_ms(bad['p95'])} / "
            f"{_ms(clean['p95'])}; {how}) — goal < {GOAL:.2f}: {goal}. Requests answered well per second, abused / "
            f"unabused: **{ok:.2f}**; failed: {bad['failed']:,} of {bad['requests']:,} abused, {clean['failed']:,} of "
            f"{clean['requests']:,} unabused."
        )
    return lines or ["**No ratio** (no abused phase)."]


def _failures(failures: dict[str, int]) -> str:
    return ", ".join(f"{k} ×{v:,}" for k, v in failures.items()) or "none"


def _run_section(label: str, run: dict[str, Any]) -> list[str]:
    rows = [
        "| phase | requests | answered well / s | p50 | p95 | p99 | failures | load avg (start → end) | "
        "service / Neo4j RSS | CPU s: service / Neo4j / users' client / abuser |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for p in run["phases"]:
        rss = f"{p['service_rss_mib'] or 0:,.0f} / {p['neo4j_rss_mib'] or 0:,.0f} MiB"
        cpu = p.get("cpu_s", {})
        bad = (p.get("abuser") or {}).get(abuser.CPU)
        spent = " / ".join(
            "–" if v is None else f"{v:.1f}" for v in (cpu.get("service"), cpu.get("neo4j"), cpu.get("users"), bad)
        )
        rows.append(f"| {p['phase']} | {p['requests']:,} | {p['ok_per_s']:.1f} | {_ms(p['p50'])} | **{_ms(p['p95'])}** "
                    f"| {_ms(p['p99'])} | {_failures(p['failures'])} | {p['load'][0]} → {p['load'][1]} | {rss} | {spent} |")  # fmt: skip
    lines = [
        f"### {label}",
        "",
        f"_{run['measured']}, commit `{run['commit']}`; {run['machine']}._",
        "",
        *rows,
        "",
        *_verdict(run),
    ]
    names = sorted({n for p in run["phases"] for n in p["by_name"]})
    phases_ = run["phases"]
    lines += ["", "Per request, p50 / p95 (failed) in each phase:", "",
              "| request | " + " | ".join(p["phase"] for p in phases_) + " |", "|---" * (len(phases_) + 1) + "|"]  # fmt: skip
    for name in names:
        cells = []
        for p in phases_:
            b = p["by_name"].get(name)
            cells.append(
                "–"
                if b is None
                else f"{_ms(b['p50'])} / {_ms(b['p95'])}" + (f" ({b['failed']})" if b["failed"] else "")
            )
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    for abused in (p for p in run["phases"] if "abuser" in p):
        lines += ["", f"The abusive client's requests in phase “{abused['phase']}” (answers by status and error code; "
                  "median seconds):", "", "| abuse | sent | answers | median |", "|---|---|---|---|"]  # fmt: skip
        for kind, a in abused["abuser"].items():
            if kind == abuser.CPU:
                continue
            median = "–" if a["median_s"] is None else f"{a['median_s']:.2f} s"
            lines.append(f"| {kind} | {a['sent']:,} | {_failures(a['outcomes'])} | {median} |")
        cpu = abused["abuser"].get(abuser.CPU)
        if cpu is not None:
            lines += ["", f"The abusive client's own process used {cpu:.1f} CPU-seconds in that phase, on this machine "
                      f"({os.cpu_count()} cores × {abused['seconds']:.0f} s)."]  # fmt: skip
    killed = next((p for p in run["phases"] if "kill" in p), None)
    if killed:
        k = killed["kill"]
        back = (f"**{k['recovered_s']:.1f} s** from the kill to the first request sent after it and answered well"
                if k["recovered_s"] is not None else f"**not recovered within {k['waited_s']:.0f} s**")  # fmt: skip
        ready = "never" if k["readyz_back_s"] is None else f"after {k['readyz_back_s']:.1f} s"
        lines += [
            "",
            f"kill -9 of the Neo4j JVM: {back}. Requests in flight at the kill: {k['in_flight']}, of which failed "
            f"{k['in_flight_failed']}; sent while Neo4j was away: {k['outage_sent']:,}, failed "
            f"{k['outage_failed']:,} ({_failures(k['outage_failures'])}); failed after recovery: "
            f"{k['failed_after_recovery']}. `/readyz` 200 again {ready}; `/healthz` answers meanwhile: "
            f"{', '.join(f'{s} ×{n}' for s, n in k['healthz'].items())}. The killed JVM "
            f"{'was left a zombie (not reaped 5 s later)' if k['zombie_after_5s'] else 'was reaped'}; "
            f"{'a new one was started' if k['restarted'] else 'no new one was started'}. The service log says: "
            f"{run.get('deaths_logged', 0)} death(s), {run['restarts_logged']} restart(s); tracebacks in the service log (whole run): {run['tracebacks_logged']}.",
        ]
    return lines


def report(history: dict[str, dict[str, Any]]) -> str:
    newest = list(history.values())[-1]
    return "\n".join(
        [
            f"## Traffic / 并发负载: users, one abusive client, kill -9 of Neo4j ({newest['profile']} profile)",
            "",
            "`python -m bench traffic`: the profile loaded into a local Neo4j store; the service started as people "
            "run it (`grassroots serve`, in its own process, starting the embedded Neo4j on that store); users "
            "on one bounded asyncio httpx client on loopback (bench/crowd.py), each signed in with its own account "
            "(one in ten an admin of the whole city, two in ten auditors of a street, the rest viewers of a "
            "street). A user loads the page (its area tree) and then, thinking "
            f"{newest['think'] / 2:.1f}–{newest['think'] * 1.5:.1f} s between actions, sends what the page sends (web/static/app: open a "
            "scope = `coverage` and, for a community or grid, `network` (its levels of detail in one request) at "
            "once (a street or larger is drawn "
            "from coverage's children), then its monthly history, a community's grids, the search box, a node's chain, coverage "
            "or id, expanding a node), the API's typical queries (a street's first 50 gaps, the nested street, a "
            "building's households) and, for the auditors and admins, `/reports/audit.xlsx` of a community or "
            "their street (" + ", ".join(f"{k} {v} %" for k, v in crowd.WEIGHTS.items()) + " of actions). "
            "Latencies count every request sent in the phase, failed ones at their own time (a request "
            f"unanswered after {crowd.TIMEOUT:.0f} s counts as failed, `ReadTimeout`). The abusive client "
            "(bench/abuser.py, its own process and account, a viewer of the whole city) loops over issue 22's "
            "requests at once: 100,000 `__typename` aliases, `compounds`/`community` nested 8 deep (a new shape "
            "each time), 1,000 aliases of `gaps(first: 500)`, `nodes(ids:)` with 10,000 ids, a 100 MB body, and "
            f"{abuser.FLOOD} loops of heavy page requests from the same account (each loop sends again {abuser.PAUSE} s "
            "after an answer, refusals included). The service is measured warm, as people meet it after its "
            "first minute: the phases start once it has read the store after its start (graph/warmup.py). The "
            "2-core host is shared (other engineers' test runs): the load average is shown per phase. Since "
            "2026-12-07 23:00 the 100 users' unabused and abused segments alternate (A B A B A B A, 30 s each) and "
            "each side's requests are pooled, so a drift of the host during the run falls on both sides; earlier "
            "runs (one abused phase) are judged A-B-A, against the mean p95 of the phases beside it (they had been "
            "judged against the better side).",
            "",
            *(line for label, r in history.items() for line in (*_run_section(label, r), "")),
        ]
    )


def main(
    profile: str, quick: bool, seconds: float | None, keep: Path | None, label: str, users: str, think: float = THINK
) -> None:
    counts = tuple(int(u) for u in users.split(","))
    if len(counts) != 2:
        raise SystemExit("--traffic-users takes two numbers, e.g. 20,100")
    length = seconds if seconds is not None else (QUICK_SECONDS if quick else SECONDS)
    result = run(profile, quick, length, keep, (counts[0], counts[1]), think)
    if quick:
        print("\n".join(_run_section(f"{label} (quick)", result)))
        return
    history = json.loads(HISTORY.read_text(encoding="utf-8")) if HISTORY.exists() else {}
    history[label] = result
    HISTORY.write_text(json.dumps(history, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    body = report(history)
    write_section("traffic", body)
    print(body)
