"""Tables of many rows: decided by what their columns hold, with no per-row name search.

An export of many patrons discloses on its own and is never one patron's own account; an
item list with an AUTHOR column names who wrote the items, not who borrowed them. All people
and numbers are invented.
"""

from __future__ import annotations

import random
from email.message import EmailMessage

import pytest

from detectors.checksums import library_mod10_valid
from detectors.tables import responsibility_cells
from proxy.scanning.policy import PATRON_IS_RECIPIENT
from proxy.scanning.scan import Scanner

FIRST = ["Benedict", "Felicity", "Tobias", "Margo", "Idris", "Ada", "Rosalind", "Caspian", "Juniper", "Thaddeus"]
LAST = ["Otterly", "Wren", "Pike", "Quillfeather", "Marsh", "Fenwick", "Ashgrove", "Tull", "Vantreight", "Bexley"]
AUTHORS = ["Powers, Richard", "Kimmerer, Robin Wall", "Westover, Tara", "Miller, Madeline", "Ishiguro, Kazuo"]
TITLES = ["The Overstory", "Braiding Sweetgrass", "Educated", "Circe", "Klara and the Sun"]


def card(rng: random.Random, prefix: str = "23610") -> str:
    while True:
        number = prefix + "".join(str(rng.randrange(10)) for _ in range(14 - len(prefix)))
        if library_mod10_valid(number):
            return number


def export(rows: int, seed: int = 3) -> list[tuple[str, str, str, str]]:
    rng = random.Random(seed)
    return [
        (f"{rng.choice(LAST)}, {rng.choice(FIRST)}", card(rng), f"503-555-{rng.randrange(10000):04d}",
         f"{rng.randrange(100, 9999)} Oak Ave, Salem OR 97301")
        for _ in range(rows)
    ]


def mail(to: str, body: str, attachment: str | None = None, name: str = "list.csv") -> bytes:
    msg = EmailMessage()
    msg["From"] = "Jill Sato <jsato@ccrls.org>"
    msg["To"] = to
    msg["Subject"] = "The list"
    msg.set_content(body)
    if attachment is not None:
        msg.add_attachment(attachment.encode(), maintype="text", subtype="csv", filename=name)
    return msg.as_bytes()


def item_list(header: str, rows: int, sep: str = ",") -> str:
    rng = random.Random(5)
    lines = [header]
    for _ in range(rows):
        cells = [card(rng, "33610"), f'"{rng.choice(TITLES)}"', f'"{rng.choice(AUTHORS)}"', "FIC", "18.95"]
        lines.append(sep.join(cells))
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("sep", [",", "|", ";", "\t"])
def test_cells_under_an_author_header_are_found_in_each_delimiter(sep: str) -> None:
    text = item_list(sep.join(["ITEM BARCODE", "TITLE", "AUTHOR", "CALL #", "PRICE"]), 4, sep)
    spans = responsibility_cells(text)
    assert len(spans) == 4
    assert all(text[a:b].strip('"').split(",")[0] in {x.split(",")[0] for x in AUTHORS} for a, b in spans)


def test_no_author_header_no_cells() -> None:
    assert responsibility_cells(item_list("ITEM BARCODE,TITLE,PATRN NAME,CALL #,PRICE", 4)) == []
    assert responsibility_cells("Author: Richard Powers\nTitle: The Overstory\n") == []


@pytest.mark.slow
def test_item_list_with_author_names_goes_to_the_vendor(scanner: Scanner) -> None:
    """Names in the AUTHOR column are who wrote the items: the vendor's pricing list is delivered."""
    raw = mail("orders@vendor.example.com", "Please quote replacement copies for the items below.",
               item_list("ITEM BARCODE,TITLE,AUTHOR,CALL #,PRICE", 60))
    (decision,) = scanner.scan(raw).decisions
    assert decision.action.value == "deliver", decision.rules


@pytest.mark.slow
def test_the_same_names_under_a_patron_header_are_held(scanner: Scanner) -> None:
    """The control: the same list with the name column headed as the borrower is a circulation record."""
    raw = mail("orders@vendor.example.com", "The items below are checked out and overdue.",
               item_list("ITEM BARCODE,TITLE,PATRN NAME,CALL #,PRICE", 60))
    (decision,) = scanner.scan(raw).decisions
    assert decision.action.value == "hold", decision.rules


def _export_csv(rows: list[tuple[str, str, str, str]]) -> str:
    return "P BARCODE,PATRN NAME,TELEPHONE,ADDRESS\n" + "".join(f'{c},"{n}",{p},"{a}"\n' for n, c, p, a in rows)


@pytest.mark.slow
def test_a_large_export_is_held_without_a_name_search_per_row(scanner: Scanner) -> None:
    """400 rows: held on the export itself, and no spaCy window is opened inside it (the relay
    would otherwise spend minutes of a scan worker on rows that cannot change the decision)."""
    raw = mail("friend@example.net", "Here you go.", _export_csv(export(400)))
    result = scanner.scan(raw)
    (decision,) = result.decisions
    assert decision.action.value == "hold"
    assert result.message.spacy_windows == 0
    assert len([f for f in result.findings if f.kind.value == "patron_barcode"]) == 400  # every card, for redaction


@pytest.mark.slow
def test_an_export_is_never_the_recipient_s_own_account(scanner: Scanner) -> None:
    """A patron greeted by name whose own row is in a 30-row export still does not receive the others' rows."""
    rows = export(30, seed=9)
    last, first = rows[0][0].split(", ")
    raw = mail(f"{first} {last} <{first.lower()}.{last.lower()}@gmail.com>",
               f"Dear {first} {last},\n\nYour library account is attached, with your card and phone.\n",
               _export_csv(rows))
    (decision,) = scanner.scan(raw).decisions
    assert decision.action.value == "hold", decision.rules
    assert PATRON_IS_RECIPIENT not in decision.rules


@pytest.mark.slow
def test_rows_of_an_export_fold_into_the_first_disclosure_of_each_rule(scanner: Scanner) -> None:
    """Each row's card is counted on one patron-card disclosure instead of making its own; the rules are the same."""
    result = scanner.scan(mail("friend@example.net", "Here you go.", _export_csv(export(400))))
    disclosures = result.message.assessment.disclosures
    cards = [d for d in disclosures if d.rule == "patron-card"]
    assert len(cards) == 1 and cards[0].places == 400
    assert len(disclosures) < 10
    assert result.decisions[0].action.value == "hold"


def test_an_item_list_is_a_table_of_things_and_an_export_is_not() -> None:
    """A list whose header names items and whose sample rows name no one is unpeopled; a patron export is not."""
    from detectors.tables import unpeopled_tables

    items = item_list("ITEM BARCODE,TITLE,AUTHOR,CALL #,PRICE", 60)
    assert unpeopled_tables(items) == [(0, len(items) - 1)]
    assert unpeopled_tables(item_list("ITEM BARCODE,TITLE,PATRN NAME,CALL #,PRICE", 60)) == []
    assert unpeopled_tables(_export_csv(export(60))) == []


def test_what_is_not_inspected_in_time_is_uninspectable() -> None:
    """Past the detection time of a message, the parts not yet read are uninspectable, never passed unread."""
    from detectors.engine import DetectionEngine, EngineSettings

    engine = DetectionEngine(EngineSettings(scan_seconds=0.0))
    scan = engine.scan(mail("friend@example.net", "Card 23610003622817 is overdue."))
    assert {f.reason for f in scan.assessment.uninspectable} == {"scan-timeout"}
    assert {f.part for f in scan.assessment.uninspectable} >= {"1"}


@pytest.mark.slow
def test_text_past_two_million_characters_is_read_in_full(scanner: Scanner) -> None:
    """A 2.5 MB policy draft, under the SIZE limit, is inspected to its end and delivered, not held as too large."""
    paragraph = ("The library board adopted the policy on meeting room use after public comment and review "
                 "by the staff of the branch libraries who schedule rooms for community groups.\n\n")
    raw = mail("board@example.org", paragraph * (2_500_000 // len(paragraph)))
    assert len(raw) > 2_500_000
    result = scanner.scan(raw)
    assert not result.message.assessment.uninspectable
    assert result.decisions[0].action.value == "deliver", result.decisions[0].rules


def test_detectors_read_a_part_to_its_end() -> None:
    """Text past four million characters of a part is read by the detectors with caps of their own (holds here)."""
    from detectors.circulation import HoldDetector
    from detectors.findings import TextPart

    text = "Branch hours are posted at the door.\n" * 120_000 + "Your hold is ready for pickup at Main.\n"
    assert len(text) > 4_000_000
    assert [f for f in HoldDetector().detect(TextPart("1", text)) if f.start > 4_000_000]
