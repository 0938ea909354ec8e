"""Deterministic generator for the labelled leak set (tests/leakset/*.eml, labels.tsv, identifiers.txt).

This script owns the hand-written test messages: every patron, card, phone,
address and licence number in them is invented. It builds raw RFC 5322 bytes
itself (fixed boundaries, dates and Message-IDs, no randomness), so running it
twice gives byte-identical files; the generated files are committed so a
reviewer can read them without running anything.

Card numbers are computed, never typed: `card()` appends the library mod-10
check digit (NOTES.md §1) and `bad_card()` a deliberately wrong one.
`identifiers.txt` lists every raw patron value that appears in a leak message,
so tests can assert that no scanner output repeats any of them.

Run:  python tests/leakset/build.py [OUTDIR]     (default: writes next to this file)
"""

from __future__ import annotations

import base64
import email
import email.policy
import json
import quopri
from dataclasses import dataclass
from email.header import Header
from pathlib import Path

HERE = Path(__file__).resolve().parent

# ---------------------------------------------------------------- identifiers


def library_check_digit(payload: str) -> int:
    """Library mod-10 over the payload digits (odd positions doubled, from the left)."""
    total = 0
    for position, ch in enumerate(payload, start=1):
        digit = int(ch)
        if position % 2 == 1:
            digit *= 2
            if digit >= 10:
                digit -= 9
        total += digit
    return (10 - total % 10) % 10


def card(sequence: int, type_digit: str = "2", institution: str = "3610") -> str:
    """A 14-digit barcode with a valid check digit (patron by default, item with type 3)."""
    payload = f"{type_digit}{institution}{sequence:08d}"
    return payload + str(library_check_digit(payload))


def bad_card(sequence: int, type_digit: str = "2", institution: str = "3610") -> str:
    """The same layout with a wrong check digit: looks like a card, is not one."""
    payload = f"{type_digit}{institution}{sequence:08d}"
    return payload + str((library_check_digit(payload) + 3) % 10)


def sierra_check(digits: str) -> str:
    """Sierra mod-11 check character: weights 2,3,4,... from the rightmost digit."""
    total = sum(int(d) * w for d, w in zip(reversed(digits), range(2, 2 + len(digits)), strict=True))
    rem = total % 11
    return "x" if rem == 10 else str(rem)


def record_number(digits: str) -> str:
    return f".p{digits}{sierra_check(digits)}"


assert card(362281) == "23610003622817"  # NOTES.md §1 worked example
assert library_check_digit("3023400051786") == 1  # NOTES.md item example 30234000517861
assert sierra_check("1029384") == "x"


@dataclass(frozen=True)
class Patron:
    first: str
    middle: str
    last: str
    street: str
    city: str
    zip: str
    phone: str
    email: str
    card: str
    birth: str  # MM-DD-YYYY
    owed: str

    @property
    def name(self) -> str:
        return f"{self.first} {self.last}"

    @property
    def mil_name(self) -> str:  # Millennium display: LAST, FIRST M
        return f"{self.last.upper()}, {self.first.upper()} {self.middle}".rstrip()

    @property
    def last_first(self) -> str:
        return f"{self.last}, {self.first} {self.middle}".rstrip()

    def forms(self) -> list[str]:
        """Every raw form of this patron's values that a leak message may contain."""
        return [
            self.name, self.mil_name, self.last_first, f"{self.last}, {self.first}",
            self.street, self.street.upper(), self.phone, self.email, self.card, self.birth,
            f"({self.phone[:3]}) {self.phone[4:]}", self.phone.replace("-", "."),
        ]


# Invented patrons. Phones are 555-01xx; email domains are .example.
WHITFIELD = Patron("Marcus", "J", "Whitfield", "2417 Brookside Ave NE", "Salem", "97301",
                   "503-555-0137", "mwhitfield@mailbox.example", card(10457), "04-17-1981", "$47.25")
PELLETIER = Patron("Dana", "R", "Pelletier", "880 Cherry Hill Dr S", "Salem", "97302",
                   "503-555-0148", "dana.pelletier@webmail.example", card(2209174), "11-02-1990", "$12.40")
NGATA = Patron("Harold", "T", "Ngata", "1530 Larkspur Ln NW", "Salem", "97304",
               "503-555-0162", "hngata57@mailbox.example", card(4471120), "09-22-1957", "$3.75")
REYES = Patron("Lucia", "M", "Reyes", "612 Orchard Heights Rd NW", "Salem", "97304",
               "503-555-0171", "lucia.reyes@webmail.example", card(5120398), "02-14-1976", "$88.10")
OKAFOR = Patron("Chinedu", "", "Okafor", "77 Academy St", "Dallas", "97338",
                "503-555-0119", "c.okafor@mailbox.example", card(7730015), "06-30-1999", "$5.00")
BRANDT = Patron("Evelyn", "K", "Brandt", "3310 Liberty Rd S", "Salem", "97302",
                "503-555-0184", "ebrandt@oldmail.example", card(6043381), "12-05-1948", "$21.95")
NUNEZ = Patron("José", "", "Núñez", "455 Calle Ct SE", "Salem", "97317",
               "503-555-0126", "jose.nunez@webmail.example", card(3318807), "08-08-1985", "$9.60")
ODEGAARD = Patron("Zoë", "", "Ødegaard", "19 Fjord View Ln", "Mt Angel", "97362",
                  "503-555-0153", "zoe.odegaard@mailbox.example", card(8812046), "03-21-2004", "$2.30")
NGUYEN = Patron("Nguyễn", "", "Thị Lan", "2850 Lancaster Dr NE Apt 12", "Salem", "97305",
                "503-555-0195", "lan.nguyen@webmail.example", card(9004127), "07-01-1992", "$15.00")
FARLEY = Patron("Gordon", "W", "Farley", "4102 Sunnyview Rd NE", "Salem", "97305",
                "503-555-0108", "gfarley@mailbox.example", card(1188263), "01-19-1966", "$112.48")

# Students for the school overdue list (names only plus titles/due dates/cards).
STUDENTS = [
    ("Aiden Brooks", card(8150012), "Wings of Fire: The Dragonet Prophecy", "03/03/2025"),
    ("Maya Castellanos", card(8150047), "Ghosts / Raina Telgemeier", "02/24/2025"),
    ("Elijah Friedman", card(8150063), "Hatchet / Gary Paulsen", "02/27/2025"),
    ("Sofia Lindgren", card(8150098), "The Wild Robot / Peter Brown", "03/01/2025"),
    ("Noah Tran", card(8150101), "Dog Man: Mothering Heights", "02/20/2025"),
]

ITEM1, ITEM2, ITEM3, ITEM4 = card(502318, "3"), card(611904, "3"), card(733215, "3"), card(845120, "3")


SIG_CIRC = """--
Rachel Ostrander
Circulation Supervisor, Salem Public Library
503-588-6130 | circ@cityofsalem.net"""

SIG_CCRLS = """--
Tom Haverly
Systems Librarian, CCRLS
503-588-6060"""

# ---------------------------------------------------------------- MIME building


def _qp(text: str) -> str:
    return quopri.encodestring(text.encode("utf-8")).decode("ascii")


def _b64(data: bytes) -> str:
    return base64.encodebytes(data).decode("ascii")


def leaf(body: str, ctype: str = "text/plain", cte: str = "7bit", charset: str | None = "us-ascii",
         filename: str | None = None, inline: bool = False) -> str:
    """One MIME leaf (headers + encoded body)."""
    ct = ctype + (f'; charset="{charset}"' if charset else "")
    if filename:
        ct += f'; name="{filename}"'
    lines = [f"Content-Type: {ct}", f"Content-Transfer-Encoding: {cte}"]
    if filename:
        lines.append(f'Content-Disposition: {"inline" if inline else "attachment"}; filename="{filename}"')
    if cte == "quoted-printable":
        encoded = _qp(body)
    elif cte == "base64":
        encoded = _b64(body.encode("utf-8"))
    else:
        encoded = body
    return "\n".join(lines) + "\n\n" + encoded.rstrip("\n") + "\n"


def multipart(subtype: str, boundary: str, parts: list[str], preamble: str = "") -> str:
    out = [f'Content-Type: multipart/{subtype}; boundary="{boundary}"', ""]
    if preamble:
        out.append(preamble)
    for part in parts:
        out.append(f"--{boundary}")
        out.append(part.rstrip("\n"))
    out.append(f"--{boundary}--")
    return "\n".join(out) + "\n"


def rfc822(inner: str) -> str:
    """A message/rfc822 part wrapping a complete inner message."""
    return 'Content-Type: message/rfc822\nContent-Disposition: inline\n\n' + inner


@dataclass(frozen=True)
class Mail:
    file: str
    expect: str  # hold | deliver
    scenario: str
    sender: str
    to: str
    subject: str
    body: str  # a complete MIME entity: headers + blank line + content (see leaf/multipart)
    day: int
    cc: str = ""
    patrons: tuple[Patron, ...] = ()
    extra_ids: tuple[str, ...] = ()
    crlf: bool = False

    def raw(self) -> bytes:
        subject = self.subject
        if any(ord(c) > 127 for c in subject):
            subject = Header(subject, "utf-8").encode()
        headers = [
            f"From: {self.sender}",
            f"To: {self.to}",
        ]
        if self.cc:
            headers.append(f"Cc: {self.cc}")
        headers += [
            f"Subject: {subject}",
            f"Date: {'Mon Tue Wed Thu Fri Sat Sun'.split()[(self.day + 4) % 7]}, {self.day:02d} Mar 2025 "
            f"{9 + self.day % 8:02d}:{(self.day * 7) % 60:02d}:00 -0800",
            f"Message-ID: <leakset-{self.file.removesuffix('.eml')}@ccrls.org>",
            "MIME-Version: 1.0",
        ]
        text = "\n".join(headers) + "\n" + self.body
        if self.crlf:
            text = text.replace("\n", "\r\n")
        return text.encode("utf-8")


def plain(body: str) -> str:
    return leaf(body)


def plain_utf8(body: str, cte: str = "quoted-printable") -> str:
    return leaf(body, charset="utf-8", cte=cte)


# ---------------------------------------------------------------- shared record texts


def millennium_screen(p: Patron, recno: str, note: str = "") -> str:
    city = f"{p.city.upper()} OR {p.zip}"
    return f"""Patron 1 of 1   {recno}
PATRN NAME   {p.mil_name}
ADDRESS      {p.street.upper()}${city}
TELEPHONE    {p.phone}
EMAIL ADDR   {p.email}
P BARCODE    {p.card}
P TYPE       0
EXP DATE     06-30-2026
BIRTH DATE   {p.birth}
HOME LIBR    sa
MONEY OWED   {p.owed}
MBLOCK       -
CUR CHKOUT   3
TOT CHKOUT   212
NOTE         {note or 'Lost card 2/2024, replaced'}"""


def patron_block(p: Patron) -> str:
    return f"""Name:    {p.name}
Address: {p.street}, {p.city} OR {p.zip}
Phone:   {p.phone}
Card:    {p.card}"""


# ---------------------------------------------------------------- leaks


def leaks() -> list[Mail]:
    m: list[Mail] = []

    m.append(Mail(
        "leak_01_millennium_screen.eml", "hold", "pasted Millennium patron screen",
        "Rachel Ostrander <circ@cityofsalem.net>", "Kevin Doyle <kevin@pcfixers.example>",
        "Record display looks wrong?", plain(f"""Hi Kevin,

When I pull this patron up the block doesn't clear even though the fines are
paid. Here is what the screen shows, copied straight out of Millennium:

{millennium_screen(WHITFIELD, record_number('1000457'))}

Any idea what's wrong with the MBLOCK field?

Thanks,
{SIG_CIRC}
"""), 3, patrons=(WHITFIELD,)))

    m.append(Mail(
        "leak_02_millennium_screen_crlf_cc_internal.eml", "hold",
        "pasted Millennium patron screen (CRLF, tab-separated, cc internal)",
        "Tom Haverly <thaverly@ccrls.org>", "support@ilshosting.example",
        "Ticket 44817 - patron record will not save",
        plain("Hello support,\n\nThis record throws an error on save. Screen copy below.\n\n"
              + millennium_screen(BRANDT, record_number('1044120'), "Homebound delivery Tues").replace("   ", "\t")
              + "\n\nRegards,\n" + SIG_CCRLS + "\n"),
        4, cc="Rachel Ostrander <circ@cityofsalem.net>", patrons=(BRANDT,), crlf=True))

    m.append(Mail(
        "leak_03_police_name_address_phone.eml", "hold", "name + address + phone sent to the police",
        "Jill Sato <jsato@cityofsalem.net>", "Det. Ana Ruiz <aruiz@salem-police.example>",
        "Re: your phone call this morning", plain(f"""Detective Ruiz,

Following up on your call. The person who reserved study room B on Saturday is
{WHITFIELD.name}. The contact details we have on file:

{WHITFIELD.street}
Salem OR 97301
{WHITFIELD.phone}

Let me know if you need anything else.

Jill Sato
Branch Manager, West Salem Branch
"""), 5, patrons=(WHITFIELD,)))

    rows = "\n".join(f"{n:<20}{t:<42}due {d}" for n, _, t, d in STUDENTS)
    m.append(Mail(
        "leak_04_overdue_list_school.eml", "hold", "overdue list to a school",
        "Youth Services <youth@cityofsalem.net>", "Mrs. Patel <media@westsalemms.example>",
        "Overdue books - your 6th graders", plain(f"""Hi Mrs. Patel,

As we discussed at the library visit, here are the students from your class
who still have overdue items on their library cards. Could you remind them?

{rows}

They can return them to any CCRLS library.

Thanks!
Youth Services, Salem Public Library
"""), 6, extra_ids=tuple(n for n, *_ in STUDENTS)))

    m.append(Mail(
        "leak_05_relative_fines_titles.eml", "hold", "a relative told about fines and titles",
        "circ@cityofsalem.net", "Karen <karen.l.home@mailbox.example>",
        "Overdue items", plain("""Hi Karen,

Thanks for calling. Your son Tommy has these overdue on his card:

  - Percy Jackson and the Lightning Thief, due 2/18
  - Diary of a Wimpy Kid: No Brainer, due 2/18
  - Minecraft Redstone Handbook, due 2/25

His fines come to $6.75 so far and his account is blocked until the books come
back. Your daughter Emma also has a hold waiting: The Baby-Sitters Club.

Salem Public Library Circulation
503-588-6130
"""), 7, extra_ids=("Tommy",)))

    m.append(Mail(
        "leak_06_card_number_alone.eml", "hold", "a card number alone",
        "Jill Sato <jsato@cityofsalem.net>", "help@ebookvendor.example",
        "Login problem", plain("""Hi,

can you look up 23610003622817 and tell me why it cannot borrow?
It says invalid credentials in your app.

Jill
"""), 8, extra_ids=("23610003622817",)))

    spaced = card(362291)
    spaced_form = f"{spaced[0]} {spaced[1:5]} {spaced[5:13]} {spaced[13]}"
    m.append(Mail(
        "leak_07_card_spaced.eml", "hold", "a spaced card number",
        "Jill Sato <jsato@cityofsalem.net>", "help@ebookvendor.example",
        "Another login problem", plain(f"""Hello again,

Same issue for this one, the patron read it to me over the phone:
{spaced_form}

Thanks,
Jill
"""), 9, extra_ids=(spaced_form, spaced)))

    grouped = card(4109928)
    grouped_form = f"{grouped[:4]} {grouped[4:8]} {grouped[8:12]} {grouped[12:]}"
    m.append(Mail(
        "leak_08_card_spaced_groups_of_four.eml", "hold", "a spaced card number (groups of four, with name)",
        "Jill Sato <jsato@cityofsalem.net>", "help@ebookvendor.example",
        "Re: Another login problem", plain(f"""Hi,

One more: {REYES.name}, library card {grouped_form}. She says the app logs her out.

Jill
"""), 10, patrons=(REYES,), extra_ids=(grouped_form, grouped)))

    hy = card(5531046)
    hy_form = f"{hy[0]}-{hy[1:5]}-{hy[5:13]}-{hy[13]}"
    m.append(Mail(
        "leak_09_card_hyphenated.eml", "hold", "a hyphenated card number",
        "Nora Quist <nquist@dallasor.gov>", "accounts@printkiosk.example",
        "Print credit not applied", plain(f"""Hi,

A patron paid $5.00 for print credit at the kiosk but it never showed up on card
{hy_form}. Can you refund or apply it manually?

Nora Quist
Dallas Public Library
"""), 11, extra_ids=(hy_form, hy)))

    codabar = card(6670213)
    m.append(Mail(
        "leak_10_card_codabar.eml", "hold", "a card number wrapped in Codabar start/stop letters",
        "Nora Quist <nquist@dallasor.gov>", "support@labelprinter.example",
        "Scanner reads extra letters", plain(f"""Hello,

Our scanner outputs A{codabar}B when scanning {OKAFOR.name}'s card instead of
just the digits. How do we turn off the start/stop characters?

Nora
"""), 12, patrons=(OKAFOR,), extra_ids=(codabar, f"A{codabar}B")))

    m.append(Mail(
        "leak_11_drivers_license_employer.eml", "hold", "a driver's licence number to an employer",
        "Rachel Ostrander <circ@cityofsalem.net>", "hr@cascadebuilders.example",
        "Employment verification", plain(f"""Hello,

Regarding your verification request: {PELLETIER.name} registered for her library
card in person and showed Oregon DL 5829104 (DOB {PELLETIER.birth}). Her address
on file at that time was {PELLETIER.street}, Salem.

{SIG_CIRC}
"""), 13, patrons=(PELLETIER,), extra_ids=("5829104", PELLETIER.birth)))

    csv_rows = [("Name", "Barcode", "Email", "Owed")] + [
        (p.name, p.card, p.email, p.owed) for p in (WHITFIELD, PELLETIER, NGATA, REYES, BRANDT, FARLEY)]
    csv_text = "\r\n".join(",".join(f'"{c}"' if " " in c else c for c in r) for r in csv_rows) + "\r\n"
    m.append(Mail(
        "leak_12_csv_export_attachment.eml", "hold", "a CSV export attached (name, barcode, email, owed)",
        "Rachel Ostrander <circ@cityofsalem.net>", "treasurer@friendsofsalemlibrary.example",
        "Fine forgiveness drive - list", multipart("mixed", "=_csv_01", [
            plain("Hi Barb,\n\nAttached is the list of patrons with the largest balances for the\n"
                  "fine forgiveness drive.\n\n" + SIG_CIRC + "\n"),
            leaf(csv_text, "text/csv", "base64", "utf-8", filename="balances_2025-03.csv"),
        ]), 14, patrons=(WHITFIELD, PELLETIER, NGATA, REYES, BRANDT, FARLEY)))

    table_rows = "\n".join(
        f"<tr><td>{p.name}</td><td>{p.card}</td><td>{p.phone}</td><td>2</td></tr>"
        for p in (NGATA, BRANDT, OKAFOR))
    html = f"""<html><body>
<p>Hi Lorraine,</p>
<p>Here are the homebound patrons for next week's volunteer deliveries:</p>
<table border="1">
<tr><th>Patron</th><th>Card</th><th>Phone</th><th>Items</th></tr>
{table_rows}
</table>
<p>Thanks, Outreach</p>
</body></html>"""
    m.append(Mail(
        "leak_13_html_table_only.eml", "hold", "patron data only in an HTML table (text part says see table)",
        "Outreach <outreach@cityofsalem.net>", "lorraine@readingbuddies.example",
        "Homebound deliveries next week", multipart("alternative", "=_alt_13", [
            plain("Hi Lorraine,\n\nPlease see table in the HTML version of this message.\n\nThanks, Outreach\n"),
            leaf(html, "text/html", "quoted-printable", "utf-8"),
        ]), 15, patrons=(NGATA, BRANDT, OKAFOR)))

    inner = f"""From: Jill Sato <jsato@cityofsalem.net>
To: Rachel Ostrander <circ@cityofsalem.net>
Subject: Incident 3/2 - patron info
Date: Sun, 02 Mar 2025 16:40:00 -0800
Message-ID: <incident-0302@cityofsalem.net>
MIME-Version: 1.0
Content-Type: text/plain; charset="us-ascii"

Rachel, here is the patron who fell on the front steps:

{patron_block(FARLEY)}
Born {FARLEY.birth}

He said he would call back about the ambulance bill.
"""
    m.append(Mail(
        "leak_14_forwarded_rfc822.eml", "hold", "a forwarded message/rfc822 containing a patron record",
        "Rachel Ostrander <circ@cityofsalem.net>", "claims@cityinsurance.example",
        "Fwd: Incident 3/2 - patron info", multipart("mixed", "=_fwd_14", [
            plain("Please see the forwarded incident report for the claim.\n\n" + SIG_CIRC + "\n"),
            rfc822(inner),
        ]), 16, patrons=(FARLEY,)))

    quoted = "\n".join("> " + line if line else ">" for line in f"""Bev, yes that's our patron:

{millennium_screen(REYES, record_number('1077003'))}

Don't send this to the landlord though.
""".splitlines())
    m.append(Mail(
        "leak_15_quoted_reply.eml", "hold", "a quoted reply containing a patron record",
        "Bev Lund <blund@mtangelpubliclibrary.com>", "manager@orchardapts.example",
        "Re: tenant inquiry", plain(f"""Hi Mr. Gaines,

Sorry, we can't confirm anything about library users. Please contact the
police if you have concerns.

Bev

On Mon, Mar 17, 2025 at 10:02 AM Tom Haverly <thaverly@ccrls.org> wrote:
{quoted}
"""), 17, patrons=(REYES,)))

    def hold_entry(p: Patron, recno: str, title: str, call: str, item: str, status: str) -> str:
        rows = [("Patron Info", p.last_first), ("", recno), ("", p.email), ("", p.phone),
                ("TITLE", title), ("CALL #", call), ("BARCODE", item),
                ("Pickup Location", "Salem Main"), ("Hold Status", status)]
        return "\n".join(f"{a:<18}{b}" for a, b in rows)

    holds = "\n\n".join([
        hold_entry(PELLETIER, record_number("1029384"), "Where the crawdads sing / Delia Owens.",
                   "FIC OWENS", ITEM1, "On holdshelf"),
        hold_entry(NGATA, record_number("1031177"), "Being mortal : medicine and what matters in the end",
                   "362.175 GAWANDE", ITEM2, "In transit"),
        hold_entry(OKAFOR, record_number("1040552"), "Atomic habits / James Clear.", "158.1 CLEAR",
                   ITEM3, "On holdshelf"),
    ])
    m.append(Mail(
        "leak_16_outstanding_holds_list.eml", "hold", "an outstanding holds list",
        "Circulation <circ@cityofsalem.net>", "dispatch@valleycourier.example",
        "Holds to pull for Tuesday route", plain(f"""Route 3 driver,

Outstanding holds list for Tuesday, please bring the bins to Main:

{holds}
"""), 18, patrons=(PELLETIER, NGATA, OKAFOR), extra_ids=(record_number("1029384"),)))

    m.append(Mail(
        "leak_17_fax_unapproved_number.eml", "hold", "email-to-fax of a patron record to an unapproved number",
        "Rachel Ostrander <circ@cityofsalem.net>", "15035550199@efaxsend.com",
        "Fax: patron record as requested", plain(f"""FAX - Salem Public Library Circulation
To: Willamette Valley Legal Aid, Attn: intake
Pages: 1

Patron record as requested by phone:

{patron_block(NGATA)}
Date of birth: {NGATA.birth}
Balance owed: {NGATA.owed}
"""), 19, patrons=(NGATA,), extra_ids=(NGATA.birth,)))

    m.append(Mail(
        "leak_18_accented_name_qp.eml", "hold", "accented name with identifiers (UTF-8 quoted-printable)",
        "Ana Flores <aflores@cityofsalem.net>", "intake@familyservices.example",
        "Library card for your client", plain_utf8(f"""Hola Marisol,

Your client {NUNEZ.name} now has a library card so he can use the computers:

Nombre:    {NUNEZ.name}
Dirección: {NUNEZ.street}, Salem OR {NUNEZ.zip}
Teléfono:  {NUNEZ.phone}
Tarjeta:   {NUNEZ.card}

Saludos,
Ana Flores, Salem Public Library
"""), 20, patrons=(NUNEZ,)))

    m.append(Mail(
        "leak_19_nonascii_name_base64.eml", "hold", "non-ASCII name with identifiers (UTF-8 base64)",
        "Bev Lund <blund@mtangelpubliclibrary.com>", "tutor@brightminds.example",
        "Student library account", plain_utf8(f"""Hello,

For the tutoring sign-up: {ODEGAARD.name}'s library card is {ODEGAARD.card}
and the phone on her account is {ODEGAARD.phone}. She owes {ODEGAARD.owed} which
needs to be paid before she can check out laptops.

Bev Lund
Mt. Angel Public Library
""", cte="base64"), 21, patrons=(ODEGAARD,)))

    m.append(Mail(
        "leak_20_vietnamese_name_encoded_subject.eml", "hold",
        "Vietnamese name with identifiers (base64 body, RFC 2047 subject)",
        "Ana Flores <aflores@cityofsalem.net>", "caseworker@refugeehelp.example",
        "Thẻ thư viện cho Nguyễn Thị Lan", plain_utf8(f"""Chào chị,

Thông tin thẻ thư viện của Nguyễn Thị Lan:
Địa chỉ: {NGUYEN.street}, Salem OR {NGUYEN.zip}
Email: {NGUYEN.email}
Số thẻ: {NGUYEN.card}
Điện thoại: {NGUYEN.phone}

Ana Flores
Salem Public Library
""", cte="base64"), 22, patrons=(NGUYEN,), extra_ids=("Nguyễn Thị Lan",)))

    p = PELLETIER
    patronapi = f"""<HTML><BODY>
REC INFO[p!]=p<BR>
EXP DATE[p43]=06-30-26<BR>
PCODE1[p44]=-<BR>
P TYPE[p47]=0<BR>
TOT CHKOUT[p48]=212<BR>
HOME LIBR[p53]=sa   <BR>
BIRTH DATE[p51]={p.birth}<BR>
MONEY OWED[p96]={p.owed}<BR>
PATRN NAME[pn]={p.last_first}<BR>
ADDRESS[pa]={p.street.upper()}$SALEM OR {p.zip}<BR>
TELEPHONE[pt]={p.phone}<BR>
EMAIL ADDR[pz]={p.email}<BR>
P BARCODE[pb]={p.card}<BR>
RECORD #[p81]=1029384<BR>
</BODY></HTML>"""
    m.append(Mail(
        "leak_21_patronapi_dump.eml", "hold", "a PatronAPI dump",
        "Tom Haverly <thaverly@ccrls.org>", "dev@libraryapps.example",
        "PatronAPI response for your integration", plain(f"""Hi devs,

Here is the raw PatronAPI /dump output for a test account your app fails on:

{patronapi}

{SIG_CCRLS}
"""), 23, patrons=(PELLETIER,)))

    symphony = f"""*** DOCUMENT BOUNDARY ***
FORM=LDUSER
.USER_ID.   |a{FARLEY.card}
.USER_FIRST_NAME.   |a{FARLEY.first}
.USER_LAST_NAME.   |a{FARLEY.last}
.USER_PROFILE.   |aADULT
.USER_LIBRARY.   |aSALEM
.USER_BIRTH_DATE.   |a19660119
.USER_ADDR1_BEGIN.
.STREET.   |a{FARLEY.street}
.CITY/STATE.   |aSalem, OR
.ZIP.   |a{FARLEY.zip}
.PHONE.   |a{FARLEY.phone}
.EMAIL.   |a{FARLEY.email}
.USER_ADDR1_END.
.NOTE.   |aClaims returned 2 items 1/2025
.BILL_AMOUNT.   |a{FARLEY.owed}"""
    m.append(Mail(
        "leak_22_symphony_flat_record.eml", "hold", "a Symphony flat record",
        "Tom Haverly <thaverly@ccrls.org>", "migration@ilsmove.example",
        "Sample user record for the load test", plain(f"""Hi,

As requested, one user record in flat format so you can check your loader:

{symphony}

{SIG_CCRLS}
"""), 24, patrons=(FARLEY,)))

    sierra_json = json.dumps({
        "id": 1031177,
        "expirationDate": "2026-06-30",
        "birthDate": "1957-09-22",
        "patronType": 0,
        "names": [NGATA.last_first],
        "barcodes": [NGATA.card],
        "emails": [NGATA.email],
        "addresses": [{"lines": [NGATA.street, f"Salem OR {NGATA.zip}"], "type": "a"}],
        "phones": [{"number": NGATA.phone, "type": "t"}],
        "moneyOwed": 3.75,
        "varFields": [{"fieldTag": "x", "content": "Prefers large print; homebound delivery"}],
    }, indent=2, ensure_ascii=False)
    m.append(Mail(
        "leak_23_sierra_api_json_attachment.eml", "hold", "a Sierra API patron JSON attachment",
        "Tom Haverly <thaverly@ccrls.org>", "support@discoverylayer.example",
        "Case 9921: patron endpoint sample", multipart("mixed", "=_json_23", [
            plain("Attached is the JSON our Sierra returns for the patron in case 9921.\n\n" + SIG_CCRLS + "\n"),
            leaf(sierra_json + "\n", "application/json", "base64", None, filename="patron_1031177.json"),
        ]), 25, patrons=(NGATA,)))

    export_rows = ['"P BARCODE"|"EMAIL ADDR"|"PATRN NAME"|"ADDRESS"|"MONEY OWED"|"RECORD #(PATRON)"']
    for pp, digits in ((WHITFIELD, "1000457"), (REYES, "1077003"), (BRANDT, "1044120"), (OKAFOR, "1040552")):
        export_rows.append(
            f'"{pp.card}"|"{pp.email}"|"{pp.mil_name}"|"{pp.street.upper()}${pp.city.upper()} OR {pp.zip}"|'
            f'"{pp.owed}"|"p{digits}{sierra_check(digits)}"')
    export = "\n".join(export_rows)
    m.append(Mail(
        "leak_24_create_lists_export_pasted.eml", "hold", "a Create Lists export pasted into the body",
        "Rachel Ostrander <circ@cityofsalem.net>", "jpark.consulting@mailbox.example",
        "Data for the collections analysis", plain(f"""Jae,

Here's the export from review file 12 you asked for:

{export}

{SIG_CIRC}
"""), 26, patrons=(WHITFIELD, REYES, BRANDT, OKAFOR)))

    m.append(Mail(
        "leak_25_record_number_with_name.eml", "hold", "a patron record number (.p, valid check) with a name",
        "Jill Sato <jsato@cityofsalem.net>", "help@ebookvendor.example",
        "Patron can't log in", plain(f"""Hi,

{PELLETIER.name} (.p1029384x) still cannot log in to your app after the PIN
reset. Can you check your side?

Jill
"""), 27, patrons=(PELLETIER,), extra_ids=(".p1029384x",)))

    notice = f"""SALEM PUBLIC LIBRARY
585 Liberty St SE, Salem OR 97301   503-588-6130

{BRANDT.name}
{BRANDT.street}
Salem OR {BRANDT.zip}

                         OVERDUE NOTICE

Our records show the following items checked out on card {BRANDT.card}
are overdue. Please return or renew them as soon as possible.

  The Thursday Murder Club / Richard Osman     DUE 02-14-25
  Educated : a memoir / Tara Westover          DUE 02-14-25

Fines to date: {BRANDT.owed}"""
    m.append(Mail(
        "leak_26_overdue_notice_forwarded.eml", "hold", "a library overdue notice forwarded outside",
        "Rachel Ostrander <circ@cityofsalem.net>", "caseworker@seniorservices.example",
        "Fwd: overdue notice for your client", plain(f"""Hi Denise, forwarding the notice we mailed, as she asked us to.

---------- Forwarded message ---------
From: notices@cityofsalem.net
Subject: Overdue notice

{notice}
"""), 28, patrons=(BRANDT,)))

    m.append(Mail(
        "leak_27_collections_with_titles.eml", "hold",
        "the collections agency receiving titles (partner outside its categories)",
        "Rachel Ostrander <circ@cityofsalem.net>", "reports@unique-mgmt.com",
        "New referral - with item list", plain(f"""Hello Unique,

New referral for collection. The patron asked for the list of items, so please
include the titles on your letter:

Patron:  {REYES.name}
Card:    {REYES.card}
Address: {REYES.street}, Salem OR {REYES.zip}
Owed:    {REYES.owed}

Items checked out and not returned:
  The Body Keeps the Score / Bessel van der Kolk      due 12/02/2024   $18.00
  Lost Connections / Johann Hari                      due 12/02/2024   $17.00
  Dopamine Nation / Anna Lembke                       due 12/02/2024   $28.00

{SIG_CIRC}
"""), 29, patrons=(REYES,)))

    m.append(Mail(
        "leak_28_email_name_library_account.eml", "hold",
        "a patron's email address + name + library account to an outsider",
        "Nora Quist <nquist@dallasor.gov>", "billing@payportal.example",
        "Double charge", plain(f"""Hello,

Our patron {OKAFOR.name} ({OKAFOR.email}) says her library account was charged
twice for the same replacement fee through your portal. Can you refund one?

Nora Quist
Dallas Public Library
"""), 30, patrons=(OKAFOR,)))

    return m


# ---------------------------------------------------------------- negatives


def negatives() -> list[Mail]:
    m: list[Mail] = []

    m.append(Mail(
        "ok_01_vendor_signature.eml", "deliver", "vendor mail with contact names and phones (rep signature)",
        "Acquisitions <acq@cityofsalem.net>", "Karen Hollis <khollis@bakertaylor.example>",
        "Re: standing order for large print", plain("""Hi Karen,

Thanks, please go ahead and add the Thorndike large print mysteries to our
standing order starting in April. Same shipping address as before.

Pat Greer
Acquisitions, Salem Public Library

On Thu, Mar 6, 2025 at 2:11 PM Karen Hollis wrote:
> Hi Pat, we can add the Thorndike series at the usual 40% discount.
>
> Karen Hollis
> Senior Sales Consultant, Public Libraries - Pacific Northwest
> Baker & Taylor
> 2550 Commerce Park Dr, Charlotte NC 28217
> Office 800-555-0114 ext 2231 | Mobile 704-555-0186
> khollis@bakertaylor.example
"""), 3))

    m.append(Mail(
        "ok_02_author_event.eml", "deliver", "author event announcement (author names, dates, RSVP phone)",
        "Programs <programs@cityofsalem.net>", "calendar@statesmanjournal.example",
        "Community calendar: Author talk with Miriam Toews and Jon Raymond", plain("""Hello,

Please list the following in the community calendar:

AUTHOR TALK: Miriam Toews and Jon Raymond in conversation
Thursday, April 10, 2025, 7:00 pm
Loucks Auditorium, Salem Public Library, 585 Liberty St SE, Salem OR 97301

Free; seating is limited. RSVP by calling 503-588-6130 or at the
information desk. Books will be available for signing from Escape Fiction.

Contact for press: Dolores Whitman, Programs Coordinator, 503-555-0150.
"""), 4))

    m.append(Mail(
        "ok_03_ill_item_barcodes_isbns.eml", "deliver", "inter-library loan with item barcodes and ISBNs",
        "ILL <ill@cityofsalem.net>", "ill-returns@summitlibraries.example",
        "ILL returns shipped 3/5", plain(f"""Hello Summit,

Returning the following interlibrary loan items today via courier, tote 14:

Request      Item barcode       ISBN                Title
ILL-558201   {ITEM1}     978-0-14-312774-1   The Overstory
ILL-558237   {ITEM2}     9780525559474       The Midnight Library
ILL-558240   {ITEM3}     978-1-250-30169-7   Circe
ILL-558244   30234000517861     0-316-76948-7       The Catcher in the Rye

Please confirm receipt. Borrowing library: SPL (OCLC symbol OSX).

Ines Moreau
Interlibrary Loan, Salem Public Library
503-588-6130
"""), 5))

    m.append(Mail(
        "ok_04_circulation_statistics.eml", "deliver", "circulation statistics",
        "Tom Haverly <thaverly@ccrls.org>", "ldstats@statelibrary.example",
        "FY2024 circulation statistics - CCRLS", plain("""Hello,

FY2024 statistics for the annual public library report:

Library                  Checkouts   Renewals   Holds filled   Active cards
Salem Public Library       1204553     311208         198442          61044
Dallas Public Library       141208      30122          21877           7310
Mt. Angel PL                 38710       9044           5210           2104
Chemeketa CC Library         88102      12004           9932          14028
Total                      1472573     362378         235461          84486

Digital checkouts (OverDrive/Libby): 402,118. Program attendance: 48,221.

Tom Haverly
Systems Librarian, CCRLS
503-588-6060
"""), 6))

    m.append(Mail(
        "ok_05_board_meeting_notes.eml", "deliver", "board meeting notes with staff names",
        "Director's Office <director@cityofsalem.net>", "board-list@friendsofsalemlibrary.example",
        "Library Advisory Board - draft minutes, March 11", plain("""Draft minutes, Library Advisory Board, March 11, 2025

Present: Chair Linda Okamoto, Vice Chair Robert Fenn, members Gail Trujillo,
Samuel Ortiz, Priya Raman. Staff: Director Marla Jennings, Circulation
Supervisor Rachel Ostrander, Youth Services Manager Deb Kowalski.

1. Director's report: the West Salem branch roof repair finishes April 30.
2. Circulation report (R. Ostrander): fines on children's materials ended
   January 1; 1,842 cards were unblocked. Overdue returns rose 12%.
3. Budget: FY26 request of $6.2 million goes to City Council on May 5.
4. Next meeting: April 8, 2025, 5:30 pm, Anderson Room B.

Minutes taken by Deb Kowalski, 503-588-6130.
"""), 7))

    m.append(Mail(
        "ok_06_job_posting.eml", "deliver", "a job posting (valid driver's license, HR phone)",
        "Human Resources <hr@cityofsalem.net>", "jobs@orlibraries.example",
        "Job posting: Library Courier (part-time)", plain("""Please post the following to the OLA jobline:

LIBRARY COURIER (0.5 FTE) - Salem Public Library
Salary: $19.84 - $24.12 per hour. Closes March 31, 2025.

Drives the delivery van between CCRLS member libraries, loads and unloads
totes of up to 40 lbs. Must have a valid driver's license and an acceptable
driving record; a pre-employment background check is required.

Apply at the City of Salem careers site, job #2025-0417. Questions: Human
Resources, 503-555-0177, or hr@cityofsalem.net.
"""), 8))

    m.append(Mail(
        "ok_07_collections_within_categories.eml", "deliver",
        "the collections agency receiving name + card + amount owed (within its categories)",
        "Rachel Ostrander <circ@cityofsalem.net>", "reports@unique-mgmt.com",
        "Weekly placement file", plain(f"""Weekly placement for account SPL-0391:

Patron #    Barcode           Name                 Amount owed   First fine date   Status
{record_number('1000457')[1:]}   {WHITFIELD.card}    {WHITFIELD.last_first:<21}{WHITFIELD.owed:<12}  10/14/2024        NEW
{record_number('1077003')[1:]}   {REYES.card}    {REYES.last_first:<21}{REYES.owed:<12}  11/02/2024        NEW
{record_number('1088214')[1:]}   {FARLEY.card}    {FARLEY.last_first:<21}{FARLEY.owed:<12}  09/30/2024        NEW

Addresses: {WHITFIELD.street}, Salem OR {WHITFIELD.zip}; {REYES.street}, Salem OR {REYES.zip};
{FARLEY.street}, Salem OR {FARLEY.zip}.

{SIG_CIRC}
"""), 9))

    m.append(Mail(
        "ok_08_internal_full_patron_record.eml", "deliver", "internal mail between member libraries with a full patron record",
        "Nora Quist <nquist@dallasor.gov>", "Rachel Ostrander <circ@cityofsalem.net>",
        "Duplicate record to merge", plain(f"""Rachel,

This patron registered again at Dallas; please merge with the Salem record:

{millennium_screen(OKAFOR, record_number('1040552'))}

Thanks,
Nora
"""), 10, cc="circ@ccrls.org"))

    m.append(Mail(
        "ok_09_newsletter.eml", "deliver", "a library newsletter",
        "Salem Public Library <news@cityofsalem.net>", "subscribers@lists.salemreads.example",
        "Library News - March 2025", multipart("alternative", "=_news_09", [
            plain("""LIBRARY NEWS - MARCH 2025

* Spring Break Reading Challenge starts March 22: read 5 books, win a prize.
* Tax help with AARP Tax-Aide volunteers, Saturdays 10-2 through April 12.
* New: borrow a telescope! Ask at the Information Desk or call 503-588-6130.
* Staff pick: "Lessons in Chemistry" by Bonnie Garmus, chosen by Ines Moreau.

Salem Public Library, 585 Liberty St SE, Salem OR 97301.
To unsubscribe reply with REMOVE.
"""),
            leaf("""<html><body><h1>Library News - March 2025</h1>
<ul><li>Spring Break Reading Challenge starts March 22.</li>
<li>Tax help with AARP Tax-Aide volunteers, Saturdays 10-2.</li>
<li>New: borrow a telescope! Call 503-588-6130.</li>
<li>Staff pick: <i>Lessons in Chemistry</i> by Bonnie Garmus.</li></ul>
<p>Salem Public Library, 585 Liberty St SE, Salem OR 97301</p></body></html>""",
                 "text/html", "quoted-printable", "utf-8"),
        ]), 11))

    m.append(Mail(
        "ok_10_staff_phone_list.eml", "deliver", "a staff phone list with names and extensions",
        "Facilities <facilities@cityofsalem.net>", "dispatch@valleyhvac.example",
        "Contacts for the HVAC work next week", plain("""Hi,

Here are the staff contacts for the HVAC replacement next week:

Marla Jennings, Library Director ........ 503-588-6130 ext 7201
Rachel Ostrander, Circulation ........... 503-588-6130 ext 7215
Luis Baca, Facilities Lead .............. 503-555-0166 (cell)
Deb Kowalski, Youth Services ............ ext 7240
After hours: City Facilities dispatch ... 503-555-0100

Doors open at 7:30 am. Park in the staff lot off Leslie St SE.
"""), 12))

    m.append(Mail(
        "ok_11_invoice_totals.eml", "deliver", "an invoice with totals (and an order reference failing the card check)",
        "Accounts Payable <ap@cityofsalem.net>", "ar@midwesttape.example",
        "Payment for invoice 88120417", plain(f"""Hello,

Payment was issued today for the invoice below.

Invoice #:        88120417
Customer #:       200417
Order reference:  {bad_card(4881520)}
Items:            37 DVDs, 12 audiobooks
Subtotal:         $1,284.55
Processing:       $62.90
Shipping:         $0.00
Total paid:       $1,347.45   (check 0047712, dated 03/12/2025)

Accounts Payable, City of Salem
503-555-0131
"""), 13))

    m.append(Mail(
        "ok_12_book_list.eml", "deliver", "a book list with authors and titles",
        "Readers' Advisory <ra@cityofsalem.net>", "bookclub@southsalemseniors.example",
        "Book club kit suggestions", plain("""Hi Joan,

Kits available for your book club this spring (10 copies each, 6-week loan):

  1. Demon Copperhead / Barbara Kingsolver
  2. The Covenant of Water / Abraham Verghese
  3. Tom Lake / Ann Patchett
  4. Horse / Geraldine Brooks
  5. The Heaven & Earth Grocery Store / James McBride

Reserve a kit by replying or calling 503-588-6130.
Ines
"""), 14))

    m.append(Mail(
        "ok_13_program_flyer.eml", "deliver", "a program flyer with the library's own phone",
        "Youth Services <youth@cityofsalem.net>", "office@englewoodelementary.example",
        "Flyer: Teen Tech Week", multipart("mixed", "=_flyer_13", [
            plain("Please share the attached flyer with your families. Thank you!\n"),
            leaf("""TEEN TECH WEEK at Salem Public Library
March 9-15, 2025 | Ages 12-18 | Free

Build a robot, learn 3D printing, and code a video game.
Registration required: call 503-588-6130 or visit the Teen Scene desk.
585 Liberty St SE, Salem OR 97301
""", "text/plain", "7bit", "us-ascii", filename="teen_tech_week.txt"),
        ]), 15))

    m.append(Mail(
        "ok_14_fax_purchase_order_approved.eml", "deliver",
        "email-to-fax of a benign purchase order to the approved fax number",
        "Acquisitions <acq@cityofsalem.net>", "15035550142@efaxsend.com",
        "PO 25-0311", plain("""PURCHASE ORDER 25-0311
Salem Public Library, 585 Liberty St SE, Salem OR 97301  Tel 503-588-6130

Qty  Description                               Unit      Total
 2   Collection letter envelopes, box of 500   $41.00    $82.00
 1   Return postage permit renewal             $310.00   $310.00
                                               TOTAL     $392.00

Authorized: Pat Greer, Acquisitions
"""), 16))

    m.append(Mail(
        "ok_15_fax_approved_patron_record.eml", "deliver",
        "a patron record sent to the approved fax number with allowed categories",
        "Rachel Ostrander <circ@cityofsalem.net>", "15035550142@efaxsend.com",
        "Fax: updated address for referral", plain(f"""FAX - Salem Public Library Circulation
To: Unique Management Services
Re: account SPL-0391, address update

{patron_block(WHITFIELD)}
Amount owed: {WHITFIELD.owed}
"""), 17))

    m.append(Mail(
        "ok_16_fax_approved_patron_record_rcfax.eml", "deliver",
        "a patron record to the approved fax number through another gateway (10-digit local part)",
        "Rachel Ostrander <circ@cityofsalem.net>", "5035550142@rcfax.com",
        "Fax: balance correction", plain(f"""FAX - Salem Public Library Circulation
To: Unique Management Services

Balance correction for {FARLEY.name}, card {FARLEY.card}: the amount owed is now
{FARLEY.owed} (one item returned). Date of birth on file {FARLEY.birth}.
"""), 18))

    m.append(Mail(
        "ok_17_vendor_support_patron_words.eml", "deliver",
        "vendor support ticket using patron/account words with no patron data",
        "Tom Haverly <thaverly@ccrls.org>", "support@discoverylayer.example",
        "Case 9930: patron login timeouts", plain("""Hi,

Since the upgrade on March 4, patrons get a timeout when they log in to their
library account from the catalog. About 3% of logins fail, mostly between 9
and 10 am. No patron records are affected; holds and renewals work once
logged in. Our SIP2 server is on port 6001 as before.

Please call me at 503-588-6060 if you need a screen share.

Tom Haverly
Systems Librarian, CCRLS
"""), 19))

    m.append(Mail(
        "ok_18_damaged_items_bindery.eml", "deliver", "item barcodes only, sent to a bindery vendor",
        "Technical Services <techsvc@cityofsalem.net>", "orders@pnwbindery.example",
        "Rebind shipment 2025-03", plain(f"""Hello,

Shipment 2025-03 for rebinding, 4 items:

{ITEM4}  Oregon Blue Book 1999
{card(845137, '3')}  Marion County atlas
{card(845144, '3')}  Salem city directory 1962
{card(845151, '3')}  Salem city directory 1963

Return to Technical Services, 585 Liberty St SE, Salem OR 97301.
"""), 20))

    m.append(Mail(
        "ok_19_conference_call_details.eml", "deliver", "meeting invite with a dial-in number and PIN",
        "Marla Jennings <mjennings@cityofsalem.net>", "directors@orlibraries.example",
        "Directors call, March 20", plain("""Hello all,

Our monthly directors' call is Thursday March 20 at 10:00 am.
Dial-in: 971-555-0133, access code 48812207#
Agenda: summer reading kickoff, courier contract, OverDrive pricing.

Marla Jennings
Director, Salem Public Library
"""), 21))

    m.append(Mail(
        "ok_20_press_release.eml", "deliver", "press release naming officials with a public address and phone",
        "Communications <pio@cityofsalem.net>", "newsdesk@kmuz.example",
        "Press release: Library hours expand", plain("""FOR IMMEDIATE RELEASE

Salem Public Library expands Sunday hours

SALEM, Ore. - Beginning April 6, Salem Public Library, 585 Liberty St SE,
will open Sundays from 1 to 5 pm. "Families asked for this," said Mayor
Julie Hoy. Library Director Marla Jennings added that the change is funded
by the 2024 operating levy.

Media contact: Courtney Bell, Public Information Officer, 503-555-0139.
"""), 22))

    return m


# ---------------------------------------------------------------- output


def decoded_text(raw: bytes) -> str:
    """All text a reader could see in the message (headers and every decoded leaf), for id checks."""
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    out = [str(msg.get("subject", ""))]
    for part in msg.walk():
        if part.is_multipart() or part.get_content_type() == "message/rfc822":
            continue
        payload = part.get_payload(decode=True) or b""
        out.append(payload.decode(part.get_content_charset() or "utf-8", errors="replace"))
    return "\n".join(out)


def main(out: Path = HERE) -> None:
    """Write every message, labels.tsv and identifiers.txt into `out` (default: this folder)."""
    mails = leaks() + negatives()
    names = [m.file for m in mails]
    assert len(names) == len(set(names)), "duplicate file names"
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.eml"):
        old.unlink()
    identifiers: dict[str, None] = {}
    for mail in mails:
        raw = mail.raw()
        (out / mail.file).write_bytes(raw)
        if mail.expect != "hold":
            continue
        text = decoded_text(raw)
        candidates = [f for p in mail.patrons for f in p.forms()] + list(mail.extra_ids)
        for ident in candidates:
            if len(ident) >= 5 and ident in text:
                identifiers.setdefault(ident, None)
        assert any(i in text for i in candidates) or not candidates, mail.file
    with (out / "labels.tsv").open("w", encoding="utf-8", newline="\n") as fh:
        fh.write("file\texpect\tscenario\n")
        for mail in mails:
            fh.write(f"{mail.file}\t{mail.expect}\t{mail.scenario}\n")
    with (out / "identifiers.txt").open("w", encoding="utf-8", newline="\n") as fh:
        fh.write("# Raw patron values used in the leak messages (generated by build.py; one per line).\n")
        fh.write("# No scanner output (JSON, stderr, logs) may contain any of them.\n")
        for ident in identifiers:
            fh.write(ident + "\n")
    print(f"wrote {len(mails)} messages ({sum(m.expect == 'hold' for m in mails)} leaks), "
          f"{len(identifiers)} identifiers")


if __name__ == "__main__":
    import sys

    main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE)
