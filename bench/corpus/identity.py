"""Fake people and identifiers for the evaluation corpus.

Patrons come from Faker (names of many origins, pinned version, seeded per
person) with Salem-area addresses built from the region's real street names
and ZIP codes, 503/971 phones and personal mail domains. Card numbers are
computed with the library mod-10 check digit (NOTES.md §1); Sierra record
numbers with the mod-11 check (NOTES.md §1); Oregon licence numbers in both
published shapes (NOTES.md §3). Staff and libraries are the consortium's
members with their public addresses and main numbers; staff direct lines are
not in `public_phones`, as in real signatures.

Nothing here reads the clock or the network: the same seed gives the same people.
"""

from __future__ import annotations

import datetime as dt
import random
import unicodedata
from dataclasses import dataclass, field

from faker import Faker

# ---------------------------------------------------------------- check digits


def library_check_digit(payload: str) -> int:
    """Library mod-10 over the payload digits (odd positions from the left doubled)."""
    total = 0
    for position, ch in enumerate(payload, start=1):
        digit = int(ch)
        if position % 2 == 1:
            digit *= 2
            if digit >= 10:
                digit -= 9
        total += digit
    return (10 - total % 10) % 10


def valid_library_barcode(number: str) -> bool:
    return len(number) >= 2 and number.isdigit() and library_check_digit(number[:-1]) == int(number[-1])


def barcode(type_digit: str, institution: str, sequence: int) -> str:
    payload = f"{type_digit}{institution}{sequence:08d}"
    return payload + str(library_check_digit(payload))


def sierra_check(digits: str) -> str:
    total = sum(int(d) * w for d, w in zip(reversed(digits), range(2, 2 + len(digits)), strict=True))
    rem = total % 11
    return "x" if rem == 10 else str(rem)


assert barcode("2", "3610", 362281) == "23610003622817"  # NOTES.md §1 worked example
assert valid_library_barcode("30234000517861") and not valid_library_barcode("29990908250671")

# Institution codes of other libraries (reciprocal borrowing, new members, out of
# state): 14 digits, type digit 2, a prefix the shipped config does not list.
OTHER_INSTITUTIONS = ("1057", "0480", "4412", "7709", "5130", "0075", "8820", "9134", "2218", "6601")

# ---------------------------------------------------------------- places

# (street, city, zip): real Salem-area streets with their quadrant suffixes.
STREETS: tuple[tuple[str, str, str], ...] = (
    ("Liberty St SE", "Salem", "97301"), ("Commercial St SE", "Salem", "97302"),
    ("Lancaster Dr NE", "Salem", "97305"), ("Center St NE", "Salem", "97301"),
    ("Market St NE", "Salem", "97301"), ("Silverton Rd NE", "Salem", "97305"),
    ("Portland Rd NE", "Salem", "97301"), ("12th St SE", "Salem", "97302"),
    ("Mission St SE", "Salem", "97302"), ("Kuebler Blvd S", "Salem", "97302"),
    ("Wallace Rd NW", "Salem", "97304"), ("Edgewater St NW", "Salem", "97304"),
    ("Orchard Heights Rd NW", "Salem", "97304"), ("Madrona Ave S", "Salem", "97302"),
    ("Fisher Rd NE", "Salem", "97305"), ("Hawthorne Ave NE", "Salem", "97301"),
    ("Cordon Rd NE", "Salem", "97317"), ("Sunnyview Rd NE", "Salem", "97305"),
    ("D St NE", "Salem", "97301"), ("Chemawa Rd N", "Keizer", "97303"),
    ("River Rd N", "Keizer", "97303"), ("Cherry Ave NE", "Keizer", "97303"),
    ("Commercial St SE", "Salem", "97306"), ("Croisan Creek Rd S", "Salem", "97306"),
    ("Boone Rd SE", "Salem", "97306"), ("Macleay Rd SE", "Salem", "97317"),
    ("State St", "Salem", "97301"), ("Court St NE", "Salem", "97301"),
    ("Main St", "Dallas", "97338"), ("Ellendale Ave", "Dallas", "97338"),
    ("Kings Valley Hwy", "Dallas", "97338"), ("Front St", "Woodburn", "97071"),
    ("Young St", "Woodburn", "97071"), ("Settlemier Ave", "Woodburn", "97071"),
    ("Water St", "Silverton", "97381"), ("McClaine St", "Silverton", "97381"),
    ("1st Ave", "Stayton", "97383"), ("Washington St", "Stayton", "97383"),
    ("Monmouth St", "Independence", "97351"), ("Main St W", "Monmouth", "97361"),
    ("Charles St", "Mt. Angel", "97362"), ("Ferry St", "Dayton", "97114"),
    ("Denver St", "Turner", "97392"), ("Main St", "Aumsville", "97325"),
    ("Pacific Hwy", "Woodburn", "97071"), ("Brown Rd NE", "Salem", "97305"),
)

UNITS = ("Apt 4", "Apt 12", "Unit B", "#210", "Apt 3C", "Spc 41", "Apt 106", "Unit 7")

MAIL_DOMAINS = ("gmail.com", "gmail.com", "gmail.com", "yahoo.com", "hotmail.com", "outlook.com",
                "comcast.net", "icloud.com", "msn.com", "aol.com", "proton.me", "live.com")


@dataclass(frozen=True)
class Library:
    name: str
    short: str
    street: str
    city: str
    zip: str
    phone: str  # the public main number
    domain: str

    @property
    def city_line(self) -> str:
        return f"{self.city}, OR {self.zip}"

    @property
    def email(self) -> str:
        return f"circulation@{self.domain}"

    @property
    def short_lower(self) -> str:
        return self.short.lower()

    @property
    def notices(self) -> str:  # the ILS notice sender
        return f"library-notices@{self.domain}"


# The consortium's members with their public addresses. The main numbers of
# Salem and the CCRLS office are the config's `public_phones`; the others are not.
LIBRARIES: tuple[Library, ...] = (
    Library("Salem Public Library", "SPL", "585 Liberty St SE", "Salem", "97301", "503-588-6130", "cityofsalem.net"),
    Library("West Salem Branch Library", "WSB", "395 Glen Creek Rd NW", "Salem", "97304", "503-588-6130", "cityofsalem.net"),
    Library("Dallas Public Library", "DAL", "950 Main St", "Dallas", "97338", "503-623-2633", "dallasor.gov"),
    Library("Dayton Public Library", "DAY", "111 Ferry St", "Dayton", "97114", "503-864-2221", "ci.dayton.or.us"),
    Library("Mt. Angel Public Library", "MTA", "290 E Charles St", "Mt. Angel", "97362", "503-845-6401", "mtangelpubliclibrary.com"),
    Library("Chemeketa Community College Library", "CCC", "4000 Lancaster Dr NE", "Salem", "97305", "503-399-5043", "chemeketa.edu"),
    Library("Silverton Public Library", "SIL", "410 S Water St", "Silverton", "97381", "503-873-5173", "ccrls.org"),
    Library("Stayton Public Library", "STA", "515 N 1st Ave", "Stayton", "97383", "503-769-3313", "ccrls.org"),
    Library("Woodburn Public Library", "WOO", "280 Garfield St", "Woodburn", "97071", "503-982-5252", "ccrls.org"),
    Library("Independence Public Library", "IND", "175 Monmouth St", "Independence", "97351", "503-838-1811", "ccrls.org"),
)

# ---------------------------------------------------------------- titles

# Real titles and authors (bibliographic facts), some that read like names.
TITLES: tuple[tuple[str, str], ...] = (
    ("Where the Crawdads Sing", "Owens, Delia"), ("Educated: a memoir", "Westover, Tara"),
    ("Becoming", "Obama, Michelle"), ("The Body Keeps the Score", "van der Kolk, Bessel"),
    ("Rebecca", "du Maurier, Daphne"), ("Emma", "Austen, Jane"), ("Jane Eyre", "Bronte, Charlotte"),
    ("Anna Karenina", "Tolstoy, Leo"), ("Eleanor Oliphant Is Completely Fine", "Honeyman, Gail"),
    ("Daisy Jones & The Six", "Reid, Taylor Jenkins"), ("Matilda", "Dahl, Roald"),
    ("Ramona Quimby, Age 8", "Cleary, Beverly"), ("Junie B. Jones and the Stupid Smelly Bus", "Park, Barbara"),
    ("Amelia Bedelia", "Parish, Peggy"), ("Clifford the Big Red Dog", "Bridwell, Norman"),
    ("Wonder", "Palacio, R. J."), ("Holes", "Sachar, Louis"), ("Coraline", "Gaiman, Neil"),
    ("Harry Potter and the Sorcerer's Stone", "Rowling, J. K."), ("The Lightning Thief", "Riordan, Rick"),
    ("Dog Man: Fetch-22", "Pilkey, Dav"), ("Wings of Fire: The Lost Heir", "Sutherland, Tui T."),
    ("Hatchet", "Paulsen, Gary"), ("The Wild Robot", "Brown, Peter"), ("Ghosts", "Telgemeier, Raina"),
    ("What to Expect When You're Expecting", "Murkoff, Heidi"), ("The Divorce Remedy", "Weiner-Davis, Michele"),
    ("Feeling Good: the new mood therapy", "Burns, David D."), ("Alcoholics Anonymous: the big book", "Alcoholics Anonymous"),
    ("Nolo's Bankruptcy Handbook", "Elias, Stephen"), ("U.S. Immigration Made Easy", "Bray, Ilona"),
    ("The Anxiety and Phobia Workbook", "Bourne, Edmund J."), ("Codependent No More", "Beattie, Melody"),
    ("Living with HIV", "Tanner, Lila"), ("It's Perfectly Normal", "Harris, Robie H."),
    ("Beyond the Gender Binary", "Vaid-Menon, Alok"), ("The Great Alone", "Hannah, Kristin"),
    ("Lessons in Chemistry", "Garmus, Bonnie"), ("Tomorrow, and Tomorrow, and Tomorrow", "Zevin, Gabrielle"),
    ("Demon Copperhead", "Kingsolver, Barbara"), ("The Women", "Hannah, Kristin"),
    ("Fourth Wing", "Yarros, Rebecca"), ("Iron Flame", "Yarros, Rebecca"), ("Atomic Habits", "Clear, James"),
    ("The Midnight Library", "Haig, Matt"), ("Project Hail Mary", "Weir, Andy"),
    ("Sometimes a Great Notion", "Kesey, Ken"), ("The Hunger Games", "Collins, Suzanne"),
    ("Cien años de soledad", "García Márquez, Gabriel"), ("La casa de los espíritus", "Allende, Isabel"),
    ("El principito", "Saint-Exupéry, Antoine de"), ("Mexican Gothic", "Moreno-Garcia, Silvia"),
    ("The Sympathizer", "Nguyen, Viet Thanh"), ("Crying in H Mart", "Zauner, Michelle"),
    ("Pachinko", "Lee, Min Jin"), ("The Kite Runner", "Hosseini, Khaled"),
    ("Killers of the Flower Moon", "Grann, David"), ("Spare", "Harry, Prince, Duke of Sussex"),
    ("Oregon Trail: a new American journey", "Buckley, Rinker"), ("The Complete Guide to Resumes", "Kursmark, Louise"),
    ("GED Test Prep Plus 2024", "Kaplan"), ("Learn Spanish with Paul Noble", "Noble, Paul"),
    ("Frozen II [DVD]", "Walt Disney Studios"), ("Oppenheimer [Blu-ray]", "Universal Pictures"),
    ("Minecraft: Guide to Redstone", "Mojang AB"), ("Percy Jackson: The Sea of Monsters", "Riordan, Rick"),
    ("Charlotte's Web", "White, E. B."), ("Because of Winn-Dixie", "DiCamillo, Kate"),
    ("Sarah, Plain and Tall", "MacLachlan, Patricia"), ("Anne of Green Gables", "Montgomery, L. M."),
    ("James", "Everett, Percival"), ("Martin Eden", "London, Jack"), ("Stella Maris", "McCarthy, Cormac"),
)

# Titles a child's card would carry (class lists, a parent asking about a son's holds).
JUVENILE = frozenset({"Matilda", "Ramona Quimby, Age 8", "Junie B. Jones and the Stupid Smelly Bus", "Amelia Bedelia",
                      "Clifford the Big Red Dog", "Wonder", "Holes", "Coraline", "Harry Potter and the Sorcerer's Stone",
                      "The Lightning Thief", "Dog Man: Fetch-22", "Wings of Fire: The Lost Heir", "Hatchet", "The Wild Robot",
                      "Ghosts", "Percy Jackson: The Sea of Monsters", "Charlotte's Web", "Because of Winn-Dixie",
                      "Sarah, Plain and Tall", "Anne of Green Gables", "Minecraft: Guide to Redstone", "Frozen II [DVD]",
                      "The Hunger Games", "It's Perfectly Normal"})

CALL_PREFIXES = ("FIC", "J FIC", "YA FIC", "616.85", "306.89", "362.29", "346.07", "342.73", "618.2",
                 "J 741.5", "DVD", "B", "155.9", "650.14", "373.126", "SPA FIC", "973.04")

# ---------------------------------------------------------------- names

# Locales for patrons' names; weights follow a mixed Willamette Valley town.
_LOCALES = (("en_US", 46), ("es_MX", 22), ("vi_VN", 4), ("ru_RU", 4), ("uk_UA", 2), ("de_DE", 3),
            ("en_IN", 4), ("zh_CN", 3), ("ja_JP", 2), ("fr_FR", 2), ("pl_PL", 2), ("it_IT", 2),
            ("ko_KR", 2), ("tl_PH", 2))

_VI_GIVEN = ("Lan", "Minh", "Thảo", "Hùng", "Dũng", "Hương", "Tuấn", "Linh", "Quang", "Ngọc", "Phương", "Khoa")
_KO_ROMAN = (("Kim", "Ji-woo"), ("Park", "Min-jun"), ("Lee", "Seo-yeon"), ("Choi", "Hyun-woo"), ("Jung", "Soo-ah"),
             ("Kang", "Do-yun"), ("Yoon", "Ha-eun"), ("Han", "Jae-won"))
_CYR = str.maketrans({
    "А": "A", "Б": "B", "В": "V", "Г": "G", "Д": "D", "Е": "E", "Ё": "Yo", "Ж": "Zh", "З": "Z", "И": "I",
    "Й": "Y", "К": "K", "Л": "L", "М": "M", "Н": "N", "О": "O", "П": "P", "Р": "R", "С": "S", "Т": "T",
    "У": "U", "Ф": "F", "Х": "Kh", "Ц": "Ts", "Ч": "Ch", "Ш": "Sh", "Щ": "Shch", "Ъ": "", "Ы": "Y",
    "Ь": "", "Э": "E", "Ю": "Yu", "Я": "Ya", "І": "I", "Ї": "Yi", "Є": "Ye", "Ґ": "G",
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "yo", "ж": "zh", "з": "z", "и": "i",
    "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t",
    "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "", "ы": "y",
    "ь": "", "э": "e", "ю": "yu", "я": "ya", "і": "i", "ї": "yi", "є": "ye", "ґ": "g", "'": "",
})

_FAKERS: dict[str, Faker] = {}


def _faker(locale: str) -> Faker:
    if locale not in _FAKERS:
        _FAKERS[locale] = Faker(locale)
    return _FAKERS[locale]


def ascii_fold(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def _person_name(rng: random.Random, locale: str, female: bool) -> tuple[str, str, str]:
    """(first, last, original-script full name or '') for one person of `locale`."""
    fk = _faker(locale)
    fk.seed_instance(rng.randrange(2**31))
    if locale == "vi_VN":
        return rng.choice(_VI_GIVEN), fk.last_name(), ""
    if locale == "ko_KR":
        last, first = rng.choice(_KO_ROMAN)
        return first, last, ""
    if locale in ("zh_CN", "ja_JP"):
        return fk.first_romanized_name(), fk.last_romanized_name(), ""
    if locale in ("ru_RU", "uk_UA"):
        if female:
            first, last = fk.first_name_female(), fk.last_name_female()
        else:
            first, last = fk.first_name_male(), fk.last_name_male()
        return first.translate(_CYR), last.translate(_CYR), f"{first} {last}"
    first = fk.first_name_female() if female else fk.first_name_male()
    return first, fk.last_name(), ""


# ---------------------------------------------------------------- people


@dataclass(frozen=True)
class Patron:
    first: str
    middle: str
    last: str
    street: str
    unit: str
    city: str
    zip: str
    phone: str  # 503-555-1234
    email: str
    card: str
    record: str  # .p1234567x
    dob: dt.date
    license: str
    owed: str  # 23.50
    library: Library
    female: bool
    native: str = ""  # the name in its own script (Cyrillic), when it has one
    guardian: str = ""

    @property
    def name(self) -> str:
        return f"{self.first} {self.last}"

    @property
    def full(self) -> str:
        return f"{self.first} {self.middle}. {self.last}" if self.middle else self.name

    @property
    def last_first(self) -> str:
        return f"{self.last}, {self.first}"

    @property
    def ils_name(self) -> str:  # Millennium/Sierra: LAST, FIRST M
        return f"{self.last.upper()}, {self.first.upper()} {self.middle}".rstrip()

    @property
    def address(self) -> str:
        return f"{self.street} {self.unit}".strip()

    @property
    def address_upper(self) -> str:
        return self.address.upper()

    @property
    def city_line(self) -> str:
        return f"{self.city}, OR {self.zip}"

    @property
    def one_line_address(self) -> str:
        return f"{self.address}, {self.city}, OR {self.zip}"

    @property
    def dollar_address(self) -> str:  # Millennium's $-joined address
        return f"{self.address_upper}${self.city.upper()} OR {self.zip}"

    @property
    def phone_paren(self) -> str:
        return f"({self.phone[:3]}) {self.phone[4:]}"

    @property
    def phone_dots(self) -> str:
        return self.phone.replace("-", ".")

    @property
    def phone_digits(self) -> str:
        return self.phone.replace("-", "")

    @property
    def dob_us(self) -> str:
        return f"{self.dob.month:02d}/{self.dob.day:02d}/{self.dob.year}"

    @property
    def dob_iso(self) -> str:
        return self.dob.isoformat()

    @property
    def dob_dash(self) -> str:
        return f"{self.dob.month:02d}-{self.dob.day:02d}-{self.dob.year}"

    @property
    def card_spaced(self) -> str:
        c = self.card
        return f"{c[0]} {c[1:5]} {c[5:13]} {c[13]}"

    @property
    def card_hyphen(self) -> str:
        c = self.card
        return f"{c[0]}-{c[1:5]}-{c[5:13]}-{c[13]}"

    @property
    def card_codabar(self) -> str:
        return f"A{self.card}B"

    @property
    def card_fours(self) -> str:
        c = self.card
        return f"{c[0:4]} {c[4:8]} {c[8:12]} {c[12:]}"

    @property
    def card_last8(self) -> str:
        return self.card[-8:]

    @property
    def record_bare(self) -> str:
        return self.record[1:]

    @property
    def record_digits(self) -> str:
        return self.record[2:9]

    @property
    def dob_compact(self) -> str:
        return self.dob.strftime("%Y%m%d")

    @property
    def city_upper(self) -> str:
        return self.city.upper()

    @property
    def native_or_name(self) -> str:
        return self.native or self.name

    @property
    def salutation(self) -> str:
        return ("Ms. " if self.female else "Mr. ") + self.last

    @property
    def he(self) -> str:
        return "she" if self.female else "he"

    @property
    def his(self) -> str:
        return "her" if self.female else "his"

    @property
    def His(self) -> str:  # noqa: N802 - reads as the word it stands for at a sentence start
        return self.his.capitalize()

    @property
    def him(self) -> str:
        return "her" if self.female else "him"


@dataclass(frozen=True)
class Staff:
    first: str
    last: str
    title: str
    library: Library
    email: str
    direct: str  # direct line, not a public number

    @property
    def name(self) -> str:
        return f"{self.first} {self.last}"


@dataclass(frozen=True)
class Item:
    title: str
    author: str
    call: str
    barcode: str
    due: dt.date
    price: str
    fine: str

    @property
    def due_us(self) -> str:
        return f"{self.due.month:02d}/{self.due.day:02d}/{self.due.year}"

    @property
    def due_iso(self) -> str:
        return self.due.isoformat()

    @property
    def due_short(self) -> str:
        return f"{self.due.month}/{self.due.day}"

    @property
    def title_cut(self) -> str:
        return self.title[:36]

    @property
    def author_natural(self) -> str:
        last, _, first = self.author.partition(", ")
        return f"{first} {last}".strip() if first else last


@dataclass(frozen=True)
class Row:
    """One line of a list that names a patron beside an item (holds lists, call lists, exports)."""

    patron: Patron
    item: Item

    @property
    def name(self) -> str:
        return self.patron.ils_name

    @property
    def ils_name(self) -> str:
        return self.patron.ils_name

    @property
    def last_first(self) -> str:
        return self.patron.last_first

    @property
    def card(self) -> str:
        return self.patron.card

    @property
    def email(self) -> str:
        return self.patron.email

    @property
    def phone(self) -> str:
        return self.patron.phone

    @property
    def address(self) -> str:
        return self.patron.dollar_address

    @property
    def owed(self) -> str:
        return self.patron.owed

    @property
    def record(self) -> str:
        return self.patron.record_bare

    @property
    def title(self) -> str:
        return self.item.title

    @property
    def title_cut(self) -> str:
        return self.item.title[:36]

    @property
    def call(self) -> str:
        return self.item.call

    @property
    def barcode(self) -> str:
        return self.item.barcode

    @property
    def due_us(self) -> str:
        return self.item.due_us


STAFF_TITLES = ("Circulation Supervisor", "Library Assistant II", "Youth Services Librarian", "Interlibrary Loan Coordinator",
                "Branch Manager", "Library Director", "Adult Services Librarian", "Outreach Coordinator",
                "Technical Services Manager", "Systems Librarian", "Teen Services Librarian", "Circulation Clerk",
                "Administrative Specialist", "Patron Services Manager", "Library Associate")


def _phone(rng: random.Random) -> str:
    area = rng.choice(("503", "503", "503", "971"))
    exchange = rng.choice(("555",) * 2 + tuple(str(n) for n in (362, 375, 390, 399, 581, 585, 588, 763, 769, 779, 873, 910, 932, 983)))
    line = f"{rng.randrange(100, 200):04d}" if exchange == "555" else f"{rng.randrange(0, 10000):04d}"
    return f"{area}-{exchange}-{line}"


def _email(rng: random.Random, first: str, last: str) -> str:
    f, la = ascii_fold(first).lower().replace(" ", "").replace("'", ""), ascii_fold(last).lower().replace(" ", "").replace("'", "")
    shape = rng.randrange(6)
    local = (f"{f}.{la}", f"{f}{la}{rng.randrange(10, 99)}", f"{f[0]}{la}", f"{la}.{f}{rng.randrange(1, 9)}",
             f"{f}_{la}", f"{f}{rng.randrange(1960, 2010)}")[shape]
    return f"{local}@{rng.choice(MAIL_DOMAINS)}"


def oregon_license(rng: random.Random) -> str:
    if rng.random() < 0.3:
        return rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ") + f"{rng.randrange(100000, 999999)}"
    return str(rng.randrange(1000000, 9999999))


@dataclass
class People:
    """A seeded pool of patrons and staff; `patron()` and `staff()` draw from it."""

    rng: random.Random
    patrons: list[Patron] = field(default_factory=list)
    staff_members: list[Staff] = field(default_factory=list)
    _seq: int = 0

    def new_patron(self, *, minor: bool = False, locale: str | None = None, home: Library | None = None) -> Patron:
        rng = self.rng
        loc = locale or rng.choices([loc for loc, _ in _LOCALES], weights=[w for _, w in _LOCALES])[0]
        female = rng.random() < 0.55
        first, last, native = _person_name(rng, loc, female)
        middle = rng.choice("ABCDEFGHJKLMNPRSTW") if rng.random() < 0.5 else ""
        street, city, zip_ = rng.choice(STREETS)
        number = rng.randrange(100, 9999)
        unit = rng.choice(UNITS) if rng.random() < 0.25 else ""
        self._seq += 1
        card_seq = rng.randrange(100000, 9999999)
        record_digits = str(rng.randrange(1000000, 9999999))
        year = rng.randrange(2008, 2019) if minor else rng.randrange(1940, 2006)
        dob = dt.date(year, rng.randrange(1, 13), rng.randrange(1, 29))
        guardian = ""
        if minor:
            gfirst, _, _ = _person_name(rng, loc, rng.random() < 0.6)
            guardian = f"{gfirst} {last}"
        owed = f"{rng.choice((0.5, 1.25, 2.0, 3.75, 4.5, 8.0, 12.4, 15.0, 23.5, 31.99, 47.25, 64.0, 88.1, 112.48, 139.95)):.2f}"
        library = home or rng.choice(LIBRARIES)
        p = Patron(first, middle, last, f"{number} {street}", unit, city, zip_, _phone(rng), _email(rng, first, last),
                   barcode("2", "3610", card_seq), f".p{record_digits}{sierra_check(record_digits)}", dob,
                   oregon_license(rng), owed, library, female, native, guardian)
        self.patrons.append(p)
        return p

    def new_staff(self, library: Library | None = None) -> Staff:
        rng = self.rng
        loc = rng.choice(("en_US", "en_US", "en_US", "es_MX", "en_IN", "de_DE"))
        first, last, _ = _person_name(rng, loc, rng.random() < 0.7)
        lib = library or rng.choice(LIBRARIES)
        f, la = ascii_fold(first).lower().replace(" ", ""), ascii_fold(last).lower().replace(" ", "").replace("'", "")
        local = f"{f}.{la}" if rng.random() < 0.6 else f"{f[0]}{la}"
        # Direct lines sit beside the main number but are not the published one.
        base = lib.phone[:8]
        direct = f"{base}{rng.randrange(0, 10000):04d}"
        if direct == lib.phone:
            direct = f"{base}0001"
        s = Staff(first, last, rng.choice(STAFF_TITLES), lib, f"{local}@{lib.domain}", direct)
        self.staff_members.append(s)
        return s

    def other_card(self) -> str:
        return barcode("2", self.rng.choice(OTHER_INSTITUTIONS), self.rng.randrange(100000, 99999999))

    def items(self, n: int, today: dt.date, *, overdue: bool = True, juvenile: bool = False) -> list[Item]:
        rng = self.rng
        out = []
        pool = [t for t in TITLES if t[0] in JUVENILE] if juvenile else list(TITLES)
        for title, author in rng.sample(pool, n):
            days = rng.randrange(3, 70) if overdue else -rng.randrange(1, 20)
            call = f"{rng.choice(CALL_PREFIXES)} {ascii_fold(author.split(',')[0]).upper()[:4]}"
            price = f"{rng.choice((9.99, 14.99, 17.0, 19.95, 24.0, 27.99, 29.95, 34.5))}"
            fine = f"{min(days, 40) * 0.25:.2f}" if overdue else "0.00"
            out.append(Item(title, author, call, barcode("3", rng.choice(("3610", "0234", "3611")), rng.randrange(100000, 9999999)),
                            today - dt.timedelta(days=days), f"{float(price):.2f}", fine))
        return out
