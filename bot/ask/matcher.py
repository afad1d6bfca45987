"""Matching a question against the grammar (`bot.ask.grammar`); the method is described in `bot.ask`."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Final

from bot.ask.grammar import FILLER, GRAMMAR, HELP_PHRASES, METER_OF, WORDS, Concept, Intent, MeterWord
from bot.ask.slots import Slots, Word, destination, find_slots, plain_text, words
from store.domain.plan import Meter


def typo_limit(length: int) -> int:
    """How many edits (insertions, deletions, substitutions, swaps of neighbours) a word of `length`
    letters may be from the grammar's word it is read as: none up to 3 letters, 1 up to 7, then 2."""
    return 0 if length <= 3 else 1 if length <= 7 else 2


@dataclass(frozen=True)
class Question:
    """What a question was understood to ask; `intent` None when it was not understood."""

    text: str
    intent: Intent | None
    meters: tuple[Meter, ...] = ()
    """ALLOWANCE, RUN_OUT: the allowances named, in `Meter` order; empty when none was (all of them)."""
    rates_query: str | None = None
    """CALL_COST: the destination, and the quantity if any, as `/rates` reads them ("Japan 600s");
    None when no destination was named."""
    concepts: frozenset[Concept] = frozenset()
    """What the question was made of (for tests and the log)."""


@dataclass(frozen=True)
class Match:
    """How well one intent matches a question: its largest pattern wholly in the question, then how many of
    the question's concepts appear in any of its patterns, then its place in the grammar (earlier wins)."""

    intent: Intent
    pattern: int
    coverage: int
    rank: int

    @property
    def key(self) -> tuple[int, int, int]:
        return (self.pattern, self.coverage, -self.rank)


def understand(text: str) -> Question:
    """The intent of `text` and its slots."""
    text = plain_text(text)
    slots = find_slots(text)
    question = [_classified(word, slots) for word in words(text)]
    concepts = frozenset(_concepts(question, slots))
    if _asks_for_help(question):
        return Question(text, Intent.HELP, concepts=concepts)
    best = max(matches(concepts), key=lambda m: m.key, default=None)
    if best is None:
        return Question(text, None, concepts=concepts)
    if best.intent in (Intent.ALLOWANCE, Intent.RUN_OUT):
        return Question(text, best.intent, meters=_meters(question), concepts=concepts)
    if best.intent == Intent.CALL_COST:
        place = destination(text, question, slots)
        query = " ".join(part for part in (place, slots.quantity) if part) if place else None
        return Question(text, best.intent, rates_query=query, concepts=concepts)
    return Question(text, best.intent, concepts=concepts)


def matches(concepts: frozenset[Concept]) -> list[Match]:
    """Every intent with a pattern wholly among `concepts`, scored."""
    found = []
    for rank, (intent, patterns) in enumerate(patterns_by_intent().items()):
        fitting = [len(p) for p in patterns if p <= concepts]
        if fitting:
            related = frozenset().union(*patterns)
            found.append(Match(intent, max(fitting), len(concepts & related), rank))
    return found


@cache
def patterns_by_intent() -> dict[Intent, tuple[frozenset[Concept], ...]]:
    """Each intent's phrasings reduced to their concepts (words as written only: the grammar has no typos),
    in the grammar's order."""
    return {
        entry.intent: tuple(dict.fromkeys(phrasing_concepts(p) for p in entry.phrasings)) for entry in GRAMMAR
    }


def phrasing_concepts(phrasing: str) -> frozenset[Concept]:
    text = plain_text(phrasing)
    slots = find_slots(text)
    return frozenset(_concepts([_classified(w, slots, fuzzy=False) for w in words(text)], slots))


def unknown_words(phrasing: str) -> list[str]:
    """The words of a phrasing that are neither the grammar's, filler, nor part of a slot (a destination)."""
    text = plain_text(phrasing)
    slots = find_slots(text)
    return [w.norm for w in (_classified(w, slots, fuzzy=False) for w in words(text)) if not w.known]


def _classified(word: Word, slots: Slots, *, fuzzy: bool = True) -> Word:
    slot = slots.slot_at(word)
    if slot is not None:
        return dataclasses.replace(word, slot=slot)
    if word.norm in FILLER:
        return dataclasses.replace(word, filler=True)
    if word.norm in WORDS:
        return dataclasses.replace(word, concepts=WORDS[word.norm], exact=True)
    corrected = _correction(word.norm) if fuzzy else None
    if corrected is None:
        return word
    if corrected in FILLER:
        return dataclasses.replace(word, filler=True)
    return dataclasses.replace(word, norm=corrected, concepts=WORDS[corrected])


_LONGEST_WORD: Final = max(len(word) for word in (*WORDS, *FILLER))


def _correction(norm: str) -> str | None:
    """The grammar's word (or filler) `norm` is a typo of, if any is within `typo_limit`; the closest, the
    grammar's own words before filler and in their listed order on a tie."""
    limit = typo_limit(len(norm))
    if not limit or not norm.isalpha() or len(norm) > _LONGEST_WORD + limit:
        return None
    from rapidfuzz import process  # loaded by the first question with a word the grammar does not have
    from rapidfuzz.distance import OSA

    found = process.extractOne(norm, _vocabulary(), scorer=OSA.distance, score_cutoff=limit)
    return None if found is None else str(found[0])


@cache
def _vocabulary() -> tuple[str, ...]:
    return (*WORDS, *sorted(w for w in FILLER if len(w) > 3))


def _concepts(question: Iterable[Word], slots: Slots) -> Iterable[Concept]:
    for word in question:
        yield from word.concepts
    yield from (slot for _, _, slot in slots.spans)


def _asks_for_help(question: Sequence[Word]) -> bool:
    norms = tuple(w.norm for w in question)
    return any(norms[i : i + len(phrase)] == phrase for phrase in HELP_PHRASES for i in range(len(norms)))


def _meters(question: Sequence[Word]) -> tuple[Meter, ...]:
    """The allowances a question names: "voice" (or minutes of calls), "video", "storage"; "minutes" alone
    names both kinds of minutes; nothing named, none (meaning all)."""
    named = {METER_OF[w.norm] for w in question if w.norm in METER_OF}
    calls = any(Concept.CALL in w.concepts for w in question)
    meters = set()
    if MeterWord.VOICE in named or (MeterWord.MINUTES in named and calls):
        meters.add(Meter.VOICE_MINUTES)
    if MeterWord.VIDEO in named:
        meters.add(Meter.VIDEO_MINUTES)
    if MeterWord.STORAGE in named:
        meters.add(Meter.STORAGE_GB)
    if not meters and MeterWord.MINUTES in named:
        meters = {Meter.VOICE_MINUTES, Meter.VIDEO_MINUTES}
    return tuple(m for m in Meter if m in meters)
