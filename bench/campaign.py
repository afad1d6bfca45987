"""Campaign pre-flight benchmark: the time to price a list of numbers (read, parse, group, price).

The list is what a customer might upload: a CSV with a header and a name column, numbers of 40 countries
(mobiles and landlines) in the forms people write them (E.164, spaced international, 00-prefixed, national
numbers of the account's own country), with 1% duplicates and 1% junk lines. It is priced by the sample rate
table's index, as the bot does after the Slack side (the file's download) is done, in this process.

    python -m bench.campaign                    # 100,000 numbers, best of 3 runs
    python -m bench.campaign --numbers 20000 --runs 1
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Sequence

import phonenumbers
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from bot.campaign.quote import quote_campaign
from bot.campaign.recipients import FILE_FIELD, MAX_RECIPIENTS, read_recipients
from bot.campaign.results import CampaignQuote
from bot.campaign.segments import count_segments
from bot.rates import RateIndex, format_usd, sample_rows

HOME = "HK"
"""The account's country: its numbers may be written nationally."""
REGIONS = (
    "HK", "GB", "US", "CA", "SG", "AU", "IN", "DE", "FR", "JP", "CN", "TW", "MY", "PH", "ID", "TH", "VN",
    "KR", "AE", "SA", "ZA", "NG", "KE", "BR", "MX", "AR", "ES", "IT", "NL", "SE", "PL", "RU", "KZ", "TR",
    "EG", "PK", "BD", "NZ", "IE", "CH",
)  # fmt: skip
MESSAGE = (
    "Harbour Lights: your order has shipped! Track it at https://hl.example/t/12345 — reply STOP to opt out."
)


def numbers_csv(count: int, seed: int = 18) -> str:
    """A CSV of `count` recipients (header `name,phone`), the same for the same seed."""
    rng = random.Random(seed)
    examples = [
        example
        for region in REGIONS
        for kind in (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE)
        if (example := phonenumbers.example_number_for_type(region, kind)) is not None
    ]
    lines = ["name,phone"]
    for serial in range(count):
        roll = rng.random()
        if roll < 0.01:
            phone = rng.choice(("n/a", "+44 12", "call me", "0000"))
        elif roll < 0.02 and len(lines) > 1:
            phone = lines[rng.randrange(1, len(lines))].split(",", 1)[1]
        else:
            phone = _written(rng, rng.choice(examples))
        lines.append(f"Customer {serial},{phone}")
    return "\n".join(lines) + "\n"


def _written(rng: random.Random, example: phonenumbers.PhoneNumber) -> str:
    """The example number with its last five digits changed, written in one of the usual forms."""
    national = str(example.national_number)
    number = phonenumbers.PhoneNumber(
        country_code=example.country_code,
        national_number=int(national[:-5] + f"{rng.randrange(100_000):05d}"),
        italian_leading_zero=example.italian_leading_zero,
    )
    if phonenumbers.region_code_for_number(number) == HOME and rng.random() < 0.5:
        return phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
    form = rng.random()
    if form < 0.5:
        return phonenumbers.format_number(number, PhoneNumberFormat.E164)
    if form < 0.8:
        return phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)
    return "00" + phonenumbers.format_number(number, PhoneNumberFormat.E164)[1:]


def price(text: str, index: RateIndex) -> CampaignQuote:
    """What the bot does in its worker thread: read the list, then parse, group and price it."""
    return quote_campaign(read_recipients(text, FILE_FIELD), index, count_segments(MESSAGE), HOME)


def report(count: int, size: int, runs: Sequence[float], quote: CampaignQuote) -> str:
    best = min(runs)
    return "\n".join(
        [
            f"campaign pre-flight: {count:,} numbers ({size / 2**20:.1f} MB CSV), best of {len(runs)}",
            f"priced in {best:.2f} s ({count / best:,.0f} numbers/s); runs: "
            + ", ".join(f"{run:.2f} s" for run in runs),
            f"{quote.priced:,} priced in {len(quote.destinations)} destinations, {quote.duplicates:,} duplicates, "
            f"{quote.invalid_count:,} invalid, {sum(n for _, n in quote.unpriced):,} not priced; "
            f"{quote.message.segments} segments ({quote.message.encoding}); total {format_usd(quote.total, 2)}",
        ]
    )


def main(argv: Sequence[str] | None = None) -> str:
    parser = argparse.ArgumentParser(prog="python -m bench.campaign", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--numbers",
        type=int,
        default=MAX_RECIPIENTS,
        help=f"numbers in the list (default {MAX_RECIPIENTS:,})",
    )
    parser.add_argument("--runs", type=int, default=3, help="runs; the best is reported (default 3)")
    args = parser.parse_args(argv)
    if not 1 <= args.numbers <= MAX_RECIPIENTS or args.runs < 1:
        parser.error(f"--numbers must be from 1 to {MAX_RECIPIENTS:,} and --runs at least 1")
    index = RateIndex.build(sample_rows())
    text = numbers_csv(args.numbers)
    price("name,phone\nwarm,+44 7400 123456\n", index)  # phonenumbers' metadata loads outside the timings
    runs: list[float] = []
    for _ in range(args.runs):
        started = time.perf_counter()
        quote = price(text, index)
        runs.append(time.perf_counter() - started)
    output = report(args.numbers, len(text.encode()), runs, quote)
    print(output)
    return output


if __name__ == "__main__":
    main()
