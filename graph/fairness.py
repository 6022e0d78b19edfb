"""Each account's share of the database: core-seconds of Neo4j transactions per minute, and turns by least use.

The rule: one account, however many requests it sends and however heavy each is, gets no more than its share of
Neo4j's time. The per-request cost budget (`schema.limits`) prices a request before it runs, from the model's
expected row counts; this module charges what its transactions really took, after each one:

- A transaction is charged the core-seconds it had: its wall time, times the share of the machine's cores it had
  while it ran (`FairTurns.cost`: cores over the transactions running then, at most 1). A busy service slows
  everyone's transactions without charging them more; one account running heavy reads on an idle machine pays
  in full.
- `DatabaseTime` keeps, per account, the core-seconds its GraphQL requests' transactions had over the last minute. Its
  share is GRASSROOTS_ACCOUNT_DB_SECONDS while it is alone, and GRASSROOTS_ACCOUNT_DB_SECONDS_BUSY (smaller) while
  other accounts use the database too (one of theirs ended a transaction in the last `BUSY_WINDOW` seconds): what one
  account takes from a busy service, the others wait for. An account past its share is refused its next transaction
  (`OverShare`, answered `RATE_LIMITED` with `retryAfter`) until enough of that minute has passed. A transaction may
  run no longer than the seconds its account has left (`remaining`, at least `FLOOR`): past them Neo4j stops it, and
  the answer is the same refusal. So an account overruns its share by at most a `FLOOR` per transaction it runs at
  once.
- `FairTurns` lets at most GRASSROOTS_DB_CONCURRENCY such transactions run at once, server-wide, and at most
  GRASSROOTS_ACCOUNT_DB_CONCURRENCY of one account's; when more are waiting, the next turn goes to the waiting
  account that used the least time in the last minute (ties: first come), so a person's quick read is not queued
  behind another account's heavy ones, and one account's overrun is at most that many transactions long.

Kept in this process's memory (one process serves the API). `limits` counts events, not durations known only
afterwards (its `hit` refuses a charge past the limit instead of recording it), hence the small ledger here.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import math
import os
import time
from collections import Counter, defaultdict, deque
from collections.abc import Callable

WINDOW = 60.0
#: Seconds a heavy account's transaction waits for a turn while the service is busy (then `Deferred`).
HEAVY_WAIT = 30.0
#: The cores Neo4j's transactions share (this machine's: the local Neo4j runs on it).
CORES = os.cpu_count() or 1
#: Seconds after another account's transaction during which an account has its busy share (`DatabaseTime.share`).
BUSY_WINDOW = 10.0
#: The shortest time-out a transaction gets, however little of its account's share is left (seconds).
FLOOR = 0.5


class OverShare(RuntimeError):
    """An account has used its database seconds of the last minute; the message names the limit."""

    def __init__(
        self, limit: float, retry_after: int, message: str | None = None, setting: str = "GRASSROOTS_ACCOUNT_DB_SECONDS"
    ) -> None:
        super().__init__(
            message
            or f"本账号一分钟内占用数据库的时间已达上限 {limit:g} 秒,请 {retry_after} 秒后重试 / This account has used "
            f"its {limit:g} s of database time for the last minute ({setting}): retry in {retry_after} s."
        )
        self.limit = limit
        self.retry_after = retry_after


class DatabaseTime:
    """Seconds of transactions per account over a sliding minute; `per_minute` 0 turns the limit off (the
    ledger still orders `FairTurns`). `busy_per_minute` is the share while other accounts use the database (at most
    `per_minute`; 0 or None: the same)."""

    def __init__(self, per_minute: float, window: float = WINDOW, busy_per_minute: float | None = None) -> None:
        self.per_minute = per_minute
        self.busy_per_minute = min(busy_per_minute, per_minute) if busy_per_minute else per_minute
        self.window = window
        self._spent: dict[str, deque[tuple[float, float]]] = defaultdict(deque)
        self._last: dict[str, float] = {}  # login -> when its last transaction ended (within BUSY_WINDOW)

    def _trim(self, login: str, now: float) -> deque[tuple[float, float]]:
        spent = self._spent[login]
        while spent and spent[0][0] <= now - self.window:
            spent.popleft()
        if not spent:
            del self._spent[login]
        return spent

    def charge(self, login: str, seconds: float, now: float | None = None) -> None:
        """Record that one of `login`'s transactions took `seconds`, ending `now`."""
        now = time.monotonic() if now is None else now
        self._spent[login].append((now, seconds))
        self._last.pop(login, None)  # re-inserted last: the dict stays ordered by time
        self._last[login] = now

    def busy(self, login: str, now: float | None = None) -> bool:
        """Whether another account ended a transaction in the last `BUSY_WINDOW` seconds."""
        now = time.monotonic() if now is None else now
        last = self._last
        while last:  # the oldest first: drop those out of the window
            first = next(iter(last))
            if last[first] > now - BUSY_WINDOW:
                break
            del last[first]
        return len(last) > 1 or (len(last) == 1 and login not in last)

    def share(self, login: str, now: float | None = None) -> float:
        """`login`'s seconds a minute: `busy_per_minute` while other accounts use the database, else `per_minute`."""
        return self.busy_per_minute if self.busy(login, now) else self.per_minute

    def used(self, login: str, now: float | None = None) -> float:
        """`login`'s seconds over the last window."""
        if login not in self._spent:
            return 0.0
        return sum(s for _, s in self._trim(login, time.monotonic() if now is None else now))

    def remaining(self, login: str, now: float | None = None) -> float:
        """The seconds `login` may still use in this window (infinite without a limit)."""
        if self.per_minute <= 0:
            return math.inf
        return self.share(login, now) - self.used(login, now)

    def over(self, login: str) -> OverShare | None:
        """The refusal when `login` has used its share of the last window, else None."""
        return None if self.remaining(login) > 0 else self.refusal(login)

    def check(self, login: str, now: float | None = None) -> None:
        """Raise `OverShare` when `login` has used its seconds of the last window."""
        if self.remaining(login, now) > 0:
            return
        raise self.refusal(login, now)

    def refusal(self, login: str, now: float | None = None) -> OverShare:
        """The refusal for `login`, with the seconds until enough of its charges leave the window to fit again."""
        now = time.monotonic() if now is None else now
        share = self.share(login, now)
        over, wait = self.used(login, now) - share, 1.0
        for ended, seconds in self._spent.get(login, ()):
            over -= seconds
            if over < 0:
                wait = ended + self.window - now
                break
        return OverShare(share, min(int(self.window), max(1, math.ceil(wait))), setting=self.setting(share))

    def setting(self, share: float) -> str:
        """The setting that gave `share`: the busy one when it is smaller than the quiet one."""
        return "GRASSROOTS_ACCOUNT_DB_SECONDS" + ("_BUSY" if share < self.per_minute else "")

    def timeout(self, login: str, ceiling: float, wall: Callable[[float], float] = float) -> float:
        """The time-out for `login`'s next transaction: what is left of its share (as wall seconds, `wall`), within
        [FLOOR, ceiling]."""
        return min(ceiling, max(FLOOR, wall(self.remaining(login))))


class Deferred(OverShare):
    """A heavy account waited `HEAVY_WAIT` seconds for a turn while the service was busy."""

    def __init__(self, limit: float, retry_after: int, setting: str = "GRASSROOTS_ACCOUNT_DB_SECONDS") -> None:
        super().__init__(
            limit,
            retry_after,
            f"服务繁忙,本账号一分钟内已大量占用数据库,请 {retry_after} 秒后重试 / The service is busy and this account "
            f"has used much of its database share ({setting} {limit:g} s a minute): retry in {retry_after} s.",
        )


class FairTurns:
    """At most `slots` transactions at once and `per_account` of one account's; a free slot goes to the waiter
    whose account used least and is under its own cap.

    A heavy account (one that has used a third of its present share in the last minute) runs one transaction at a time,
    and only while fewer than half the slots are taken: when the service is busy its reads wait — up to
    `HEAVY_WAIT` seconds, then `Deferred` — so the people it would slow are served first."""

    def __init__(self, slots: int, ledger: DatabaseTime, per_account: int | None = None) -> None:
        self.slots = slots
        self.per_account = per_account or slots
        self.ledger = ledger
        self.running = 0
        self.mine: Counter[str] = Counter()
        self._waiting: list[tuple[float, int, str, asyncio.Future[None]]] = []
        self._order = itertools.count()

    def heavy(self, login: str, used: float) -> bool:
        """Whether `login`, having used `used` seconds, has used a third of its present share."""
        return self.ledger.per_minute > 0 and used >= self.ledger.share(login) / 3

    def _may_take(self, login: str, used: float) -> bool:
        if self.heavy(login, used):
            return self.mine[login] < 1 and self.running < self.slots // 2
        return self.running < self.slots and self.mine[login] < self.per_account

    async def acquire(self, login: str) -> None:
        """Wait for a slot (least-used account first)."""
        used = self.ledger.used(login)
        if not self._waiting and self._may_take(login, used):
            self._take(login)
            return
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiting, (used, next(self._order), login, turn))
        self._hand_out()  # a slot may be free while every earlier waiter's account is at its cap
        try:
            await asyncio.wait_for(asyncio.shield(turn), HEAVY_WAIT)
        except TimeoutError:
            if turn.done():  # handed over just now
                return
            turn.cancel()
            share = self.ledger.share(login)
            raise Deferred(share, int(HEAVY_WAIT), self.ledger.setting(share)) from None
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():
                self.release(login)  # the slot was handed over as the waiter gave up: pass it on
            else:
                turn.cancel()
            raise

    def release(self, login: str) -> None:
        """`login`'s transaction ended: hand out the free slots to the least-used waiters under their caps."""
        self.running -= 1
        self.mine[login] -= 1
        if self.mine[login] <= 0:
            del self.mine[login]
        self._hand_out()

    def cost(self, elapsed: float, running_then: int) -> float:
        """The core-seconds of a transaction that took `elapsed` seconds, begun with `running_then` running and
        ending with `self.running` (itself included): its wall time times its share of the cores."""
        running = max(1.0, (running_then + self.running) / 2)
        return elapsed * min(1.0, CORES / running)

    def wall(self, core_seconds: float) -> float:
        """How long a transaction may run to use `core_seconds` at the share of the cores it would have now."""
        return core_seconds * max(1.0, (self.running + 1) / CORES)

    def _take(self, login: str) -> None:
        self.running += 1
        self.mine[login] += 1

    def _hand_out(self) -> None:
        held: list[tuple[float, int, str, asyncio.Future[None]]] = []
        while self._waiting and self.running < self.slots:
            entry = heapq.heappop(self._waiting)
            _, _, login, turn = entry
            if turn.done():
                continue  # gave up while waiting
            if not self._may_take(login, entry[0]):
                held.append(entry)  # its account is at its cap (or heavy, and the service busy): it keeps its place
                continue
            self._take(login)
            turn.set_result(None)
        for entry in held:
            heapq.heappush(self._waiting, entry)
