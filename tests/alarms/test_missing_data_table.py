"""Every example of the AWS page "Configuring how CloudWatch alarms treat missing data".

Evaluation range 5, Evaluation Periods (N) 3; data points oldest first, newest right:
``0`` not breaching, ``X`` breaching, ``-`` missing. ``keep`` is "Retain current state".
Rows marked (2023) come from the earlier edition of the page (the awsdocs GitHub mirror);
the current page replaced them with other rows but did not contradict them.
"""

from __future__ import annotations

import pytest
from alarm_builders import NOW, alarm, pattern, state

from pipetrail.alarms.evaluate import evaluate
from pipetrail.alarms.state import StateValue

OK = "OK"
ALARM = "ALARM"
INSUFFICIENT = "INSUFFICIENT_DATA"
KEEP = "keep"
TREATMENTS = ("missing", "ignore", "breaching", "notBreaching")

# (datapoints, M, expected for missing, ignore, breaching, notBreaching)
TABLE = [
    # First table: Datapoints to Alarm 3, Evaluation Periods 3.
    ("0 - X - X", 3, (OK, OK, OK, OK)),
    ("0 - - - -", 3, (OK, OK, OK, OK)),
    ("- - - - -", 3, (INSUFFICIENT, KEEP, ALARM, OK)),
    ("0 X X - X", 3, (ALARM, ALARM, ALARM, ALARM)),
    ("- - X - -", 3, (ALARM, KEEP, ALARM, OK)),
    ("- - - - X", 3, (INSUFFICIENT, KEEP, ALARM, OK)),  # (2023)
    ("X - - - -", 3, (ALARM, KEEP, ALARM, OK)),  # (2023)
    # Second table: Datapoints to Alarm 2, Evaluation Periods 3 (2 out of 3).
    ("0 - X - X", 2, (ALARM, ALARM, ALARM, ALARM)),
    ("0 0 X 0 X", 2, (ALARM, ALARM, ALARM, ALARM)),
    ("0 - X - -", 2, (OK, OK, ALARM, OK)),
    ("- - - - 0", 2, (OK, OK, ALARM, OK)),
    ("- - - X -", 2, (ALARM, KEEP, ALARM, OK)),
    ("- - - - X", 2, (INSUFFICIENT, KEEP, ALARM, OK)),  # (2023)
]

CASES = [
    pytest.param(points, m, treatment, expected[i], id=f"{points} M={m} {treatment}")
    for points, m, expected in TABLE
    for i, treatment in enumerate(TREATMENTS)
]


@pytest.mark.parametrize(("points", "m", "treatment", "expected"), CASES)
@pytest.mark.parametrize("previous", list(StateValue))
def test_aws_missing_data_examples(
    points: str, m: int, treatment: str, expected: str, previous: StateValue
) -> None:
    definition = alarm(datapoints_to_alarm=m, treat_missing_data=treatment)
    before = state(previous)
    result = evaluate(definition, pattern(definition, points), before, NOW)
    want = previous if expected == KEEP else StateValue(expected)
    assert result.value is want
    assert result.state.value is want
    if want is previous:
        assert result.change is None
        assert result.state is before
    else:
        assert result.change is not None
        assert (result.change.old.value, result.change.new.value) == (previous, want)


def test_second_row_goes_to_alarm_once_the_good_point_leaves_the_range() -> None:
    """The page: "The next time this alarm is evaluated, if the data is still missing it
    will go to ALARM, as that non-breaching data point will no longer be in the range"."""
    definition = alarm(treat_missing_data="breaching")
    points = pattern(definition, "0 - - - -")
    first = evaluate(definition, points, state(StateValue.OK), NOW)
    assert first.value is StateValue.OK
    later = NOW + 5 * 60_000  # one period on: the 0 drops out of the five-period range
    second = evaluate(definition, points, first.state, later)
    assert second.value is StateValue.ALARM


def test_premature_alarm_rule_waits_for_the_breach_to_age() -> None:
    """``- - - - X`` does not alarm yet; two periods later, with no data, it is
    ``- - X - -`` and goes to ALARM even though missing data is treated as missing."""
    definition = alarm(treat_missing_data="missing")
    points = pattern(definition, "- - - - X")
    now = NOW
    seen = []
    for _ in range(5):
        seen.append(evaluate(definition, points, state(StateValue.OK), now).value)
        now += 5 * 60_000
    assert seen == [
        StateValue.INSUFFICIENT_DATA,  # - - - - X
        StateValue.INSUFFICIENT_DATA,  # - - - X -
        StateValue.ALARM,  # - - X - -
        StateValue.ALARM,  # - X - - -
        StateValue.ALARM,  # X - - - -
    ]
    # and once the point has left the range, every point is missing
    gone = evaluate(definition, points, state(StateValue.ALARM), now)
    assert gone.value is StateValue.INSUFFICIENT_DATA


def test_a_later_good_point_prevents_the_premature_alarm() -> None:
    definition = alarm(treat_missing_data="missing")
    result = evaluate(definition, pattern(definition, "- - - X 0"), state(StateValue.OK), NOW)
    assert result.value is StateValue.OK
