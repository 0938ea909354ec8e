"""Evidence binding: which combinations of findings disclose a patron, on hand-built findings."""

from __future__ import annotations

import pytest

from detectors.evidence import EvidenceSettings, assess, needs_names
from detectors.findings import Category, Finding, Kind, TextPart
from detectors.signatures import signature_spans

C = Category
TEXT = "x" * 2000


def f(kind: Kind, start: int, score: float = 0.8, cats: set[Category] | None = None, part: str = "1", length: int = 10) -> Finding:
    return Finding(kind, part, start, start + length, score, kind.value, "•••", "test", frozenset(cats or ()))


PART = TextPart("1", TEXT)


def rules(*findings: Finding, text: str = TEXT, sender_names: tuple[str, ...] = ()) -> set[str]:
    return set(assess([TextPart("1", text)], findings, (), EvidenceSettings(), sender_names).rules)


def test_valid_patron_card_alone_is_a_disclosure():
    """A check-digit-valid patron card number needs nothing else."""
    assert rules(f(Kind.PATRON_BARCODE, 0, 0.95, {C.CARD_NUMBER})) == {"patron-card"}


def test_item_barcode_alone_is_not():
    """Item barcodes are not patron data by themselves."""
    assert rules(f(Kind.ITEM_BARCODE, 0, 0.9)) == set()


def test_name_and_phone_without_patron_language_is_not():
    """A vendor's name and phone number are ordinary business mail."""
    assert rules(f(Kind.PERSON_NAME, 0, 0.85, {C.NAME}), f(Kind.PHONE, 30, 0.8, {C.PHONE})) == set()


def test_name_and_phone_with_patron_language_is():
    """Name + phone next to patron language ("this patron", "overdue") is a disclosure."""
    got = rules(f(Kind.PERSON_NAME, 0, 0.85, {C.NAME}), f(Kind.PHONE, 30, 0.8, {C.PHONE}), f(Kind.PATRON_CONTEXT, 60, 0.5))
    assert got == {"name-with-identifier"}


def test_name_far_from_identifier_is_not_bound():
    """A name and a phone number 1,500 characters apart are not about the same person."""
    got = rules(f(Kind.PERSON_NAME, 0, 0.85, {C.NAME}), f(Kind.PATRON_CONTEXT, 20, 0.5), f(Kind.PHONE, 1500, 0.8, {C.PHONE}))
    assert got == set()


def test_circulation_with_titles_bound_to_a_name():
    """Overdue titles next to a name are a circulation record."""
    got = rules(f(Kind.PERSON_NAME, 0, 0.85, {C.NAME}), f(Kind.CIRCULATION, 40, 0.8, {C.TITLES}))
    assert got == {"circulation-record"}


def test_bare_circulation_phrase_with_a_name_is_not():
    """"The book is due back" near a name (weak, 0.5) is ordinary mail."""
    assert rules(f(Kind.PERSON_NAME, 0, 0.85, {C.NAME}), f(Kind.CIRCULATION, 40, 0.5, {C.TITLES})) == set()


def test_fines_told_to_a_relative_without_a_name():
    """"Your son owes $12.50" binds money owed to a person reference."""
    got = rules(f(Kind.PERSON_REFERENCE, 0, 0.5), f(Kind.MONEY_OWED, 20, 0.8, {C.MONEY_OWED}))
    assert got == {"circulation-record"}


def test_licence_with_a_name():
    """A keyword-anchored licence number next to a name is a disclosure on its own."""
    got = rules(f(Kind.PERSON_NAME, 0, 0.85, {C.NAME}), f(Kind.DRIVERS_LICENSE, 40, 0.85, {C.DRIVERS_LICENSE}))
    assert got == {"drivers-license"}


def test_signature_names_are_not_patrons():
    """A name and phone in a sign-off block are the sender's, even with patron words above."""
    text = "Please tell the patron the item is in.\n\nBest,\nJane Example\nSalem Public Library\n503-555-0101\n"
    name_at = text.index("Jane")
    phone_at = text.index("503")
    got = rules(
        f(Kind.PATRON_CONTEXT, text.index("patron"), 0.5),
        f(Kind.PERSON_NAME, name_at, 0.85, {C.NAME}, length=12),
        f(Kind.PHONE, phone_at, 0.8, {C.PHONE}, length=12),
        text=text,
    )
    assert got == set()


def test_sender_own_name_is_not_a_patron():
    """The From display name is not a patron's name."""
    text = "Jane Example here; the patron account phone 503-555-0101 is ours."
    got = rules(
        f(Kind.PERSON_NAME, 0, 0.85, {C.NAME}, length=12),
        f(Kind.PATRON_CONTEXT, text.index("patron"), 0.5),
        f(Kind.PHONE, text.index("503"), 0.8, {C.PHONE}, length=12),
        text=text,
        sender_names=("Jane Example",),
    )
    assert got == set()


def test_categories_cover_the_cluster():
    """A card number next to titles exposes CARD_NUMBER and TITLES (a partner may not get titles)."""
    a = assess([PART], [f(Kind.PATRON_BARCODE, 0, 0.95, {C.CARD_NUMBER}), f(Kind.CIRCULATION, 50, 0.8, {C.TITLES})])
    assert a.categories == {C.CARD_NUMBER, C.TITLES}


def test_needs_names_only_when_a_name_would_matter():
    """spaCy is asked only for identifiers near patron language, records, licences; never after direct evidence."""
    s = EvidenceSettings()
    phone = f(Kind.PHONE, 100, 0.8, {C.PHONE})
    assert needs_names([phone], s) == []
    ctx = f(Kind.PATRON_CONTEXT, 150, 0.5)
    assert needs_names([phone, ctx], s) == [phone]
    assert needs_names([phone, ctx, f(Kind.PATRON_BARCODE, 0, 0.95)], s) == []
    weak = f(Kind.CIRCULATION, 0, 0.5)
    assert needs_names([weak], s) == []


def test_signature_spans_find_sign_offs():
    """Sign-off blocks span the sign-off line and the lines after it."""
    text = "Hello,\nsee below.\n\nThanks,\nJane\n555-0101\n"
    spans = signature_spans(text)
    assert spans and text[spans[0][0] : spans[0][1]].startswith("Thanks,")
    assert "555-0101" in text[spans[0][0] : spans[0][1]]


def test_generic_owing_needs_library_words():
    """"Owes $500" next to a name is news; with patron language close by it is a patron's debt."""
    name = f(Kind.PERSON_NAME, 0, 0.85, {C.NAME})
    owes = Finding(Kind.MONEY_OWED, "1", 20, 30, 0.85, "owes-amount", "$•••", "money_owed", frozenset({C.MONEY_OWED}))
    assert rules(name, owes) == set()
    assert rules(name, owes, f(Kind.PATRON_CONTEXT, 40, 0.5)) == {"circulation-record"}


def test_names_introduced_by_a_role_are_not_patrons():
    """"Author Jane Smith" and "Mark Jensen, sales representative" are not patrons."""
    for text in ("Author Jane Smith signs books; the patron phone line 503-555-0199.",
                 "Mark Jensen, sales representative, for the patron phone 503-555-0199."):
        name = "Jane Smith" if "Jane" in text else "Mark Jensen"
        got = rules(
            f(Kind.PERSON_NAME, text.index(name), 0.85, {C.NAME}, length=len(name)),
            f(Kind.PATRON_CONTEXT, text.index("patron"), 0.5),
            f(Kind.PHONE, text.index("503"), 0.8, {C.PHONE}, length=12),
            text=text,
        )
        assert got == set(), text


def test_generic_patron_words_do_not_bind():
    """Weak patron context ("our patrons", score 0.3) does not bind a name to a phone number."""
    assert rules(f(Kind.PERSON_NAME, 0, 0.85, {C.NAME}), f(Kind.PHONE, 30, 0.8, {C.PHONE}), f(Kind.PATRON_CONTEXT, 60, 0.3)) == set()


@pytest.mark.parametrize(
    "text",
    [
        "For more information about library cards, contact Jane Smith at 503-555-0199.",
        "Questions? Email Jane Smith, jsmith@example.org, about the patron survey.",
        "To register for library cards at the fair, call Jane Smith at 503-555-0199.",
    ],
)
def test_public_contacts_are_not_patrons(text: str) -> None:
    """A person offered to the reader as a contact ("for more information, contact …") is not a patron."""
    name = "Jane Smith"
    ident = "503-555-0199" if "503" in text else "jsmith@example.org"
    got = rules(
        f(Kind.PERSON_NAME, text.index(name), 0.85, {C.NAME}, length=len(name)),
        f(Kind.PATRON_CONTEXT, text.index("patron") if "patron" in text else text.index("library"), 0.5),
        f(Kind.PHONE if "503" in ident else Kind.EMAIL, text.index(ident), 0.8, {C.PHONE}, length=len(ident)),
        text=text,
    )
    assert got == set(), text


def test_weak_other_library_card_binds_to_a_name():
    """Another library's card without card words (score 0.55) discloses only next to a name."""
    card = f(Kind.PATRON_BARCODE, 40, 0.55, {C.CARD_NUMBER})
    assert rules(card) == set()
    assert rules(card, f(Kind.PERSON_NAME, 0, 0.85, {C.NAME})) == {"name-with-identifier"}


def test_titles_anywhere_in_a_disclosing_message_are_mentioned():
    """Once a message discloses a patron, titles further down count as sent (partner scope)."""
    card = f(Kind.PATRON_BARCODE, 0, 0.95, {C.CARD_NUMBER})
    titles = f(Kind.CIRCULATION, 1500, 0.8, {C.TITLES})
    bare = f(Kind.CIRCULATION, 1700, 0.5, {C.TITLES})
    a = assess([PART], [card, titles], (), EvidenceSettings())
    assert C.TITLES in a.mentioned and C.TITLES not in a.categories
    assert C.TITLES not in assess([PART], [card, bare], (), EvidenceSettings()).mentioned
    assert assess([PART], [titles], (), EvidenceSettings()).mentioned == frozenset()


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ('I loved "Lessons in Chemistry" by Bonnie Garmus; the patron phone line is 503-555-0199.', "Bonnie Garmus"),
        ("Present: Jane Smith, Tom Baker. The patron phone line is 503-555-0199.", "Tom Baker"),
        ("Presenter Lucy Dunn (Circulation Manager) takes patron questions at 503-555-0199.", "Lucy Dunn"),
    ],
)
def test_authors_attendees_and_titled_speakers_are_not_patrons(text: str, name: str) -> None:
    """An author after a title's "by", a meeting's attendee list and a name with its job in brackets are not patrons."""
    got = rules(
        f(Kind.PERSON_NAME, text.index(name), 0.9, {C.NAME}, length=len(name)),
        f(Kind.PATRON_CONTEXT, text.index("patron"), 0.5),
        f(Kind.PHONE, text.index("503"), 0.8, {C.PHONE}, length=12),
        text=text,
    )
    assert got == set(), text


def test_a_birth_date_binds_to_a_name_without_library_words():
    """A named person's date of birth is a disclosure on its own (dates count only next to a birth keyword)."""
    text = "For Malwina Myga the DOB we have is 06/28/1992."
    name = f(Kind.PERSON_NAME, 4, 0.8, {C.NAME}, length=13)
    dob = f(Kind.BIRTH_DATE, text.index("06/"), 0.85, {C.BIRTH_DATE}, length=10)
    assert rules(name, dob, text=text) == {"name-with-identifier"}


def test_a_bare_circulation_phrase_right_after_a_name_is_about_that_person():
    """"Karen Dixon has checked out" binds even without titles: the borrower is named right there."""
    text = "you wanted to know what Karen Dixon has checked out, here it is"
    name = f(Kind.PERSON_NAME, text.index("Karen"), 0.9, {C.NAME}, length=11)
    circ = f(Kind.CIRCULATION, text.index("checked"), 0.5, {C.TITLES}, length=11)
    assert rules(name, circ, text=text) == {"circulation-record"}
    far = "Karen Dixon said the branch was busy; most books are checked out"
    assert rules(f(Kind.PERSON_NAME, 0, 0.9, {C.NAME}, length=11),
                 f(Kind.CIRCULATION, far.index("checked"), 0.5, {C.TITLES}, length=11), text=far) == set()


def test_told_in_the_third_person_is_about_someone_else():
    """A disclosure told with "she", "his" … is not addressed to the reader; "you"/"your" or a notice layout is."""
    from detectors.evidence import assess

    def to_reader(text: str, *extra: Finding) -> bool:
        name = f(Kind.PERSON_NAME, 0, 0.9, {C.NAME}, length=5)
        card = f(Kind.PATRON_BARCODE, text.index("2361"), 0.95, {C.CARD_NUMBER}, length=14)
        (d,) = assess([TextPart("1", text)], [name, card, *extra], (), EvidenceSettings()).disclosures
        return d.to_reader

    assert to_reader("Maria, your card 23610003622817 is ready.")
    assert not to_reader("Maria, her card 23610003622817 is ready.")
    assert not to_reader("Maria, card 23610003622817 is ready.")


def test_a_covering_note_names_whose_record_is_passed_on():
    """A forwarded record with no name in it is the person the covering note names ("the notice for …")."""
    text = ("Hi Orlando,\nthis is the notice for Ruben Posada.\n\n---------- Forwarded message ---------\n"
            "Here is what you took home today:\nTitle: Dune\nCall Number: FIC HER\nDue: 2025-02-11\n")
    name = Finding(Kind.PERSON_NAME, "1", text.index("Ruben"), text.index("Ruben") + 12, 0.97,
                   "person-name cue+spacy", "•••", "names", frozenset({C.NAME}))
    items = Finding(Kind.CIRCULATION, "1", text.index("Title:"), len(text) - 1, 0.8, "circulation-list item-labels", "",
                    "circulation", frozenset({C.TITLES}))
    (d,) = assess([TextPart("1", text)], [name, items], (), EvidenceSettings()).disclosures
    assert d.rule == "circulation-record" and name in d.about
