"""Tests for the bulk-export table detector (detectors/tables.py). All people are invented."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from detectors.findings import Category, Detector, Kind, TextPart
from detectors.tables import BulkExportDetector, BulkExportSettings, split_cells, table_runs

C = Category

PEOPLE = [
    ("Otterly, Benedict", "23610362281007", "503-555-0101", "botterly@example.com", "$4.20"),
    ("Wren, Felicity", "23610362281015", "503-555-0102", "fwren@example.net", "$0.00"),
    ("Pike, Tobias", "23610362281023", "503-555-0103", "tpike@example.org", "$18.00"),
    ("Quillfeather, Margo", "23610362281031", "503-555-0104", "mquill@example.com", "$2.10"),
    ("Marsh, Idris", "23610362281049", "503-555-0105", "imarsh@example.com", "$7.75"),
    ("Fenwick, Ada", "23610362281056", "503-555-0106", "afenwick@example.com", "$1.00"),
]


def _table(header: list[str], rows: list[list[str]], sep: str) -> str:
    return "\n".join(sep.join(r) for r in [header, *rows]) + "\n"


CSV_PATRONS = "Patron Name,Barcode,Phone,Fines\n" + "".join(
    f'"{n}",{b},{p},{f}\n' for n, b, p, _, f in PEOPLE
)
TAB_PATRONS = _table(["Name", "Card Number", "Email"], [[n, b, e] for n, b, _, e, _ in PEOPLE], "\t")
PIPE_FIRST_LAST = _table(
    ["First Name", "Last Name", "Phone", "Title", "Due Date"],
    [[n.split(", ")[1], n.split(", ")[0], p, "Beloved", "03/15/2024"] for n, _, p, _, _ in PEOPLE],
    " | ",
)
SPACES_PATRONS = _table(
    ["Borrower", "Item", "Due"],
    [[f"{n.split(', ')[1]} {n.split(', ')[0]}", "The salt path", "3/15/2024"] for n, *_ in PEOPLE],
    "    ",
)
HEADERLESS = "".join(f"{n}\t{b}\t{e}\n" for n, b, _, e, _ in PEOPLE)
STAFF_ROSTER = _table(
    ["Name", "Branch", "Extension"],
    [["Ana Lopez", "Main", "x4411"], ["Ben Cho", "West", "x4412"], ["Cy Dunn", "Main", "x4413"],
     ["Dee Park", "Bookmobile", "x4414"], ["Eli Ford", "West", "x4415"], ["Fay Moss", "Main", "x4416"]],
    " | ",
)

POSITIVES = [
    ("csv-quoted-names", CSV_PATRONS, {C.NAME, C.CARD_NUMBER, C.PHONE, C.MONEY_OWED}, 0.9, "comma"),
    ("tab", TAB_PATRONS, {C.NAME, C.CARD_NUMBER, C.EMAIL}, 0.9, "tab"),
    ("pipe-first-last", PIPE_FIRST_LAST, {C.NAME, C.PHONE, C.TITLES}, 0.9, "bar"),
    ("space-columns", SPACES_PATRONS, {C.NAME, C.TITLES}, 0.9, "spaces"),
    ("headerless", HEADERLESS, {C.NAME, C.CARD_NUMBER, C.EMAIL}, 0.9, "tab"),
    ("staff-roster", STAFF_ROSTER, {C.NAME, C.PHONE}, 0.6, "bar"),
]


@pytest.mark.parametrize(("label", "text", "categories", "score", "delim"), POSITIVES, ids=[p[0] for p in POSITIVES])
def test_tables_of_people_are_bulk_exports(
    label: str, text: str, categories: set[Category], score: float, delim: str
) -> None:
    """A table of people with identifier columns is one BULK_EXPORT finding with the columns' categories."""
    findings = list(BulkExportDetector().detect(TextPart("1", "Here is the list you asked for:\n\n" + text)))
    assert len(findings) == 1, findings
    f = findings[0]
    assert f.kind is Kind.BULK_EXPORT and f.detector == "bulk_export"
    assert set(f.categories) == categories
    assert f.score == pytest.approx(score)
    assert f"delimiter={delim}" in f.reason
    assert "Otterly" not in f.reason and "Otterly" not in f.masked


def test_staff_roster_reason_lists_columns() -> None:
    """A staff phone list is reported at the lower score with its column kinds in the reason."""
    (f,) = BulkExportDetector().detect(TextPart("1", STAFF_ROSTER))
    assert "columns=name,phone" in f.reason


def test_spreadsheet_part_tolerates_ragged_rows() -> None:
    """In a tabular part, rows with missing trailing cells still belong to the table."""
    rows = ["Name\tBarcode\tPhone\tNotes"] + [
        f"{n}\t{b}\t{p}" + ("\tcalled twice" if i % 2 else "") for i, (n, b, p, _, _) in enumerate(PEOPLE)
    ]
    part = TextPart("2/list.xlsx", "\n".join(rows), tabular=True)
    (f,) = BulkExportDetector().detect(part)
    assert "rows=6" in f.reason


NEGATIVES = [
    ("stats", _table(["Branch", "Circulation", "Visits"],
                     [["Main", "18230", "40211"], ["West", "9120", "15002"], ["Bookmobile", "2210", "3100"],
                      ["Keizer", "7000", "9000"], ["Dallas", "4100", "5200"], ["Total", "40660", "72513"]], ",")),
    ("book-list", _table(["Author", "Title", "ISBN"],
                         [["Powers, Richard", "The Overstory", "9780393635522"],
                          ["Morrison, Toni", "Beloved", "9781400033416"],
                          ["Kimmerer, Robin", "Braiding Sweetgrass", "9781571313560"],
                          ["Winn, Raynor", "The Salt Path", "9780241349649"],
                          ["Le Guin, Ursula", "Earthsea", "9780547773742"],
                          ["Butler, Octavia", "Kindred", "9780807083697"]], "\t")),
    ("too-few-rows", _table(["Name", "Phone"], [["Ana Lopez", "503-555-0111"], ["Ben Cho", "503-555-0112"]], ",")),
    ("ill-items", _table(["Request", "Item Barcode", "Lender"],
                         [[f"ILL{i}", f"3023400051786{i}", "Orbis"] for i in range(6)], "|")),
    ("prose", "Dear Pat,\nThanks for the notes, really.\nWe met Tuesday, as planned.\nBudget, again, is tight.\n"
              "Circulation, visits, and programs rose.\nSee you soon, Jo.\nBest, Sam\n"),
    ("invoice", _table(["Qty", "Title", "Price", "Total"],
                       [["1", "Beloved", "$18.00", "$18.00"]] * 6, "  ")),
]


@pytest.mark.parametrize(("label", "text"), NEGATIVES, ids=[n[0] for n in NEGATIVES])
def test_tables_without_people_are_not_bulk_exports(label: str, text: str) -> None:
    """Statistics, book lists (authors are not patrons), item lists, prose and invoices yield nothing."""
    assert list(BulkExportDetector().detect(TextPart("1", text))) == []


def test_min_rows_is_configurable() -> None:
    """With min_rows=2 a two-person table is reported."""
    text = _table(["Name", "Phone"], [["Ana Lopez", "503-555-0111"], ["Ben Cho", "503-555-0112"]], ",")
    assert list(BulkExportDetector(BulkExportSettings(min_rows=2)).detect(TextPart("1", text)))


@pytest.mark.parametrize(
    ("line", "delim", "cells"),
    [
        ('"Doe, Jane",2361,"x"', ",", ["Doe, Jane", "2361", "x"]),
        ("| a | b |", "|", ["a", "b"]),
        ("Jane Doe    West   x44", "  ", ["Jane Doe", "West", "x44"]),
    ],
)
def test_split_cells(line: str, delim: str, cells: list[str]) -> None:
    """Cells are split quote-aware, with outer bars and wide space gaps handled."""
    assert split_cells(line, delim) == cells


def test_table_runs_need_consistent_counts() -> None:
    """A run needs min_lines consecutive lines with the same delimiter count."""
    text = "a,b\nc,d\ne,f\n" + "g,h,i\n" + "j,k\n"
    assert [len(r.texts) for r in table_runs(text, 3) if r.delimiter == ","] == [3]


def test_detector_protocol_and_speed() -> None:
    """BulkExportDetector is a Detector and scans a megabyte of comma prose quickly."""
    det = BulkExportDetector()
    assert isinstance(det, Detector)
    text = "one, two, three, four\n" * 50_000
    t = time.perf_counter()
    assert list(det.detect(TextPart("1", text))) == []
    assert time.perf_counter() - t < 3.0


HAM = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "spamassassin_ham"


@pytest.mark.slow
@pytest.mark.corpus
@pytest.mark.skipif(not HAM.is_dir(), reason="shared corpus not present")
def test_ordinary_mail_corpus_has_no_bulk_exports() -> None:
    """None of the 2,749 SpamAssassin ham messages holds a table of people."""
    det = BulkExportDetector()
    hits = []
    for path in sorted(p for p in HAM.rglob("*") if p.is_file()):
        part = TextPart(path.name, path.read_bytes().decode("latin-1"))
        hits += [(path.name, f.reason) for f in det.detect(part)]
    assert hits == []


def test_mailing_label_lists_are_lists_of_people() -> None:
    """Three or more name/street/city blocks (a delivery list) are a bulk list of people; one is a letter's address."""
    from detectors.tables import BulkExportDetector

    blocks = [
        "Angela Hernandez\n1299 Market St NE\nSalem, OR 97301\n971-779-0119\n",
        "Gianna Galilei\n5243 Young St\nWoodburn, OR 97071\n",
        "Tony Martin\n2872 Ellendale Ave Apt 106\nDallas, OR 97338\n503-362-0012\n",
    ]
    (f,) = BulkExportDetector().detect(TextPart("1", "I ran the report:\n\n" + "\n".join(blocks)))
    assert f.reason.startswith("address-list people=3") and Category.PHONE in f.categories
    one = "Dear Sir,\n\n" + blocks[0] + "\nPlease find our invoice attached.\n\nThanks,\nJo\n"
    assert list(BulkExportDetector().detect(TextPart("1", one))) == []
    orgs = "\n".join(
        f"{org}\n{n} Main St\nSalem, OR 97301\n" for n, org in ((1, "Baker Library Services"), (2, "City Center"), (3, "County Office"))
    )
    assert list(BulkExportDetector().detect(TextPart("1", orgs))) == []


def _find(text: str) -> list:  # type: ignore[type-arg]
    return list(BulkExportDetector().detect(TextPart("1", "This week's list:\n\n" + text)))


# Lists pasted without their header: names with titles and due dates, or surname and given name
# in two columns next to phones. Written for these tests.
_LIST_ROWS = [("Maria", "Lopez", "The Overstory", "11/02/2025", "503-555-0101"),
              ("Dmitri", "Volkov", "Circe", "11/05/2025", "503-555-0102"),
              ("Keiko", "Tanaka", "Hamnet", "11/07/2025", "971-555-0103"),
              ("Ahmed", "Hassan", "Pachinko", "11/09/2025", "503-555-0104"),
              ("Grace", "Okafor", "Educated", "11/11/2025", "503-555-0105")]


def test_headerless_list_of_names_titles_and_due_dates_is_reported() -> None:
    text = "\n".join(f"{last + ', ' + first:<22}{title:<22}{due}" for first, last, title, due, _ in _LIST_ROWS) + "\n"
    (f,) = _find(text)
    assert f.kind is Kind.BULK_EXPORT and Category.TITLES in f.categories and Category.NAME in f.categories
    assert f.score < BulkExportSettings().score  # weaker: it counts next to library words


def test_headerless_surname_and_given_name_columns_next_to_phones() -> None:
    text = "\n".join(f"{last}\t{first}\t{title}\t{due}\t{phone}" for first, last, title, due, phone in _LIST_ROWS) + "\n"
    (f,) = _find(text)
    assert Category.PHONE in f.categories and Category.NAME in f.categories


def test_a_rota_of_desk_shifts_is_no_list_of_loans() -> None:
    """Names and dates with no title column: a staff rota."""
    text = "\n".join(f"{last}, {first}    {due}    {due}" for first, last, _, due, _ in _LIST_ROWS) + "\n"
    assert _find(text) == []
