"""Mail to the patron herself about her own account (expected: delivered), and its counter-cases.

Staff write to a patron about her hold, fine, card, address, lost item or
interlibrary loan, at her own address, greeting her by the name on the
account; or the ILS notice itself goes to her. Counter-cases (expected:
held) are the same letters with another patron's data added, or one
patron's letter sent to someone else's address.
"""

from __future__ import annotations

from bench.corpus import wrappers
from bench.corpus.identity import Patron, Staff
from bench.corpus.ils import TEMPLATES
from bench.corpus.mime import Mail
from bench.corpus.model import Fill, render
from bench.corpus.scene import Built, Ctx, Labels

# Patron-facing notices (what an ILS mails to the patron it names).
PATRON_FACING = ("koha-odue", "koha-membership-expiry", "koha-predue-digest", "eg-overdue-7day", "eg-hold-ready",
                 "eg-hold-cancel", "eg-checkout-receipt", "eg-mark-lost", "eg-shelf-expires", "sierra-overdue",
                 "sierra-hold-pickup", "sierra-billing", "polaris-overdue", "polaris-hold", "polaris-bill",
                 "polaris-almost-overdue", "polaris-expiration", "symphony-overdue-1", "symphony-hold-available",
                 "symphony-final-notice", "symphony-bill-notice", "es-aviso-atraso", "es-reserva-lista",
                 "vi-thong-bao-giu-sach")

# Staff letters by kind. {p} patron, {t1} item, {lib} library, {until} a date, {s} staff.
LETTERS: dict[str, list[tuple[str, str, str]]] = {
    "dev": [
        ("hold", "Your hold is in", "Good news - {t1.title} came in for you today and is on the hold shelf at {lib.name}. "
                 "We'll keep it until {until.long}. Just bring your card or a photo ID."),
        ("fine", "Question about your fines", "I checked your account like you asked. The balance is ${p.owed}, all from "
                 "{t1.title}. If you bring it back we can take off the replacement charge and you would only owe the processing fee."),
        ("card-renewal", "Your card is renewed", "Your library card is renewed through {until.long}. The address we have is "
                 "still {p.address}, {p.city}; let us know if that changed."),
        ("address-change", "Address updated", "Thanks for letting us know you moved. Your account now shows {p.address}, "
                 "{p.city_line}, and the phone number {p.phone}."),
        ("lost-item", "About the lost book", "We marked {t1.title} as lost on your account. The replacement cost is "
                 "${t1.price}. If it turns up within six months, bring it in and we'll refund you."),
        ("ill", "Your interlibrary loan arrived", "The interlibrary loan you requested, {t1.title} by {t1.author_natural}, "
                "arrived from another library. You have it for three weeks and it cannot be renewed."),
        ("overdue", "Overdue reminder", "A quick reminder that {t1.title} was due on {t1.due_us}. You can renew it once "
                    "online if nobody is waiting for it."),
        ("pin", "Your PIN reset", "I reset the PIN on your card ending {p.card_last8}. The new temporary PIN is the last four "
                "digits of your phone number; please change it when you sign in."),
    ],
    "test": [
        ("hold", "Ready for pickup", "The copy of {t1.title} you reserved is waiting for you at the front desk of "
                 "{lib.name}. It stays on the shelf until {until.weekday}, {until.long}."),
        ("fine", "RE: your account balance", "You asked about the charges on your card. Right now you owe ${p.owed}. "
                 "The biggest part is {t1.title}, billed as lost; the rest are old late fees we can waive."),
        ("card-renewal", "Library card renewal", "We extended your card until {until.long}. Could you confirm the phone "
                 "number {p.phone_paren} is still the best one to reach you?"),
        ("address-change", "We changed your address", "As requested at the desk, we changed your mailing address to "
                 "{p.one_line_address}. Notices will go there from now on."),
        ("lost-item", "Lost item on your card", "{t1.title} is listed as lost and your card is blocked until it's resolved. "
                 "You can pay the ${t1.price} replacement or bring the book in."),
        ("ill", "Interlibrary loan request", "We placed an interlibrary loan request for {t1.title}. Most requests arrive "
                "in one to two weeks; we'll call you at {p.phone} when it's here."),
        ("overdue", "Your books are overdue", "Our system shows {t1.title} is overdue since {t1.due_us}. There are no daily "
                    "fines, but after 30 days it will be billed."),
        ("welcome", "Welcome to the library", "Welcome! Your new library card number is {p.card}. With it you can borrow "
                    "up to 50 items and use the e-book apps."),
    ],
}

SELF_GREETINGS = {
    "dev": ("Hi {p.first},", "Dear {p.first} {p.last},", "Hello {p.first}!", "Dear {p.last}, {p.first}"),
    "test": ("Dear {p.salutation},", "Hi {p.first} -", "Good morning {p.first},", "Hola {p.first}:"),
}

# What the patron wrote, quoted under the staff reply. {p} is the patron (she signs it).
SELF_QUESTIONS = {
    "dev": ("Hi, I got an email saying I have a fine but I returned everything. Can you check? Thanks, {p.first}",
            "Hello, is my hold in yet? I'm on the list for it. - {p.first} {p.last}",
            "I moved last month, can you update my address? {p.first}"),
    "test": ("Good morning, my card stopped working at the self-checkout. What do I need to do?\n{p.first} {p.last}",
             "hi its {p.first}, did the book I asked for from another library come in",
             "Could you tell me what I owe? I'd like to pay it off before my trip. Best, {p.first}"),
}

SELF_CLOSINGS = {
    "dev": ("Have a great day!", "Thanks, and see you soon.", "Let us know if you have questions."),
    "test": ("Happy reading!", "Feel free to call if anything is unclear.", "Take care,"),
}


def _to(ctx: Ctx, p: Patron) -> tuple[str, str]:
    shape = ctx.rng.random()
    if shape < 0.65:
        return p.name, p.email
    if shape < 0.85:
        return p.last_first, p.email
    return "", p.email


def _letter(ctx: Ctx, p: Patron, s: Staff) -> tuple[str, str, str]:
    rng = ctx.rng
    kind, subject, text = rng.choice(LETTERS[ctx.split])
    t1 = ctx.people.items(1, ctx.today)[0]
    greeting = rng.choice(SELF_GREETINGS[ctx.split]).format(p=p)
    body = text.format(p=p, t1=t1, lib=p.library, until=ctx.until(rng.choice((5, 7, 365))), s=s)
    closing = rng.choice(SELF_CLOSINGS[ctx.split])
    return kind, subject, f"{greeting}\n\n{body}\n\n{closing}\n\n{wrappers.signature(ctx.split, s, rng)}\n"


def self_letter(ctx: Ctx) -> Built:
    rng = ctx.rng
    p = ctx.people.new_patron()
    s = ctx.staff(p.library)
    kind, subject, text = _letter(ctx, p, s)
    to = _to(ctx, p)
    if rng.random() < 0.3:  # a reply to what she wrote
        asked = rng.choice(SELF_QUESTIONS[ctx.split]).format(p=p)
        text += "\n" + wrappers.quoted_reply(ctx.split, f"{p.name} <{p.email}>", ctx.date_text(), asked) + "\n"
        subject = "Re: " + subject
    mail = Mail((s.name, s.email), [to], subject, text, ctx.when(), ctx.token, crlf=rng.random() < 0.3)
    if ctx.rng.random() < 0.2:
        mail.html = "<html><body>" + "".join(f"<p>{par}</p>\n" for par in text.split("\n\n")) + "</body></html>\n"
    labels = Labels("patron-self", "patron-self", f"letter:{kind}", f"staff letter to the patron about her {kind}",
                    [f"self-{ctx.split}-{kind}"], ["staff-prose"], "html" if mail.html else "inline",
                    [{"address": p.email, "expect": "deliver", "role": "patron"}], [], "en",
                    [p.card] if p.card in text else [], {"name": p.name, "address": p.email, "display": to[0],
                                                         "greeting": text.splitlines()[0]})
    return Built(mail, labels)


def self_notice(ctx: Ctx) -> Built:
    """An ILS notice mailed to the patron it names (by the notice system, or re-sent by staff)."""
    rng = ctx.rng
    pool = [t for t in TEMPLATES if t.split == ctx.split and t.id in PATRON_FACING]
    t = rng.choice(pool)
    p = ctx.people.new_patron(locale="es_MX" if t.lang == "es" else ("vi_VN" if t.lang == "vi" else None))
    s = ctx.staff(p.library)
    fill = Fill(p, p.library, tuple(ctx.people.items(rng.randrange(1, 4), ctx.today)), ctx.dates, ctx.until(7), s)
    body = render(t, fill)
    to = _to(ctx, p)
    by_staff = rng.random() < 0.4
    if by_staff:
        greeting = rng.choice(SELF_GREETINGS[ctx.split]).format(p=p)
        lead = {"dev": "As you asked, here is the notice from our system again:",
                "test": "Resending the notice you said you never got:"}[ctx.split]
        text = f"{greeting}\n\n{lead}\n\n{body}\n{wrappers.signature(ctx.split, s, rng)}\n"
        mail = Mail((s.name, s.email), [to], "Fwd: " + t.subject, text, ctx.when(), ctx.token)
    else:
        mail = Mail((p.library.name, p.library.notices), [to], t.subject, body, ctx.when(), ctx.token,
                    extra_headers=(("Auto-Submitted", "auto-generated"),))
        if t.html:
            from bench.corpus.disclosures import html_to_text

            mail.text, mail.html = html_to_text(body), body
    shown = body if not by_staff else text
    greeting = next((line for line in shown.splitlines() if p.first in line or p.last in line), "")
    if not greeting and not to[0]:  # a notice that names her only in its headers
        to = (p.name, p.email)
        mail.to = [to]
    labels = Labels("patron-self", "patron-self", "ils-notice", f"{t.name} to the patron it names"
                    + (" (re-sent by staff)" if by_staff else " (from the notice system)"), [t.id], [t.source],
                    "inline", [{"address": p.email, "expect": "deliver", "role": "patron"}], [], t.lang,
                    [p.card] if p.card in body else [], {"name": p.name, "address": p.email, "display": to[0],
                                                         "greeting": greeting})
    return Built(mail, labels)


# Counter-cases: the letter discloses someone else.
EXTRA = {
    "dev": ("Also, your husband {q.name}'s card ({q.card}) still has ${q.owed} on it from {t.title}.",
            "I also put {q.name}'s hold, {t.title}, on the same shelf since you said you'd pick it up for her; "
            "her phone is {q.phone}."),
    "test": ("By the way, {q.name} at {q.address} listed you as a contact; she owes ${q.owed}.",
             "Your roommate {q.name} has {t.title} overdue too (card {q.card})."),
}


def self_counter(ctx: Ctx, variant: str) -> Built:
    rng = ctx.rng
    p = ctx.people.new_patron()
    s = ctx.staff(p.library)
    kind, subject, text = _letter(ctx, p, s)
    recipients = [{"address": p.email, "expect": "hold", "role": "patron"}]
    to = _to(ctx, p)
    cc: list[tuple[str, str]] = []
    cards = [p.card] if p.card in text else []
    if variant == "extra-patron":
        q = ctx.people.new_patron()
        t = ctx.people.items(1, ctx.today)[0]
        extra = rng.choice(EXTRA[ctx.split]).format(q=q, t=t)
        head, _, rest = text.partition("\n\n")
        body, _, tail = rest.partition("\n\n")
        text = f"{head}\n\n{body} {extra}\n\n{tail}"
        cards += [q.card] if q.card in extra else []
        scenario = "letter to the patron that also discloses another patron"
    elif variant == "wrong-address":
        other = ctx.people.new_patron()
        to = (other.name, other.email)
        recipients = [{"address": other.email, "expect": "hold", "role": "other-patron"}]
        scenario = "one patron's letter sent to another person's address"
    else:  # cc-relative
        r = wrappers.recipient(ctx.people, "relative", p)
        cc = [(r.name, r.address)]
        recipients = [{"address": p.email, "expect": "deliver", "role": "patron"},
                      {"address": r.address, "expect": "hold", "role": "relative"}]
        scenario = "letter to the patron with a relative on Cc"
    mail = Mail((s.name, s.email), [to], subject, text, ctx.when(), ctx.token, cc=cc)
    labels = Labels("disclosure", "patron-self", f"counter:{variant}", scenario, [f"self-{ctx.split}-{kind}", f"counter-{variant}-{ctx.split}"],
                    ["staff-prose"], "inline", recipients, ["name", "money_owed", "titles", "card_number"], "en", cards,
                    {"name": p.name, "address": p.email, "display": to[0], "greeting": text.splitlines()[0]})
    return Built(mail, labels)
