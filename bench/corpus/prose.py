"""Staff sentences that disclose patron data, by split.

Each `Sentence` is a `str.format` string over `p` (the patron), `r` (a
second patron: a child, a spouse), `t1`/`t2` (items), `o` (another
institution's card) and `lib`, with the data categories it discloses. The
phrasings follow the kinds of wording issue 11 lists (name opening a
sentence, "has these on hold", "what X checked out", "he owes"), the two
halves written separately.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Sentence:
    id: str
    split: str
    kind: str  # address | circulation | holds | fines | card | partial-card | license | birth-date | other-card
    text: str
    categories: tuple[str, ...]
    lang: str = "en"


SENTENCES: tuple[Sentence, ...] = (
    # ------------------------------------------------ dev, English
    Sentence("d-addr-1", "dev", "address", "{p.name}'s address on file is {p.address}, {p.city}, and the phone number is {p.phone}.",
             ("name", "address", "phone")),
    Sentence("d-addr-2", "dev", "address", "We have {p.full} at {p.one_line_address}. {p.His} email with us is {p.email}.",
             ("name", "address", "email")),
    Sentence("d-holds-1", "dev", "holds", "{p.first} {p.last} called about {p.his} son {r.first}; he has these on hold: {t1.title} and {t2.title}.",
             ("name", "holds", "titles")),
    Sentence("d-circ-1", "dev", "circulation", "Here is what {p.name} checked out last month: {t1.title} ({t1.author_natural}) and {t2.title}.",
             ("name", "titles")),
    Sentence("d-fines-1", "dev", "fines", "{p.name} owes ${p.owed} in fines, mostly from {t1.title}, which {p.he} never returned.",
             ("name", "money_owed", "titles")),
    Sentence("d-card-1", "dev", "card", "The library card number for {p.name} is {p.card}.", ("name", "card_number")),
    Sentence("d-card-2", "dev", "card", "Card {p.card_spaced} is hers; it's been blocked since the lost DVD.", ("card_number", "notes")),
    Sentence("d-partial-1", "dev", "partial-card", "It's the card ending in {p.card_last8}, under {p.name}.", ("name", "card_number")),
    Sentence("d-license-1", "dev", "license", "{p.name} registered with Oregon driver's license {p.license}.", ("name", "drivers_license")),
    Sentence("d-dob-1", "dev", "birth-date", "For {p.name} the DOB we have is {p.dob_us}.", ("name", "birth_date")),
    Sentence("d-other-1", "dev", "other-card", "{p.name} uses {p.his} library card from the college, {o}, for holds here.",
             ("name", "card_number")),
    Sentence("d-note-1", "dev", "notes", "The note on {p.name}'s record says: banned from the computer lab until June after the incident.",
             ("name", "notes")),
    Sentence("d-holds-2", "dev", "holds", "{p.first} has {t1.title} waiting on the hold shelf at {lib.name} until Friday.",
             ("name", "holds", "titles")),
    # ------------------------------------------------ test, English
    Sentence("t-addr-1", "test", "address", "Just so you know, {p.name} lives at {p.address} in {p.city}; {p.his} cell is {p.phone_paren}.",
             ("name", "address", "phone")),
    Sentence("t-addr-2", "test", "address", "{p.last_first} - {p.address}, {p.city_line} - {p.phone_dots}", ("name", "address", "phone")),
    Sentence("t-holds-1", "test", "holds", "{p.name} has {t1.title} and {t2.title} sitting on the hold shelf for {p.him}.",
             ("name", "holds", "titles")),
    Sentence("t-circ-1", "test", "circulation", "I looked, and {p.name} borrowed {t1.title} on {t1.due_us}; it is still out.",
             ("name", "titles")),
    Sentence("t-circ-2", "test", "circulation", "{p.his} daughter {r.name} took out {t1.title} and {t2.title} on {p.first}'s card",
             ("name", "titles")),
    Sentence("t-fines-1", "test", "fines", "{p.name}'s account shows a balance of ${p.owed} from lost items.", ("name", "money_owed")),
    Sentence("t-card-1", "test", "card", "Barcode {p.card} belongs to {p.name}.", ("name", "card_number")),
    Sentence("t-card-2", "test", "card", "patron card {p.card_hyphen} ({p.first})", ("name", "card_number")),
    Sentence("t-partial-1", "test", "partial-card", "The last eight of {p.first} {p.last}'s library card are {p.card_last8}.",
             ("name", "card_number")),
    Sentence("t-license-1", "test", "license", "ID on file for {p.name}: ODL {p.license}, checked at registration.",
             ("name", "drivers_license")),
    Sentence("t-dob-1", "test", "birth-date", "{p.name} (born {p.dob_iso}) is the one who asked.", ("name", "birth_date")),
    Sentence("t-other-1", "test", "other-card", "{p.name} is a Corvallis patron; {p.his} library card there is {o}.", ("name", "card_number")),
    Sentence("t-note-1", "test", "notes", "{p.name} has a staff note: trespassed from the Main branch, call security if seen.",
             ("name", "notes")),
    # ------------------------------------------------ Spanish, Vietnamese, Russian
    Sentence("d-es-addr", "dev", "address", "La dirección que tenemos de {p.name} es {p.address}, {p.city}. Su teléfono es {p.phone}.",
             ("name", "address", "phone"), "es"),
    Sentence("d-es-holds", "dev", "holds", "{p.name} tiene estos libros en reserva: {t1.title} y {t2.title}.",
             ("name", "holds", "titles"), "es"),
    Sentence("d-es-card", "dev", "card", "El número de tarjeta de {p.name} es {p.card}.", ("name", "card_number"), "es"),
    Sentence("d-vi-fines", "dev", "fines", "{p.name} còn nợ thư viện ${p.owed} tiền phạt; số thẻ là {p.card}.",
             ("name", "money_owed", "card_number"), "vi"),
    Sentence("t-es-fines", "test", "fines", "{p.name} debe ${p.owed} en multas por {t1.title}.", ("name", "money_owed", "titles"), "es"),
    Sentence("t-es-circ", "test", "circulation", "Lo que sacó {p.name} el mes pasado fue {t1.title} y {t2.title}.",
             ("name", "titles"), "es"),
    Sentence("t-es-addr", "test", "address", "Usuario: {p.last_first}. Domicilio: {p.address}, {p.city_line}. Teléfono: {p.phone}.",
             ("name", "address", "phone"), "es"),
    Sentence("t-ru-holds", "test", "holds", "{p.native_or_name}: на полке заказов ждут «{t1.title}» и «{t2.title}», телефон {p.phone}.",
             ("name", "holds", "titles", "phone"), "ru"),
)

# Openers and closers in the other languages (English ones are in wrappers).
LANG_INTROS = {
    ("dev", "es"): ["Hola {r}, te paso la información que me pediste.", "Buenos días {r}, aquí está lo que encontré."],
    ("test", "es"): ["Estimado/a {r}: le envío los datos solicitados.", "{r}, como hablamos por teléfono:"],
    ("dev", "vi"): ["Chào {r}, đây là thông tin bạn hỏi."],
    ("test", "vi"): ["Kính gửi {r}, thư viện gửi thông tin như sau."],
    ("dev", "ru"): ["Здравствуйте, {r}! Вот информация, которую вы просили."],
    ("test", "ru"): ["{r}, добрый день. Как договаривались:"],
}
LANG_CLOSINGS = {
    ("dev", "es"): "Saludos,", ("test", "es"): "Atentamente,",
    ("dev", "vi"): "Cảm ơn,", ("test", "vi"): "Trân trọng,",
    ("dev", "ru"): "Спасибо,", ("test", "ru"): "С уважением,",
}


def sentences(split: str, lang: str | None = None, kind: str | None = None) -> list[Sentence]:
    return [s for s in SENTENCES if s.split == split and (lang is None or s.lang == lang) and (kind is None or s.kind == kind)]
