"""Notices passed on to someone outside: held whatever the ILS layout, inline or attached.

Slips, bills, receipts and letters written for these tests after the usual Sierra, Polaris,
Symphony and Evergreen layouts; the name may stand in a label ("Hold for: TANAKA, KEIKO"), an
addressee block, a greeting, or only in the subject line of the covering mail.
"""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from proxy.scan import Scanner

NOTICES: dict[str, str] = {
"sierra-upper": """Salem Public Library
585 Liberty St SE
Salem OR 97301
                                        12/04/2025
GRACE OKAFOR
2231 HAYESVILLE DR NE
SALEM OR 97305

OVERDUE NOTICE

Our records show the following item(s) are overdue:

  1  The Overstory / Richard Powers
     CALL NO: FIC POWERS      BARCODE: 33610000458127
     DUE DATE: 11-20-25
""",
"polaris-dear": """Dear Dmitri Volkov:

The following items are now overdue. Please return them as soon as possible.

Title: Braiding Sweetgrass
Item barcode: 33610001234566
Due date: 11/28/2025

Salem Public Library  503-588-6130
""",
"hold-slip": """HOLD SLIP
Hold for: TANAKA, KEIKO
Pickup: Keizer branch
Item: Klara and the Sun
Expires: 12/12/2025
""",
"bill": """BILL
Patron: Ahmed Hassan
Lost item: Pachinko   $27.99
Processing fee:        $5.00
Total due:            $32.99
""",
"email-notice": """Hello Priya Patel,

This is a courtesy reminder from the Stayton Public Library. The items below are due in 3 days:

- Hamnet (due 12/09/2025)
- Circe (due 12/09/2025)

Renew online at the catalog or call 503-769-3313.
""",
"symphony-plain": """Linh Nguyen
4410 Lancaster Dr NE
Salem, OR 97305

Second overdue notice
Title: Educated : a memoir
Due: 11/15/2025
Fine accrued: $2.50
""",
"receipt-name": """Checkout Receipt
Patron: Olga Ivanova
1. The Water Dancer  due 12/20/2025
2. Project Hail Mary  due 12/20/2025
Thank you for using the library!
""",
"evergreen-lastfirst": """Dear Brown, Tom

The following items are 7 days overdue:
Title: Normal People   Barcode: 33610002223334   Due: 2025-11-27

Salem Public Library
""",
}


def _inline(notice: str) -> bytes:
    body = ("Officer Reyes,\n\nHere is the notice you asked about.\n\n---------- Forwarded message ---------\n"
            "From: Salem Public Library <notices@ccrls.org>\nSubject: Library notice\n\n" + notice)
    return f"From: Dawn Fuentes <dfuentes@ccrls.org>\nTo: dreyes@salem-police.gov\nSubject: Fwd: Library notice\n\n{body}\n".encode()


def _attached(notice: str, subject: str = "Notice") -> bytes:
    m = EmailMessage()
    m["From"], m["To"], m["Subject"] = "Dawn Fuentes <dfuentes@ccrls.org>", "dreyes@salem-police.gov", subject
    m.set_content("Officer Reyes,\n\nAttached is what we have on file for the person you asked about.\n\nDawn")
    m.add_attachment(notice.encode(), maintype="text", subtype="plain", filename="notice.txt")
    return m.as_bytes()


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(NOTICES))
@pytest.mark.parametrize("carrier", [_inline, _attached])
def test_a_notice_passed_on_to_the_police_is_held(scanner: Scanner, name: str, carrier) -> None:  # type: ignore[no-untyped-def]
    (decision,) = scanner.scan(carrier(NOTICES[name])).decisions
    assert decision.action.value == "hold", decision.rules


@pytest.mark.slow
def test_a_receipt_without_a_name_is_the_person_the_subject_line_names(scanner: Scanner) -> None:
    receipt = "Checkout Receipt\n\n    Title: Stella Maris\n    Call Number: FIC MCCARTHY\n    Barcode: 33611018157953\n    Due: 2025-10-10\n"
    (decision,) = scanner.scan(_attached(receipt, subject="Records request - Erika Tröst")).decisions
    assert decision.action.value == "hold", decision.rules


# Notices in Spanish, Russian and Vietnamese, a printed "To:" line, an upper-case address block, HTML.
OTHER_LANGUAGES: dict[str, str] = {
"es-estimado": "Estimado/a Rubén Posada:\n\nLos siguientes materiales están vencidos:\nTítulo: Cien años de soledad\nFecha de vencimiento: 15/11/2025\n\nBiblioteca Pública de Salem",
"es-hola": "Hola Lucía Fernández,\n\nSu reserva de «La casa de los espíritus» está lista para recoger en la biblioteca de Keizer hasta el 12/12.\n",
"ru": "Уважаемая Анна Иванова!\n\nСрок возврата книги «Мастер и Маргарита» истёк 20.11.2025. Пожалуйста, верните её в библиотеку.\n",
"vi": "Kính gửi Nguyễn Văn An,\n\nSách \"Nỗi buồn chiến tranh\" của quý vị đã quá hạn từ ngày 20/11/2025. Vui lòng trả sách cho thư viện.\n",
"es-multa": "Sr. Alejandro Ruiz:\n\nUsted tiene una multa de $7.50 por el libro «Rayuela», devuelto con retraso.\n",
"en-to-line": "To: Samuel Greene\nFrom: Salem Public Library\n\nThe following item is overdue:\nThe Road / Cormac McCarthy  due 11/30/2025\n",
"en-upper-block": "SAMUEL GREENE\n1420 OAK HOLLOW DR NE\nKEIZER OR 97303\n\nThe following item is overdue:\nTHE ROAD  due 11/30/2025\n",
"en-html": "<html><body><p>Dear Samuel Greene,</p><p>Your hold on <i>The Road</i> is ready for pickup.</p></body></html>",
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(OTHER_LANGUAGES))
def test_notices_in_other_languages_and_layouts_are_held(scanner: Scanner, name: str) -> None:
    notice = OTHER_LANGUAGES[name]
    if notice.startswith("<html"):
        raw = ("From: Dawn Fuentes <dfuentes@ccrls.org>\nTo: dreyes@salem-police.gov\nSubject: Fwd: Library notice\n"
               f"Content-Type: text/html; charset=utf-8\n\n{notice}\n").encode()
    else:
        raw = _inline(notice).replace(b"Subject: Fwd: Library notice\n", b"Subject: Fwd: Library notice\nContent-Type: text/plain; charset=utf-8\n", 1)
    (decision,) = scanner.scan(raw).decisions
    assert decision.action.value == "hold", decision.rules
