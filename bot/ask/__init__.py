"""Questions in plain words: what a question asks for, understood deterministically from a small documented
grammar (no network, no model). Answering is the Slack layer's `handlers.ask`.

    understand("hey, could you tell me when we renew?").intent          # Intent.RENEWAL
    understand("what does a 10-minute call to Japan cost?").rates_query  # "Japan 600s"
    understand("voice minuts left").meters                              # (Meter.VOICE_MINUTES,)

The grammar (`bot.ask.grammar`)
- **Concepts**: what a word means to the grammar (LEFT, RENEW, COST, ADMIN…), each written with a few
  words and their inflections ("renew renews renewal renewing…"). METER words also name an allowance
  (voice, video, storage; "minutes" alone is both kinds of minutes).
- **Filler**: polite wrappers, pronouns, auxiliaries and prepositions ("hey", "could", "you", "tell", "me",
  "please", "the"…), which mean nothing to it.
- **Slots**, found before the words are read (`bot.ask.slots`): a call's length or a number of SMS
  anywhere in the question ("a 10-minute call", "for 1 hour and 5 minutes", "half an hour", "300 texts",
  "an SMS"), the pseudo-concept QUANTITY; a phone number of at least six digits, PHONE.
- **Intents** (`GRAMMAR`, in priority order): ALLOWANCE, RUN_OUT, RENEWAL, CALL_COST, ADMINS, CHANGES, PLAN,
  HELP, each with phrasings: plain questions ("How many voice minutes are left?", "voice minutes left",
  "rates for Japan"). A phrasing reduced to the set of its concepts is a **pattern** ({METER, LEFT}).

Matching (`bot.ask.matcher.understand`)
1. Slack's markup is removed (`<@U…>` mentions, links), and the slots are found.
2. Each word is read: a slot's word stands for the slot; filler is dropped; a grammar word gives its
   concepts; any other word of four letters or more is looked up among the grammar's words (and filler)
   with rapidfuzz's optimal string alignment distance (`rapidfuzz.distance.OSA`): within **1 edit** for
   words of 4 to 7 letters and **2 edits** from 8 ("minuts" → minutes, "renw" → renew, "vocie" → voice,
   "remaning" → remaining); the closest wins, the grammar's own words before filler on a tie. Words of
   three letters or fewer, and words nothing is close to (a destination: "Japan"), stay unknown.
3. The question's concepts are a set: word order does not matter ("minutes of voice remaining"), and
   neither do filler or unknown words ("hey, could you tell me when we renew please").
4. An intent matches when one of its patterns is wholly among the question's concepts. Among the intents
   that match, the best has the largest such pattern (the most specific reading: "how many minutes are
   left before we renew" is ALLOWANCE's {HOW, AMOUNT, METER, LEFT}, not RENEWAL's {RENEW}); then the most
   of the question's concepts found in any of its patterns; then the earlier in `GRAMMAR`.
   "What can you do?" and a few other questions made only of filler are recognised word for word (HELP).
5. Nothing matches: not understood (the Slack layer replies with what it can answer).

Slots of the answer: ALLOWANCE and RUN_OUT take the allowances named ("voice", "call minutes", "video",
"storage"/"GB"; "minutes" alone: voice and video; none: all). CALL_COST takes the destination: a phone
number; else the words after "to", "for", "in" or a verb ("call", "text") until a word that ends it ("for",
"please", "cost"…; only words written exactly, so "Costa Rica" is not cut at a typo of "cost"); else the
first run of unknown words. It is looked up as `/rates` would look it up, with the quantity: "Japan 600s".
"""

from __future__ import annotations

from bot.ask.grammar import GRAMMAR, SUGGESTED_PROMPTS, Concept, Intent, IntentGrammar
from bot.ask.matcher import Question, typo_limit, understand

__all__ = [
    "GRAMMAR",
    "SUGGESTED_PROMPTS",
    "Concept",
    "Intent",
    "IntentGrammar",
    "Question",
    "typo_limit",
    "understand",
]
