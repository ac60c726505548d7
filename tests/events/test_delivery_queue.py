"""The durable delivery queue on both backends: claims, leases, retries, dead letters,
redrive, and the cursor that publishes the trail once."""

from __future__ import annotations

import random
import threading

import pytest

from pipetrail.events.delivery import Backoff, owner_alive, owner_id
from pipetrail.model.errors import NotFoundError
from pipetrail.store import Store
from pipetrail.store.events import DEAD, PENDING, NewDelivery, StoredRule, StoredTarget


def queue(store: Store, count: int, now: int = 1_000, target: str = "t") -> list[str]:
    ids = [f"d{n:03d}" for n in range(count)]
    store.enqueue_deliveries([NewDelivery(i, f"e{i}", "arn:origin", target, '{"id": 1}', now)
                              for i in ids])
    return ids


def test_a_claim_leases_each_delivery_to_one_owner(store: Store) -> None:
    ids = queue(store, 40)
    got: dict[str, list[str]] = {"a": [], "b": []}

    def claim(owner: str) -> None:
        while True:
            batch = store.claim_deliveries(owner, 2_000, 60_000, 3)
            if not batch:
                return
            got[owner].extend(d.id for d in batch)

    threads = [threading.Thread(target=claim, args=(o,)) for o in got]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(got["a"] + got["b"]) == ids  # every delivery once, none twice
    assert store.claim_deliveries("c", 2_000, 60_000, 10) == []  # all leased


def test_claims_count_attempts_and_respect_the_schedule(store: Store) -> None:
    [one] = queue(store, 1, now=1_000)
    assert store.claim_deliveries("a", 999, 100, 5) == []  # not due yet
    [claimed] = store.claim_deliveries("a", 1_000, 100, 5)
    assert (claimed.attempts, claimed.lease_owner, claimed.lease_until) == (1, "a", 1_100)
    assert store.claim_deliveries("b", 1_050, 100, 5) == []  # leased
    [again] = store.claim_deliveries("b", 1_101, 100, 5)  # lease expired: taken over
    assert (again.id, again.attempts, again.lease_owner) == (one, 2, "b")
    assert not store.retry_delivery(one, "a", 5_000, "X", "lost lease")  # a lost it
    assert store.retry_delivery(one, "b", 5_000, "HTTP_503", "busy")
    assert store.claim_deliveries("b", 4_999, 100, 5) == []
    assert store.next_due() == 5_000
    [third] = store.claim_deliveries("b", 5_000, 100, 5)
    assert (third.attempts, third.error_code) == (3, "HTTP_503")
    store.complete_delivery(one)
    assert store.delivery_states([one]) == {}


def test_dead_letters_are_kept_and_redriven(store: Store) -> None:
    ids = queue(store, 3)
    for delivery in store.claim_deliveries("a", 1_000, 100, 5):
        assert store.dead_letter(delivery.id, "a", 1_500, "HTTP_404", "gone")
    dead = store.list_deliveries(DEAD)
    assert sorted(d.id for d in dead) == ids
    assert all((d.error_code, d.dead_on, d.lease_owner) == ("HTTP_404", 1_500, None)
               for d in dead)
    assert store.claim_deliveries("a", 10_000, 100, 5) == []  # dead letters are not sent
    assert store.redrive([ids[0]], 20_000) == [ids[0]]
    [back] = store.list_deliveries(PENDING)
    assert (back.id, back.attempts, back.queued_on, back.next_attempt) == (ids[0], 0, 20_000,
                                                                           20_000)
    assert sorted(store.redrive(None, 30_000)) == ids[1:]
    assert store.list_deliveries(DEAD) == []


def test_the_same_delivery_is_queued_once(store: Store) -> None:
    queue(store, 2)
    queue(store, 2)
    assert len(store.list_deliveries(PENDING)) == 2


def test_leases_of_a_dead_owner_can_be_released(store: Store) -> None:
    [one] = queue(store, 1)
    store.claim_deliveries("host/1/2/x", 1_000, 60_000, 1)
    assert store.lease_owners("host/", 1_000) == ["host/1/2/x"]
    assert store.lease_owners("other/", 1_000) == []
    assert store.release_leases("host/1/2/x") == 1
    assert [d.id for d in store.claim_deliveries("b", 1_001, 60_000, 1)] == [one]


def test_owner_liveness() -> None:
    me = owner_id()
    assert owner_alive(me) is True
    host, _pid, start, tag = me.split("/")
    assert owner_alive(f"{host}/999999999/{start}/{tag}") is False  # no such process
    assert owner_alive(f"{host}/1/1/{tag}") is False  # pid 1 started at another time
    assert owner_alive(f"elsewhere/1/1/{tag}") is None  # another host: cannot tell


def test_rules_and_targets_are_stored_with_their_links(store: Store) -> None:
    store.put_target(StoredTarget("hook", "webhook", "{}", "s3cret", 1, 1))
    with pytest.raises(NotFoundError, match="no target named 'nope'"):
        store.put_rule(StoredRule("r", "{}", "ENABLED", "", 1, 1), ["hook", "nope"])
    assert store.put_rule(StoredRule("r", '{"a": [1]}', "ENABLED", "d", 1, 1), ["hook"])
    assert not store.put_rule(StoredRule("r", '{"a": [2]}', "DISABLED", "", 2, 2), None)
    rule = store.get_rule("r")
    assert (rule.pattern, rule.state, rule.targets, rule.created_on, rule.updated_on) == (
        '{"a": [2]}', "DISABLED", ["hook"], 1, 2)
    assert store.delete_target("hook") == ["r"]  # refused: a rule sends to it
    assert store.remove_rule_targets("r", ["hook"]) == 1
    assert store.delete_target("hook") == []
    store.delete_rule("r")
    with pytest.raises(NotFoundError):
        store.get_rule("r")


def test_the_cursor_moves_once_with_its_deliveries(store: Store) -> None:
    assert store.init_cursor("trail", 5, 1)
    assert not store.init_cursor("trail", 9, 1)
    delivery = NewDelivery("d1", "e1", "o", "t", "{}", 1)
    assert store.advance_cursor("trail", 5, 8, 2, [delivery])
    assert not store.advance_cursor("trail", 5, 9, 3, [NewDelivery("d2", "e2", "o", "t",
                                                                   "{}", 1)])
    assert store.get_cursor("trail") == 8
    assert [d.id for d in store.list_deliveries(PENDING)] == ["d1"]


def test_backoff_is_exponential_with_full_jitter() -> None:
    backoff = Backoff(base_ms=1000, cap_ms=8000)
    rng = random.Random(7)
    for attempt, ceiling in [(1, 1000), (2, 2000), (3, 4000), (4, 8000), (9, 8000),
                             (500, 8000)]:
        delays = [backoff.delay_ms(attempt, rng) for _ in range(300)]
        assert all(0 <= d <= ceiling for d in delays)
        assert max(delays) > ceiling * 0.9 and min(delays) < ceiling * 0.1  # spread over all
