"""The review pages' dashboard: what was held and decided, by member library, rule and week, as SVG.

This module owns the figures (`figures()`: counts from items' metadata only —
states, libraries, rule ids, received times; never content) and their drawing
(`bars()`: a horizontal stacked bar chart as an SVG string, drawn on the server
with presentation attributes only, so the page keeps its CSP with no scripts and
no inline styles). The release rate of a rule is released ÷ decided (released,
released redacted or rejected; expiries decide nothing): a rule whose held mail
supervisors mostly release is holding mail it should not.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from html import escape

from detectors.evidence import RULE_TEXT
from proxy.quarantine import HeldItem, ItemState

#: The states the dashboard counts, in drawing order, with their bar colours.
SERIES: tuple[tuple[str, str, str], ...] = (
    ("held", "Waiting", "#d9a400"),
    ("released", "Released", "#1d6b3a"),
    ("rejected", "Rejected", "#a4262c"),
    ("expired", "Expired", "#7a8391"),
)
_SERIES_OF = {
    ItemState.HELD: "held", ItemState.FAILED: "held", ItemState.RELEASING: "held",
    ItemState.RELEASED: "released", ItemState.RELEASED_REDACTED: "released",
    ItemState.REJECTED: "rejected", ItemState.EXPIRED: "expired",
}
#: Rules that are not a kind of disclosure, in words (policy bookkeeping `policy:…` is left out).
OTHER_RULES = {"uninspectable": "a part that could not be read", "scan-failed": "a scan that did not finish",
               "redaction-refused": "no clean redacted copy", "process-failed": "processing failed"}


@dataclass
class Figures:
    """Counts per series by library, by rule and by ISO week, and each rule's release rate."""

    by_library: dict[str, Counter[str]] = field(default_factory=dict)
    by_rule: dict[str, Counter[str]] = field(default_factory=dict)
    by_week: dict[str, Counter[str]] = field(default_factory=dict)
    total: Counter[str] = field(default_factory=Counter)

    def release_rates(self) -> list[tuple[str, int, int, float]]:
        """(rule, released, decided, rate) for every rule with a decision, most often released first."""
        out = []
        for rule, counts in self.by_rule.items():
            decided = counts["released"] + counts["rejected"]
            if decided:
                out.append((rule, counts["released"], decided, counts["released"] / decided))
        return sorted(out, key=lambda r: (-r[3], -r[2], r[0]))


def rule_words(rule: str) -> str:
    """A rule id as a supervisor reads it."""
    if rule.startswith(("partner-not-approved-for:", "fax-not-approved-for:")):
        whom = "a partner" if rule.startswith("partner") else "a fax number"
        return f"more than {whom} may receive ({rule.split(':', 1)[1].replace(',', ', ').replace('_', ' ')})"
    return RULE_TEXT.get(rule, OTHER_RULES.get(rule, rule))


def _week(moment: datetime) -> str:
    year, week, _ = moment.isocalendar()
    return f"{year}-W{week:02d}"


def figures(items: Iterable[HeldItem]) -> Figures:
    """Count items by series per library, per rule (each rule an item fired counts once) and per week."""
    f = Figures()
    by_library: dict[str, Counter[str]] = defaultdict(Counter)
    by_rule: dict[str, Counter[str]] = defaultdict(Counter)
    by_week: dict[str, Counter[str]] = defaultdict(Counter)
    for item in items:
        series = _SERIES_OF.get(item.state, "held")
        f.total[series] += 1
        by_library[item.library][series] += 1
        by_week[_week(item.received_at)][series] += 1
        for rule in dict.fromkeys(item.rules):
            if not rule.startswith("policy:"):
                by_rule[rule][series] += 1
    f.by_library = dict(sorted(by_library.items()))
    f.by_rule = dict(sorted(by_rule.items(), key=lambda kv: (-sum(kv[1].values()), kv[0])))
    f.by_week = dict(sorted(by_week.items()))
    return f


def bars(rows: Mapping[str, Counter[str]], *, title: str, labels: Mapping[str, str] | None = None,
         width: int = 720) -> str:
    """A horizontal stacked bar chart: one bar per row, one segment per series, with counts; an SVG string."""
    labels = labels or {}
    names = list(rows)
    biggest = max((sum(c[s] for s, _, _ in SERIES) for c in rows.values()), default=0) or 1
    label_w, bar_h, gap, top = 260, 22, 10, 34
    plot_w = width - label_w - 60
    height = top + len(names) * (bar_h + gap) + 10
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
           f'aria-label="{escape(title)}" class="chart"><title>{escape(title)}</title>']
    x: float = label_w
    for _key, word, colour in SERIES:  # the legend
        out.append(f'<rect x="{x}" y="6" width="12" height="12" fill="{colour}"/>'
                   f'<text x="{x + 16}" y="16" font-size="13" fill="#1d2430">{word}</text>')
        x += 24 + 8 * len(word)
    for i, name in enumerate(names):
        y = top + i * (bar_h + gap)
        shown = labels.get(name, name)
        shown = shown if len(shown) <= 38 else shown[:37] + "…"
        out.append(f'<text x="{label_w - 8}" y="{y + 15}" font-size="13" text-anchor="end" fill="#1d2430">'
                   f'{escape(shown)}</text>')
        x = label_w
        for key, word, colour in SERIES:
            n = rows[name][key]
            if not n:
                continue
            w = plot_w * n / biggest
            out.append(f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{colour}">'
                       f'<title>{escape(shown)}: {word.lower()} {n}</title></rect>')
            if w >= 18:
                out.append(f'<text x="{x + w / 2:.1f}" y="{y + 15}" font-size="12" text-anchor="middle" '
                           f'fill="#fff">{n}</text>')
            x += w
        total = sum(rows[name][s] for s, _, _ in SERIES)
        out.append(f'<text x="{x + 6:.1f}" y="{y + 15}" font-size="12" fill="#5b6472">{total}</text>')
    out.append("</svg>")
    return "".join(out)


def rate_bars(rates: Sequence[tuple[str, int, int, float]], width: int = 720) -> str:
    """Each rule's release rate as a bar from 0 to 100 %, with released/decided; an SVG string."""
    label_w, bar_h, gap, top = 260, 20, 10, 10
    plot_w = width - label_w - 120
    height = top + len(rates) * (bar_h + gap) + 10
    title = "Release rate per rule: released ÷ decided"
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
           f'aria-label="{title}" class="chart"><title>{title}</title>']
    for i, (rule, released, decided, rate) in enumerate(rates):
        y = top + i * (bar_h + gap)
        shown = rule_words(rule)
        shown = shown if len(shown) <= 38 else shown[:37] + "…"
        colour = "#a4262c" if rate >= 0.5 else "#1f5fa8"  # most of its holds released: the rule is too eager
        out.append(f'<text x="{label_w - 8}" y="{y + 14}" font-size="13" text-anchor="end" fill="#1d2430">'
                   f'{escape(shown)}</text>'
                   f'<rect x="{label_w}" y="{y}" width="{plot_w}" height="{bar_h}" fill="#eef1f5"/>'
                   f'<rect x="{label_w}" y="{y}" width="{plot_w * rate:.1f}" height="{bar_h}" fill="{colour}"/>'
                   f'<text x="{label_w + plot_w + 8}" y="{y + 14}" font-size="12" fill="#1d2430">'
                   f'{round(rate * 100)} % ({released}/{decided})</text>')
    out.append("</svg>")
    return "".join(out)
