"""Disclosure scenarios: patron data leaving the library in realistic staff mail (expected: held).

Builders take a `Ctx` and return a `Built`. What varies: the material (an
ILS notice or record, a list, staff prose, identifiers), who receives it
(relative, police, school, employer, friend, landlord, vendor, ...), and how
it travels (pasted, quoted reply, inline forward, message/rfc822, HTML,
CSV/XLSX/PDF/TXT/JSON attachment, email-to-fax, the collection agency).
"""

from __future__ import annotations

import html as html_lib
import re

from bench.corpus import prose, tables, wrappers
from bench.corpus.identity import Patron, Row, Staff, ascii_fold
from bench.corpus.ils import TEMPLATES
from bench.corpus.mime import Attachment, Mail, build, pdf_bytes
from bench.corpus.model import Fill, Template, render
from bench.corpus.scene import Built, Ctx, Labels

ROLES_FOR_NOTICES = ("relative", "relative", "friend", "police", "employer", "landlord", "attorney", "caseworker",
                     "vendor", "reporter", "other-patron", "school")

SUBJECTS = {
    "dev": {
        "relative": ["Fwd: {subject}", "your mom's library account", "the overdue books", "{who}'s notice"],
        "police": ["Records request - {who}", "RE: patron info", "Fwd: {subject}"],
        "school": ["overdue library books", "Fwd: {subject}", "library notice for {who}"],
        "employer": ["RE: verification for {who}", "Fwd: {subject}"],
        "friend": ["lol", "Fwd: {subject}", "here"],
        "landlord": ["tenant info", "RE: {who}"],
        "reporter": ["Fwd: {subject}"],
        "attorney": ["Records for {who}"],
        "vendor": ["Ticket: notice problem", "Fwd: {subject} (bad output)"],
        "caseworker": ["{who} account"],
        "other-patron": ["the book you're waiting for"],
    },
    "test": {
        "relative": ["FW: {subject}", "Dad's books", "RE: library letter", "account for {who}"],
        "police": ["RE: case follow-up", "FW: {subject}", "info you asked for"],
        "school": ["FW: {subject}", "students with overdue books", "RE: library"],
        "employer": ["FW: {subject}", "reference check"],
        "friend": ["FW: {subject}", "you didn't get this from me", "info"],
        "landlord": ["FW: {subject}", "re: your tenant"],
        "reporter": ["background"],
        "attorney": ["FW: {subject}"],
        "vendor": ["Case 44812 - notice output", "FW: {subject}"],
        "caseworker": ["RE: client account"],
        "other-patron": ["FW: {subject}"],
    },
}


def _cards_in(text: str, *patrons: Patron) -> list[str]:
    """Full card numbers of these patrons that the text contains in any written form."""
    flat = re.sub(r"[\s\-]", "", text)
    return [p.card for p in patrons if p.card in flat]


def _until_days(ctx: Ctx, t: Template) -> int:
    """Holds wait days on the shelf; registrations run out in a year."""
    yearly = any(w in t.name.lower() for w in ("expir", "patron data", "record", "patronapi", "rest patron", "ficha", "lduser"))
    return 365 if yearly else ctx.rng.choice((5, 7, 10))


def _fill(ctx: Ctx, t: Template, p: Patron, s: Staff) -> Fill:
    n = ctx.rng.randrange(1, 5)
    items = ctx.people.items(n, ctx.today)
    if t.rows:
        rows = [Row(p, items[0])] + [Row(ctx.people.new_patron(), it) for it in ctx.people.items(ctx.rng.randrange(2, 7), ctx.today)]
        return Fill(p, p.library, tuple(rows), ctx.dates, ctx.until(_until_days(ctx, t)), s)
    return Fill(p, p.library, tuple(items), ctx.dates, ctx.until(_until_days(ctx, t)), s)


def html_to_text(markup: str) -> str:
    text = re.sub(r"<(br|/p|/tr|/li|/h\d|/div)\s*/?>", "\n", markup)
    text = re.sub(r"<[^>]+>", " ", text)
    text = html_lib.unescape(text)
    return "\n".join(" ".join(line.split()) for line in text.splitlines() if line.strip()) + "\n"


def notice_email(ctx: Ctx, t: Template, p: Patron, body: str) -> tuple[Mail, str]:
    """The notice as the ILS mailed it to the patron (for rfc822 forwards)."""
    lib = p.library
    mail = Mail((lib.name, lib.notices), [(p.name, p.email)], t.subject, html_to_text(body) if t.html else body,
                ctx.when(), ctx.token + "/inner", html=body if t.html else None,
                extra_headers=(("Auto-Submitted", "auto-generated"),))
    return mail, f"{ctx.dates.long}"


_SALUTES = ("Hi", "Hey", "hey", "Hello", "Dear", "Good", "Detective", "Officer", "Sgt.", "Deputy", "Counsel", "Mr./Ms.",
            "Hola", "Buenos", "Estimado/a", "Chào", "Kính", "Здравствуйте")


def _compose(ctx: Ctx, s: Staff, r_first: str, intro: str, body: str, closing: str | None = None) -> str:
    rng = ctx.rng
    greeting = rng.choice(wrappers.GREETINGS[ctx.split]).format(r=r_first)
    if not r_first or intro.split(" ", 1)[0].rstrip(",") in _SALUTES or (r_first and intro.startswith(r_first)):
        greeting = ""
    closing = closing or rng.choice(wrappers.CLOSINGS[ctx.split])
    sig = wrappers.signature(ctx.split, s, rng)
    parts = [greeting, intro, body.rstrip("\n"), closing, sig] if intro else [greeting, body.rstrip("\n"), closing, sig]
    return "\n\n".join(x for x in parts if x) + "\n"


def _recipients(ctx: Ctx, r: wrappers.Recipient, s: Staff) -> tuple[list[tuple[str, str]], list[tuple[str, str]], list[dict[str, str]]]:
    to = [(r.name, r.address)]
    cc: list[tuple[str, str]] = []
    labels = [{"address": r.address, "expect": "hold", "role": r.role}]
    if ctx.rng.random() < 0.2:
        c = ctx.colleague(s)
        cc.append(c)
        labels.append({"address": c[1], "expect": "deliver", "role": "internal"})
    return to, cc, labels


def notice_forward(ctx: Ctx, t: Template) -> Built:
    """An ILS notice, slip or record (filled for a patron) sent to an outsider."""
    rng = ctx.rng
    p = ctx.people.new_patron(locale="ru_RU" if t.lang == "ru" else ("es_MX" if t.lang == "es" else None))
    s = ctx.staff(p.library)
    fill = _fill(ctx, t, p, s)
    body = render(t, fill)
    role = "school" if t.rows and rng.random() < 0.3 else rng.choice(ROLES_FOR_NOTICES)
    r = wrappers.recipient(ctx.people, role, p)
    intro = rng.choice(wrappers.INTROS[ctx.split][role]).format(r=r.first, who=p.name)
    subject = rng.choice(SUBJECTS[ctx.split][role]).format(subject=t.subject, who=p.name)
    to, cc, rlabels = _recipients(ctx, r, s)
    carriers = ["inline", "fwd-inline", "rfc822", "quoted", "pdf", "txt"]
    if t.headers_only_name:
        carriers = ["fwd-inline", "rfc822"]
    if t.html:
        carriers = ["html", "rfc822", "fwd-inline", "pdf"]
    if t.id in ("sierra-json",):
        carriers = ["json", "inline"]
    carrier = rng.choice(carriers)
    mail = Mail((s.name, s.email), to, subject, "", ctx.when(), ctx.token, cc=cc, crlf=rng.random() < 0.3)
    plain = html_to_text(body) if t.html else body
    if carrier == "inline":
        mail.text = _compose(ctx, s, r.first, intro, plain)
    elif carrier == "fwd-inline":
        fwd = wrappers.inline_forward(ctx.split, rng, (p.library.name, p.library.notices), (p.name, p.email), t.subject,
                                      ctx.date_text(), plain)
        mail.text = _compose(ctx, s, r.first, intro, fwd)
    elif carrier == "rfc822":
        inner, _ = notice_email(ctx, t, p, body)
        mail.text = _compose(ctx, s, r.first, intro, "")
        mail.forwarded = build(inner)
    elif carrier == "quoted":
        q = wrappers.question(ctx.split, role, rng, p)
        quoted = wrappers.quoted_reply(ctx.split, f"{r.name} <{r.address}>", ctx.date_text(), q)
        mail.text = _compose(ctx, s, r.first, "", plain) + "\n" + quoted + "\n"
        mail.subject = "Re: " + ("question" if ctx.split == "dev" else "library records")
    elif carrier == "html":
        mail.text = _compose(ctx, s, r.first, intro, plain)
        mail.html = (f"<html><body><p>{html_lib.escape(intro)}</p>\n{body}\n<p>{html_lib.escape(s.name)}<br>"
                     f"{html_lib.escape(s.library.name)}</p></body></html>\n")
    elif carrier in ("pdf", "txt"):
        mail.text = _compose(ctx, s, r.first, intro, "(attached)" if ctx.split == "dev" else "See the attachment.")
        stem = t.subject.lower().replace(" ", "_").replace(",", "")
        if carrier == "pdf":
            mail.attachments.append(Attachment(f"{stem}.pdf", "application/pdf", pdf_bytes(plain.splitlines(), title=t.subject)))
        else:
            mail.attachments.append(Attachment(f"{stem}.txt", "text/plain", plain))
    elif carrier == "json":
        mail.text = _compose(ctx, s, r.first, intro, "JSON from the API is attached.")
        mail.attachments.append(Attachment("patron.json", "application/json", body.encode("utf-8")))
    people = [p] + [row.patron for row in fill.items if isinstance(row, Row)]
    kind = "record" if "record" in t.source or "records" in t.source or t.rows else "notice"
    labels = Labels("disclosure", t.family, f"{kind}-forward", f"{t.name} sent to {role} ({carrier})", [t.id], [t.source],
                    carrier, rlabels, sorted(set(t.categories)), t.lang, _cards_in(body, *people))
    return Built(mail, labels)


LIST_ROLES = ("school", "vendor", "friend", "employer", "relative", "other-patron", "reporter")


def list_message(ctx: Ctx, layout: tables.Layout, family: str) -> Built:
    """A list or export of several patrons, pasted (family tables) or attached (family attachments)."""
    rng = ctx.rng
    s = ctx.staff()
    minors = layout.id == "class-overdues"
    rows = [Row(ctx.people.new_patron(minor=minors), it)
            for it in ctx.people.items(rng.randrange(3, 12), ctx.today, juvenile=minors)]
    role = "school" if layout.id == "class-overdues" else rng.choice(LIST_ROLES)
    r = wrappers.recipient(ctx.people, role, rows[0].patron)
    to, cc, rlabels = _recipients(ctx, r, s)
    intro = {
        "dev": [f"Here is the {layout.title.lower()} you asked for.", f"Attached/below is this week's {layout.title.lower()}.",
                "I ran the report this morning:"],
        "test": [f"As requested, the {layout.title.lower()} is included.", "Report output below (pulled today).",
                 f"Please find the {layout.title.lower()}."],
    }[ctx.split]
    text_intro = rng.choice(intro)
    mail = Mail((s.name, s.email), to, layout.title + (" - " + ctx.dates.us if rng.random() < 0.5 else ""), "", ctx.when(),
                ctx.token, cc=cc, crlf=rng.random() < 0.3)
    if family == "tables":
        carrier = rng.choice(tables.PASTE_FORMS[ctx.split] + ("html",))
        if carrier == "html":
            note = {"dev": "(see the table in the HTML version of this message)",
                    "test": "The report is in the formatted part of this email; your mail program may show it as a table."}
            mail.text = _compose(ctx, s, r.first, text_intro, note[ctx.split])
            mail.html = tables.html_table(layout, rows)
            content = mail.html
        else:
            content = tables.pasted(layout, rows, carrier)
            mail.text = _compose(ctx, s, r.first, text_intro, content)
    else:
        carrier = tables.pick_kind(rng)
        stem = layout.id.replace("-", "_") + "_" + ctx.dates.iso
        att = tables.attachment(layout, rows, carrier, stem)
        mail.attachments.append(att)
        mail.text = _compose(ctx, s, r.first, text_intro, "")
        content = "\n".join(",".join(layout.cells(row)) for row in rows)
    cats = list(layout.categories)
    if carrier in ("bullets-name-first",):
        cats = [c for c in cats if c in ("name", "titles", "holds")] + ["titles"]
    if carrier == "holds-for":
        cats = ["name", "phone", "holds", "titles"]
    if carrier == "name-above-address":
        cats = ["name", "address", "phone"]
    if carrier == "bullets-title-first":
        cats = ["name", "titles", "card_number"]
    labels = Labels("disclosure", family, "list", f"{layout.title} to {role} ({carrier})", [f"table-{layout.id}"],
                    ["sierra-records" if layout.id in ("holds-pickup",) else "staff-prose"], carrier, rlabels,
                    sorted(set(cats)), "en", _cards_in(content, *[row.patron for row in rows]))
    return Built(mail, labels)


PROSE_ROLES = ("relative", "friend", "police", "employer", "landlord", "school", "reporter", "attorney", "other-patron",
               "caseworker")


def prose_message(ctx: Ctx, family: str, kinds: tuple[str, ...], lang: str = "en") -> Built:
    """Staff writing patron data in sentences (family prose, identifiers or multilingual)."""
    rng = ctx.rng
    pool = [x for x in prose.sentences(ctx.split, lang) if x.kind in kinds] or prose.sentences(ctx.split, lang)
    chosen = rng.sample(pool, min(len(pool), rng.choice((1, 1, 2, 3))))
    p = ctx.people.new_patron(locale={"es": "es_MX", "vi": "vi_VN", "ru": "ru_RU"}.get(lang))
    child = ctx.people.new_patron(minor=True)
    about_child = any("{r." in x.text for x in chosen)
    t1, t2 = ctx.people.items(2, ctx.today, juvenile=about_child)
    other = ctx.people.other_card()
    s = ctx.staff(p.library)
    role = rng.choice(PROSE_ROLES)
    r = wrappers.recipient(ctx.people, role, p)
    to, cc, rlabels = _recipients(ctx, r, s)
    body = " ".join(x.text.format(p=p, r=child, t1=t1, t2=t2, o=other, lib=p.library) for x in chosen)
    if lang == "en":
        text_intro = rng.choice(("", "", rng.choice(wrappers.INTROS[ctx.split][role]).format(r=r.first, who=p.name)))
        carrier = rng.choice(("inline", "inline", "quoted", "html"))
    else:
        text_intro = rng.choice(prose.LANG_INTROS[(ctx.split, lang)]).format(r=r.first)
        carrier = rng.choice(("inline", "quoted"))
    subject = rng.choice(SUBJECTS[ctx.split][role]).format(subject="library account", who=p.name)
    mail = Mail((s.name, s.email), to, subject, "", ctx.when(), ctx.token, cc=cc, crlf=rng.random() < 0.3,
                cte=rng.choice((None, None, "quoted-printable", "base64")) if lang != "en" else None)
    text = _compose(ctx, s, r.first, text_intro, body, None if lang == "en" else prose.LANG_CLOSINGS[(ctx.split, lang)])
    if carrier == "quoted":
        q = wrappers.question(ctx.split, role, rng, p)
        text += "\n" + wrappers.quoted_reply(ctx.split, f"{r.name} <{r.address}>", ctx.date_text(), q) + "\n"
        mail.subject = "Re: " + mail.subject
    mail.text = text
    if carrier == "html":
        mail.html = "<html><body>" + "".join(f"<p>{html_lib.escape(par)}</p>\n" for par in text.split("\n\n")) + "</body></html>\n"
    cats = sorted({c for x in chosen for c in x.categories})
    labels = Labels("disclosure", family, "prose:" + "+".join(sorted({x.kind for x in chosen})),
                    f"staff prose ({', '.join(x.kind for x in chosen)}) to {role}", [x.id for x in chosen], ["staff-prose"],
                    carrier, rlabels, cats, lang, _cards_in(body, p, child))
    # another institution's card is a card of a patron too: record it for the check-digit test
    if "{o}" in "".join(x.text for x in chosen):
        labels.cards.append(other)
    return Built(mail, labels)


def card_alone(ctx: Ctx) -> Built:
    """A card number with card words and no name (ours or another institution's)."""
    rng = ctx.rng
    p = ctx.people.new_patron()
    s = ctx.staff(p.library)
    number = ctx.people.other_card() if rng.random() < 0.6 else p.card
    form = rng.choice(("plain", "spaced", "codabar") if ctx.split == "dev" else ("plain", "hyphen", "fours"))
    shown = {"plain": number, "spaced": f"{number[0]} {number[1:5]} {number[5:13]} {number[13]}", "codabar": f"A{number}B",
             "hyphen": f"{number[0]}-{number[1:5]}-{number[5:13]}-{number[13]}",
             "fours": f"{number[0:4]} {number[4:8]} {number[8:12]} {number[12:]}"}[form]
    lines = {
        "dev": [f"Can you look up library card {shown} and tell me whose it is? Someone left it at the copier.",
                f"The patron's library card number is {shown}; she said it's from her old library.",
                f"Card: {shown} -- blocked for lost items, please don't let them check out at your branch."],
        "test": [f"Found a library card at the bus stop, number {shown}. Is this one of yours?",
                 f"Here's the barcode off her library card: {shown}",
                 f"Patron card {shown} keeps failing at self-check, could your techs look?"],
    }[ctx.split]
    role = rng.choice(("friend", "vendor", "other-patron", "police", "relative"))
    r = wrappers.recipient(ctx.people, role, p)
    to, cc, rlabels = _recipients(ctx, r, s)
    text = _compose(ctx, s, r.first, "", rng.choice(lines))
    mail = Mail((s.name, s.email), to, rng.choice(("card number", "library card", "quick question")), text, ctx.when(), ctx.token,
                cc=cc)
    labels = Labels("disclosure", "identifiers", "card-alone", f"a card number ({form}) with card words to {role}",
                    [f"card-alone-{ctx.split}"], ["staff-prose"], "inline", rlabels, ["card_number"], "en", [number])
    return Built(mail, labels)


# ---------------------------------------------------------------- collection agency and fax

AGENCY_LAYOUTS = {
    # NOTES.md §2: collection-agency reports carry patron #, barcode, name, amount owed,
    # item cost, first fine date, status. The extra columns are what the agency may not receive.
    "dev": (("Patron #", "Barcode", "Name", "Address", "Phone", "Amount Owed", "First Fine Date", "Status"),
            {"titles": "Titles", "holds": "Hold Requests", "notes": "Notes"}),
    "test": (("PATRON_ID", "CARD", "LAST", "FIRST", "DOB", "STREET", "CITY_ZIP", "BALANCE", "ITEM_COST", "REFERRED"),
             {"titles": "ITEMS_OUT", "holds": "HOLDS", "notes": "STAFF_NOTE"}),
}


def _agency_rows(ctx: Ctx, patrons: list[Patron], extra: str | None) -> list[list[str]]:
    rows = []
    for p in patrons:
        items = ctx.people.items(2, ctx.today)
        amount = f"{ctx.rng.uniform(25, 260):.2f}"  # referrals start at $25 owed
        if ctx.split == "dev":
            row = [p.record_bare, p.card, p.ils_name, p.one_line_address, p.phone, amount, items[0].due_us, "NEW"]
        else:
            row = [p.record_digits, p.card, p.last.upper(), p.first.upper(), p.dob_us, p.address, f"{p.city} {p.zip}", amount,
                   items[0].price, ctx.dates.iso]
        if extra == "titles":
            row.append("; ".join(i.title for i in items))
        elif extra == "holds":
            row.append(f"hold: {items[1].title}")
        elif extra == "notes":
            row.append(rng_note(ctx))
        rows.append(row)
    return rows


def rng_note(ctx: Ctx) -> str:
    return ctx.rng.choice(("says she is in recovery, be gentle", "domestic situation - do not call home number",
                           "pt. was homeless last year", "disputes bill, son took the items"))


def agency_referral(ctx: Ctx, excess: str | None) -> Built:
    """A referral file to the collection agency: within its categories (deliver) or with more (hold)."""
    rng = ctx.rng
    s = ctx.staff()
    patrons = [ctx.people.new_patron() for _ in range(rng.randrange(2, 9))]
    head, extra_cols = AGENCY_LAYOUTS[ctx.split]
    header = list(head) + ([extra_cols[excess]] if excess else [])
    rows = _agency_rows(ctx, patrons, excess)
    agent = ctx.people.new_staff()
    agent_local = ascii_fold(f"{agent.first[0]}{agent.last}").lower().replace(" ", "")  # addresses are ASCII
    to_addr = rng.choice(("placements@unique-mgmt.com", f"{agent_local}@unique-mgmt.com",
                          "clientservices@unique-mgmt.com"))
    kind = rng.choice(("csv-unquoted-comma", "csv-quoted-comma", "xlsx", "pasted", "csv-pipe"))
    intro = {"dev": "Attached is this month's referral list for collections.",
             "test": "Please find the weekly submission below/attached. Let me know if anything fails to load."}[ctx.split]
    mail = Mail((s.name, s.email), [("Unique Management", to_addr)], f"Referrals {ctx.dates.us}", "", ctx.when(), ctx.token)
    if kind == "pasted":
        body = "\n".join("\t".join(x) for x in [header, *rows])
        mail.text = _compose(ctx, s, "Unique team", intro, body)
    else:
        from bench.corpus.mime import csv_text, xlsx_bytes

        if kind == "xlsx":
            mail.attachments.append(Attachment("referrals.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                                               xlsx_bytes([header, *rows])))
        else:
            import csv as _csv

            mail.attachments.append(Attachment("referrals.csv", "text/csv", csv_text(
                [header, *rows], delimiter="|" if kind == "csv-pipe" else ",",
                quoting=_csv.QUOTE_ALL if kind == "csv-quoted-comma" else _csv.QUOTE_MINIMAL)))
        mail.text = _compose(ctx, s, "Unique team", intro, "")
    cats = ["name", "card_number", "record_number", "money_owed"] + (["address", "phone"] if ctx.split == "dev" else
                                                                      ["birth_date", "address"])
    if excess:
        cats.append(excess)
        klass, expect, scen = "disclosure", "hold", f"collection referral with {excess} (partner excess)"
    else:
        klass, expect, scen = "ordinary", "deliver", "collection referral within the agency's categories"
    labels = Labels(klass, "partner", "agency-excess" if excess else "agency-within", scen, [f"agency-{ctx.split}"],
                    ["collection-agency"], kind, [{"address": to_addr, "expect": expect, "role": "partner"}], sorted(set(cats)),
                    "en", [p.card for p in patrons])
    return Built(mail, labels)


FAX_GATEWAYS = ("efaxsend.com", "rcfax.com", "metrofax.com", "myfax.com", "srfax.com", "faxage.com", "hellofax.com")
APPROVED_FAX = "15035550142"


def fax_message(ctx: Ctx, approved: bool, with_titles: bool) -> Built:
    """A patron record emailed to a fax gateway: an unapproved number (hold) or the agency's approved one."""
    rng = ctx.rng
    p = ctx.people.new_patron()
    s = ctx.staff(p.library)
    if approved:
        number = APPROVED_FAX if rng.random() < 0.5 else APPROVED_FAX[1:]
        gateway = "efaxsend.com" if len(number) == 11 else "rcfax.com"
    else:
        number = rng.choice(("1", "")) + rng.choice(("503", "971", "541")) + f"555{rng.randrange(1000, 9999):04d}"
        gateway = rng.choice(FAX_GATEWAYS)
    address = f"{number}@{gateway}"
    items = ctx.people.items(2, ctx.today)
    cover = {"dev": "FAX COVER SHEET\nTo: {to}\nFrom: {lib}\nPages: 2\nRe: account {card}\n",
             "test": "*** FAX ***\nATTN: {to}\nFROM: {lib} Circulation\nRE: patron referral\n"}[ctx.split]
    body = cover.format(to="Accounts" if approved else "Front Office", lib=p.library.name, card=p.card)
    body += (f"\nName: {p.last_first}\nAddress: {p.one_line_address}\nPhone: {p.phone}\nCard: {p.card}\n"
             f"Amount owed: ${p.owed}\n")
    if with_titles:
        body += "Items not returned: " + "; ".join(i.title for i in items) + "\n"
    text = _compose(ctx, s, "", "", body)
    mail = Mail((s.name, s.email), [("", address)], "fax: patron account", text, ctx.when(), ctx.token)
    cats = ["name", "address", "phone", "card_number", "money_owed"] + (["titles"] if with_titles else [])
    if approved and not with_titles:
        klass, expect, scen = "ordinary", "deliver", "patron record to the approved fax number within its categories"
    elif approved:
        klass, expect, scen = "disclosure", "hold", "patron record with titles to the approved fax number (fax excess)"
    else:
        klass, expect, scen = "disclosure", "hold", "patron record to an unapproved fax number"
    labels = Labels(klass, "fax", "fax-approved" if approved else "fax-unapproved", scen, [f"fax-{ctx.split}"], ["notes-fax"],
                    "email-to-fax", [{"address": address, "expect": expect, "role": "fax"}], cats, "en", [p.card])
    return Built(mail, labels)


def templates_for(split: str, family: str) -> list[Template]:
    return [t for t in TEMPLATES if t.split == split and t.family == family]
