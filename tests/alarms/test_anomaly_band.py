"""Anomaly-detection bands on synthetic seasonal data, and alarms that use them."""

from __future__ import annotations

import math
import random

import pytest
from alarm_builders import alarm, state

from pipetrail.alarms.anomaly import Seasonality, train
from pipetrail.alarms.evaluate import evaluate, slot_starts
from pipetrail.alarms.state import StateValue
from pipetrail.model.clock import parse_time
from pipetrail.model.errors import ValidationError

START = parse_time("2026-11-02T00:00:00Z")  # a Monday
PERIOD_MS = 15 * 60_000
DAY_MS = 86_400_000
NOISE = 3.0


def level(ts: int) -> float:
    """100 at night, peaking at 150 at 12:00 UTC; weekends at half the daytime swing."""
    hour = (ts % DAY_MS) / 3_600_000
    swing = 50.0 * max(0.0, math.sin(math.pi * (hour - 6) / 12))
    weekday = ((ts - START) // DAY_MS) % 7
    return 100.0 + (swing / 2 if weekday >= 5 else swing)


def series(days: int, *, seed: int = 7, start: int = START) -> dict[int, float]:
    rng = random.Random(seed)
    count = days * DAY_MS // PERIOD_MS
    return {start + i * PERIOD_MS: level(start + i * PERIOD_MS) + rng.gauss(0, NOISE)
            for i in range(count)}


HISTORY = series(15)
NEXT_DAY = series(1, seed=99, start=START + 15 * DAY_MS)  # a Tuesday


def test_two_weeks_of_history_give_a_weekly_model() -> None:
    model = train(HISTORY)
    assert model.ready and model.seasonality is Seasonality.WEEKLY
    assert model.training_points == len(HISTORY)
    assert train(series(14)).seasonality is Seasonality.WEEKLY
    assert train(series(13)).seasonality is Seasonality.DAILY
    assert train(series(2)).seasonality is Seasonality.DAILY
    assert train(series(1)).seasonality is Seasonality.NONE


def test_band_follows_the_daily_shape() -> None:
    model = train(HISTORY)
    tuesday = START + 15 * DAY_MS
    noon = model.band(tuesday + 12 * 3_600_000)
    night = model.band(tuesday + 2 * 3_600_000)
    assert noon is not None and night is not None
    assert noon.lower < 150.0 < noon.upper
    assert night.lower < 100.0 < night.upper
    assert noon.lower > night.upper  # the noon band sits wholly above the night band
    # and the weekly model knows that weekends swing less
    saturday_noon = model.band(START + 19 * DAY_MS + 12 * 3_600_000)
    assert saturday_noon is not None and saturday_noon.upper < noon.lower


def test_normal_data_stays_inside_and_spikes_fall_outside() -> None:
    model = train(HISTORY, width=3)
    bands = model.bands(NEXT_DAY)
    assert len(bands) == len(NEXT_DAY)
    inside = sum(1 for ts, v in NEXT_DAY.items() if bands[ts].lower <= v <= bands[ts].upper)
    assert inside / len(NEXT_DAY) >= 0.95
    for ts, v in NEXT_DAY.items():
        assert v + 40.0 > bands[ts].upper
        assert v - 40.0 < bands[ts].lower


def test_width_scales_the_band() -> None:
    narrow = train(HISTORY, width=2).band(START + 12 * 3_600_000)
    wide = train(HISTORY, width=4).band(START + 12 * 3_600_000)
    assert narrow is not None and wide is not None
    assert (wide.upper - wide.lower) == pytest.approx(2 * (narrow.upper - narrow.lower))
    redrawn = train(HISTORY, width=2).with_width(4).band(START + 12 * 3_600_000)
    assert redrawn == wide
    # about two standard deviations of the noise on either side
    assert (narrow.upper - narrow.lower) / 2 == pytest.approx(2 * NOISE, rel=0.35)


def test_a_few_outliers_do_not_widen_the_band() -> None:
    spoiled = dict(HISTORY)
    for i, ts in enumerate(sorted(spoiled)[::150]):
        spoiled[ts] = 1e6 if i % 2 else -1e6
    clean = train(HISTORY).band(START + 12 * 3_600_000)
    robust = train(spoiled).band(START + 12 * 3_600_000)
    assert clean is not None and robust is not None
    assert robust.upper - robust.lower < 1.5 * (clean.upper - clean.lower)
    assert robust.upper < 200.0


def test_excluded_ranges_are_not_learnt() -> None:
    incident_start = START + 3 * DAY_MS
    incident = (incident_start, incident_start + DAY_MS)
    broken = {ts: (v + 500.0 if incident[0] <= ts < incident[1] else v)
              for ts, v in HISTORY.items()}
    assert train(broken, exclude=[incident]).band(START) == train(
        {ts: v for ts, v in HISTORY.items() if not incident[0] <= ts < incident[1]}
    ).band(START)
    with pytest.raises(ValidationError, match="is empty"):
        train(HISTORY, exclude=[(5, 5)])


def test_constant_metric_gets_a_thin_band() -> None:
    flat = {START + i * PERIOD_MS: 42.0 for i in range(100)}
    band = train(flat).band(START)
    assert band is not None
    assert band.lower < 42.0 < band.upper and band.upper - band.lower < 1.0
    zero = train({START + i * PERIOD_MS: 0.0 for i in range(100)}).band(START)
    assert zero is not None and zero.upper < 1e-6
    assert zero.upper < 1.0  # a single failure stands out


def test_mostly_identical_values_still_have_a_spread() -> None:
    counts = {START + i * PERIOD_MS: (5.0 if i % 10 == 0 else 0.0) for i in range(200)}
    band = train(counts).band(START)
    assert band is not None and band.upper > 1.0


def test_clipping() -> None:
    sparse = {START + i * PERIOD_MS: float(i % 3) for i in range(200)}
    assert train(sparse, width=10).band(START).lower < 0  # type: ignore[union-attr]
    clipped = train(sparse, width=10, clip_min=0.0, clip_max=3.0).band(START)
    assert clipped is not None and clipped.lower == 0.0 and clipped.upper == 3.0
    with pytest.raises(ValidationError, match="clip_min"):
        train(sparse, clip_min=2.0, clip_max=1.0)


def test_not_enough_history_gives_no_band() -> None:
    model = train(dict(list(HISTORY.items())[:23]))
    assert not model.ready
    assert model.band(START) is None and model.bands([START]) == {}
    assert train(dict(list(HISTORY.items())[:23]), min_points=10).ready


@pytest.mark.parametrize("width", [0, -1, float("nan"), float("inf"), True])
def test_bad_widths(width: float) -> None:
    with pytest.raises(ValidationError, match="band width"):
        train(HISTORY, width=width)


def test_unknown_time_zone() -> None:
    with pytest.raises(ValidationError, match="unknown time zone"):
        train(HISTORY, timezone="Mars/Olympus_Mons")


def test_an_alarm_on_the_band() -> None:
    definition = alarm(
        comparison_operator="LessThanLowerOrGreaterThanUpperThreshold", threshold=None,
        band_width=3, period=900, evaluation_periods=2, datapoints_to_alarm=2,
    )
    model = train(HISTORY, width=definition.band_width or 2.0)
    now = START + 15 * DAY_MS + 12 * 3_600_000 + 30_000  # Tuesday 12:00:30
    starts = slot_starts(definition, now)
    bands = model.bands(starts)
    normal = {ts: level(ts) for ts in starts}
    calm = evaluate(definition, normal, state(StateValue.INSUFFICIENT_DATA), now, bands=bands)
    assert calm.value is StateValue.OK
    spiking = dict(normal)
    spiking[starts[0]] += 60.0
    spiking[starts[1]] += 60.0
    result = evaluate(definition, spiking, calm.state, now, bands=bands)
    assert result.value is StateValue.ALARM
    assert result.reason.startswith("Thresholds Crossed: 2 out of the last 2 datapoints")
    # without a trained model there is no band: the periods count as missing
    cold = train({})
    unready = evaluate(definition, spiking, calm.state, now, bands=cold.bands(starts))
    assert unready.value is StateValue.INSUFFICIENT_DATA
