"""Leader election: the background evaluators run on one server process per cluster."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from pipetrail.actions.context import ActionContext
from pipetrail.config import Settings
from pipetrail.server.leader import LeaderElector
from pipetrail.store import Store
from tests.backends import postgres_schema
from tests.servers import ProcessServer


def test_a_lease_has_one_holder_until_it_expires_or_is_released(store: Store) -> None:
    now = 1_000_000
    first = store.acquire_lease("duty", "a", 10_000, now=now)
    assert first is not None and first.term == 1
    assert store.acquire_lease("duty", "b", 10_000, now=now + 1) is None
    renewed = store.acquire_lease("duty", "a", 10_000, now=now + 5_000)
    assert renewed is not None and renewed.term == 1 and renewed.expires_on == now + 15_000
    assert store.acquire_lease("duty", "b", 10_000, now=now + 14_999) is None
    taken = store.acquire_lease("duty", "b", 10_000, now=now + 15_000)
    assert taken is not None and taken.holder == "b" and taken.term == 2
    assert store.acquire_lease("duty", "a", 10_000, now=now + 15_001) is None
    store.release_lease("duty", "a")  # not the holder: nothing happens
    assert store.acquire_lease("duty", "a", 10_000, now=now + 15_002) is None
    store.release_lease("duty", "b")
    back = store.acquire_lease("duty", "a", 10_000, now=now + 15_003)
    assert back is not None and back.term == 3
    assert store.get_lease("duty") == back


@dataclass
class Counting:
    name: str = "count"
    interval: float = 0.05
    rounds: list[str] = field(default_factory=list)
    who: str = ""

    def evaluate(self, ctx: ActionContext) -> None:
        self.rounds.append(self.who)


def wait_for(condition: Callable[[], bool], timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_evaluators_run_on_the_leader_only(store: Store, settings: Settings) -> None:
    rounds: list[str] = []

    def registry(name: str) -> Callable[[ActionContext], list[Counting]]:
        return lambda ctx: [Counting(rounds=rounds, who=name)]

    one = LeaderElector(store, settings, "one", 1.5, registry("one"))  # type: ignore[arg-type]
    two = LeaderElector(store, settings, "two", 1.5, registry("two"))  # type: ignore[arg-type]
    one.start()
    wait_for(lambda: one.is_leader)
    two.start()
    wait_for(lambda: len(rounds) >= 5)
    time.sleep(0.6)
    assert not two.is_leader
    assert set(rounds) == {"one"}
    one.close()  # a clean stop releases the lease at once
    wait_for(lambda: two.is_leader, timeout=3)
    count = len(rounds)
    wait_for(lambda: len(rounds) >= count + 3)
    assert rounds[-1] == "two"
    assert two.term == (one.term or 0) + 1
    two.close()


def leaders(servers: list[ProcessServer]) -> list[int]:
    return [n for n, s in enumerate(servers)
            if s.proc is not None and s.proc.poll() is None and s.health()["leader"]]


@pytest.mark.postgres
@pytest.mark.slow
def test_two_servers_on_one_postgresql_elect_one_leader_and_fail_over(tmp_path: Path) -> None:
    with postgres_schema() as url:
        settings = Settings(home=tmp_path / "home", database_url=url)
        env = {"PIPETRAIL_LEASE_SECONDS": "2"}
        servers = [ProcessServer(settings, extra_env=env, log=tmp_path / f"s{n}.log")
                   for n in range(2)]
        try:
            for server in servers:
                server.start(wait=False)
            for server in servers:
                server.wait_healthy()
            wait_for(lambda: len(leaders(servers)) == 1)
            for _ in range(10):  # and it stays one
                assert len(leaders(servers)) == 1
                time.sleep(0.1)
            [first] = leaders(servers)
            other = 1 - first
            servers[first].kill(signal.SIGKILL)
            started = time.monotonic()
            wait_for(lambda: leaders(servers) == [other], timeout=10)
            assert time.monotonic() - started < 6  # within the lease (2 s) and a renewal
            servers[first].start()  # back, as a follower
            time.sleep(1.5)
            assert leaders(servers) == [other]
            servers[other].kill(signal.SIGTERM)  # a clean stop hands over at once
            started = time.monotonic()
            wait_for(lambda: leaders(servers) == [first], timeout=10)
            assert time.monotonic() - started < 2.5
        finally:
            for server in servers:
                server.kill(signal.SIGKILL)
