"""The grammar of questions in plain words: the concepts a question is made of and the words each is written
with, the filler a question may be wrapped in, and each intent's phrasings, most specific meaning first.
How a question is matched against it is told in `bot.ask`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Final


def words_of(text: str) -> frozenset[str]:
    """The words of a list written as text, one space apart."""
    return frozenset(text.split())


class Concept(StrEnum):
    """What a word of a question means to the grammar."""

    METER = "meter"  # voice, video, storage, minutes, GB
    ALLOWANCE = "allowance"  # allowance, quota, usage
    LEFT = "left"
    USED = "used"
    HOW = "how"
    AMOUNT = "amount"  # many, much
    WHEN = "when"
    WHO = "who"
    RENEW = "renew"
    PAYMENT = "payment"
    NEXT = "next"
    PERIOD = "period"
    END = "end"  # end, expire, reset
    COST = "cost"
    CALL = "call"
    SMS = "sms"
    ADMIN = "admin"
    RUN = "run"
    OUT = "out"
    LAST = "last"
    ENOUGH = "enough"
    FORECAST = "forecast"
    CHANGE = "change"
    WEEK = "week"
    PLAN = "plan"
    FEE = "fee"
    HELP = "help"
    QUANTITY = "quantity"  # a call's length or a number of SMS ("10-minute", "300 sms"): a slot
    PHONE = "phone"  # a phone number: a slot


class Intent(StrEnum):
    """What a question asks for; the order of `GRAMMAR` breaks ties between them."""

    ALLOWANCE = "allowance"
    RUN_OUT = "run_out"
    RENEWAL = "renewal"
    CALL_COST = "call_cost"
    ADMINS = "admins"
    CHANGES = "changes"
    PLAN = "plan"
    HELP = "help"


class MeterWord(StrEnum):
    """Which allowance a METER word names ("minutes" alone names both kinds of minutes)."""

    VOICE = "voice"
    VIDEO = "video"
    STORAGE = "storage"
    MINUTES = "minutes"


_CONCEPT_WORDS: Final[tuple[tuple[Concept, str], ...]] = (
    (Concept.ALLOWANCE, "allowance allowances quota quotas usage limit limits"),
    (Concept.LEFT, "left remaining remain remains available balance rest unused spare leftover remainder"),
    (Concept.USED, "used use using consumed consume"),
    (Concept.HOW, "how"),
    (Concept.AMOUNT, "many much"),
    (Concept.WHEN, "when date day"),
    (Concept.WHO, "who whom whose"),
    (Concept.RENEW, "renew renews renewal renewals renewing renewed"),
    (
        Concept.PAYMENT,
        "payment payments pay paying paid invoice invoices invoiced bill bills billed billing due",
    ),
    (Concept.NEXT, "next upcoming"),
    (Concept.PERIOD, "period cycle month"),
    (Concept.END, "end ends ending expire expires expiry reset resets restart restarts"),
    (Concept.COST, "cost costs costing price prices priced pricing rate rates tariff tariffs charge charges"),
    (Concept.COST, "expensive cheap"),
    (Concept.CALL, "call calls calling dial dialing dialling ring phone phoning"),
    (Concept.SMS, "sms smses text texts texting message messages"),
    (Concept.ADMIN, "admin admins administrator administrators administer administers owner owners"),
    (Concept.ADMIN, "approver approvers"),
    (Concept.RUN, "run runs running ran"),
    (Concept.OUT, "out"),
    (Concept.LAST, "last lasts"),
    (Concept.ENOUGH, "enough sufficient"),
    (Concept.FORECAST, "forecast forecasts projection projected exhaust exhausted exceed exceeding overage"),
    (Concept.FORECAST, "burn deplete depleted"),
    (Concept.CHANGE, "change changes changed changing new happened happen happening news update updates"),
    (Concept.CHANGE, "updated different digest"),
    (Concept.WEEK, "week weekly recently lately days"),
    (Concept.PLAN, "plan plans subscription subscriptions tier package licences licenses licence license"),
    (Concept.PLAN, "seats"),
    (Concept.FEE, "fee fees monthly"),
    (Concept.HELP, "help commands capabilities questions ask"),
)

_METER_WORDS: Final[Mapping[MeterWord, str]] = {
    MeterWord.VOICE: "voice audio",
    MeterWord.VIDEO: "video videos",
    MeterWord.STORAGE: "storage gb gigabytes gigabyte gigs disk space",
    MeterWord.MINUTES: "minutes minute mins min",
}

WORDS: Final[Mapping[str, tuple[Concept, ...]]] = {
    "runout": (Concept.RUN, Concept.OUT),
    **{word: (Concept.METER,) for words in _METER_WORDS.values() for word in words.split()},
    **{word: (concept,) for concept, words in _CONCEPT_WORDS for word in words.split()},
}
"""Each word of the grammar and the concepts it stands for."""

METER_OF: Final[Mapping[str, MeterWord]] = {
    word: meter for meter, words in _METER_WORDS.items() for word in words.split()
}
"""The allowance each METER word names."""

FILLER: Final = words_of(
    """
    a an the hey hi hello hiya yo ok okay oh um uh well so please pls plz kindly thanks thank thx ty cheers
    could would can will shall should may might must do does did done doing have has had having get got
    getting be is are was were been being am it its this that these those there here what which whats
    i me my mine we us our ours you your yours u ya yall they them their he she him her
    of on in at to for from by with about into onto over under before after until till since than then
    and or but if as just now currently right still yet already ever again also too very really actually
    tell know let like want wanna need show give find check see say said look quick question curious
    wondering wonder think dear bot app team guys folks everyone anyone someone
    any some all each every one both either other another more most less least going gonna gotta
    """
)
"""Words that carry no meaning for the grammar: polite wrappers, pronouns, auxiliaries, prepositions."""

HELP_PHRASES: Final[tuple[tuple[str, ...], ...]] = (
    ("what", "can", "you", "do"),
    ("what", "do", "you", "do"),
    ("what", "can", "i", "ask"),
    ("what", "do", "you", "know"),
    ("how", "does", "this", "work"),
)
"""Questions about the bot itself, made only of filler, recognised word for word."""


@dataclass(frozen=True)
class IntentGrammar:
    """One intent: the question that stands for it (in the "I can answer…" reply and the docs) and its
    phrasings. Each phrasing, reduced to the set of its concepts, is one pattern the intent matches."""

    intent: Intent
    example: str
    answers: str
    phrasings: tuple[str, ...]


GRAMMAR: Final[tuple[IntentGrammar, ...]] = (
    IntentGrammar(
        Intent.ALLOWANCE,
        "How many voice minutes are left?",
        "what is left of each allowance this billing period (voice or video minutes, storage, or all)",
        (
            "How many voice minutes are left?",
            "voice minutes left",
            "How much storage have we used?",
            "storage used",
            "How much video do we have?",
            "What's our usage?",
            "What's left?",
        ),
    ),
    IntentGrammar(
        Intent.RUN_OUT,
        "Will we run out?",
        "each allowance's run-out forecast, as `/plan usage` shows it",
        (
            "Will we run out?",
            "When will we run out of storage?",
            "What's the forecast?",
            "Do we have enough voice minutes?",
            "enough",
            "Will our minutes last?",
            "Will our minutes last until renewal?",
        ),
    ),
    IntentGrammar(
        Intent.RENEWAL,
        "When do we renew?",
        "the next payment date, when the allowances reset",
        (
            "When do we renew?",
            "renewal",
            "When is the next payment?",
            "next invoice",
            "When do we pay?",
            "When does the billing period end?",
            "period end",
            "When do our minutes reset?",
            "minutes reset",
        ),
    ),
    IntentGrammar(
        Intent.CALL_COST,
        "What does a 10-minute call to Japan cost?",
        "a call's or an SMS's cost to any destination or number, or its rates, as `/rates` shows them",
        (
            "What does a 10-minute call to Japan cost?",
            "call cost",
            "rates for Japan",
            "How much is a call to Japan?",
            "How much does a call cost?",
            "How much to text India?",
            "How much does an SMS cost?",
            "How much are 300 SMS to India?",
            "Call Japan for 10 minutes",
            "10 minutes to Japan",
            "+44 20 7946 0018",
        ),
    ),
    IntentGrammar(
        Intent.ADMINS,
        "Who are our admins?",
        "the account's administrators",
        ("Who are our admins?", "admins"),
    ),
    IntentGrammar(
        Intent.CHANGES,
        "What changed this week?",
        "the weekly digest's changes over the last seven days",
        ("What changed this week?", "What's new?", "What happened recently?", "weekly digest"),
    ),
    IntentGrammar(
        Intent.PLAN,
        "What plan are we on?",
        "the subscription summary, as `/plan` shows it",
        (
            "What plan are we on?",
            "How much do we pay a month?",
            "What's our monthly fee?",
            "How much does our plan cost?",
        ),
    ),
    IntentGrammar(
        Intent.HELP,
        "What can you do?",
        "this list",
        ("help", "What can I ask?"),
    ),
)
"""Every intent, in the order that breaks a tie between equally good matches."""

SUGGESTED_PROMPTS: Final[tuple[str, ...]] = (
    "How many voice minutes are left?",
    "When do we renew?",
    "What does a 10-minute call to Japan cost?",
    "Will we run out?",
)
"""What the assistant panel suggests when a thread starts (Slack shows at most four)."""
