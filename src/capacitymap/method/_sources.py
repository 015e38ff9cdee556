"""What each known source's sample is, month by month: the sentences a coverage note needs.

CCAF's map rests on a few mining pools' geolocation data, and the pools (and the share of the
network they cover) changed between its updates; a note for September 2019 must not describe
January 2022. Sources outside CCAF's series (the Cambridge 2025 survey) are described by their own
method and never mixed into CCAF's months.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

__all__ = ["CCAF_SAMPLES", "SOURCE_METHODS", "SOURCE_CREDITS", "describe_sample", "source_credit"]

#: (first month, last month, sentence) of CCAF's sample; see data/README.md for the pages they come from.
CCAF_SAMPLES: Final[tuple[tuple[str, str, str], ...]] = (
    ("2019-09", "2020-04",
     "CCAF's sample, September 2019 to April 2020: the pools BTC.com, Poolin and ViaBTC, about 37% of the network's hashrate"),
    ("2020-05", "2021-08",
     "CCAF's sample, May 2020 to August 2021: the participating pools' data as updated through 2020 and 2021; the update of "
     "October 2021 names BTC.com, Poolin, ViaBTC and Foundry USA, about 44% of the network's hashrate"),
    ("2021-09", "2022-01",
     "CCAF's sample, September 2021 to January 2022: BTC.com, Poolin, ViaBTC and Foundry USA (update of May 2022)"),
)

#: Pool name as read -> the method behind its figures (sources outside CCAF's pool series).
SOURCE_METHODS: Final[dict[str, str]] = {
    "Cambridge 2025 survey": (
        "Cambridge Digital Mining Industry Report (CCAF, April 2025): a survey of 49 mining firms, June to September 2024, "
        "covering about 48% of the network's hashrate (268 EH/s); the shares are of the surveyed firms' reported hashrate, "
        "not of the whole network, and over-represent US firms; not part of CCAF's monthly map series"
    ),
    "Hashrate Index": (
        "Hashrate Index (Luxor) hashrate heatmap: its own quarterly estimates of each country's share of the network's "
        "hashrate (as quoted in a copy; its method is not CCAF's pool geolocation); not part of CCAF's monthly map series"
    ),
    "Foundry USA": "Foundry USA pool: where its own customers' hashrate is, by state; not the whole network",
}

#: Pool name as read -> who published it (the page credit line).
SOURCE_CREDITS: Final[dict[str, str]] = {
    "CCAF": "CCAF (Cambridge Centre for Alternative Finance), Bitcoin Mining Map",
    "Cambridge 2025 survey": "CCAF (Cambridge Centre for Alternative Finance), Cambridge Digital Mining Industry Report 2025",
    "Hashrate Index": "Hashrate Index (Luxor)",
    "Foundry USA": "Foundry USA",
}


def describe_sample(pools: Iterable[str], months: Iterable[str]) -> list[str]:
    """The sentences that describe the samples behind ``pools`` in the ``months`` shown (one per period)."""
    pools = tuple(pools)
    shown = sorted({m[:7] for label in months for m in str(label).split(":")})
    out = []
    if "CCAF" in pools and shown:
        first, last = shown[0], shown[-1]
        for start, end, text in CCAF_SAMPLES:
            if start <= last and end >= first:
                out.append(text + ".")
    for pool in pools:
        if pool in SOURCE_METHODS:
            out.append(SOURCE_METHODS[pool] + ".")
    return out


def source_credit(pools: Iterable[str]) -> str:
    """Who published the figures of ``pools``: CCAF for its exports, else the pools themselves."""
    names = []
    for pool in pools:
        text = SOURCE_CREDITS.get(pool, pool)
        if text not in names:
            names.append(text)
    return "; ".join(names)
