"""Ordinary library business mail sent outside the library (expected: delivered).

Job postings, interlibrary loan requests, grant reports and aggregate
statistics, conference proposals, board minutes, circulation policy text,
vendor questions about notices, blank notice templates sent to a printer or
vendor, program announcements with presenters' phones, contact lists of HR,
ILL staff and trustees, card sign-up outreach, newsletters, purchase orders,
book lists, mailing-list posts, press releases — and a full patron record
sent to a member library (internal). They are full of names, phones,
addresses, "patron", "fines" and "holds", and disclose no patron.

Each kind has texts for the dev half and other texts for the test half.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from bench.corpus import wrappers
from bench.corpus.identity import LIBRARIES, TITLES, Staff, barcode
from bench.corpus.ils import TEMPLATES
from bench.corpus.mime import Attachment, Mail, csv_text, pdf_bytes, xlsx_bytes
from bench.corpus.model import blank
from bench.corpus.scene import Built, Ctx, Labels

Writer = Callable[[Ctx, Staff], tuple[str, str, list[tuple[str, str]], list[Attachment]]]


def _phone(rng: random.Random) -> str:
    return f"{rng.choice(('503', '971', '541'))}-{rng.choice(('555', '362', '399', '581', '763'))}-{rng.randrange(100, 9999):04d}"


def _person(ctx: Ctx) -> tuple[str, str]:
    s = ctx.people.new_staff()
    return s.first, s.last


def _ext(ctx: Ctx, local: str, domain: str, name: str = "") -> tuple[str, str]:
    return name, f"{local}@{domain}"


def _money(rng: random.Random, lo: int, hi: int) -> str:
    return f"${rng.randrange(lo, hi):,}"


def _book(rng: random.Random) -> tuple[str, str]:
    return rng.choice(TITLES)


def _isbn(rng: random.Random) -> str:
    core = "978" + "".join(str(rng.randrange(10)) for _ in range(9))
    total = sum(int(d) * (1 if i % 2 == 0 else 3) for i, d in enumerate(core))
    return core + str((10 - total % 10) % 10)


# ---------------------------------------------------------------- writers, dev and test


def job_posting(ctx: Ctx, s: Staff):  # type: ignore[no-untyped-def]
    rng = ctx.rng
    hr_first, hr_last = _person(ctx)
    hr_phone = _phone(rng)
    wage = f"${rng.randrange(19, 31)}.{rng.choice(('00', '25', '50', '82'))}"
    if ctx.split == "dev":
        title = rng.choice(("Library Assistant I (Circulation)", "Youth Services Librarian", "Library Page (part-time)"))
        text = (f"Please post the following opening on your job board.\n\n{s.library.name} is hiring: {title}\n\n"
                f"Pay: {wage}/hour, 20-30 hours a week including one evening and alternating Saturdays.\n"
                "Duties: checking materials in and out, registering patrons for library cards, collecting fines and fees, "
                "placing and pulling holds, answering the phone, helping patrons with the catalog and printers.\n"
                "Requirements: high school diploma or GED; a valid driver's license and a good driving record for the "
                "outreach van; ability to lift 30 lbs; Spanish a plus.\n\n"
                f"Apply by {ctx.until(21).long} at jobs.cityofsalem.net. Questions: {hr_first} {hr_last}, Human Resources, "
                f"{hr_phone}, {s.library.street}, {s.library.city_line}.\n")
    else:
        title = rng.choice(("Circulation Supervisor", "Bilingual Outreach Specialist (Spanish/English)", "Technical Services Assistant"))
        text = (f"Hello,\n\nWe would appreciate it if you could share this posting with your members.\n\nPOSITION: {title}\n"
                f"LOCATION: {s.library.name}, {s.library.street}\nSALARY: {wage} - ${int(wage[1:3]) + 6}.40 hourly, full benefits\n"
                f"CLOSES: {ctx.until(14).long}\n\nThe supervisor oversees the desk team, trains staff on the patron "
                "privacy policy, resolves account disputes about fines and lost items, and schedules the holds shelf "
                "work. Must have or obtain an Oregon driver license within 30 days of hire.\n\n"
                f"Contact {hr_first} {hr_last} in HR at {hr_phone} or hr@{s.library.domain}.\n")
    to = rng.choice(((("OLA Jobline", "jobline@olaweb.org")), ("WorkSource Oregon", "postings@worksourceoregon.org"),
                     ("Chemeketa Career Center", "careers@chemeketa.edu"), ("ALA JobLIST", "joblist@ala.org")))
    return f"Job posting: {title}", text, [to], []


def ill_request(ctx: Ctx, s: Staff):  # type: ignore[no-untyped-def]
    rng = ctx.rng
    title, author = _book(rng)
    oclc = rng.randrange(10000000, 999999999)
    item = barcode("3", rng.choice(("0234", "3610", "3611")), rng.randrange(100000, 9999999))
    req = rng.randrange(200000000, 299999999)
    if ctx.split == "dev":
        text = (f"Hi,\n\nWe'd like to borrow the following for one of our patrons:\n\nTitle: {title}\nAuthor: {author}\n"
                f"ISBN: {_isbn(rng)}\nOCLC #: {oclc}\nWorldShare request: {req}\nNeed by: {ctx.until(30).us}\n\n"
                f"We can pay up to $15 through IFM. Ship to: ILL, {s.library.name}, {s.library.street}, {s.library.city_line}.\n")
        subject = f"ILL request {req}"
    else:
        text = (f"Returning your item today via courier: {title} ({author}), your barcode {item}, our ILL #{req}. "
                f"Thanks for the loan!\n\nAlso, could you renew OCLC request {oclc} for two more weeks? The patron "
                "has not finished it.\n")
        subject = f"Re: ILL {req} return and renewal"
    to = rng.choice((("ILL Office", "ill@oregonstate.edu"), ("Interlibrary Loan", "ill@uoregon.edu"),
                     ("Resource Sharing", "resourcesharing@multcolib.org"), ("ILL", "ill@wou.edu")))
    return subject, text, [to], []


def grant_report(ctx: Ctx, s: Staff):  # type: ignore[no-untyped-def]
    rng = ctx.rng
    if ctx.split == "dev":
        text = (f"Dear grant committee,\n\nAttached is our final report for the Ready to Read grant. In brief: "
                f"{rng.randrange(300, 2000):,} children registered for summer reading, {rng.randrange(40, 300)} families got their "
                f"first library card at outreach events, and circulation of picture books rose {rng.randrange(5, 30)}% over last "
                f"year. We waived {_money(rng, 2000, 9000)} in fines owed by juvenile patrons under the fine-free pilot; "
                f"{rng.randrange(20, 80)}% of blocked youth cards became active again.\n\nBudget: {_money(rng, 8000, 20000)} "
                "spent of the award, details in the spreadsheet.\n")
        rows = [["Measure", "FY23", "FY24"], ["Summer reading sign-ups", str(rng.randrange(900, 1500)), str(rng.randrange(1500, 2500))],
                ["New juvenile cards", str(rng.randrange(100, 300)), str(rng.randrange(300, 500))],
                ["Juvenile fines waived", _money(rng, 1000, 3000), _money(rng, 3000, 9000)]]
        att = [Attachment("ready_to_read_final.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                          xlsx_bytes(rows))]
    else:
        text = (f"Hi,\n\nHere are the numbers for the LSTA interim report:\n\n- Total checkouts: {rng.randrange(400000, 900000):,}\n"
                f"- Holds placed: {rng.randrange(50000, 150000):,}\n- Active cardholders: {rng.randrange(40000, 90000):,}\n"
                f"- Outstanding fines across the consortium: {_money(rng, 12000, 30000)}\n"
                f"- Patrons blocked for fines over $10: {rng.randrange(500, 3000):,}\n\nNarrative is in the PDF.\n")
        att = [Attachment("lsta_interim.pdf", "application/pdf", pdf_bytes(["LSTA interim report", "", "Aggregate figures only.",
                          f"Circulation {rng.randrange(400000, 900000):,}"], title="LSTA interim report"))]
    to = rng.choice((("Oregon State Library", "lsta.grants@slo.oregon.gov"), ("Grants", "grants@oregoncf.org"),
                     ("Program Officer", "programs@meyertrust.org")))
    return "Grant report", text, [to], att


def statistics(ctx: Ctx, s: Staff):  # type: ignore[no-untyped-def]
    rng = ctx.rng
    if ctx.split == "dev":
        text = (f"For the annual survey: we have {rng.randrange(30000, 80000):,} registered patrons, {rng.randrange(200, 900)} "
                f"new cards last month, and ${rng.randrange(10, 30)},{rng.randrange(100, 999)} in fines owed across the system "
                f"(down from last year since we went fine-free for kids). Holds filled within 7 days: {rng.randrange(60, 95)}%.\n")
    else:
        text = ("Monthly circulation summary\n\nBranch        Checkouts   Renewals   Holds filled\n"
                + "".join(f"{lib.short:<13} {rng.randrange(2000, 40000):>9,}   {rng.randrange(500, 9000):>8,}   {rng.randrange(200, 6000):>12,}\n"
                          for lib in LIBRARIES[:6])
                + f"\nFines and fees collected: {_money(rng, 3000, 12000)}; amount referred to collections: {_money(rng, 2000, 9000)}.\n")
    to = rng.choice((("Public Library Survey", "pls@slo.oregon.gov"), ("City Budget Office", "budget@keizer.org"),
                     ("Friends of the Library", "board@friendsofsalemlibrary.org")))
    return "Circulation statistics", text, [to], []


def conference_proposal(ctx: Ctx, s: Staff):  # type: ignore[no-untyped-def]
    rng = ctx.rng
    co_first, co_last = _person(ctx)
    if ctx.split == "dev":
        text = (f"Proposal title: Fine-Free and Still Getting Books Back\n\nPresenters: {s.name} ({s.title}, {s.library.name}) "
                f"and {co_first} {co_last} (Circulation Manager)\n\nAbstract: Two years after we stopped charging overdue fines, "
                "return rates are steady and 1,200 blocked patrons came back. We will share our notice schedule, how we "
                "talk to patrons about lost items, and the data we collected.\n\nFormat: 45-minute session. AV: projector.\n"
                f"Contact: {s.direct}\n")
    else:
        text = (f"Hello OLA program committee,\n\nI'd like to propose a panel, \"Holds, Holds Everywhere: Managing the "
                f"Pickup Shelf in a Consortium\". Panelists: {co_first} {co_last}, {s.name}, and a speaker from our ILS vendor. "
                "We'd cover hold slip privacy (why we print initials only), expiring holds, and courier timing.\n\n"
                f"Best phone for scheduling: {s.direct}.\n")
    to = rng.choice((("OLA Conference", "conference@olaweb.org"), ("PNLA", "program@pnla.org"), ("ALA Annual", "proposals@ala.org")))
    return "Conference proposal", text, [to], []


def board_minutes(ctx: Ctx, s: Staff):  # type: ignore[no-untyped-def]
    rng = ctx.rng
    names = [" ".join(_person(ctx)) for _ in range(5)]
    if ctx.split == "dev":
        text = (f"{s.library.name} Advisory Board - Minutes, {ctx.dates.long}\n\nPresent: {', '.join(names[:4])}; "
                f"staff {s.name}.\n\n1. Call to order 6:02 pm by Chair {names[0]}.\n2. Director's report: circulation "
                f"up 4%; the new self-check stations handle 61% of checkouts. Patron complaints about the hold shelf "
                "location were discussed.\n3. Fines: the board voted 4-0 to recommend ending overdue fines on "
                "children's materials. Lost item charges remain.\n4. Next meeting: second Tuesday, Anderson Room.\n"
                f"Adjourned 7:15 pm. Minutes by {names[4]}.\n")
    else:
        text = (f"DRAFT MINUTES - Library Board of Trustees\n{ctx.dates.long}, Community Room\n\nTrustees present: "
                f"{names[0]} (President), {names[1]}, {names[2]}, {names[3]}\nAbsent: {names[4]}\n\n"
                "Public comment: one resident asked about meeting room fees.\nConsent agenda approved.\n"
                f"Old business: patron privacy policy revision (second reading) - approved unanimously.\n"
                f"New business: {names[1]} moved to accept the Friends' gift of {_money(rng, 5000, 25000)} for the teen space; "
                "seconded, approved.\n")
    to = rng.choice((("City Recorder", "recorder@dallasor.org"), ("Statesman Journal", "news@statesmanjournal.com"),
                     ("Friends Board", "friends@silvertonlibraryfriends.org")))
    return "Board minutes", text, [to], []


def policy(ctx: Ctx, s: Staff):  # type: ignore[no-untyped-def]
    rng = ctx.rng
    if ctx.split == "dev":
        text = ("Here is our current circulation policy, as you requested for your comparison.\n\n"
                "CIRCULATION POLICY\n1. Library cards are free to residents of the district. A patron must show photo ID "
                "and proof of address to register.\n2. Loan periods: books 3 weeks, DVDs 1 week. Items may be renewed twice "
                "unless another patron has placed a hold.\n3. Holds: patrons may have 25 holds at a time. Holds are kept on "
                "the shelf for 7 days.\n4. Fines and fees: no daily overdue fines. Items 30 days overdue are billed at "
                "replacement cost; accounts owing $25 or more are blocked and may be referred to a collection agency.\n"
                "5. Confidentiality: patron records are confidential under ORS 192.355(23) and are released only "
                "to the patron, or to a parent of a minor, or under court order.\n")
    else:
        text = ("Attached and pasted below is the revised Patron Privacy and Confidentiality Policy the board adopted.\n\n"
                "The library protects each patron's right to privacy. In the words of the ALA Code of Ethics, \"We protect "
                "each library user's right to privacy and confidentiality with respect to information sought or received "
                "and resources consulted, borrowed, acquired or transmitted.\" Staff will not disclose circulation records, "
                "holds, fines or registration information except as the law requires. Requests from law enforcement are "
                "referred to the Library Director.\n")
    to = rng.choice((("Policy Survey", "survey@wla.org"), ("City Attorney's Office", "legal@ci.monmouth.or.us"),
                     ("Library Consultant", "consulting@libraryassociates.com")))
    return "Circulation policy", text, [to], []


def vendor_question(ctx: Ctx, s: Staff):  # type: ignore[no-untyped-def]
    rng = ctx.rng
    if ctx.split == "dev":
        text = ("Hi support,\n\nWe want the hold pickup notice to include the pickup location's hours and to stop "
                "printing the patron's full name on the hold slip (initials and last four of the card only). Is that a "
                "setting in the notice templates or does it need a custom report? Also, can courtesy notices go out "
                "3 days before the due date instead of 2?\n\nThanks,\n")
    else:
        text = ("Hello,\n\nAfter the upgrade our overdue notices print the fines total twice and the second overdue "
                "notice is going out at 14 days instead of 21. Which table controls the notice intervals? We have not "
                "changed anything in the patron or item records. Screenshots of the configuration are attached.\n\n")
    to = rng.choice((("ILS Support", "support@bywatersolutions.com"), ("Sierra Support", "support@iii.com"),
                     ("Help Desk", "helpdesk@equinoxoli.org"), ("Customer Support", "support@sirsidynix.com")))
    return "Notice configuration question", text + wrappers.signature(ctx.split, s, rng), [to], []


def blank_template(ctx: Ctx, s: Staff):  # type: ignore[no-untyped-def]
    rng = ctx.rng
    pool = [t for t in TEMPLATES if t.split == ctx.split and not t.rows]
    t = rng.choice(pool)
    text = blank(t)
    intro = {"dev": f"Here's the template for the {t.name} with the merge fields. Can you print 2,000 on our letterhead?",
             "test": f"Proof request: please set this {t.name} layout for the new window envelopes; placeholders stay as they are."}[ctx.split]
    to = rng.choice((("Print Shop", "orders@capitalprinting.com"), ("Vendor Support", "support@bywatersolutions.com"),
                     ("Mailing House", "jobs@willamettemailing.com"), ("Notice Vendor", "setup@unique-mgmt.com")))
    ctx._template = t.id  # type: ignore[attr-defined]
    return f"Template: {t.name}", f"{intro}\n\n{text}\n{wrappers.signature(ctx.split, s, rng)}", [to], []


def program(ctx: Ctx, s: Staff):  # type: ignore[no-untyped-def]
    rng = ctx.rng
    first, last = _person(ctx)
    ph = _phone(rng)
    title, author = _book(rng)
    if ctx.split == "dev":
        text = (f"EVENT: Author talk with {first} {last}\nWhen: {ctx.until(12).weekday}, {ctx.until(12).long}, 6:30 pm\n"
                f"Where: {s.library.name}, {s.library.street}, {s.library.city}\n\n{first} {last} will read from her new "
                f"novel and talk about writing in the Willamette Valley. Book club members reading {title} are welcome "
                f"to stay for questions.\n\nFree; registration not required. Media contact: {first} {last}'s publicist, "
                f"{ph}. Library contact: {s.name}, {s.direct}.\n")
    else:
        text = (f"Hi all, please include in the community calendar:\n\nBilingual Storytime / Hora de cuentos bilingüe\n"
                f"Saturdays at 10:30, {s.library.name}\nPresenter: {first} {last} (call or text {ph} with questions)\n\n"
                "Also: Teen Tech Night on Thursday, and our Seed Library opens March 1. Patrons can sign up for a library "
                "card at any event.\n")
    to = rng.choice((("Community Calendar", "calendar@salemreporter.com"), ("Events", "events@travelsalem.com"),
                     ("KMUZ Community Radio", "psa@kmuz.org")))
    return "Upcoming program", text, [to], []


def contacts(ctx: Ctx, s: Staff):  # type: ignore[no-untyped-def]
    rng = ctx.rng
    people = [(" ".join(_person(ctx)), _phone(rng)) for _ in range(5)]
    if ctx.split == "dev":
        text = ("Here are the contacts you asked for:\n\n"
                f"Human Resources: {people[0][0]}, {people[0][1]}, {s.library.street}, {s.library.city_line}\n"
                f"ILL: {people[1][0]}, {people[1][1]}, ill@{s.library.domain}\n"
                f"Board chair: {people[2][0]}, {people[2][1]}\nFacilities: {people[3][0]}, {people[3][1]}\n")
    else:
        text = ("Updated trustee roster\n\nName                      Phone          Term ends\n"
                + "".join(f"{n:<25} {ph:<14} June {rng.randrange(2025, 2029)}\n" for n, ph in people)
                + f"\nMailing address for all trustees: c/o {s.library.name}, {s.library.street}, {s.library.city_line}.\n")
    to = rng.choice((("League of Oregon Cities", "info@orcities.org"), ("Auditor", "audit@moss-adams.com"),
                     ("State Library", "ldsupport@slo.oregon.gov")))
    return "Contacts", text, [to], []


def card_outreach(ctx: Ctx, s: Staff):  # type: ignore[no-untyped-def]
    rng = ctx.rng
    if ctx.split == "dev":
        text = ("Hi,\n\nThank you for hosting us at back-to-school night! We'd love to set up a table again to register "
                "patrons for library cards. Parents just need a photo ID and something with their address; kids under 13 "
                "need a parent's signature. Last year we signed up 214 new patrons in two hours.\n\n"
                "Could we have an outlet and a table near the cafeteria entrance?\n")
    else:
        text = ("Good morning,\n\nOur outreach team would like to visit the clinic waiting room on Tuesdays to offer "
                "library card sign-ups. We bring a laptop, issue the card on the spot and show patrons how to place holds "
                "and read e-books. No fines are charged on children's cards.\n\nWould the 2nd and 4th Tuesday work?\n")
    to = rng.choice((("Principal", "office@salkeiz.k12.or.us"), ("Clinic Manager", "frontdesk@wvpchealth.org"),
                     ("Community Center", "info@ibarrafamilycenter.org")))
    return "Library card sign-ups", text + wrappers.signature(ctx.split, s, rng), [to], []


def newsletter(ctx: Ctx, s: Staff):  # type: ignore[no-untyped-def]
    rng = ctx.rng
    picks = rng.sample(TITLES, 4)
    first, last = _person(ctx)
    if ctx.split == "dev":
        html = ("<html><body><h1>Library News</h1><p>New this month:</p><ul>"
                + "".join(f"<li><i>{t}</i> by {a}</li>" for t, a in picks)
                + f"</ul><p>Meet our new teen librarian, {first} {last}! Stop by the second floor to say hi.</p>"
                  "<p>Reminder: the book drop is open 24/7 and there are no late fines on children's books.</p>"
                  f"<p>{s.library.name} | {s.library.street} | {s.library.phone}</p></body></html>")
    else:
        html = ("<html><body><table><tr><td><h2>The Checkout</h2></td></tr><tr><td>Staff picks: "
                + "; ".join(f"{t} ({a})" for t, a in picks)
                + f"</td></tr><tr><td>Volunteer spotlight: {first} {last} has shelved holds every Tuesday for 11 years.</td></tr>"
                  "<tr><td>Place holds online at any time; you'll get an email when they're ready.</td></tr></table></body></html>")
    ctx._html = html  # type: ignore[attr-defined]
    to = ("Newsletter subscribers", rng.choice(("news@lists.salemlibrary.org", "subscribers@mailchi.mp", "library-news@groups.io")))
    from bench.corpus.disclosures import html_to_text

    return "Library News", html_to_text(html), [to], []


def purchase_order(ctx: Ctx, s: Staff):  # type: ignore[no-untyped-def]
    rng = ctx.rng
    lines = [(t, a, _isbn(rng), rng.randrange(1, 4), f"{rng.uniform(12, 35):.2f}") for t, a in rng.sample(TITLES, rng.randrange(3, 8))]
    rows = [["ISBN", "Title", "Author", "Qty", "Price"]] + [[i, t, a, str(q), p] for t, a, i, q, p in lines]
    delim = ";" if ctx.split == "dev" else ","
    att = [Attachment(f"PO-{rng.randrange(10000, 99999)}.csv", "text/csv", csv_text(rows, delimiter=delim))]
    text = {"dev": "Please process the attached order. Ship to Technical Services at the address below. PO total includes processing.",
            "test": "Attached is our standing order for this month. Bill to the account on file; cataloging records via FTP please."}[ctx.split]
    to = rng.choice((("Baker & Taylor", "orders@baker-taylor.com"), ("Ingram", "orders@ingramcontent.com"),
                     ("Midwest Tape", "orders@midwesttapes.com")))
    return f"Purchase order {ctx.dates.iso}", f"{text}\n\n{wrappers.signature(ctx.split, s, rng)}", [to], att


def book_list(ctx: Ctx, s: Staff):  # type: ignore[no-untyped-def]
    rng = ctx.rng
    picks = rng.sample(TITLES, rng.randrange(5, 10))
    if ctx.split == "dev":
        text = "Here's the reading list for the book club flyer:\n\n" + "".join(f"- {t} by {a}\n" for t, a in picks)
    else:
        text = "Suggested titles for the display:\n\n" + "".join(f"{n}. {a} -- {t}\n" for n, (t, a) in enumerate(picks, 1))
    to = rng.choice((("Book Club", "bookclub@silvertonseniors.org"), ("Teacher", "mrs.ortiz@salkeiz.k12.or.us"),
                     ("Bookstore", "events@escapebookstore.com")))
    return "Book list", text, [to], []


def mailing_list(ctx: Ctx, s: Staff):  # type: ignore[no-untyped-def]
    rng = ctx.rng
    if ctx.split == "dev":
        text = ("Hi all,\n\nHow are other libraries handling holds for patrons who share a household? We get a lot of "
                "\"can my husband pick up my holds\" questions. Our current practice is that the patron has to list the "
                "person as an authorized pickup on the account. Do you print full names on hold slips or initials?\n\n"
                "Also curious whether anyone still charges overdue fines on adult materials.\n")
        to = ("Koha users", "koha@lists.katipo.co.nz")
    else:
        text = ("Replying to the thread on patron privacy and email notices: ORS 192.355(23) exempts from disclosure "
                "records naming a patron with the materials they borrowed, so we never put titles in SMS notices - just "
                "\"you have items due\". For email we list titles, since the address is the patron's own.\n\n"
                "For what it's worth, the ALA Code of Ethics frames it as protecting \"each library user's right to "
                "privacy and confidentiality\".\n")
        to = ("Evergreen general", "evergreen-general@list.evergreen-ils.org")
    return "Re: holds pickup and privacy", text + wrappers.signature(ctx.split, s, rng), [to], []


def press_release(ctx: Ctx, s: Staff):  # type: ignore[no-untyped-def]
    rng = ctx.rng
    mayor = " ".join(_person(ctx))
    text = {"dev": (f"FOR IMMEDIATE RELEASE\n\n{s.library.name} goes fine-free for children\n\n{s.library.city}, Ore. - Starting "
                    f"{ctx.until(30).long}, the library will no longer charge overdue fines on children's and teen materials. "
                    f"\"No kid should be kept from reading by a late fee,\" said Mayor {mayor}. Existing youth fines will "
                    f"be cleared.\n\nMedia contact: {s.name}, {s.direct}\n"),
            "test": (f"NEWS RELEASE\n\nLibrary card sign-up month breaks record\n\nMore than 1,100 residents registered for "
                     f"library cards in September. Council member {mayor} will present awards to the three schools with the "
                     f"most sign-ups at {s.library.name}, {s.library.street}.\n\nContact: {s.name} ({s.direct})\n")}[ctx.split]
    to = rng.choice((("Newsroom", "news@statesmanjournal.com"), ("Salem Reporter", "tips@salemreporter.com"),
                     ("KGW", "desk@kgw.com")))
    return "Press release", text, [to], []


def internal_record(ctx: Ctx, s: Staff):  # type: ignore[no-untyped-def]
    """A full patron record sent to a member library: internal, so it is delivered."""
    rng = ctx.rng
    p = ctx.people.new_patron()
    item = ctx.people.items(1, ctx.today)[0]
    text = {"dev": (f"Can you check whether this patron is also registered with you? She says her card works at Dallas.\n\n"
                    f"PATRN NAME   {p.ils_name}\nADDRESS      {p.dollar_address}\nTELEPHONE    {p.phone}\nP BARCODE    {p.card}\n"
                    f"MONEY OWED   ${p.owed}\nCUR ITEMS    {item.title}\n"),
            "test": (f"Transferring this account to your branch as discussed:\n\nName: {p.last_first}\nCard: {p.card}\n"
                     f"Address: {p.one_line_address}\nPhone: {p.phone}\nHolds: {item.title}\nBalance: ${p.owed}\n")}[ctx.split]
    c = ctx.colleague(s)
    ctx._cards = [p.card]  # type: ignore[attr-defined]
    return "patron account", text + "\n" + wrappers.signature(ctx.split, s, rng), [c], []


def fax_purchase_order(ctx: Ctx, s: Staff):  # type: ignore[no-untyped-def]
    rng = ctx.rng
    lines = rng.sample(TITLES, 3)
    text = ("PURCHASE ORDER\n" + "".join(f"{n}. {t} / {a}  qty 1\n" for n, (t, a) in enumerate(lines, 1))
            + f"\nShip to: {s.library.name}, {s.library.street}, {s.library.city_line}\n")
    number = rng.choice(("1", "")) + rng.choice(("503", "971")) + f"555{rng.randrange(1000, 9999):04d}"
    return "fax: PO", text, [("", f"{number}@{rng.choice(('efaxsend.com', 'rcfax.com', 'metrofax.com'))}")], []


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
    subject, text, to, atts = WRITERS[kind](ctx, s)
    if kind not in ("vendor-question", "blank-template", "card-outreach", "purchase-order", "mailing-list", "internal-record"):
        text = f"{text}\n{wrappers.signature(ctx.split, s, ctx.rng)}\n"
    mail = Mail((s.name, s.email), to, subject, text, ctx.when(), ctx.token, attachments=atts, crlf=ctx.rng.random() < 0.3)
    html = getattr(ctx, "_html", None)
    if html:
        mail.html = html
        del ctx._html  # type: ignore[attr-defined]
    template = getattr(ctx, "_template", None)
    if template:
        del ctx._template  # type: ignore[attr-defined]
    cards = getattr(ctx, "_cards", [])
    if cards:
        del ctx._cards  # type: ignore[attr-defined]
    family = "internal" if kind == "internal-record" else "ordinary"
    recipients = [{"address": a, "expect": "deliver", "role": "internal" if kind == "internal-record" else "business"} for _, a in to]
    labels = Labels("ordinary", family, kind, kind.replace("-", " "), [template or f"{kind}-{ctx.split}"],
                    [template.split("-")[0] if template else "library-practice"], "attachment" if atts else ("html" if html else "inline"),
                    recipients, [], "en", cards)
    if template:
        from bench.corpus.ils import by_id

        labels.sources = [by_id()[template].source]
    return Built(mail, labels)
