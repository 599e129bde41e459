from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from arbexec.model import OrderStatus, Position
from arbexec.risk.base import OrderOutcome
from arbexec.risk.rules import DailyLossLimit, ParameterError


def outcome(pnl: str, fees: str = "0") -> OrderOutcome:
    return OrderOutcome(venue="paper", market="M1", request=None, status=OrderStatus.FILLED,
                        realised_pnl=Decimal(pnl), fees=Decimal(fees))


def rule(**params):
    return DailyLossLimit.from_params({"max_loss": 100, **params})


@pytest.mark.parametrize(("pnl", "allowed"), [("-99.99", True), ("-100", False), ("-101", False)])
def test_engine_figure_below_at_above(req, ctx, pnl, allowed):
    verdict = rule().check(req(), ctx(daily_realised_pnl=Decimal(pnl)))
    assert verdict.allowed is allowed
    if not allowed:
        assert verdict.code == "daily_loss_limit"
        assert verdict.figures == {"limit": "100", "actual": pnl.lstrip("-")}


def test_observed_losses_emit_the_halt_and_fees_are_not_counted_twice(req, ctx, now):
    r = rule()
    # realised P&L arrives net of fees; the fees figure is for information
    assert r.observe(outcome("-95", fees="5"), now) == []
    assert r.check(req(), ctx()).allowed  # 95 lost
    (event,) = r.observe(outcome("-5", fees="1"), now)  # 100 lost
    assert event.kind == "risk.daily_loss"
    assert event.data["from"] == "active" and event.data["to"] == "halted"
    assert event.data["loss"] == "100" and event.data["limit"] == "100"
    assert event.at == now
    assert r.check(req(), ctx()).code == "daily_loss_limit"


def test_halt_lasts_the_day_even_if_losses_are_recovered(req, ctx, now):
    r = rule()
    r.observe(outcome("-150"), now)
    r.observe(outcome("+120"), now + timedelta(hours=1))
    assert r.check(req(), ctx(now=now + timedelta(hours=2))).code == "daily_loss_limit"


def test_a_sell_that_only_closes_held_contracts_passes_while_halted(req, ctx, now):
    r = rule()
    r.observe(outcome("-150"), now)
    held = (Position(venue="paper", market="M1", outcome="YES", quantity="10"),)
    assert r.check(req(side="SELL", quantity="10"), ctx(positions=held)).allowed


def test_a_sell_that_opens_is_new_risk_and_refused_while_halted(req, ctx, now):
    r = rule()
    r.observe(outcome("-150"), now)
    held = (Position(venue="paper", market="M1", outcome="YES", quantity="10"),)
    opening = req(side="SELL", quantity="11", tags={"allow_open": True})
    assert r.check(opening, ctx(positions=held)).code == "daily_loss_limit"
    assert r.check(req(side="SELL", quantity="11"), ctx(positions=held)).code == \
        "sell_exceeds_position"
    # before the halt, an explicitly opening sell passes this rule
    assert rule().check(opening, ctx(positions=held)).allowed


def test_resets_at_midnight_in_its_timezone(req, ctx):
    r = rule(timezone="America/New_York")
    evening = datetime(2026, 11, 18, 23, 0, tzinfo=UTC)  # 18:00 in New York
    r.observe(outcome("-200"), evening)
    before_midnight_ny = datetime(2026, 11, 19, 4, 59, tzinfo=UTC)
    assert not r.check(req(), ctx(now=before_midnight_ny)).allowed
    after_midnight_ny = datetime(2026, 11, 19, 5, 0, tzinfo=UTC)
    assert r.check(req(), ctx(now=after_midnight_ny)).allowed
    (event,) = r.observe(outcome("0"), after_midnight_ny)
    assert (event.data["from"], event.data["to"]) == ("halted", "active")
    assert event.data["day"] == "2026-11-19" and event.data["timezone"] == "America/New_York"


def test_a_halt_found_in_check_is_journaled_by_the_next_observe(req, ctx, now):
    r = rule()
    assert not r.check(req(), ctx(daily_realised_pnl=Decimal("-300"))).allowed
    (event,) = r.observe(outcome("0"), now)
    assert event.data["to"] == "halted" and event.at == now
    # the latch holds although the engine's figure is now fine
    assert not r.check(req(), ctx(daily_realised_pnl=Decimal("0"))).allowed


def test_preview_does_not_trip(req, ctx, now):
    r = rule()
    assert not r.preview(req(), ctx(daily_realised_pnl=Decimal("-300"))).allowed
    assert r.check(req(), ctx()).allowed
    assert r.observe(outcome("0"), now) == []


def test_max_loss_is_required_and_timezones_are_checked():
    with pytest.raises(ParameterError) as caught:
        DailyLossLimit.from_params({})
    assert caught.value.parameter == "max_loss"
    with pytest.raises(ParameterError) as caught:
        rule(timezone="Mars/Olympus")
    assert caught.value.parameter == "timezone"


def journal_of(*events):
    """A journal read as the engine offers it to ``restore_state``: kinds and a window."""
    def read(kinds, within=None):
        assert within is not None  # bounded: the rule never scans the whole journal
        return [e for e in events if e.kind in kinds]
    return read


def test_a_day_tripped_before_a_restart_stays_tripped_though_the_loss_was_won_back(
        req, ctx, now):
    before = rule()
    (halted,) = before.observe(outcome("-150"), now)
    before.observe(outcome("+120"), now + timedelta(hours=1))
    after = rule()  # a new process: the engine's day figure (-30) is under the limit
    after.restore_state(journal_of(halted))
    verdict = after.check(req(), ctx(now=now + timedelta(hours=2),
                                     daily_realised_pnl=Decimal("-30")))
    assert verdict.code == "daily_loss_limit"
    assert verdict.figures["actual"] == "150"


def test_a_trip_of_an_earlier_day_or_one_lifted_since_restores_nothing(req, ctx, now):
    earlier = rule()
    (halted,) = earlier.observe(outcome("-150"), now - timedelta(days=1))
    restored = rule()
    restored.restore_state(journal_of(halted))
    assert restored.check(req(), ctx(now=now)).allowed  # a new day began since
    lifted = rule()
    (active,) = earlier.observe(outcome("0"), now)  # the new day lifts it
    lifted.restore_state(journal_of(halted, active))
    assert lifted.check(req(), ctx(now=now)).allowed


def test_events_of_another_timezone_or_unreadable_ones_restore_nothing(req, ctx, now):
    tripped = rule(timezone="America/New_York")
    (halted,) = tripped.observe(outcome("-150"), now)
    other = rule()  # UTC: the event's day is not this rule's day
    other.restore_state(journal_of(halted))
    assert other.check(req(), ctx(now=now)).allowed
    from attrs import evolve
    broken = rule()
    broken.restore_state(journal_of(evolve(halted, data={**halted.data, "day": "someday"})))
    assert broken.check(req(), ctx(now=now)).allowed
