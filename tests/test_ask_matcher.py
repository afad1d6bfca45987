"""Questions in plain words, understood (`bot.ask`): every question of the docs' table as its row's intent,
near-misses (typos, other word orders, polite wrapping) too, the slots (allowances named, the destination
and quantity of a cost question), and nonsense not understood."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from bot.ask import GRAMMAR, SUGGESTED_PROMPTS, Intent, typo_limit, understand
from bot.ask.matcher import matches, patterns_by_intent, phrasing_concepts, unknown_words
from bot.rates import CallDuration, SmsCount, parse_rate_query
from store.domain.plan import Meter

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = {entry.example: entry.intent for entry in GRAMMAR}
VOICE, VIDEO, STORAGE = Meter.VOICE_MINUTES, Meter.VIDEO_MINUTES, Meter.STORAGE_GB


def docs_table() -> list[tuple[Intent, list[str]]]:
    """Each row of the table in docs/slack-usage.md: the intent of its question, and every question in it."""
    section = (ROOT / "docs" / "slack-usage.md").read_text().split("## Questions in plain words", 1)[1]
    rows = []
    for line in section.split("\n## ", 1)[0].splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        asked = re.fullmatch(r"\*\*(.+)\*\*", cells[0]) if len(cells) == 4 else None
        if asked is None:
            continue
        questions = [asked.group(1)] + [q for cell in cells[1:3] for q in re.findall(r"“([^”]+)”", cell)]
        rows.append((EXAMPLES[asked.group(1)], questions))
    return rows


DOCS_ROWS = docs_table()


def test_the_docs_table_has_a_row_for_each_intent() -> None:
    assert [intent for intent, _ in DOCS_ROWS] == [entry.intent for entry in GRAMMAR]
    assert all(len(questions) >= 4 for _, questions in DOCS_ROWS)


@pytest.mark.parametrize(
    ("intent", "question"),
    [(intent, question) for intent, questions in DOCS_ROWS for question in questions],
)
def test_each_question_of_the_docs_table_is_understood(intent: Intent, question: str) -> None:
    assert understand(question).intent == intent


@pytest.mark.parametrize(
    ("intent", "phrasing"),
    [(entry.intent, p) for entry in GRAMMAR for p in (entry.example, *entry.phrasings)],
)
def test_every_phrasing_of_the_grammar_is_its_own_intent(intent: Intent, phrasing: str) -> None:
    assert understand(phrasing).intent == intent
    assert set(unknown_words(phrasing)) <= {"japan", "india"}, "a phrasing's words are the grammar's"


@pytest.mark.parametrize(
    ("question", "intent"),
    [
        # typos: one edit in words of 4 to 7 letters, two from 8
        ("voice minuts left", Intent.ALLOWANCE),
        ("vocie minutes lefft", Intent.ALLOWANCE),
        ("remaning storage", Intent.ALLOWANCE),
        ("when do we renw", Intent.RENEWAL),
        ("whne do we renew", Intent.RENEWAL),
        ("when is the next paymnet", Intent.RENEWAL),
        ("what dose a 10-minute call to Japan cost", Intent.CALL_COST),
        ("prcie of an SMS to Brazil", Intent.CALL_COST),
        ("who are the admnis", Intent.ADMINS),
        ("Who is the admnistrator?", Intent.ADMINS),
        ("do we have enuogh storage", Intent.RUN_OUT),
        ("will we runout of video minutes", Intent.RUN_OUT),
        ("forcast", Intent.RUN_OUT),
        ("what chnaged this week", Intent.CHANGES),
        ("halp me", Intent.HELP),
        # other word orders
        ("minutes of voice remaining", Intent.ALLOWANCE),
        ("left voice minutes how many", Intent.ALLOWANCE),
        ("renew when", Intent.RENEWAL),
        ("invoice next when", Intent.RENEWAL),
        ("Japan 10 min call cost", Intent.CALL_COST),
        ("300 texts to India how much", Intent.CALL_COST),
        ("admins who are", Intent.ADMINS),
        ("run out will we", Intent.RUN_OUT),
        ("this week what changed", Intent.CHANGES),
        # polite wrapping, Slack's markup
        ("hey, could you tell me when we renew", Intent.RENEWAL),
        ("Hi! Quick question: how much video is left, please?", Intent.ALLOWANCE),
        ("<@U0MYPLANBOT> who are our admins?", Intent.ADMINS),
        ("Hey &lt;team&gt;, what's new?", Intent.CHANGES),
        # the most specific reading wins
        ("how many minutes are left before we renew?", Intent.ALLOWANCE),
        ("will we run out of video minutes before we renew?", Intent.RUN_OUT),
        ("how much does a call cost on our plan?", Intent.CALL_COST),
        ("how much does our plan cost?", Intent.PLAN),
        ("what's the rate for New Zealand?", Intent.CALL_COST),
        ("have the rates changed this week?", Intent.CHANGES),
        ("any new admins?", Intent.ADMINS),
        ("when will we run out of storage?", Intent.RUN_OUT),
        ("when do our minutes reset?", Intent.RENEWAL),
    ],
)
def test_near_misses_are_understood(question: str, intent: Intent) -> None:
    assert understand(question).intent == intent


@pytest.mark.parametrize(
    "question",
    [
        "asdfgh",
        "what's the weather in Paris?",
        "tell me a joke",
        "hello",
        "good morning",
        "what is the meaning of life",
        "",
        "🙂",
        "rn out",  # words of three letters or fewer are taken only as written
    ],
)
def test_nonsense_is_not_understood(question: str) -> None:
    assert understand(question).intent is None


@pytest.mark.parametrize(
    ("question", "meters"),
    [
        ("how many voice minutes are left?", (VOICE,)),
        ("call minutes left", (VOICE,)),
        ("how much video is left", (VIDEO,)),
        ("how many GB of storage do we have left", (STORAGE,)),
        ("how many minutes are left", (VOICE, VIDEO)),
        ("voice and video minutes left", (VOICE, VIDEO)),
        ("what's left?", ()),
        ("will we run out of storage?", (STORAGE,)),
        ("will we run out?", ()),
    ],
)
def test_the_allowances_named(question: str, meters: tuple[Meter, ...]) -> None:
    assert understand(question).meters == meters


@pytest.mark.parametrize(
    ("question", "query"),
    [
        ("What does a 10-minute call to Japan cost?", "Japan 600s"),
        ("how much is a call to the United States for 1 hour and 5 minutes?", "United States 3900s"),
        ("cost of a 1h 5m call to +852 9123 4567", "+852 9123 4567 3900s"),
        ("how much to call +44 20 7946 0018 for 90 seconds", "+44 20 7946 0018 90s"),
        ("call Trinidad and Tobago for half an hour", "Trinidad and Tobago 1800s"),
        ("price of a 2.5 min call to Germany", "Germany 150s"),
        ("a five minute call to Spain, how much?", "Spain 300s"),
        ("How much are 300 SMS to India?", "India 300 sms"),
        ("what do 1,000 texts to Kenya cost", "Kenya 1000 sms"),
        ("an SMS to Brazil, how much?", "Brazil 1 sms"),
        ("rates for Hong Kong please", "Hong Kong"),
        ("what's the mobile rate in France?", "France"),
        ("How much would it cost to call Germany?", "Germany"),
        ("how much is it to text the UK?", "UK"),
        ("rates to Costa Rica", "Costa Rica"),
        ("New Zealand 10 min", "New Zealand 600s"),
        ("call +852 for 5 min", "+852 300s"),
        ("+44 20 7946 0018", "+44 20 7946 0018"),
        ("how much does a call cost?", None),
    ],
)
def test_the_destination_and_quantity_of_a_cost_question(question: str, query: str | None) -> None:
    understood = understand(question)
    assert understood.intent == Intent.CALL_COST
    assert understood.rates_query == query


def test_the_query_is_read_back_by_rates_as_the_quantity_asked() -> None:
    assert parse_rate_query("Japan 600s") == ("Japan", CallDuration(600))
    assert parse_rate_query("India 300 sms") == ("India", SmsCount(300))
    assert parse_rate_query(understand("a 61-second call to Japan?").rates_query or "") == (
        "Japan",
        CallDuration(61),
    )


def test_ties_go_to_the_earlier_intent_of_the_grammar() -> None:
    concepts = phrasing_concepts("what's the rate for New Zealand")
    found = {m.intent: m.key for m in matches(concepts)}
    assert found[Intent.CALL_COST][:2] == found[Intent.CHANGES][:2], "equally good"
    assert understand("what's the rate for New Zealand").intent == Intent.CALL_COST


def test_each_intent_has_patterns_and_typo_limits_grow_with_length() -> None:
    assert set(patterns_by_intent()) == set(Intent)
    assert all(all(patterns) for patterns in patterns_by_intent().values())
    assert [typo_limit(n) for n in (1, 3, 4, 7, 8, 20)] == [0, 0, 1, 1, 2, 2]


def test_the_suggested_prompts_are_understood_and_in_the_manifest() -> None:
    assert 1 <= len(SUGGESTED_PROMPTS) <= 4, "Slack shows at most four"
    assert all(understand(prompt).intent is not None for prompt in SUGGESTED_PROMPTS)
    manifest = json.loads((ROOT / "manifest.json").read_text())
    prompts = manifest["features"]["assistant_view"]["suggested_prompts"]
    assert [(p["title"], p["message"]) for p in prompts] == [(p, p) for p in SUGGESTED_PROMPTS]
