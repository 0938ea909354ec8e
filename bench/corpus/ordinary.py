"""Ordinary library business mail sent outside the library (expected: delivered).

Job postings, interlibrary loan requests, grant reports and aggregate
statistics, conference proposals, board minutes, circulation policy text,
vendor questions about notices, blank notice templates sent to a printer or
vendor, program announcements with presenters' phones, contact lists of HR,
ILL staff and trustees, card sign-up outreach, newsletters, purchase orders,
book lists, mailing-list posts, press releases — and a full patron record
sent to a member library (internal). They are full of names, phones,
addresses, "patron", "fines" and "holds", and disclose no patron.

Each kind has its own texts for the dev half and for the test half.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

from bench.corpus import wrappers
from bench.corpus.identity import LIBRARIES, TITLES, Staff, barcode
from bench.corpus.ils import TEMPLATES, by_id
from bench.corpus.mime import Attachment, Mail, csv_text, pdf_bytes, xlsx_bytes
from bench.corpus.model import blank
from bench.corpus.scene import Built, Ctx, Labels


@dataclass
class Draft:
    subject: str
    text: str
    to: list[tuple[str, str]]
    attachments: list[Attachment] = field(default_factory=list)
    html: str | None = None
    template: str | None = None  # an ILS template id (blank templates)
    cards: list[str] = field(default_factory=list)
    signed: bool = False  # the text already ends with the signature
    variant: int = 0


Writer = Callable[[Ctx, Staff], Draft]


def _phone(rng: random.Random) -> str:
    return f"{rng.choice(('503', '971', '541'))}-{rng.choice(('555', '362', '399', '581', '763'))}-{rng.randrange(100, 9999):04d}"


def _person(ctx: Ctx) -> str:
    return ctx.people.new_staff().name


def _money(rng: random.Random, lo: int, hi: int) -> str:
    return f"${rng.randrange(lo, hi):,}"


def _isbn(rng: random.Random) -> str:
    core = "978" + "".join(str(rng.randrange(10)) for _ in range(9))
    total = sum(int(d) * (1 if i % 2 == 0 else 3) for i, d in enumerate(core))
    return core + str((10 - total % 10) % 10)


def _pick(ctx: Ctx, variants: dict[str, list[str]]) -> tuple[int, str]:
    n = ctx.rng.randrange(len(variants[ctx.split]))
    return n, variants[ctx.split][n]


def typos(text: str, rng: random.Random, rate: float = 0.3) -> str:
    """Now and then a staff member's slip: a doubled or swapped letter in one ordinary word."""
    if rng.random() > rate:
        return text
    words = text.split(" ")
    candidates = [i for i, w in enumerate(words) if w.isalpha() and w.islower() and len(w) > 5]
    if not candidates:
        return text
    i = rng.choice(candidates)
    w = words[i]
    j = rng.randrange(1, len(w) - 2)
    words[i] = w[:j] + w[j + 1] + w[j] + w[j + 2:] if rng.random() < 0.5 else w[:j] + w[j] + w[j:]
    return " ".join(words)


# ---------------------------------------------------------------- writers


def job_posting(ctx: Ctx, s: Staff) -> Draft:
    rng = ctx.rng
    hr, hr_phone = _person(ctx), _phone(rng)
    wage = f"${rng.randrange(19, 31)}.{rng.choice(('00', '25', '50', '82'))}"
    lib = s.library
    titles = {"dev": ("Library Assistant I (Circulation)", "Youth Services Librarian", "Library Page (part-time)"),
              "test": ("Circulation Supervisor", "Bilingual Outreach Specialist (Spanish/English)", "Technical Services Assistant")}
    title = rng.choice(titles[ctx.split])
    n, text = _pick(ctx, {
        "dev": [
            "Please post the following opening on your job board.\n\n{lib} is hiring: {title}\n\nPay: {wage}/hour, 20-30 hours a "
            "week including one evening and alternating Saturdays.\nDuties: checking materials in and out, registering patrons for "
            "library cards, collecting fines and fees, placing and pulling holds, answering the phone, helping patrons with the "
            "catalog and printers.\nRequirements: high school diploma or GED; a valid driver's license and a good driving record for "
            "the outreach van; ability to lift 30 lbs; Spanish a plus.\n\nApply by {close} at jobs.cityofsalem.net. Questions: {hr}, "
            "Human Resources, {hr_phone}, {street}, {city}.\n",
            "hi! could you share this in your next newsletter?\n\nWe're looking for a {title} - {wage}/hr, no experience with "
            "library software needed, we train. You'd be the friendly face at the front desk: new library cards, holds, "
            "renewals, taking payments for lost books. Evenings + some weekends. Call {hr} at {hr_phone} with questions, "
            "applications close {close}.\n",
        ],
        "test": [
            "Hello,\n\nWe would appreciate it if you could share this posting with your members.\n\nPOSITION: {title}\nLOCATION: {lib}, "
            "{street}\nSALARY: {wage} hourly, full benefits\nCLOSES: {close}\n\nThe position oversees the desk team, trains staff on "
            "the patron privacy policy, resolves account disputes about fines and lost items, and schedules the holds shelf work. "
            "Must have or obtain an Oregon driver license within 30 days of hire.\n\nContact {hr} in HR at {hr_phone}.\n",
            "Job announcement for your listserv:\n\n{title}, {lib}\n{wage}/hour | 0.75 FTE | closes {close}\n\nWhat you'll do: "
            "process holds and interlibrary loans, keep patron accounts accurate, handle cash and card payments for fees, and "
            "help run storytimes. Background check and driver's license required. Reasonable accommodation: {hr}, {hr_phone}.\n",
        ],
    })
    text = text.format(lib=lib.name, title=title, wage=wage, close=ctx.until(21).long, hr=hr, hr_phone=hr_phone,
                       street=lib.street, city=lib.city_line)
    to = rng.choice((("OLA Jobline", "jobline@olaweb.org"), ("WorkSource Oregon", "postings@worksourceoregon.org"),
                     ("Chemeketa Career Center", "careers@chemeketa-foundation.org"), ("ALA JobLIST", "joblist@ala.org")))
    return Draft(f"Job posting: {title}", text, [to], variant=n)


def ill_request(ctx: Ctx, s: Staff) -> Draft:
    rng = ctx.rng
    title, author = rng.choice(TITLES)
    oclc, req = rng.randrange(10000000, 999999999), rng.randrange(200000000, 299999999)
    item = barcode("3", rng.choice(("0234", "3610", "3611")), rng.randrange(100000, 9999999))
    lib = s.library
    n, text = _pick(ctx, {
        "dev": [
            "Hi,\n\nWe'd like to borrow the following for one of our patrons:\n\nTitle: {title}\nAuthor: {author}\nISBN: {isbn}\n"
            "OCLC #: {oclc}\nWorldShare request: {req}\nNeed by: {need}\n\nWe can pay up to $15 through IFM. Ship to: ILL, {lib}, "
            "{street}, {city}.\n",
            "Hello ILL friends - our request {req} for {title} shows shipped but never arrived. Could you check whether item "
            "{item} went out in the courier bin on your end? Thanks much.\n",
        ],
        "test": [
            "Returning your item today via courier: {title} ({author}), your barcode {item}, our ILL #{req}. Thanks for the "
            "loan!\n\nAlso, could you renew OCLC request {oclc} for two more weeks? The borrower has not finished it.\n",
            "Lending request: we can supply {title} by {author} (ISBN {isbn}) for your request {req}. It ships Monday, due back "
            "{need}. Please do not renew without asking; this copy has holds.\n",
        ],
    })
    text = text.format(title=title, author=author, isbn=_isbn(rng), oclc=oclc, req=req, need=ctx.until(30).us, lib=lib.name,
                       street=lib.street, city=lib.city_line, item=item)
    to = rng.choice((("ILL Office", "ill@oregonstate.edu"), ("Interlibrary Loan", "ill@uoregon.edu"),
                     ("Resource Sharing", "resourcesharing@multcolib.org"), ("ILL", "ill@wou.edu")))
    return Draft(f"ILL {req}", text, [to], variant=n)


def grant_report(ctx: Ctx, s: Staff) -> Draft:
    rng = ctx.rng
    to = rng.choice((("Oregon State Library", "lsta.grants@slo.oregon.gov"), ("Grants", "grants@oregoncf.org"),
                     ("Program Officer", "programs@meyertrust.org")))
    if ctx.split == "dev":
        text = (f"Dear grant committee,\n\nAttached is our final report for the Ready to Read grant. In brief: "
                f"{rng.randrange(300, 2000):,} children registered for summer reading, {rng.randrange(40, 300)} families got their "
                f"first library card at outreach events, and circulation of picture books rose {rng.randrange(5, 30)}% over last "
                f"year. We waived {_money(rng, 2000, 9000)} in fines owed by juvenile patrons under the fine-free pilot; "
                f"{rng.randrange(20, 80)}% of blocked youth cards became active again.\n\nBudget: {_money(rng, 8000, 20000)} "
                "spent of the award, details in the spreadsheet.\n")
        rows = [["Measure", "FY23", "FY24"], ["Summer reading sign-ups", rng.randrange(900, 1500), rng.randrange(1500, 2500)],
                ["New juvenile cards", rng.randrange(100, 300), rng.randrange(300, 500)],
                ["Juvenile fines waived", _money(rng, 1000, 3000), _money(rng, 3000, 9000)]]
        att = [Attachment("ready_to_read_final.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                          xlsx_bytes(rows))]
        return Draft("Ready to Read final report", text, [to], att)
    total = _money(rng, 12000, 30000)
    text = (f"Hi,\n\nHere are the numbers for the LSTA interim report:\n\n- Total checkouts: {rng.randrange(400000, 900000):,}\n"
            f"- Holds placed: {rng.randrange(50000, 150000):,}\n- Active cardholders: {rng.randrange(40000, 90000):,}\n"
            f"- Outstanding fines across the consortium: {total}\n- Patrons blocked for fines over $10: {rng.randrange(500, 3000):,}\n\n"
            "Narrative is in the PDF.\n")
    att = [Attachment("lsta_interim.pdf", "application/pdf", pdf_bytes([
        "LSTA interim report", "", "Aggregate figures only; no patron is identified in this report.",
        f"Outstanding fines across the consortium: {total}", "Outcome: more families with active library cards."],
        title="LSTA interim report"))]
    return Draft("LSTA interim report", text, [to], att)


def statistics(ctx: Ctx, s: Staff) -> Draft:
    rng = ctx.rng
    n, text = _pick(ctx, {
        "dev": [
            "For the annual survey: we have {patrons} registered patrons, {new} new cards last month, and {fines} in fines owed "
            "across the system (down from last year since we went fine-free for kids). Holds filled within 7 days: {pct}%.\n",
            "Quick numbers for your budget memo: {checkouts} checkouts last fiscal year, {holds} holds placed, {fines} "
            "in outstanding fines and fees, {new} library cards issued.\n",
        ],
        "test": [
            "Monthly circulation summary\n\nBranch        Checkouts   Renewals   Holds filled\n{table}\nFines and fees collected: "
            "{fines}; amount referred to collections: {coll}.\n",
            "Per your request, FY totals: circulation {checkouts}; e-books {ebooks}; patrons with blocked accounts {blocked}; "
            "total fines outstanding {fines} (about {avg} per blocked patron).\n",
        ],
    })
    table = "".join(f"{lib.short:<13} {rng.randrange(2000, 40000):>9,}   {rng.randrange(500, 9000):>8,}   {rng.randrange(200, 6000):>12,}\n"
                    for lib in LIBRARIES[:6])
    text = text.format(patrons=f"{rng.randrange(30000, 80000):,}", new=rng.randrange(200, 900), fines=_money(rng, 10000, 30000),
                       pct=rng.randrange(60, 95), checkouts=f"{rng.randrange(300000, 900000):,}",
                       holds=f"{rng.randrange(40000, 140000):,}", table=table, coll=_money(rng, 2000, 9000),
                       ebooks=f"{rng.randrange(40000, 120000):,}", blocked=f"{rng.randrange(900, 4000):,}",
                       avg=f"${rng.randrange(9, 40)}.{rng.randrange(10, 99)}")
    to = rng.choice((("Public Library Survey", "pls@slo.oregon.gov"), ("City Budget Office", "budget@keizer.org"),
                     ("Friends of the Library", "board@friendsofsalemlibrary.org")))
    return Draft("Circulation statistics", text, [to], variant=n)


def conference_proposal(ctx: Ctx, s: Staff) -> Draft:
    rng = ctx.rng
    co = _person(ctx)
    to = rng.choice((("OLA Conference", "conference@olaweb.org"), ("PNLA", "program@pnla.org"), ("ALA Annual", "proposals@ala.org")))
    n, text = _pick(ctx, {
        "dev": [
            "Proposal title: Fine-Free and Still Getting Books Back\n\nPresenters: {me} ({title}, {lib}) and {co} (Circulation "
            "Manager)\n\nAbstract: Two years after we stopped charging overdue fines, return rates are steady and 1,200 blocked "
            "patrons came back. We will share our notice schedule, how we talk to patrons about lost items, and the data we "
            "collected.\n\nFormat: 45-minute session. AV: projector.\nContact: {direct}\n",
            "Hi program committee,\n\nSubmitting a lightning talk: \"Ten Things Our Courtesy Notices Taught Us\". Speaker: {co}. "
            "Backup speaker: {me}. We'd need 10 minutes and an HDMI cable. Thanks!\n",
        ],
        "test": [
            "Hello program committee,\n\nI'd like to propose a panel, \"Holds, Holds Everywhere: Managing the Pickup Shelf in a "
            "Consortium\". Panelists: {co}, {me}, and a speaker from our ILS vendor. We'd cover hold slip privacy (why we print "
            "initials only), expiring holds, and courier timing.\n\nBest phone for scheduling: {direct}.\n",
            "Session proposal\nTitle: Serving Patrons Who Have No Fixed Address\nPresenters: {me}; {co}, outreach partner\n"
            "Description: how our library issues cards without proof of address, what we learned from two years of "
            "registrations, and the privacy questions staff ask.\n",
        ],
    })
    text = text.format(me=s.name, title=s.title, lib=s.library.name, co=co, direct=s.direct)
    return Draft("Conference proposal", text, [to], variant=n)


def board_minutes(ctx: Ctx, s: Staff) -> Draft:
    rng = ctx.rng
    names = [_person(ctx) for _ in range(5)]
    n, text = _pick(ctx, {
        "dev": [
            "{lib} Advisory Board - Minutes, {date}\n\nPresent: {a}, {b}, {c}, {d}; staff {me}.\n\n1. Call to order 6:02 pm by Chair "
            "{a}.\n2. Director's report: circulation up 4%; the new self-check stations handle 61% of checkouts. Patron complaints "
            "about the hold shelf location were discussed.\n3. Fines: the board voted 4-0 to recommend ending overdue fines on "
            "children's materials. Lost item charges remain.\n4. Next meeting: second Tuesday, Anderson Room.\nAdjourned 7:15 pm. "
            "Minutes by {e}.\n",
            "Library Board work session notes ({date})\n- {b} asked staff to bring numbers on how many patrons are blocked for "
            "fines.\n- {c} reported the Friends raised {gift} at the book sale.\n- Staff ({me}) explained the new text-message "
            "notices; no patron names will appear in texts.\n",
        ],
        "test": [
            "DRAFT MINUTES - Library Board of Trustees\n{date}, Community Room\n\nTrustees present: {a} (President), {b}, {c}, {d}\n"
            "Absent: {e}\n\nPublic comment: one resident asked about meeting room fees.\nConsent agenda approved.\nOld business: "
            "patron privacy policy revision (second reading) - approved unanimously.\nNew business: {b} moved to accept the Friends' "
            "gift of {gift} for the teen space; seconded, approved.\n",
            "Minutes of the regular meeting, {date}\nCalled to order by {a}. Roll: {b}, {c}, {d} present.\nDirector {me} presented "
            "the circulation report: holds up 12%, overdue fines collected down 30% after the fine-free change.\nMotion ({c}/{d}) to "
            "adopt the revised Library Card Policy. Passed 4-0.\n",
        ],
    })
    text = text.format(lib=s.library.name, date=ctx.dates.long, a=names[0], b=names[1], c=names[2], d=names[3], e=names[4],
                       me=s.name, gift=_money(rng, 5000, 25000))
    to = rng.choice((("City Recorder", "recorder@dallasor.org"), ("Statesman Journal", "news@statesmanjournal.com"),
                     ("Friends Board", "friends@silvertonlibraryfriends.org")))
    return Draft("Board minutes", text, [to], variant=n)


def policy(ctx: Ctx, s: Staff) -> Draft:
    rng = ctx.rng
    n, text = _pick(ctx, {
        "dev": [
            "Here is our current circulation policy, as you requested for your comparison.\n\nCIRCULATION POLICY\n1. Library cards "
            "are free to residents of the district. A patron must show photo ID and proof of address to register.\n2. Loan "
            "periods: books 3 weeks, DVDs 1 week. Items may be renewed twice unless another patron has placed a hold.\n3. Holds: "
            "patrons may have 25 holds at a time. Holds are kept on the shelf for 7 days.\n4. Fines and fees: no daily overdue "
            "fines. Items 30 days overdue are billed at replacement cost; accounts owing $25 or more are blocked and may be "
            "referred to a collection agency.\n5. Confidentiality: patron records are confidential under ORS 192.355(23) and are "
            "released only to the patron, or to a parent of a minor, or under court order.\n",
            "Our lost and damaged items procedure, for your handbook project:\n\n- A patron who loses an item pays the "
            "replacement cost plus a $5 processing fee.\n- If the item is returned within 6 months, the replacement cost is "
            "refunded.\n- Damaged items are assessed by the branch manager; the patron's account is billed only after a "
            "conversation with the patron.\n- Staff never discuss a patron's account with anyone but the patron.\n",
        ],
        "test": [
            "Pasted below is the revised Patron Privacy and Confidentiality Policy the board adopted.\n\nThe library protects each "
            "patron's right to privacy. In the words of the ALA Code of Ethics, \"We protect each library user's right to privacy "
            "and confidentiality with respect to information sought or received and resources consulted, borrowed, acquired or "
            "transmitted.\" Staff will not disclose circulation records, holds, fines or registration information except as the "
            "law requires. Requests from law enforcement are referred to the Library Director.\n",
            "Section 4, Holds and Reserves (approved)\n4.1 Any cardholder in good standing may place holds on circulating "
            "materials.\n4.2 Patrons are notified by email, text or phone when a hold is ready; holds not picked up within "
            "seven days are released.\n4.3 Another person may pick up a patron's holds only with the patron's card or written "
            "permission on file.\n4.4 Fines do not accrue on holds; a lost hold item is billed like any lost item.\n",
        ],
    })
    to = rng.choice((("Policy Survey", "survey@wla.org"), ("City Attorney's Office", "legal@ci.monmouth.or.us"),
                     ("Library Consultant", "consulting@libraryassociates.com")))
    return Draft("Circulation policy", text, [to], variant=n)


def vendor_question(ctx: Ctx, s: Staff) -> Draft:
    rng = ctx.rng
    n, text = _pick(ctx, {
        "dev": [
            "Hi support,\n\nWe want the hold pickup notice to include the pickup location's hours and to stop printing the "
            "patron's full name on the hold slip (initials and last four of the card only). Is that a setting in the notice "
            "templates or does it need a custom report? Also, can courtesy notices go out 3 days before the due date instead of 2?\n",
            "Hello - quick question about the SMS notices. Is there a way to send the hold-ready text without the title, just "
            "\"You have 1 item ready for pickup\"? Our board is worried about titles showing on lock screens.\n",
        ],
        "test": [
            "Hello,\n\nAfter the upgrade our overdue notices print the fines total twice and the second overdue notice is going out "
            "at 14 days instead of 21. Which table controls the notice intervals? We have not changed anything in the patron or "
            "item records.\n",
            "Good afternoon,\n\nCould you tell us which placeholder prints the pickup branch's phone number in the hold notice? "
            "The docs list one for the branch address but not the phone. We'd also like the patron's barcode masked except the "
            "last four digits.\n",
        ],
    })
    to = rng.choice((("ILS Support", "support@bywatersolutions.com"), ("Sierra Support", "support@iii.com"),
                     ("Help Desk", "helpdesk@equinoxoli.org"), ("Customer Support", "support@sirsidynix.com")))
    return Draft("Notice configuration question", text, [to], variant=n)


def blank_template(ctx: Ctx, s: Staff) -> Draft:
    rng = ctx.rng
    t = rng.choice([t for t in TEMPLATES if t.split == ctx.split and not t.rows])
    n, intro = _pick(ctx, {
        "dev": [f"Here's the template for the {t.name} with the merge fields. Can you print 2,000 on our letterhead?",
                f"Attached below is our current {t.name} template. We'd like you to review the wording before we go live."],
        "test": [f"Proof request: please set this {t.name} layout for the new window envelopes; placeholders stay as they are.",
                 f"For the notice redesign, this is the {t.name} as configured in the ILS today (fields unfilled)."],
    })
    to = rng.choice((("Print Shop", "orders@capitalprinting.com"), ("Vendor Support", "support@bywatersolutions.com"),
                     ("Mailing House", "jobs@willamettemailing.com"), ("Design", "hello@rainydaydesign.co")))
    return Draft(f"Template: {t.name}", f"{intro}\n\n{blank(t)}", [to], template=t.id, variant=n)


def program(ctx: Ctx, s: Staff) -> Draft:
    rng = ctx.rng
    who, ph = _person(ctx), _phone(rng)
    title, _ = rng.choice(TITLES)
    day = ctx.until(12)
    n, text = _pick(ctx, {
        "dev": [
            "EVENT: Author talk with {who}\nWhen: {weekday}, {date}, 6:30 pm\nWhere: {lib}, {street}, {city}\n\n{who} will read from "
            "a new novel and talk about writing in the Willamette Valley. Book club members reading {title} are welcome to stay "
            "for questions.\n\nFree; registration not required. Media contact: {who}'s publicist, {ph}. Library contact: {me}, {direct}.\n",
            "Hi! We'd love a mention on your events page: Tax Help Tuesdays at {lib} with AARP volunteer {who}. Appointments by "
            "phone at {ph}. Bring last year's return. Walk-ins after 3 pm.\n",
        ],
        "test": [
            "Hi all, please include in the community calendar:\n\nBilingual Storytime / Hora de cuentos bilingüe\nSaturdays at 10:30, "
            "{lib}\nPresenter: {who} (call or text {ph} with questions)\n\nAlso: Teen Tech Night on Thursday, and our Seed Library "
            "opens March 1. Patrons can sign up for a library card at any event.\n",
            "PROGRAM LISTING\nGenealogy 101 with {who}, certified genealogist\n{weekday} {date}, 2:00-3:30 pm, {lib} meeting room\n"
            "Space is limited; reserve at the reference desk or with the presenter at {ph}.\n",
        ],
    })
    text = text.format(who=who, weekday=day.weekday, date=day.long, lib=s.library.name, street=s.library.street,
                       city=s.library.city, title=title, ph=ph, me=s.name, direct=s.direct)
    to = rng.choice((("Community Calendar", "calendar@salemreporter.com"), ("Events", "events@travelsalem.com"),
                     ("KMUZ Community Radio", "psa@kmuz.org")))
    return Draft("Upcoming program", text, [to], variant=n)


def contacts(ctx: Ctx, s: Staff) -> Draft:
    rng = ctx.rng
    people = [(_person(ctx), _phone(rng)) for _ in range(5)]
    lib = s.library
    n = rng.randrange(2)
    if ctx.split == "dev" and n == 0:
        text = ("Here are the contacts you asked for:\n\n"
                f"Human Resources: {people[0][0]}, {people[0][1]}, {lib.street}, {lib.city_line}\n"
                f"ILL: {people[1][0]}, {people[1][1]}, ill@{lib.domain}\n"
                f"Board chair: {people[2][0]}, {people[2][1]}\nFacilities: {people[3][0]}, {people[3][1]}\n")
    elif ctx.split == "dev":
        text = (f"For the regional directory, please list:\n\nDirector: {people[0][0]} ({people[0][1]})\n"
                f"Interlibrary loan: {people[1][0]}, {people[1][1]}\nYouth services: {people[2][0]}, {people[2][1]}\n"
                f"Street address: {lib.street}, {lib.city_line}\nMain desk: {lib.phone}\n")
    elif n == 0:
        text = ("Updated trustee roster\n\nName                      Phone          Term ends\n"
                + "".join(f"{nm:<25} {ph:<14} June {rng.randrange(2025, 2029)}\n" for nm, ph in people)
                + f"\nMailing address for all trustees: c/o {lib.name}, {lib.street}, {lib.city_line}.\n")
    else:
        text = (f"Emergency contact tree (building issues only):\n1) {people[0][0]}, facilities - cell {people[0][1]}\n"
                f"2) {people[1][0]}, branch manager - cell {people[1][1]}\n3) {people[2][0]}, city IT on call - {people[2][1]}\n"
                f"Alarm company account is under {lib.name}, {lib.street}.\n")
    to = rng.choice((("League of Oregon Cities", "info@orcities.org"), ("Auditor", "audit@moss-adams.com"),
                     ("State Library", "ldsupport@slo.oregon.gov"), ("Alarm Monitoring", "service@cascadesecurity.com")))
    return Draft("Contacts", text, [to], variant=n)


def card_outreach(ctx: Ctx, s: Staff) -> Draft:
    rng = ctx.rng
    n, text = _pick(ctx, {
        "dev": [
            "Hi,\n\nThank you for hosting us at back-to-school night! We'd love to set up a table again to register patrons for "
            "library cards. Parents just need a photo ID and something with their address; kids under 13 need a parent's "
            "signature. Last year we signed up 214 new patrons in two hours.\n\nCould we have an outlet and a table near the "
            "cafeteria entrance?\n",
            "Hello! Library Card Sign-Up Month is coming. Would your residents' association like us to visit? We register new "
            "patrons on the spot, explain holds and renewals, and clear old fines on children's cards.\n",
        ],
        "test": [
            "Good morning,\n\nOur outreach team would like to visit the clinic waiting room on Tuesdays to offer library card "
            "sign-ups. We bring a laptop, issue the card on the spot and show patrons how to place holds and read e-books. No "
            "fines are charged on children's cards.\n\nWould the 2nd and 4th Tuesday work?\n",
            "Dear principal,\n\nEvery first grader can get a library card this fall: send home the attached form, and we will "
            "register the students in a batch and deliver the cards to the classroom. Families who already have a card just "
            "write the number on the form.\n",
        ],
    })
    to = rng.choice((("Principal", "office@salkeiz.k12.or.us"), ("Clinic Manager", "frontdesk@wvpchealth.org"),
                     ("Community Center", "info@ibarrafamilycenter.org")))
    return Draft("Library card sign-ups", text, [to], variant=n)


def newsletter(ctx: Ctx, s: Staff) -> Draft:
    rng = ctx.rng
    picks = rng.sample(TITLES, 4)
    who = _person(ctx)
    lib = s.library
    if ctx.split == "dev":
        html = ("<html><body><h1>Library News</h1><p>New this month:</p><ul>"
                + "".join(f"<li><i>{t}</i> by {a}</li>" for t, a in picks)
                + f"</ul><p>Meet our new teen librarian, {who}! Stop by the second floor to say hi.</p>"
                  "<p>Reminder: the book drop is open 24/7 and there are no late fines on children's books.</p>"
                  f"<p>{lib.name} | {lib.street} | {lib.phone}</p></body></html>\n")
    else:
        html = ("<html><body><table><tr><td><h2>The Checkout</h2></td></tr><tr><td>Staff picks: "
                + "; ".join(f"{t} ({a})" for t, a in picks)
                + f"</td></tr><tr><td>Volunteer spotlight: {who} has shelved holds every Tuesday for 11 years.</td></tr>"
                  "<tr><td>Place holds online at any time; you'll get an email when they're ready.</td></tr></table></body></html>\n")
    from bench.corpus.disclosures import html_to_text

    to = ("Newsletter subscribers", rng.choice(("news@lists.salemlibrary.org", "subscribers@mailchimp-lists.com",
                                                "library-news@groups.io")))
    return Draft("Library News", html_to_text(html), [to], html=html)


def purchase_order(ctx: Ctx, s: Staff) -> Draft:
    rng = ctx.rng
    lines = [(t, a, _isbn(rng), rng.randrange(1, 4), f"{rng.uniform(12, 35):.2f}") for t, a in rng.sample(TITLES, rng.randrange(3, 8))]
    rows = [["ISBN", "Title", "Author", "Qty", "Price"]] + [[i, t, a, str(q), p] for t, a, i, q, p in lines]
    delim = ";" if ctx.split == "dev" else ","
    att = [Attachment(f"PO-{rng.randrange(10000, 99999)}.csv", "text/csv", csv_text(rows, delimiter=delim))]
    text = {"dev": "Please process the attached order. Ship to Technical Services at the address below. PO total includes processing.\n",
            "test": "Attached is our standing order for this month. Bill to the account on file; cataloging records via FTP please.\n"}[ctx.split]
    to = rng.choice((("Baker & Taylor", "orders@baker-taylor.com"), ("Ingram", "orders@ingramcontent.com"),
                     ("Midwest Tape", "orders@midwesttapes.com")))
    return Draft(f"Purchase order {ctx.dates.iso}", text, [to], att)


def book_list(ctx: Ctx, s: Staff) -> Draft:
    rng = ctx.rng
    picks = rng.sample(TITLES, rng.randrange(5, 10))
    n = rng.randrange(2)
    if ctx.split == "dev":
        head = ("Here's the reading list for the book club flyer:", "Titles for the Readers' Advisory bookmark, in order:")[n]
        text = head + "\n\n" + "".join(f"- {t} by {a}\n" for t, a in picks)
    else:
        head = ("Suggested titles for the display:", "Our staff's top checkouts this season (no patron info, just titles):")[n]
        text = head + "\n\n" + "".join(f"{i}. {a} -- {t}\n" for i, (t, a) in enumerate(picks, 1))
    to = rng.choice((("Book Club", "bookclub@silvertonseniors.org"), ("Teacher", "mrs.ortiz@gmail.com"),
                     ("Bookstore", "events@escapebookstore.com")))
    return Draft("Book list", text, [to], variant=n)


def mailing_list(ctx: Ctx, s: Staff) -> Draft:
    n, text = _pick(ctx, {
        "dev": [
            "Hi all,\n\nHow are other libraries handling holds for patrons who share a household? We get a lot of \"can my "
            "husband pick up my holds\" questions. Our current practice is that the patron has to list the person as an "
            "authorized pickup on the account. Do you print full names on hold slips or initials?\n\nAlso curious whether anyone "
            "still charges overdue fines on adult materials.\n",
            "Following up on last week's thread about the ODUE notice: we ended up removing the fine amount from the email "
            "entirely and linking to the account page instead. Patrons complained less. Happy to share our template.\n",
        ],
        "test": [
            "Replying to the thread on patron privacy and email notices: ORS 192.355(23) exempts from disclosure records naming "
            "a patron with the materials they borrowed, so we never put titles in SMS notices - just \"you have items due\". For "
            "email we list titles, since the address is the patron's own.\n\nFor what it's worth, the ALA Code of Ethics frames it "
            "as protecting \"each library user's right to privacy and confidentiality\".\n",
            "Has anyone set up an action trigger that emails a receipt when a patron pays a fine at self-check? We'd like the "
            "receipt to show the bill number and amount but not the title. Any template to share?\n",
        ],
    })
    to = (("Koha users", "koha@lists.katipo.co.nz") if ctx.split == "dev" else
          ("Evergreen general", "evergreen-general@list.evergreen-ils.org"))
    return Draft("Re: holds pickup and privacy" if n == 0 else "Re: notice templates", text, [to], variant=n)


def press_release(ctx: Ctx, s: Staff) -> Draft:
    rng = ctx.rng
    mayor = _person(ctx)
    lib = s.library
    text = {"dev": (f"FOR IMMEDIATE RELEASE\n\n{lib.name} goes fine-free for children\n\n{lib.city}, Ore. - Starting "
                    f"{ctx.until(30).long}, the library will no longer charge overdue fines on children's and teen materials. "
                    f"\"No kid should be kept from reading by a late fee,\" said Mayor {mayor}. Existing youth fines will be "
                    f"cleared.\n\nMedia contact: {s.name}, {s.direct}\n"),
            "test": (f"NEWS RELEASE\n\nLibrary card sign-up month breaks record\n\nMore than 1,100 residents registered for "
                     f"library cards in September. Council member {mayor} will present awards to the three schools with the "
                     f"most sign-ups at {lib.name}, {lib.street}.\n\nContact: {s.name} ({s.direct})\n")}[ctx.split]
    to = rng.choice((("Newsroom", "news@statesmanjournal.com"), ("Salem Reporter", "tips@salemreporter.com"), ("KGW", "desk@kgw.com")))
    return Draft("Press release", text, [to])


def internal_record(ctx: Ctx, s: Staff) -> Draft:
    """A full patron record sent to a member library: internal, so it is delivered."""
    p = ctx.people.new_patron()
    item = ctx.people.items(1, ctx.today)[0]
    text = {"dev": (f"Can you check whether this patron is also registered with you? She says her card works at Dallas.\n\n"
                    f"PATRN NAME   {p.ils_name}\nADDRESS      {p.dollar_address}\nTELEPHONE    {p.phone}\nP BARCODE    {p.card}\n"
                    f"MONEY OWED   ${p.owed}\nCUR ITEMS    {item.title}\n"),
            "test": (f"Transferring this account to your branch as discussed:\n\nName: {p.last_first}\nCard: {p.card}\n"
                     f"Address: {p.one_line_address}\nPhone: {p.phone}\nHolds: {item.title}\nBalance: ${p.owed}\n")}[ctx.split]
    return Draft("patron account", text, [ctx.colleague(s)], cards=[p.card])


def fax_purchase_order(ctx: Ctx, s: Staff) -> Draft:
    rng = ctx.rng
    lines = rng.sample(TITLES, 3)
    if ctx.split == "dev":
        text = ("PURCHASE ORDER\n" + "".join(f"{n}. {t} / {a}  qty 1\n" for n, (t, a) in enumerate(lines, 1))
                + f"\nShip to: {s.library.name}, {s.library.street}, {s.library.city_line}\n")
    else:
        text = ("ORDER FORM - please fax confirmation\n" + "".join(f"  {a}. {t} (1 copy)\n" for t, a in lines)
                + f"\nDeliver to {s.library.name} Technical Services\n")
    number = rng.choice(("1", "")) + rng.choice(("503", "971")) + f"555{rng.randrange(1000, 9999):04d}"
    return Draft("fax: PO", text, [("", f"{number}@{rng.choice(('efaxsend.com', 'rcfax.com', 'metrofax.com'))}")])


WRITERS: dict[str, Writer] = {
    "job-posting": job_posting, "ill-request": ill_request, "grant-report": grant_report, "statistics": statistics,
    "conference-proposal": conference_proposal, "board-minutes": board_minutes, "policy": policy,
    "vendor-question": vendor_question, "blank-template": blank_template, "program": program, "contacts": contacts,
    "card-outreach": card_outreach, "newsletter": newsletter, "purchase-order": purchase_order, "book-list": book_list,
    "mailing-list": mailing_list, "press-release": press_release, "internal-record": internal_record,
    "fax-purchase-order": fax_purchase_order,
}


def ordinary_message(ctx: Ctx, kind: str) -> Built:
    s = ctx.staff()
    d = WRITERS[kind](ctx, s)
    text = typos(d.text, ctx.rng) if kind not in ("blank-template", "internal-record") else d.text
    text = f"{text.rstrip()}\n\n{wrappers.signature(ctx.split, s, ctx.rng)}\n"
    internal = kind == "internal-record"
    cc = [ctx.colleague(s)] if not internal and not kind.startswith("fax") and ctx.rng.random() < 0.15 else []
    mail = Mail((s.name, s.email), d.to, d.subject, text, ctx.when(), ctx.token, cc=cc, attachments=d.attachments, html=d.html,
                crlf=ctx.rng.random() < 0.3)
    recipients = [{"address": a, "expect": "deliver", "role": "internal" if internal else "business"} for _, a in d.to]
    recipients += [{"address": a, "expect": "deliver", "role": "internal"} for _, a in cc]
    template = d.template or f"{kind}-{ctx.split}-{d.variant}"
    source = by_id()[d.template].source if d.template else "library-practice"
    carrier = "attachment" if d.attachments else ("html" if d.html else ("email-to-fax" if kind.startswith("fax") else "inline"))
    labels = Labels("ordinary", "internal" if internal else "ordinary", kind, kind.replace("-", " "), [template], [source],
                    carrier, recipients, [], "en", d.cards)
    return Built(mail, labels)
