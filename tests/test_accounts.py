"""Account sentences: a letter telling its reader of her loans, holds and charges, however worded.

Held when the letter greets one patron and goes to another person's mailbox; delivered when it
goes to her; and ordinary library sentences (advice for everyone, business, mail between
libraries) are no account sentences. Every sentence here was written for these tests.
"""

from __future__ import annotations

import pytest

from detectors.accounts import AccountSentenceDetector
from detectors.findings import Kind, TextPart
from proxy.policy import PATRON_IS_RECIPIENT
from proxy.scan import Scanner

TOLD = [
    ("We're holding The Lincoln Highway for you at the Keizer branch until Thursday.", Kind.HOLD),
    ("Just checking: A Gentleman in Moscow was due back on the 3rd.", Kind.CIRCULATION),
    ("Your copy of Tomorrow, and Tomorrow, and Tomorrow is still out and is now two weeks late.", Kind.CIRCULATION),
    ("I took the $6.00 late fee for the DVDs you returned off your account.", Kind.MONEY_OWED),
    ("You still owe $31.50 for the lost copy of The Lincoln Highway.", Kind.MONEY_OWED),
    ("The book you reserved, The Lincoln Highway, can be collected at the Stayton library.", Kind.HOLD),
    ("Your request for The Heaven & Earth Grocery Store has been filled.", Kind.HOLD),
]
NOT_TOLD = [
    "You can renew items online or by phone up to three times.",
    "Return your books to any branch book drop, even when we are closed.",
    "Items are due three weeks after checkout unless someone has placed a hold.",
    "If your items are overdue, a fine of $0.25 a day applies.",
    "The book you requested for your patron, Horse, is due back to us on May 2.",
    "Thanks for returning our copy of Horse so quickly.",
    "The 40 copies of Horse you ordered for the book club shipped today.",
    "We are holding the training in the Anderson Room; please bring your laptop.",
    'Is there a way to send the hold-ready text without the title, just "You have 1 item ready for pickup"?',
    "On top of that, Dana Ortiz is returning with her storytelling hour.",
]


@pytest.mark.parametrize(("text", "kind"), TOLD)
def test_account_sentences_are_found_in_any_wording(text: str, kind: Kind) -> None:
    found = list(AccountSentenceDetector().detect(TextPart("1", "Hi Maria,\n\n" + text)))
    assert kind in {f.kind for f in found}, [f.reason for f in found]
    assert all(f.reason.startswith("account-sentence") for f in found)


@pytest.mark.parametrize("text", NOT_TOLD)
def test_advice_business_and_mail_between_libraries_are_not_account_sentences(text: str) -> None:
    """Not even in a letter that greets its reader."""
    assert list(AccountSentenceDetector().detect(TextPart("1", "Hi Pat,\n\n" + text))) == []


LETTER = (
    "From: Kim Willis <kim.willis@ccrls.org>\nTo: {to}\nSubject: Your library account\n\n"
    "Hi Maria,\n\n{body}\n\nLet me know if you have questions.\n\nKim Willis\nSalem Public Library\n"
)


@pytest.mark.slow
@pytest.mark.parametrize(("body", "_kind"), TOLD)
def test_a_letter_about_one_patron_to_another_persons_mailbox_is_held(scanner: Scanner, body: str, _kind: Kind) -> None:
    raw = LETTER.format(to="Rick Stone <rstone1962@gmail.com>", body=body).encode()
    (decision,) = scanner.scan(raw).decisions
    assert decision.action.value == "hold", decision.rules


@pytest.mark.slow
@pytest.mark.parametrize(("body", "_kind"), TOLD)
def test_the_same_letter_to_her_is_delivered(scanner: Scanner, body: str, _kind: Kind) -> None:
    raw = LETTER.format(to="Maria Lopez <maria.lopez82@gmail.com>", body=body).encode()
    (decision,) = scanner.scan(raw).decisions
    assert decision.action.value == "deliver", decision.rules


@pytest.mark.slow
def test_between_libraries_your_request_is_the_colleagues_business(scanner: Scanner) -> None:
    """The same words to a colleague's work address bind to nobody: no disclosure, delivered."""
    raw = LETTER.format(to="Maria Lopez <mlopez@keizer.lib.or.us>", body=TOLD[0][0]).encode()
    result = scanner.scan(raw)
    (decision,) = result.decisions
    assert decision.action.value == "deliver" and PATRON_IS_RECIPIENT not in decision.rules
    assert result.message.assessment.disclosures == ()


# Staff telling a colleague elsewhere about a named patron, in the third person.
NAMED = [
    "Samuel Greene picked up his holds yesterday, so the shelf is clear.",
    "Olga Ivanova owes us about forty dollars in replacement fees.",
    "Ahmed Hassan moved; his new address is 2231 Hayesville Dr NE.",
    "We sent Tom Brown's account to collections for $112.",
    "Priya Patel's husband called about her overdue audiobooks.",
    "Jorge Ramirez's card is blocked until he pays the $25 lost-book charge.",
    "Carlos Mendez is on the waiting list for Demon Copperhead, number 14.",
    "Mrs. Okafor still hasn't brought back the two DVDs from October.",
]


@pytest.mark.slow
@pytest.mark.parametrize("body", NAMED)
def test_a_named_patrons_account_told_to_someone_outside_is_held(scanner: Scanner, body: str) -> None:
    raw = (f"From: Kim Willis <kim.willis@ccrls.org>\nTo: Rick Stone <rstone@example.net>\nSubject: quick update\n\n"
           f"Hi Rick,\n\n{body}\n\nKim\n").encode()
    (decision,) = scanner.scan(raw).decisions
    assert decision.action.value == "hold", decision.rules


@pytest.mark.parametrize(
    "text",
    [
        "He and his wife were returning from a late-night recording session during which time they had been working.",
        "Monica Gabrielle, who lost her husband when the tower fell, said the information should be disclosed.",
        "I think Bill Neel of Butler needs to go back to school.",
    ],
)
def test_third_person_news_outside_library_mail_is_no_account_sentence(text: str) -> None:
    assert list(AccountSentenceDetector().detect(TextPart("1", text))) == []
