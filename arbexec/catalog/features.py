"""What a market's text says, as comparable facts: numbers, dates, direction, scope, source.

Titles that look alike are often different contracts ("above 100k" vs "above 105k", "by
June 30" vs "in June", one game vs the series), so the matcher compares these facts, not
only the words. Everything here is plain regular expressions over lower-cased text: fast
enough to run over every market of a catalogue, and each rule can be read and tested.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from decimal import Decimal, InvalidOperation

from attrs import frozen

from arbexec.catalog.listing import MarketListing

MONTHS = {name: n for n, names in enumerate(
    [("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"),
     ("may",), ("june", "jun"), ("july", "jul"), ("august", "aug"),
     ("september", "sep", "sept"), ("october", "oct"), ("november", "nov"),
     ("december", "dec")], start=1) for name in names}
_MONTH = "|".join(sorted(MONTHS, key=len, reverse=True))
_QUALIFIER = r"(?P<q>by|before|on|in|during|after|end of|by end of|through|until)?\s*"
_DAY_DATE = re.compile(
    _QUALIFIER + rf"\b(?P<m>{_MONTH})\.?\s+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\b"
    r"(?:,?\s+(?P<y>20\d\d))?")
_ISO_DATE = re.compile(_QUALIFIER + r"\b(?P<y>20\d\d)-(?P<m>\d\d)-(?P<d>\d\d)\b")
_MONTH_DATE = re.compile(_QUALIFIER + rf"\b(?P<m>{_MONTH})\b\.?(?:\s+(?P<y>20\d\d))?")
_YEAR_DATE = re.compile(r"(?P<q>by|before|in|during|end of|by end of|after)\s+(?P<y>20\d\d)\b")
_NUMBER = re.compile(
    r"(?<![\w.])(?P<sign>[-+])?\$?(?P<n>\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)\s*"
    r"(?P<unit>k|m|mn|million|b|bn|billion|t|trillion|thousand|%|bps|bp|°f|°c|°|"
    r"degrees|pts|points)?(?![\w])")
_SCALE = {"k": 10**3, "thousand": 10**3, "m": 10**6, "mn": 10**6, "million": 10**6,
          "b": 10**9, "bn": 10**9, "billion": 10**9, "t": 10**12, "trillion": 10**12}

ABOVE = ("above", "over", "greater than", "more than", "at least", "or more", "or above",
         "or higher", "exceed", "exceeds", "higher than", "≥", ">", "reach", "reaches", "hit",
         "top", "surpass", "rise above")
BELOW = ("below", "under", "less than", "at most", "or less", "or below", "or lower",
         "lower than", "≤", "<", "dip to", "fall below", "drop below")
NEGATIONS = (" not ", "n't ", " fail to ", " fails to ", " no ", " without ")
#: A single game (or part of one) against a season, a series or a tournament.
GAME_WORDS = ("game", "match", "tonight", "matchup", "fight", "bout", "race day")
PART_WORDS = ("first half", "1st half", "second half", "2nd half", "quarter", "first period",
              "map 1", "map 2", "map 3", "set 1", "first set", "inning", "first round")
SERIES_WORDS = ("series", "finals", "championship", "champion", "season", "tournament",
                "title", "playoffs", "playoff", "cup", "pennant", "division", "conference",
                "super bowl", "world series", "stanley cup", "mvp")
TOUCH_WORDS = ("at any time", "at any point", "any time before", "reach", "reaches", "hit ",
               "hits ", "touch", "trade at or above", "trades above at any")
SNAPSHOT_WORDS = ("closing price", "close price", "at close", "settle", "final price",
                  "price on", "at 11:59", "at 12:00", "at noon", "at 4:00", "at 5:00",
                  "as of ", "on the date")
#: Resolution sources: one canonical name per source, and the ways markets cite it.
SOURCES: dict[str, tuple[str, ...]] = {
    "coinbase": ("coinbase",),
    "binance": ("binance",),
    "cf benchmarks": ("cf benchmarks", "cfbenchmarks", "brti", "cme cf"),
    "coingecko": ("coingecko",),
    "coinmarketcap": ("coinmarketcap",),
    "chainlink": ("chainlink",),
    "bls": ("bureau of labor statistics", "bls.gov", " bls "),
    "bea": ("bureau of economic analysis", "bea.gov"),
    "federal reserve": ("federal reserve", "federalreserve.gov", "fomc"),
    "associated press": ("associated press", "ap news", "apnews", " ap "),
    "fox news": ("fox news",),
    "nws": ("national weather service", "weather.gov", " nws "),
    "noaa": ("noaa",),
    "accuweather": ("accuweather",),
    "espn": ("espn",),
    "nba": ("nba.com", "national basketball association"),
    "nfl": ("nfl.com",),
    "mlb": ("mlb.com",),
    "ufc": ("ufc.com",),
    "box office mojo": ("box office mojo", "boxofficemojo"),
    "the numbers": ("the-numbers", "the numbers"),
    "rotten tomatoes": ("rotten tomatoes", "rottentomatoes"),
    "yahoo finance": ("yahoo finance", "finance.yahoo"),
    "bloomberg": ("bloomberg",),
    "wsj": ("wall street journal", "wsj"),
    "spotify": ("spotify",),
    "billboard": ("billboard",),
    "tsa": ("tsa.gov", "transportation security administration"),
    "eia": ("eia.gov", "energy information administration"),
    "opec": ("opec",),
    "nyt": ("new york times", "nytimes"),
    "decision desk": ("decision desk", "ddhq"),
    "x": ("x.com", "twitter"),
    "truth social": ("truth social",),
    "google trends": ("google trends",),
    "apple": ("apple.com",),
    "fec": ("fec.gov", "federal election commission"),
    "congress.gov": ("congress.gov",),
    "supreme court": ("supremecourt.gov",),
    "nhc": ("national hurricane center", "nhc.noaa"),
}
_URL_HOST = re.compile(r"https?://(?:www\.)?([a-z0-9.-]+)")
YES_NO = {"yes", "no", ""}
#: Capitalised words that name nothing in particular (question words, venue phrasing).
_PLAIN_WORDS = ("will who what which when where how is are does do did can yes no the a an if "
                "in on by highest lowest winner champion above below over under total number "
                "price closing game match series final finals q1 q2 q3 q4 vs us usa")
_PLAIN_CAPITALS = frozenset(_PLAIN_WORDS.split()) | frozenset(MONTHS)
_CAPITAL = re.compile(r"(?<![\w'])([A-Z][\w&.'-]*)")
#: Names a venue writes one way and another venue another way.
ALIASES = {"fed": "federal reserve", "fomc": "federal reserve", "btc": "bitcoin",
           "eth": "ethereum", "nyc": "new york", "gop": "republicans", "dems": "democrats",
           "u.s.": "us", "sol": "solana", "s&p": "s&p 500"}


@frozen
class DateMention:
    year: int | None
    month: int
    day: int | None
    qualifier: str  # "by", "in", "on", ... or ""

    def same_moment(self, other: DateMention) -> bool:
        """The same date at the same granularity (a year left out matches any year)."""
        return (self.month == other.month and self.day == other.day
                and (self.year is None or other.year is None or self.year == other.year))


@frozen
class Features:
    words: str  # the normalised text, for fuzzy comparison
    numbers: frozenset[Decimal]
    dates: tuple[DateMention, ...]
    years: frozenset[int]
    direction: str  # "above", "below" or ""
    negated: bool
    scope: str  # "game", "part", "series" or ""
    sources: frozenset[str]
    settles: str  # "touch", "snapshot" or ""
    yes_subject: str  # the outcome label YES buys, when it is not literally "Yes"
    no_subject: str
    tokens: frozenset[str] = frozenset()  # every word of the title, aliases resolved
    names: frozenset[str] = frozenset()  # its capitalised words: people, teams, bodies


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower()
    text = text.replace("\u2019", "'").replace("\u2013", "-").replace("\u2014", "-")
    return " ".join(text.split())


def _number(match: re.Match[str]) -> Decimal | None:
    try:
        value = Decimal(match["n"].replace(",", ""))
    except InvalidOperation:
        return None
    unit = (match["unit"] or "").lower()
    value *= _SCALE.get(unit, 1)
    if match["sign"] == "-":
        value = -value
    return value.normalize()


def dates_in(text: str) -> tuple[tuple[DateMention, ...], str]:
    """Date mentions, and the text with them cut out (so their digits are not numbers)."""
    found: list[DateMention] = []
    for pattern in (_ISO_DATE, _DAY_DATE):
        for m in pattern.finditer(text):
            month = int(m["m"]) if m["m"].isdigit() else MONTHS[m["m"]]
            found.append(DateMention(int(m["y"]) if m["y"] else None, month, int(m["d"]),
                                     (m["q"] or "").strip()))
        text = pattern.sub(" ", text)
    for m in _MONTH_DATE.finditer(text):
        word = m["m"]
        if word == "may" and not (m["q"] or m["y"]):
            continue  # "may" the verb
        if word in ("mar", "jun", "dec", "jan", "oct", "sep", "aug", "apr", "nov", "feb",
                    "jul") and not (m["q"] or m["y"]):
            continue
        found.append(DateMention(int(m["y"]) if m["y"] else None, MONTHS[word], None,
                                 (m["q"] or "").strip()))
    text = _MONTH_DATE.sub(lambda m: " " if (m["q"] or m["y"]) else m[0], text)
    return tuple(found), text


@functools.cache
def _pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    """One alternation for a word list: words and phrases match whole, symbols anywhere."""
    parts = []
    for word in words:
        bare = word.strip()
        if bare.isalpha() or " " in bare:
            parts.append(rf"(?<![a-z]){re.escape(bare)}(?![a-z])")
        else:
            parts.append(re.escape(word))
    return re.compile("|".join(parts))


def _has(text: str, words: tuple[str, ...]) -> bool:
    return _pattern(words).search(f" {text} ") is not None


def scope_of(text: str) -> str:
    if _has(text, PART_WORDS):
        return "part"
    if re.search(r"\bgame \d\b", text):
        return "game"
    series = _has(text, SERIES_WORDS)
    game = _has(text, GAME_WORDS)
    if series and not game:
        return "series"
    if game:
        return "game"
    return ""


def sources_in(*texts: str) -> frozenset[str]:
    found = set()
    for text in texts:
        padded = f" {normalise(text)} "
        for name, aliases in SOURCES.items():
            if any(alias in padded for alias in aliases):
                found.add(name)
        for host in _URL_HOST.findall(padded):
            named = {name for name, aliases in SOURCES.items()
                     if name.replace(" ", "") in host or any(
                         "." in a and a.strip() in host for a in aliases)}
            parts = host.split(".")
            found |= named or {parts[-2] if len(parts) >= 2 else host}
    return frozenset(found)


def _subject(label: str) -> str:
    label = normalise(label)
    return "" if label in YES_NO else label


def _word(token: str) -> str:
    token = token.lower().strip(".,:;?!'\"()[]")
    token = token[:-2] if token.endswith("'s") else token
    return ALIASES.get(token, token)


def _tokens(text: str) -> frozenset[str]:
    words = {_word(t) for t in text.split()}
    return frozenset(w for part in words for w in part.split() if w)


def _names(title: str) -> frozenset[str]:
    found = {_word(m) for m in _CAPITAL.findall(title)}
    return frozenset(w for part in found for w in part.split()
                     if w and w not in _PLAIN_CAPITALS and not w.isdigit())


def features(listing: MarketListing) -> Features:
    title = normalise(" ".join(p for p in (listing.title, listing.question) if p))
    dates, rest = dates_in(title)
    years = frozenset(int(y) for y in re.findall(r"\b(20\d\d)\b", rest))
    rest = re.sub(r"\b20\d\d\b", " ", rest)
    numbers = frozenset(n for n in (_number(m) for m in _NUMBER.finditer(rest)) if n is not None)
    above, below = _has(title, ABOVE), _has(title, BELOW)
    direction = "above" if above and not below else "below" if below and not above else ""
    rules = normalise(listing.rules)
    settle_text = f"{title} {rules}"
    touch = _has(settle_text, TOUCH_WORDS)
    snapshot = _has(settle_text, SNAPSHOT_WORDS)
    settles = "touch" if touch and not snapshot else "snapshot" if snapshot and not touch else ""
    outcomes = [*listing.outcomes, "", ""]
    yes_subject, no_subject = _subject(outcomes[0]), _subject(outcomes[1])
    if not yes_subject and 0 < len(listing.question.split()) <= 6:
        yes_subject = _subject(listing.question)  # a group's member: "Gavin Newsom"
    words = normalise(" ".join(p for p in (listing.event_title, listing.title,
                                           listing.question) if p))
    if yes_subject and yes_subject not in words:
        words = f"{words} {yes_subject}"  # Kalshi names a group's member in yes_sub_title
    return Features(
        words=words,
        numbers=numbers,
        dates=dates,
        years=years,
        direction=direction,
        negated=any(n in f" {title} " for n in NEGATIONS),
        scope=scope_of(title),
        sources=sources_in(listing.resolution_source, listing.rules),
        settles=settles,
        yes_subject=yes_subject,
        no_subject=no_subject,
        tokens=_tokens(normalise(" ".join((listing.event_title, listing.title,
                                           listing.question)))),
        names=_names(f"{listing.title} {listing.question}"),
    )
