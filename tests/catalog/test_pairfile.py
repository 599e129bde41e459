from pathlib import Path

import pytest

from arbexec.catalog.pairfile import (
    MarketRef,
    MatchedPair,
    PairStatus,
    accepted,
    load_pairs,
    save_pairs,
)
from arbexec.errors import ConfigError


def _pair(**kw: object) -> MatchedPair:
    return MatchedPair(a=MarketRef("polymarket", "0xab", 'Bitcoin "above" $100k?'),
                       b=MarketRef("kalshi", "KXBTC-B100000", "Bitcoin above 100,000?"), **kw)


def test_round_trip_keeps_every_field(tmp_path: Path) -> None:
    pairs = [_pair(status=PairStatus.ACCEPTED, inverted=True, score=0.9312,
                   flags=("date_differs",), reason="", reviewed_at="2026-12-02T01:00:00+00:00"),
             _pair(status=PairStatus.REJECTED, reason="different threshold")]
    path = tmp_path / "pairs.toml"
    save_pairs(path, pairs)
    assert load_pairs(path) == pairs
    assert [p.status for p in accepted(load_pairs(path))] == [PairStatus.ACCEPTED]


def test_hedge_outcome_follows_polarity() -> None:
    assert _pair().hedge_outcome("YES") == "NO"
    assert _pair(inverted=True).hedge_outcome("YES") == "YES"
    assert _pair(inverted=True).hedge_outcome("NO") == "NO"


def test_id_is_stable_from_the_markets() -> None:
    assert _pair().id == "polymarket:0xab~kalshi:KXBTC-B100000"


@pytest.mark.parametrize("text, fragment", [
    ('[[pairs]]\nstatus = "maybe"\na = {venue="k", market="m"}\nb = {venue="p", market="n"}\n',
     "status 'maybe'"),
    ('[[pairs]]\ncolour = 1\n', "unknown key 'colour'"),
    ('[[pairs]]\na = {venue="k"}\nb = {venue="p", market="n"}\n', "pairs[0].a"),
    ('pairs = 3\n', "array of tables"),
])
def test_bad_files_name_the_entry(tmp_path: Path, text: str, fragment: str) -> None:
    path = tmp_path / "pairs.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_pairs(path)
    assert fragment in str(caught.value)
