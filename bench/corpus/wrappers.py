"""The staff mail around the material: who it goes to, how it opens and closes, the signature, the forward.

Every phrasing pool is split: `POOLS[split]` is all that split may use, so a
sentence of the test half never shows up in the dev half. Signatures carry
the staff member's name, title, library street address and direct line, as
real ones do.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from bench.corpus.identity import MAIL_DOMAINS, Patron, People, Staff, ascii_fold

# ---------------------------------------------------------------- outside recipients


@dataclass(frozen=True)
class Recipient:
    role: str  # relative, police, school, employer, friend, landlord, ...
    name: str
    address: str
    first: str
    relation: str  # how the staff member would describe them to the patron's file ("her son", "Salem PD")


_ROLE_DOMAINS = {
    "police": ("co.marion.or.us", "keizer.org", "osp.oregon.gov", "co.polk.or.us", "woodburn-or.gov"),
    "school": ("salkeiz.k12.or.us", "dallas.k12.or.us", "silverfalls.k12.or.us", "woodburnsd.org", "cascade.k12.or.us"),
    "employer": ("nwstaffinggroup.com", "willamettevalleyfoods.com", "salemhealth.org", "kerrconcrete.com", "santiamcanning.com"),
    "landlord": ("willamettegardensapts.com", "capitolpropertymgmt.com", "rentsalemnow.com", "mid-valleyrentals.com"),
    "reporter": ("statesmanjournal.com", "salemreporter.com", "kgw.com"),
    "attorney": ("marionlegalgroup.com", "hansenlawpc.com", "oregonfamilylaw.net"),
    "vendor": ("iii.com", "bywatersolutions.com", "equinoxoli.org", "sirsidynix.com", "quipugroup.com"),
    "caseworker": ("dhsoha.state.or.us", "mwvcaa.org", "oregon.gov"),
}

_RELATIONS = {
    "relative": ("her son", "his daughter", "the patron's brother", "her mother", "his ex-wife", "her aunt", "his father",
                 "the patron's sister"),
    "friend": ("a friend of the patron", "her neighbor", "his roommate", "a coworker of hers"),
    "other-patron": ("another patron", "a regular at the branch", "the patron who asked at the desk"),
}


def recipient(people: People, role: str, patron: Patron) -> Recipient:
    rng = people.rng
    if role in ("relative", "friend", "other-patron"):
        other = people.new_patron()
        last = patron.last if role == "relative" and rng.random() < 0.7 else other.last
        first = other.first
        local = ascii_fold(f"{first}.{last}").lower().replace(" ", "")
        if rng.random() < 0.5:
            local = ascii_fold(f"{first[0]}{last}{rng.randrange(10, 99)}").lower().replace(" ", "")
        return Recipient(role, f"{first} {last}", f"{local}@{rng.choice(MAIL_DOMAINS)}", first, rng.choice(_RELATIONS[role]))
    other = people.new_staff()
    domain = rng.choice(_ROLE_DOMAINS[role])
    first, last = other.first, other.last
    local = {"police": f"{first[0]}{last}".lower(), "school": f"{first}.{last}".lower(),
             "employer": rng.choice(("hr", "payroll", f"{first}.{last}".lower())),
             "landlord": rng.choice(("leasing", "office", "manager")), "reporter": f"{first[0]}{last}".lower(),
             "attorney": f"{first[0]}{last}".lower(), "vendor": rng.choice(("support", "helpdesk", f"{first}.{last}".lower())),
             "caseworker": f"{first}.{last}".lower()}[role]
    local = ascii_fold(local).replace(" ", "")
    relation = {"police": "the detective", "school": "the school", "employer": "her employer", "landlord": "the landlord",
                "reporter": "the reporter", "attorney": "the attorney", "vendor": "vendor support",
                "caseworker": "the caseworker"}[role]
    return Recipient(role, f"{first} {last}", f"{local}@{domain}", first, relation)


DISCLOSURE_ROLES = ("relative", "police", "school", "employer", "friend", "landlord", "reporter", "attorney", "vendor",
                    "caseworker", "other-patron")

# ---------------------------------------------------------------- phrasing pools

# Openers for forwarding/sending a patron's notice or record, by role. {r} is
# the recipient's first name, {who} the patron's name.
INTROS: dict[str, dict[str, list[str]]] = {
    "dev": {
        "relative": [
            "Here's the notice {who} got from us last week, like you asked. The list of what's still out is below.",
            "Your mom mentioned you handle her mail now, so I'm forwarding what we sent her about the overdue books.",
            "As promised on the phone, this is what is on {who}'s account right now.",
            "I looked up {who}'s account for you. Everything that's checked out or waiting is in the notice below.",
        ],
        "police": [
            "Detective {r}, per your call this morning, here is the account information we have for {who}.",
            "Following up on your request about {who}. This is the record as it shows in our system today.",
            "Officer, attached below is what we have on file for the person you asked about.",
        ],
        "school": [
            "Hi {r}, these are the students from your class with books out on their library cards. Could you remind them?",
            "Per our conversation, here is the overdue notice for {who} so the office can follow up with the family.",
            "Sending over the library notice for {who} for your records.",
        ],
        "employer": [
            "Hi {r}, you asked us to confirm {who}'s address and account standing. See below.",
            "As requested for the background check, this is the patron record we have for {who}.",
        ],
        "friend": [
            "hey {r}! you wanted to know what {who} has checked out, lol here it is",
            "Here you go - {who}'s hold list. Don't tell her I sent it!",
            "Found it. This is what {who} still has out from us.",
        ],
        "landlord": [
            "Hello {r}, you asked whether {who} gave us the same address. Here is what's on the card.",
            "Per your voicemail, this is the contact information the library has for your tenant {who}.",
        ],
        "reporter": [
            "Hi {r}, off the record, here is the notice we sent {who}. Please don't quote me.",
        ],
        "attorney": [
            "Counsel, as discussed, here is the library's notice to {who} and the items listed on it.",
        ],
        "vendor": [
            "Hi support, the notice below printed wrong for this patron. Can you see why the due dates are off?",
            "Ticket follow-up: here is the record that fails to load in the staff client. The patron is {who}.",
        ],
        "caseworker": [
            "Hi {r}, here is {who}'s library account as we discussed. The fines are listed below.",
        ],
        "other-patron": [
            "Hi {r}, you asked who had the copy before you - this is the notice for {who}.",
        ],
    },
    "test": {
        "relative": [
            "Attached is what we mailed to {who}. Since you said you'd help sort out the overdue books, I thought you should see it.",
            "Forwarding the account notice for {who}, as discussed at the desk yesterday.",
            "You were asking what your father still has out - here's the latest notice from our system.",
            "I pulled up {who}'s record while we were on the phone; pasting it here so you have it in writing.",
        ],
        "police": [
            "Sgt. {r}: per the request from your office, the patron details for {who} are below.",
            "Good afternoon. Regarding case follow-up on {who}, below is what the library has on record.",
            "Deputy {r}, forwarding the notice we generated for {who}. Let me know if you need the older ones.",
        ],
        "school": [
            "Mr./Ms. {r}, the counselor asked for {who}'s library notice - forwarding it here.",
            "Here's the list of your students who still owe us books. Parents' info is on the cards if needed.",
            "Good morning! The notice for {who} is below; maybe homeroom can nudge them.",
        ],
        "employer": [
            "{r}, confirming the information {who} has on file with us, per your HR request.",
            "Re: reference check for {who} - this is the library's record.",
        ],
        "friend": [
            "ok so here's {who}'s stuff, you didn't get this from me",
            "Sending the notice for {who} like we talked about at lunch.",
            "{r} - this is what came up under {who}'s card.",
        ],
        "landlord": [
            "{r}, regarding your tenant {who}: the library has the following on record.",
            "Hi, as requested, the details we have for {who} are below.",
        ],
        "reporter": [
            "{r}, here is the notice in question. For background only.",
        ],
        "attorney": [
            "Dear {r}, enclosed please find the library's records for {who} as requested in your letter.",
        ],
        "vendor": [
            "Hello, this record throws an error when we send notices. Patron is {who}, everything is below so you can reproduce.",
            "Can your team check why this notice printed twice? Full output pasted.",
        ],
        "caseworker": [
            "{r}, the account summary for your client {who} is below.",
        ],
        "other-patron": [
            "{r}, so you know who has the book you're waiting on, here's the notice for {who}.",
        ],
    },
}

GREETINGS = {
    "dev": ["Hi {r},", "Hello {r},", "{r},", "Good morning {r},", "Hi there,"],
    "test": ["Dear {r},", "Hey {r} -", "Good afternoon,", "Greetings,", "{r} -"],
}

CLOSINGS = {
    "dev": ["Thanks,", "Let me know if you need anything else.", "Best,", "Thank you!", "Take care,",
            "Hope this helps.\n\nThanks,"],
    "test": ["Regards,", "Cheers,", "All the best,", "Sincerely,", "Have a good one,",
             "Please keep this between us.\n\nThank you,"],
}


def signature(split: str, s: Staff, rng: random.Random) -> str:
    lib = s.library
    if split == "dev":
        style = rng.randrange(3)
        if style == 0:
            return f"--\n{s.name}\n{s.title}, {lib.name}\n{lib.street}, {lib.city_line}\nDirect: {s.direct} | Main: {lib.phone}\n{s.email}"
        if style == 1:
            return f"{s.first}\n\n{s.name} | {s.title}\n{lib.name}\n{s.direct}"
        return f"-- \n{s.name}\n{lib.name}\n{lib.street}\n{lib.city_line}\nph. {s.direct}"
    style = rng.randrange(3)
    if style == 0:
        return (f"{s.name}\n{s.title}\n\n{lib.name.upper()}\n{lib.street} * {lib.city_line}\nT {s.direct}  F {lib.phone[:8]}0999\n"
                f"Pronouns: she/her")
    if style == 1:
        return f"___________________________\n{s.first} {s.last[0]}.\n{lib.short} {s.title}\n({s.direct[:3]}) {s.direct[4:]}"
    return f"{s.name}, {s.title}\n{lib.name} - {lib.street}, {lib.city}\nOffice {s.direct} / Desk {lib.phone}\n\nSent from my iPhone"


# ---------------------------------------------------------------- forwards and quotes


def inline_forward(split: str, rng: random.Random, sender: tuple[str, str], to: tuple[str, str], subject: str,
                   date_text: str, body: str) -> str:
    if split == "dev":
        if rng.random() < 0.6:
            return (f"---------- Forwarded message ---------\nFrom: {sender[0]} <{sender[1]}>\nDate: {date_text}\n"
                    f"Subject: {subject}\nTo: {to[0]} <{to[1]}>\n\n{body}")
        return (f"-------- Forwarded Message --------\nSubject: \t{subject}\nDate: \t{date_text}\nFrom: \t{sender[1]}\n"
                f"To: \t{to[0]} <{to[1]}>\n\n{body}")
    if rng.random() < 0.6:
        return (f"-----Original Message-----\nFrom: {sender[0]} [mailto:{sender[1]}]\nSent: {date_text}\nTo: {to[0]}\n"
                f"Subject: {subject}\n\n{body}")
    return (f"Begin forwarded message:\n\n> From: {sender[0]} <{sender[1]}>\n> Subject: {subject}\n> Date: {date_text}\n"
            f"> To: {to[0]} <{to[1]}>\n\n{body}")


def quoted_reply(split: str, who: str, date_text: str, question: str) -> str:
    if split == "dev":
        return f"On {date_text}, {who} wrote:\n" + "\n".join("> " + line if line else ">" for line in question.splitlines())
    return (f"________________________________\nFrom: {who}\nSent: {date_text}\nSubject: question\n\n{question}")


# Questions outsiders write that staff then answer with patron data: from
# family and friends, and from officials (police, employers, landlords, schools, lawyers).
QUESTIONS = {
    "dev": {
        "personal": [
            "Hi, my kid {who} says {he} returned everything but we got a letter. Can you tell me what {he} still has and what {he} owes?",
            "hey can u tell me if {who} picked up {his} holds yet? we share a car",
            "Is {who} still coming in on Tuesdays? What has {he} been reading lately?",
        ],
        "official": [
            "Could you confirm the address and phone number you have for {who}? We are trying to serve papers.",
            "Is {who} a patron of yours? We need to know when {he} was last in and what {he} borrowed.",
            "We're verifying {who}'s information for a pending application. What does the library have on file?",
        ],
    },
    "test": {
        "personal": [
            "My mother {who} has dementia and I manage her affairs now. What does she have checked out, and are there fines?",
            "{who} borrowed my copy of the book club pick, do you know if {he} returned it? what else does {he} have?",
            "Can you just tell me where {who} lives now? We lost touch and I have {his} things.",
        ],
        "official": [
            "Good morning. I am trying to locate {who}. Does the library have a current address or phone?",
            "We're doing a tenant screening on {who}. Can the library confirm where {he} lives?",
            "Our office needs a list of what {who} borrowed in the last month for an ongoing matter.",
        ],
    },
}


def question(split: str, role: str, rng: random.Random, p: Patron) -> str:
    group = "personal" if role in ("relative", "friend", "other-patron") else "official"
    return rng.choice(QUESTIONS[split][group]).format(who=p.name, he=p.he, his=p.his)
