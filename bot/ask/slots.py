"""A question's words and its slots: Slack's markup removed, the words with where each stands, a call's
length or a number of SMS anywhere in the question ("a 10-minute call", "for 1h 5m", "300 texts"), a phone
number, and the destination of a cost question.

A quantity is given back in the form `/rates` reads (`bot.rates.estimate.parse_rate_query`): whole seconds
("600s": a started minute is billed whole, so a fraction of a second rounds up) or "300 sms".
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from bot.ask.grammar import Concept, words_of

MAX_TEXT: Final = 500
"""Characters of a question read (a question is never longer; it also bounds the regex work)."""

NUMBER_WORDS: Final = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "fifteen": 15,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "ninety": 90,
    "hundred": 100,
}
_UNIT_SECONDS: Final = {"h": 3600, "m": 60, "s": 1}

_MARKUP = re.compile(r"<[^<>]*>")
_WORD = re.compile(r"\+?[^\W_]+(?:['’][^\W_]+)?")
_CONTRACTION = re.compile(r"'(?:s|re|ll|d|ve|m)$")

_NUMBER = r"(?!0\d)(?:\d{1,3}(?:,\d{3})+|\d{1,7}(?:\.\d{1,4})?)"
_COUNT = r"(?!0)(?:\d{1,3}(?:,\d{3})+|\d{1,7})"
_NUMBER_WORD = "|".join(sorted(NUMBER_WORDS, key=len, reverse=True))
_LONG_UNIT = r"hours?|minutes?|seconds?"
_SHORT_UNIT = r"hrs?|h|mins?|m|secs?|s"
_PART = (
    rf"(?:half\s+an\s+hour"
    rf"|(?P<digits>{_NUMBER})\s*-?\s*(?P<unit>{_LONG_UNIT}|{_SHORT_UNIT})"
    rf"|(?P<word>{_NUMBER_WORD}|an?)[\s-]+(?P<long>{_LONG_UNIT}))\b"
)
_PART_RE = re.compile(_PART, re.IGNORECASE)
_DURATION = re.compile(
    rf"(?<![\w+.,]){_PART}(?:\s*,?\s*(?:and\s+)?{_PART.replace('?P<', '?P<more_')})*", re.IGNORECASE
)
_SMS_WORDS = r"sms(?:es)?|texts?|text\s+messages?|messages?|msgs?"
_SMS = re.compile(
    rf"(?<![\w+.,])(?:(?P<count>{_COUNT}|{_NUMBER_WORD})[\s-]*(?:{_SMS_WORDS})"
    rf"|(?P<one>an?)\s+(?:sms|texts?|text\s+messages?))\b",
    re.IGNORECASE,
)
_PHONE = re.compile(r"(?<![\w+])(?:\+|00)?\(?\d[\d\s().\-/]{4,}\d(?!\w)")
MIN_PHONE_DIGITS: Final = 6


@dataclass(frozen=True)
class Word:
    """One word of the question, where it stands in the text, its normal form, and what the grammar makes
    of it (set by `bot.ask.matcher`)."""

    text: str
    start: int
    end: int
    norm: str
    concepts: tuple[Concept, ...] = ()
    filler: bool = False
    exact: bool = False
    """Its concepts come from the word as written, not from a typo's correction."""
    slot: Concept | None = None
    """QUANTITY or PHONE when the word is part of one."""

    @property
    def known(self) -> bool:
        return self.filler or bool(self.concepts) or self.slot is not None


def plain_text(text: str) -> str:
    """The question without Slack's markup (mentions `<@U…>`, channel links, links, `<!here>`), entities
    decoded, at most `MAX_TEXT` characters."""
    text = _MARKUP.sub(" ", text[: MAX_TEXT * 2])[:MAX_TEXT]
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def normal(word: str) -> str:
    """Lower case, without a contraction's tail ("what's" → "what") or other apostrophes ("don't" →
    "dont")."""
    word = word.lower().replace("’", "'")
    return _CONTRACTION.sub("", word).replace("'", "")


def words(text: str) -> list[Word]:
    return [Word(m.group(), m.start(), m.end(), normal(m.group())) for m in _WORD.finditer(text)]


@dataclass(frozen=True)
class Slots:
    """What the question names besides its words' meanings."""

    quantity: str | None = None
    """A call's length or a number of SMS, as `/rates` reads it ("600s", "300 sms")."""
    phone: str | None = None
    """A phone number, as written."""
    spans: tuple[tuple[int, int, Concept], ...] = ()
    """Where in the text each slot is, and which."""

    def slot_at(self, word: Word) -> Concept | None:
        return next((slot for start, end, slot in self.spans if start < word.end and word.start < end), None)


def find_slots(text: str) -> Slots:
    """The first quantity and phone number in `text` (a number that is part of a quantity is no phone
    number: "call +44 20 7946 0018 for 5 min")."""
    spans: list[tuple[int, int, Concept]] = []
    quantity = None
    sms = _SMS.search(text)
    duration = _DURATION.search(text)
    first = min((m for m in (sms, duration) if m is not None), key=lambda m: m.start(), default=None)
    if first is not None:
        quantity = _sms_text(first) if first is sms else _duration_text(first.group())
        if quantity is not None:
            spans.append((first.start(), first.end(), Concept.QUANTITY))
    blanked = "".join(" " if any(s <= i < e for s, e, _ in spans) else c for i, c in enumerate(text))
    phone = None
    for found in _PHONE.finditer(blanked):
        if sum(c.isdigit() for c in found.group()) >= MIN_PHONE_DIGITS:
            phone = found.group().strip()
            spans.append((found.start(), found.end(), Concept.PHONE))
            break
    return Slots(quantity=quantity, phone=phone, spans=tuple(spans))


def _sms_text(found: re.Match[str]) -> str | None:
    count = 1 if found.group("one") else _number(found.group("count"))
    return f"{count} sms" if count else None


def _duration_text(text: str) -> str | None:
    seconds = Decimal(0)
    for part in _PART_RE.finditer(text):
        if part.group("digits"):
            amount, unit = Decimal(part.group("digits").replace(",", "")), part.group("unit")
        elif part.group("word"):
            amount, unit = Decimal(_number(part.group("word"))), part.group("long")
        else:  # half an hour
            amount, unit = Decimal(30), "m"
        seconds += amount * _UNIT_SECONDS[unit[0].lower()]
    whole = math.ceil(seconds)
    return f"{whole}s" if whole > 0 else None


def _number(text: str) -> int:
    text = text.lower().replace(",", "")
    return NUMBER_WORDS[text] if text in NUMBER_WORDS else 1 if text in ("a", "an") else int(text)


# -- the destination of a cost question --------------------------------------------------------------------

_STARTS: Final = frozenset({"to", "for", "in", "into", "towards"})
"""Words after which a destination is named ("a call to Japan", "rates for India", "the rate in France")."""
_LEADING: Final = frozenset({"the", "a", "an", "to", "for", "in", "into", "of"})
"""Skipped before the destination ("to call the UK": "UK")."""
_ENDS: Final = words_of(
    """
    for per please pls plz if from with at by each mobile mobiles landline landlines cell is are does do
    would will be on via thanks thank now today right exactly roughly approximately about
    """
)
"""Words that end a destination ("Japan for 10 minutes", "Hong Kong please")."""
_ENDING_CONCEPTS: Final = frozenset(
    {
        Concept.COST,
        Concept.CALL,
        Concept.SMS,
        Concept.HOW,
        Concept.AMOUNT,
        Concept.WHEN,
        Concept.WHO,
        Concept.LEFT,
        Concept.USED,
        Concept.PLAN,
        Concept.FEE,
        Concept.PAYMENT,
        Concept.METER,
        Concept.RENEW,
    }
)
_VERBS: Final = frozenset({Concept.CALL, Concept.SMS})


def destination(text: str, question: Sequence[Word], slots: Slots) -> str | None:
    """Where a cost question is about, as written: its phone number; else the words after "to", "for",
    "in" or a verb ("call", "text") up to a word that ends it; else the first run of words the grammar
    does not know. Only words written exactly as the grammar has them end a destination, so that "Costa
    Rica" is not cut at a typo of "cost"."""
    if slots.phone is not None:
        return slots.phone
    for index, word in enumerate(question):
        if word.norm in _STARTS or (word.exact and _VERBS & set(word.concepts)):
            run = _run_after(question[index + 1 :])
            if run:
                return text[run[0].start : run[-1].end]
    for run in _runs(question):
        while run and run[0].filler:
            run = run[1:]
        while run and run[-1].filler:
            run = run[:-1]
        if any(not word.known for word in run):
            return text[run[0].start : run[-1].end]
    return None


def _run_after(following: Sequence[Word]) -> list[Word]:
    run: list[Word] = []
    for word in following:
        if not run and (word.norm in _LEADING or (word.exact and _VERBS & set(word.concepts))):
            continue
        if _ends(word):
            break
        run.append(word)
    return run


def _runs(question: Sequence[Word]) -> list[list[Word]]:
    """The question cut at every word that ends a destination."""
    runs: list[list[Word]] = [[]]
    for word in question:
        if _ends(word):
            runs.append([])
        else:
            runs[-1].append(word)
    return runs


def _ends(word: Word) -> bool:
    return (
        word.slot is not None
        or word.norm in _ENDS
        or (word.exact and bool(_ENDING_CONCEPTS & set(word.concepts)))
    )
