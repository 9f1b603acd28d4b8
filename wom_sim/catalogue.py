"""The metric catalogue and the palette: every per-tick metric's label, unit, format, summary and colour, once.

Every table, figure and page that shows a metric selects from here (the CLI run summary, compare and sweep
tables, the HTML report, the figures, the browser page), so a metric reads the same everywhere. This module sits
at the bottom of the package with `wom_sim.errors`: it imports nothing else from wom_sim, and
`tests/test_catalogue.py` fails when a column of a real run's metrics table has no entry here.

Colours are the Okabe-Ito palette (Okabe & Ito 2008, "Color Universal Design"), distinguishable with the common
forms of colour blindness, plus neutral greys.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from wom_sim.errors import ScenarioError

# The per-tick table's columns, in order (wom_sim/sim/metrics.py computes them; the scenario layer checks a
# trigger's `when.metric` against them); `cost_<intervention>` columns follow these in a run's table.
# Added by the economics step (wom_sim/sim/economics.py) after the core columns.
ECONOMICS_COLUMNS = ["purchases", "cum_purchases", "cum_cost_of_goods", "cum_repurchases", "cum_churn_events",
                     "margin_per_purchase", "clv"]  # fmt: skip

# Added by the competition step (wom_sim/sim/competition.py): our share of the market against the rivals; without
# competitors the shares are 1 and nothing switches. Each rival adds `rival_<name>_<RIVAL_METRICS>` columns.
COMPETITION_COLUMNS = ["market_share", "purchase_share", "voice_share_pos", "voice_share_neg", "switch_in",
                       "switch_out", "rival_customers", "rival_price_ratio", "rival_undercut_ticks"]  # fmt: skip
RIVAL_METRICS = ("customers", "lost", "market_share", "purchases", "purchase_share", "revenue", "profit",
                 "voice_share_pos", "voice_share_neg", "nps", "brand", "price")  # fmt: skip

# Column order of the per-tick table (wom_sim/sim/metrics.py computes them).
METRIC_COLUMNS = [
    "t", "unaware", "aware", "customers", "churned",
    "new_customers", "new_none", "new_advertising", "new_wom", "new_kol", "new_referral",
    "adoption_share", "churn_events", "churn_rate", "winbacks", "repurchases", "repurchase_rate",
    "revenue", "cost_of_goods", "intervention_cost", "profit", "cum_revenue", "cum_intervention_cost", "cum_profit",
    "mean_E", "mean_S", "mean_T", "mean_A", "mean_L", "S_p10", "S_p50", "S_p90", "L_p10", "L_p50", "L_p90",
    "mean_S_new",
    "nps", "promoters", "passives", "detractors",
    "pos_messages", "neg_messages", "pos_speakers", "neg_speakers", "pos_reach", "neg_reach", "kol_share",
    "brand", "awareness", "wom_acquired_share", "failures", "recoveries", "at_risk",
    *ECONOMICS_COLUMNS,  # cumulative cost of goods, purchases, margin per purchase, clv
    *COMPETITION_COLUMNS,  # our shares against the rivals, switching, the rivals' prices (issue 15)
]  # fmt: skip

SUMMARIES = ("last", "mean", "sum", "min", "max")
# How a table of changes reads its units (`format_delta`): printed under every such table (compare, its report).
CHANGE_UNITS_NOTE = (
    "pts = percentage points (shares, rates) or NPS points; % = a relative change (the deepest brand drop)"
)
SCALES = ("percent", "points", "count", "money", "index")
INF = float("inf")
# The values a metric of each scale can take: shares and rates 0-1, NPS-like scores -100 to +100, counts and money
# (revenue, costs) from 0, 0-1 states and scores. The interval of a mean of replications is cut to them: with few
# replications a t-interval reaches past what any run can show (an NPS of 137, a churn rate of -2%).
SCALE_BOUNDS = {"percent": (0.0, 1.0), "points": (-100.0, 100.0), "count": (0.0, INF), "money": (0.0, INF),
                "index": (0.0, 1.0)}  # fmt: skip
SIGNED_MONEY = (-INF, INF)  # profit, margin and lifetime value can be below 0
# How a summary reads after a label ("Churn rate per tick (mean)"); the last value needs no word.
SUMMARY_WORDS = {"last": "", "mean": "mean", "sum": "total", "min": "minimum", "max": "maximum"}


@dataclass(frozen=True)
class Metric:
    """One per-tick metric as a user reads it.

    Parameters
    ----------
    name : str
        The column of the per-tick metrics table.
    label : str
        What a user reads, e.g. "Churn rate per tick"; "tick" stands for the scenario's tick unit.
    unit : str
        "share", "per tick", "people", "messages", "currency", "points", "index 0-1", "purchases", "tick".
    fmt : str
        A format spec for one value, e.g. "{:.1%}".
    summary : str
        How one run is summarised in one number: "last", "mean", "sum", "min" or "max".
    scale : str
        "percent" (a share or rate shown in percent; differences are percentage points), "points" (NPS-like
        scores, differences in points), "count", "money" or "index" (a 0-1 state or score).
    colour : str or None
        The line colour where the metric is drawn alone or among others (None: the plot chooses).
    better : str or None
        "up" if more is better for the business, "down" if less is, None if neither.
    short : str
        A short label for legends and tiles ("" = the label).
    bounds : (low, high) or None
        The values the metric can take, where its scale does not say (None: the scale's, `SCALE_BOUNDS`): a price
        ratio is an index above 1 when a rival is dearer, a profit is money below 0.
    """

    name: str
    label: str
    unit: str
    fmt: str
    summary: str
    scale: str
    colour: str | None = None
    better: str | None = None
    short: str = ""
    bounds: tuple[float, float] | None = None

    @property
    def value_range(self) -> tuple[float, float]:
        """The lowest and highest value the metric can take (a run's sum or mean of it lies there too)."""
        return self.bounds if self.bounds is not None else SCALE_BOUNDS[self.scale]

    def format(self, value: float | None) -> str:
        """`value` formatted with `fmt` ("n/a" for None or NaN)."""
        return format_number(self.fmt, value)

    @property
    def short_label(self) -> str:
        """The short label, or the label when there is none."""
        return self.short or self.label


# ------------------------------------------------------------------------------------------------ palette
PALETTE = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
    "grey": "#999999",
    "light_grey": "#BBBBBB",
    "pale_grey": "#DDDDDD",
}
# Acquisition channels (wom_sim.sim.population.CHANNELS order); drawn side by side with STATUS_COLOURS on the
# browser page, so the two sets share no colour.
CHANNEL_COLOURS = {
    "none": PALETTE["light_grey"],
    "advertising": PALETTE["orange"],
    "wom": PALETTE["bluish_green"],
    "kol": PALETTE["reddish_purple"],
    "referral": PALETTE["yellow"],
}
# "no touch": new customers no channel reached before they bought: people aware at the start
# (population.initial.aware) who adopted before any ad, WOM message, KOL post or referral reached them
# (last_touch is still none, docs/model.md "Start"). Every table, figure and page that shows the channel says so.
NO_TOUCH_NOTE = (
    "no touch = aware at the start (population.initial.aware) and adopted before any ad, WOM "
    "message, KOL post or referral reached them"
)
CHANNEL_LABELS = {"none": "no touch", "advertising": "advertising", "wom": "word of mouth", "kol": "KOL",
                  "referral": "referral"}  # fmt: skip
# Customer status (wom_sim.sim.population.STATUS_NAMES order).
STATUS_COLOURS = {
    "unaware": PALETTE["pale_grey"],
    "aware": PALETTE["sky_blue"],
    "customer": PALETTE["blue"],
    "churned": PALETTE["vermillion"],
}
# Valence of word of mouth: positive talk is the WOM channel's colour, negative the colour of loss.
POSITIVE, NEGATIVE = PALETTE["bluish_green"], PALETTE["vermillion"]
# An uplift that is good for the business (more profit, less churn), bad, or not distinguishable from 0 (CI spans 0).
GOOD, BAD, UNSURE = PALETTE["bluish_green"], PALETTE["vermillion"], PALETTE["grey"]
# Shading of a programme window (an intervention on from-until) and the colour of a one-tick event line.
WINDOW, EVENT = PALETTE["sky_blue"], PALETTE["vermillion"]
# People coloured by a 0-1 state (satisfaction): a diverging ColorBrewer map that stays readable with
# red-green colour blindness (red = low, blue = high), and the grey of those never asked (never bought).
STATE_COLOURMAP, NO_STATE = "RdYlBu", PALETTE["pale_grey"]
# One colour per arm of a comparison or line of a sweep, in order.
ARM_COLOURS = tuple(PALETTE[c] for c in ("blue", "orange", "bluish_green", "reddish_purple", "vermillion",
                                          "sky_blue", "black", "grey"))  # fmt: skip

# ------------------------------------------------------------------------------------------------ catalogue
# The format of one value, by scale (an entry may set its own).
FORMATS = {"percent": "{:.1%}", "points": "{:+.1f}", "count": "{:,.0f}", "money": "{:,.0f}", "index": "{:.3f}"}


def _m(name, label, short, unit, summary, scale, colour=None, better=None, fmt=None, bounds=None) -> Metric:
    """An entry; `colour` names a PALETTE colour."""
    return Metric(name, label, unit, fmt or FORMATS[scale], summary, scale, PALETTE[colour] if colour else None,
                  better, short, bounds)  # fmt: skip


def _channel(c: str) -> Metric:
    what = "no recorded touch" if c == "none" else CHANNEL_LABELS[c]
    return Metric(f"new_{c}", f"New customers via {what}", "people", FORMATS["count"], "sum", "count",
                  CHANNEL_COLOURS[c], None, CHANNEL_LABELS[c])  # fmt: skip


def _quantile(state: str, letter: str, p: int) -> Metric:
    return _m(f"{letter}_p{p}", f"{state}, {p}th percentile over customers", f"{state.lower()} p{p}", "index 0-1",
              "last", "index", None, "up")  # fmt: skip


# Stocks (people by status, states, cumulative sums) are summarised by their last value, flows per tick by their
# sum, rates and per-tick averages by their mean.
# fmt: off
_ENTRIES = [
    _m("t", "Tick", "tick", "tick", "last", "count"),
    _m("unaware", "Unaware people", "unaware", "people", "last", "count", "pale_grey"),
    _m("aware", "Aware people, not yet customers", "aware", "people", "last", "count", "sky_blue"),
    _m("customers", "Active customers", "customers", "people", "last", "count", "blue", "up"),
    _m("churned", "Churned customers", "churned", "people", "last", "count", "vermillion", "down"),
    _m("new_customers", "New customers", "new customers", "people", "sum", "count", None, "up"),
    *(_channel(c) for c in CHANNEL_COLOURS),
    _m("adoption_share", "Ever adopted (share of population)", "ever adopted", "share", "last", "percent", "blue",
       "up"),
    _m("churn_events", "Churn events", "churn events", "people", "sum", "count", "vermillion", "down"),
    _m("churn_rate", "Churn rate per tick", "churn", "per tick", "mean", "percent", "vermillion", "down",
       "{:.2%}"),
    _m("winbacks", "Churned customers won back", "win-backs", "people", "sum", "count", None, "up"),
    _m("repurchases", "Repurchases", "repurchases", "purchases", "sum", "count", None, "up"),
    _m("repurchase_rate", "Repurchase rate per tick", "repurchase", "per tick", "mean", "percent", "blue", "up"),
    _m("revenue", "Revenue", "revenue", "currency", "sum", "money", "blue", "up"),
    _m("cost_of_goods", "Cost of goods", "cost of goods", "currency", "sum", "money", "grey", "down"),
    _m("intervention_cost", "Intervention spend", "spend", "currency", "sum", "money", "orange"),
    _m("profit", "Profit", "profit", "currency", "sum", "money", "black", "up", bounds=SIGNED_MONEY),
    _m("cum_revenue", "Revenue (cumulative)", "revenue", "currency", "last", "money", "blue", "up"),
    _m("cum_intervention_cost", "Intervention spend (cumulative)", "spend", "currency", "last", "money", "orange"),
    _m("cum_profit", "Profit (cumulative)", "cumulative profit", "currency", "last", "money", "black", "up",
       bounds=SIGNED_MONEY),
    _m("mean_E", "Expectation (customers' mean)", "expectation", "index 0-1", "last", "index", "grey"),
    _m("mean_S", "Satisfaction (customers' mean)", "satisfaction", "index 0-1", "last", "index", "bluish_green",
       "up"),
    _m("mean_T", "Trust (customers' mean)", "trust", "index 0-1", "last", "index", "blue", "up"),
    _m("mean_A", "Attachment (customers' mean)", "attachment", "index 0-1", "last", "index", "orange", "up"),
    _m("mean_L", "Loyalty (customers' mean)", "loyalty", "index 0-1", "last", "index", "reddish_purple", "up"),
    *(_quantile(state, letter, p) for state, letter in (("Satisfaction", "S"), ("Loyalty", "L")) for p in (10, 50, 90)),
    _m("mean_S_new", "Satisfaction of this tick's new customers (mean)", "new customers' satisfaction", "index 0-1",
       "mean", "index", "bluish_green", "up"),
    _m("nps", "NPS (customers)", "NPS", "points", "last", "points", "black", "up"),
    _m("promoters", "Promoters (share of customers)", "promoters", "share", "last", "percent", "bluish_green", "up"),
    _m("passives", "Passives (share of customers)", "passives", "share", "last", "percent", "grey"),
    _m("detractors", "Detractors (share of customers)", "detractors", "share", "last", "percent", "vermillion",
       "down"),
    _m("pos_messages", "Positive WOM messages", "positive", "messages", "sum", "count", "bluish_green", "up"),
    _m("neg_messages", "Negative WOM messages", "negative", "messages", "sum", "count", "vermillion", "down"),
    _m("pos_speakers", "People speaking positively per tick", "positive speakers", "people", "mean", "count",
       "bluish_green", "up"),
    _m("neg_speakers", "People speaking negatively per tick", "negative speakers", "people", "mean", "count",
       "vermillion", "down"),
    _m("pos_reach", "People hearing positive WOM per tick", "positive reach", "people", "mean", "count",
       "bluish_green", "up"),
    _m("neg_reach", "People hearing negative WOM per tick", "negative reach", "people", "mean", "count",
       "vermillion", "down"),
    _m("kol_share", "Share of positive messages from KOLs", "KOL share", "share", "mean", "percent",
       "reddish_purple"),
    _m("brand", "Brand favourability", "brand", "index 0-1", "last", "index", "sky_blue", "up"),
    _m("awareness", "Awareness (share of population)", "awareness", "share", "last", "percent", "sky_blue", "up"),
    # Peers, KOLs and referrals together (sim/metrics.py: acquired_by >= WOM): the dashboards draw "word of mouth"
    # as the peer channel alone, so "through WOM" beside it read 52% against a peer share of 11%.
    _m("wom_acquired_share", "Customers acquired via WOM, KOLs or referrals", "via WOM/KOL/referral", "share", "last",
       "percent", "bluish_green"),
    _m("failures", "Service failures", "failures", "people", "sum", "count", "vermillion", "down"),
    _m("recoveries", "Service recoveries", "recoveries", "people", "sum", "count", "bluish_green", "up"),
    _m("at_risk", "Customers at risk of churning", "at risk", "people", "last", "count", "vermillion", "down"),
    # wom_sim.sim.economics.ECONOMICS_COLUMNS
    _m("purchases", "Purchases", "purchases", "purchases", "sum", "count", None, "up"),
    _m("cum_purchases", "Purchases (cumulative)", "purchases", "purchases", "last", "count", None, "up"),
    _m("cum_cost_of_goods", "Cost of goods (cumulative)", "cost of goods", "currency", "last", "money", "grey",
       "down"),
    _m("cum_repurchases", "Repurchases (cumulative)", "repurchases", "purchases", "last", "count", None, "up"),
    _m("cum_churn_events", "Churn events (cumulative)", "churn events", "people", "last", "count", "vermillion",
       "down"),
    _m("margin_per_purchase", "Gross margin per purchase", "margin", "currency", "last", "money", None, "up",
       "{:,.2f}", SIGNED_MONEY),
    # Expected gross margin of a new customer over their life, discounted at 10% a year, from a shifted-beta-geometric
    # retention fitted to the run's retention by tenure (economics.customer_lifetime_value); the last row only.
    _m("clv", "Customer lifetime value (new customer, discounted)", "CLV", "currency", "last", "money", None, "up",
       "{:,.1f}", SIGNED_MONEY),
    # wom_sim.sim.competition (issue 15)
    _m("market_share", "Market share (share of all brands' customers)", "market share", "share", "last", "percent",
       "blue", "up"),
    _m("purchase_share", "Share of purchases (all brands)", "purchase share", "share", "mean", "percent", "blue",
       "up"),
    _m("voice_share_pos", "Share of positive voice (all brands)", "positive voice", "share", "mean", "percent",
       "bluish_green", "up"),
    _m("voice_share_neg", "Share of negative voice (all brands)", "negative voice", "share", "mean", "percent",
       "vermillion", "down"),
    _m("switch_in", "Customers won from rivals", "switched in", "people", "sum", "count", "bluish_green", "up"),
    _m("switch_out", "Customers lost to rivals", "switched out", "people", "sum", "count", "vermillion", "down"),
    _m("rival_customers", "Rivals' customers", "rivals' customers", "people", "last", "count", "grey", "down"),
    _m("rival_price_ratio", "Cheapest rival's price over ours", "rival price", "index 0-1", "last", "index",
       bounds=(0.0, INF)),
    _m("rival_undercut_ticks", "Ticks a rival has been cheaper than us", "undercut ticks", "tick", "last",
       "count"),
    # Derived per tick by the experiment tables, not stored in the metrics table.
    # The short label says what cost: "Cost" alone read as the programme's cost beside "Intervention spend".
    _m("cost", "Cost of goods + intervention spend", "cost of goods + spend", "currency", "sum", "money", "grey",
       "down"),
]
# fmt: on
CATALOGUE: dict[str, Metric] = {m.name: m for m in _ENTRIES}
DERIVED = ("cost",)  # in CATALOGUE, computed from stored columns rather than stored in the metrics table

# What the summary of one run shows, in order (the CLI after `run`, the HTML report of a run).
RUN_SUMMARY = ("adoption_share", "customers", "churn_rate", "repurchase_rate", "nps", "pos_messages",
               "neg_messages", "wom_acquired_share", "brand", "cum_revenue", "cum_profit")  # fmt: skip
# With rivals, what follows the one-brand outcomes everywhere a run or a study is summarised (issue 15: our share
# and profit against each competitor): our share of customers, of purchases and of positive voice, who switched to
# and from rivals, then each rival's share and profit.
MARKET_SUMMARY = ("market_share", "purchase_share", "voice_share_pos", "switch_in", "switch_out")
RIVAL_SUMMARY = ("market_share", "profit")

_COST = re.compile(r"cost_(?P<intervention>\w+)")
_RIVAL = re.compile(rf"rival_(?P<rival>[a-z][a-z0-9_]*?)_(?P<what>{'|'.join(RIVAL_METRICS)})")
# The per-rival columns read as the matching column of ours (or its closest entry) about the rival.
RIVAL_LABELS = {"customers": "customers", "lost": "customers lost (switched or lapsed)",
                "market_share": "market share", "purchases": "purchases",
                "purchase_share": "share of purchases", "revenue": "revenue", "profit": "gross profit",
                "voice_share_pos": "share of positive voice", "voice_share_neg": "share of negative voice",
                "nps": "NPS (its customers)", "brand": "brand favourability", "price": "price index"}  # fmt: skip


def metric(name: str) -> Metric:
    """The catalogue entry of a per-tick column, including the `cost_<intervention>` columns.

    Raises
    ------
    ScenarioError
        For a name that is no metric, with the closest names.

    Examples
    --------
    >>> metric("churn_rate").summary
    'mean'
    >>> metric("cost_referral").label
    'Spend on referral'
    """
    found = CATALOGUE.get(name)
    if found is not None:
        return found
    match = _COST.fullmatch(name)
    if match:
        what = match["intervention"].replace("_", " ")
        return Metric(
            name, f"Spend on {what}", "currency", FORMATS["money"], "sum", "money", None, None, f"{what} spend"
        )
    match = _RIVAL.fullmatch(name)
    if match:
        base = CATALOGUE.get(
            match["what"], CATALOGUE["churn_events" if match["what"] == "lost" else "rival_price_ratio"]
        )
        rival = match["rival"].replace("_", " ")
        return Metric(name, f"{rival}: {RIVAL_LABELS[match['what']]}", base.unit, base.fmt, base.summary, base.scale,
                      None, None, f"{rival} {base.short}", base.bounds)  # fmt: skip
    hint = difflib.get_close_matches(name, CATALOGUE, n=3)
    did = f"; did you mean {' or '.join(repr(h) for h in hint)}?" if hint else ""
    raise ScenarioError(f"unknown metric {name!r}{did} (any per-tick column or cost_<intervention>)")


def value_range(name: str) -> tuple[float, float]:
    """The values outcome `name` can take: a column (its catalogue summary), `stat:column`, `at:T:column` or a
    rival's column; (-inf, inf) for a difference against the base or anything that is no metric.

    A t-interval of a few replications reaches past them (a market share of -3% to 169% from 2 runs); every mean
    lies within them, so cutting an interval there keeps its coverage and stops it printing the impossible. The
    last, mean, minimum or maximum of a column, or its value at a tick, lies where the column does; its sum keeps
    only the sign (a churn rate summed over 52 weeks passes 100%). Relative outcomes (`incremental:`, `damage:`,
    `payback:`, `roi`) and other names (`payback`, `crisis_damage`) are differences, ticks or ratios: unbounded.

    Examples
    --------
    >>> value_range("mean:nps"), value_range("at:12:adoption_share")
    ((-100.0, 100.0), (0.0, 1.0))
    >>> value_range("sum:churn_rate"), value_range("incremental:customers"), value_range("payback")
    ((0.0, inf), (-inf, inf), (-inf, inf))
    """
    unbounded = (-INF, INF)
    stat, _, column = name.rpartition(":")
    stat = stat.split(":")[0]  # "at:12:adoption_share" -> "at"
    if stat and stat not in (*SUMMARIES, "at"):  # incremental, damage, payback, roi: against the base
        return unbounded
    try:
        entry = metric(column)
    except ScenarioError:  # not a metric (payback, roi, crisis damage): no range to keep it in
        return unbounded
    low, high = entry.value_range
    if (stat or entry.summary) == "sum":
        return (0.0 if low >= 0 else -INF, 0.0 if high <= 0 else INF)
    return low, high


def summarise(values: pd.Series | np.ndarray, stat: str) -> float:
    """One number for a run's per-tick series: its last value, mean, sum, minimum or maximum.

    NaN values are skipped (a mean state is NaN while there are no customers), except by "last". An empty series
    gives NaN (0 for "sum").

    Examples
    --------
    >>> summarise(np.array([1.0, float("nan"), 3.0]), "mean")
    2.0
    """
    if stat not in SUMMARIES:
        raise ScenarioError(f"unknown statistic {stat!r} (allowed: {', '.join(SUMMARIES)})")
    x = np.asarray(values, dtype=float)
    if stat == "last":
        return float(x[-1]) if x.size else float("nan")
    finite = x[~np.isnan(x)]
    if stat == "sum":
        return float(finite.sum())
    if not finite.size:
        return float("nan")
    return float({"mean": np.mean, "min": np.min, "max": np.max}[stat](finite))


def format_number(fmt: str, value: float | None) -> str:
    """`value` formatted with `fmt`, "n/a" for None or NaN."""
    if value is None or value != value:
        return "n/a"
    return _zero_unsigned(fmt.format(value), "+" in fmt)


def _shows_zero(text: str) -> bool:
    """Whether formatted text shows a zero ("0", "0.00", "0%"): it has no non-zero digit."""
    return not any(c in "123456789" for c in text)


def _zero_unsigned(text: str, signed: bool) -> str:
    """A tiny negative that rounds to zero ("-0", "-0.0 pts", "-0%") shown as zero, not as a loss: "0" or "+0"."""
    if text.startswith("-") and _shows_zero(text):
        return ("+" if signed else "") + text[1:]
    return text


def format_value(name: str, value: float | None, currency: str | None = None, compact: bool = False) -> str:
    """A value of metric `name` formatted as the catalogue says (a `stat:column` name formats like its column).

    Money is rounded to k/M with the `currency` when one is given or `compact` is set (`format_money`).

    Examples
    --------
    >>> format_value("adoption_share", 0.1234)
    '12.3%'
    >>> format_value("nps", 7.25)
    '+7.2'
    >>> format_value("profit", 298_140.0, "EUR")
    '298k EUR'
    """
    entry = metric(name.split(":")[-1])
    if entry.scale == "money" and (currency or compact):
        return format_money(value, currency)
    return entry.format(value)


def decimals(fmt: str) -> int:
    """The decimals of a format spec ("{:.2%}" -> 2; 1 when it states none)."""
    found = re.search(r"\.(\d+)", fmt)
    return int(found[1]) if found else 1


def format_delta(name: str, value: float | None, currency: str | None = None, digits: int | None = None) -> str:
    """A difference of metric `name` (an uplift, a CI bound) as a user reads it, always signed.

    Shares and rates are differences in percentage points ("+5.9 pts", never "+5.9%", which reads as a relative
    change), NPS-like scores in points ("+3.2 pts"), money rounded with the currency ("+298k EUR"), counts with
    thousands separators, indices with 3 decimals. `digits` sets the decimals of the points of a share (default:
    the decimals of the metric's own format), for a table whose differences are a few hundredths of a point.

    Examples
    --------
    >>> format_delta("adoption_share", 0.0593), format_delta("churn_rate", -0.0012)
    ('+5.9 pts', '-0.12 pts')
    >>> format_delta("nps", 3.24), format_delta("cum_profit", -79_400.0, "$"), format_delta("customers", 1234.0)
    ('+3.2 pts', '-$79.4k', '+1,234')
    >>> format_delta("churn_rate", -0.00022, digits=3)
    '-0.022 pts'
    """
    if value is None or value != value:
        return "n/a"
    entry = metric(name.split(":")[-1])
    if entry.scale == "money":
        return format_money(value, currency, signed=True)
    if entry.scale == "percent":
        text = f"{100.0 * value:+.{decimals(entry.fmt) if digits is None else digits}f} pts"
    elif entry.scale == "points":
        text = f"{value:+.1f} pts"
    elif entry.scale == "count":
        text = f"{value:+,.0f}"
    else:
        text = f"{value:+.3f}"
    return _zero_unsigned(text, signed=True)


def format_money(value: float | None, currency: str | None = None, signed: bool = False) -> str:
    """An amount rounded to 3 significant digits with k, M or B, and the currency: a symbol ("$", "€") before the
    number, a code ("EUR") after it; none when `currency` is None. Below 1,000 whole units (2 decimals below 10).

    Examples
    --------
    >>> format_money(298_140.0), format_money(298_140.0, "EUR", signed=True), format_money(-1_234_567.0, "$")
    ('298k', '+298k EUR', '-$1.23M')
    >>> format_money(999_900.0), format_money(4.5, "£"), format_money(float("nan"))
    ('1M', '£4.50', 'n/a')
    """
    if value is None or value != value:
        return "n/a"
    x = abs(float(value))
    text = "0" if x == 0 else f"{x:.2f}" if x < 10 else f"{x:,.0f}"
    if _shows_zero(text):  # rounds to zero: no sign, as for an exact 0
        x, text = 0.0, "0"
    sign = "-" if value < 0 and x > 0 else ("+" if signed and x > 0 else "")
    if round(x) >= 1000:
        for divisor, suffix in ((1e3, "k"), (1e6, "M"), (1e9, "B"), (1e12, "T")):
            digits = f"{x / divisor:.3g}"
            if float(digits) < 1000 or suffix == "T":
                text = f"{digits}{suffix}"
                break
    if not currency:
        return f"{sign}{text}"
    if currency[-1].isalpha():  # a code: "298k EUR"
        return f"{sign}{text} {currency}"
    return f"{sign}{currency}{text}"


def describe(name: str, stat: str | None = None, unit: str = "tick") -> str:
    """The label of metric `name` with the statistic that summarises it ("Churn rate per week (mean)").

    `stat` defaults to the metric's own summary; the last value needs no word. "tick" in the label becomes `unit`.
    """
    entry = metric(name)
    word = SUMMARY_WORDS.get(stat or entry.summary, stat)
    if not word:
        text = entry.label
    elif entry.label.endswith(")"):  # "NPS (customers, maximum)", not "NPS (customers) (maximum)"
        text = f"{entry.label[:-1]}, {word})"
    else:
        text = f"{entry.label} ({word})"
    return _in_unit(text, unit)


def series_label(name: str, unit: str = "tick") -> str:
    """The label of metric `name` drawn over ticks: a flow (summed over a run) reads "per week".

    Examples
    --------
    >>> series_label("pos_messages", "week"), series_label("brand")
    ('Positive WOM messages per week', 'Brand favourability')
    """
    entry = metric(name)
    return _in_unit(f"{entry.label} per tick" if entry.summary == "sum" else entry.label, unit)


def ticks_text(n: int, unit: str = "tick") -> str:
    """A number of ticks in the scenario's unit, singular for one.

    Examples
    --------
    >>> ticks_text(104, "week"), ticks_text(1, "week")
    ('104 weeks', '1 week')
    """
    return f"{n:,} {unit}" if n == 1 else f"{n:,} {unit}s"


def _in_unit(text: str, unit: str) -> str:
    """`text` with the word "tick" as the scenario's tick unit ("week")."""
    return re.sub(r"\btick\b", unit, text) if unit != "tick" else text


def market_summary(frame: pd.DataFrame) -> list[str]:
    """`MARKET_SUMMARY` and each rival's `RIVAL_SUMMARY` columns when `frame` (per-tick rows of one or many runs) has
    rivals; [] without. A rival's columns are left out when some rows lack them (arms of a study without it)."""
    rivals = [m["rival"] for m in map(_RIVAL.fullmatch, frame.columns) if m and m["what"] == "market_share"]
    if not rivals:
        return []
    kept = [r for r in rivals if frame[f"rival_{r}_market_share"].notna().all()]
    return [*MARKET_SUMMARY, *(f"rival_{r}_{what}" for r in kept for what in RIVAL_SUMMARY)]


def summary_rows(
    metrics: pd.DataFrame, names: tuple[str, ...] | None = None, unit: str = "tick", currency: str | None = None
) -> list[tuple[str, str]]:
    """(label, value) per metric of one run's per-tick table, each summarised and formatted as the catalogue says.

    What a user reads after `wom-sim run` and in the report of a run: `names`, by default `RUN_SUMMARY` and, with
    rivals, `market_summary`. Money is shown in the scenario's `currency` (k/M) when it has one.
    """
    names = (*RUN_SUMMARY, *market_summary(metrics)) if names is None else names
    return [
        (describe(n, unit=unit), format_value(n, summarise(metrics[n], metric(n).summary), currency)) for n in names
    ]
