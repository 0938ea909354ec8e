"""The patron directory: ILS exports imported into a keyed-hash index, and messages matched against it."""

from __future__ import annotations

import json
import os
import pickle
import random
import stat
from dataclasses import dataclass
from pathlib import Path

import pytest
from faker import Faker

from detectors.checksums import library_mod10_check
from detectors.directory import (
    DirectoryMatcher,
    MemoryLookup,
    TokenKind,
    address_key,
    birth_key,
    card_key,
    email_key,
    name_key,
    phone_key,
)
from detectors.findings import Finding, Kind, TextPart
from proxy.cli import main
from proxy.errors import ConfigError
from proxy.patrons import DirectoryError, DirectoryPaths, PatronIndex, import_export


@dataclass(frozen=True)
class FakePatron:
    first: str
    last: str
    card: str
    phone: str
    email: str
    street: str
    city: str
    birth: str  # ISO
    library: str


def patrons(n: int, seed: int = 7) -> list[FakePatron]:
    fake = Faker("en_US")
    fake.seed_instance(seed)
    rnd = random.Random(seed)
    out = []
    for i in range(n):
        payload = "2361" + f"{rnd.randrange(10**9):09d}"
        first, last = fake.first_name(), fake.last_name()
        out.append(FakePatron(
            first, last, payload + str(library_mod10_check(payload)), f"503-555-{1000 + i:04d}",
            f"{first}.{last}{i}@example.net".lower(), f"{rnd.randrange(100, 9999)} {fake.street_name()}",
            "SALEM OR 97301", fake.date_of_birth(minimum_age=5, maximum_age=90).isoformat(),
            rnd.choice(("sa", "ke", "da")),
        ))
    return out


def create_lists(people: list[FakePatron]) -> str:
    rows = ['"P BARCODE"|"PATRN NAME"|"ADDRESS"|"TELEPHONE"|"EMAIL ADDR"|"BIRTH DATE"|"HOME LIBR"']
    for p in people:
        m, d, y = p.birth[5:7], p.birth[8:10], p.birth[:4]
        rows.append(f'"{p.card}"|"{p.last.upper()}, {p.first.upper()} Q"|"{p.street.upper()}${p.city}"|'
                    f'"{p.phone}"|"{p.email.upper()}"|"{m}-{d}-{y}"|"{p.library}"')
    return "\n".join(rows) + "\n"


def api_json(people: list[FakePatron]) -> str:
    return "".join(
        json.dumps({
            "id": 1000 + i, "names": [f"{p.last}, {p.first}"], "barcodes": [p.card], "emails": [p.email],
            "phones": [{"number": p.phone, "type": "t"}], "addresses": [{"lines": [p.street, p.city], "type": "a"}],
            "birthDate": p.birth, "homeLibraryCode": p.library,
        }) + "\n"
        for i, p in enumerate(people)
    )


def symphony(people: list[FakePatron]) -> str:
    out = []
    for p in people:
        out += ["*** DOCUMENT BOUNDARY ***", "FORM=LDUSER", f".USER_ID.   |a{p.card}", f".USER_FIRST_NAME.   |a{p.first}",
                f".USER_LAST_NAME.   |a{p.last}", f".USER_BIRTH_DATE.   |a{p.birth.replace('-', '')}",
                f".USER_LIBRARY.   |a{p.library.upper()}", ".USER_ADDR1_BEGIN.", f".STREET.   |a{p.street}",
                ".CITY/STATE.   |aSalem, OR", ".ZIP.   |a97301", f".PHONE.   |a{p.phone}", f".EMAIL.   |a{p.email}",
                ".USER_ADDR1_END."]
    return "\n".join(out) + "\n"


def plain_csv(people: list[FakePatron]) -> str:
    rows = ["First Name,Last Name,Library Card,Mobile,E-mail,Home Address,DOB"]
    rows += [f'{p.first},{p.last},{p.card},"({p.phone[:3]}) {p.phone[4:]}",{p.email},"{p.street}, Salem, OR 97301",'
             f"{p.birth[5:7]}/{p.birth[8:10]}/{p.birth[:4]}" for p in people]
    return "\n".join(rows) + "\n"


EXPORTS = {"sierra-create-lists": create_lists, "sierra-api-json": api_json, "symphony-flat": symphony, "csv": plain_csv}


def paths(tmp_path: Path) -> DirectoryPaths:
    return DirectoryPaths(str(tmp_path / "var" / "patrons.db"), str(tmp_path / "etc" / "patrons.key"))


# ----------------------------------------------------------------- normal forms


@pytest.mark.parametrize(("a", "b"), [
    ("DOE, JANE M", "Jane Doe"), ("Jane M. Doe", "jane doe"), ("Dóe, Jáne", "Jane Doe"), ("Núñez, María Luisa", "Maria Nunez"),
    ("Ms. Jane Doe", "Jane Doe's"), ("O'Brien, Pat", "Pat O’Brien"),
])
def test_names_agree_across_order_case_accents_and_middle_initials(a: str, b: str) -> None:
    """An ILS name and the way a letter writes it have the same key."""
    assert name_key(a) == name_key(b) is not None


@pytest.mark.parametrize(("value", "key"), [
    ("503-555-0142", "+15035550142"), ("(503) 555-0142", "+15035550142"), ("+1 503.555.0142", "+15035550142"),
    ("555-0142", None), ("call me", None),
])
def test_phones_become_e164(value: str, key: str | None) -> None:
    """Phone numbers written any usual way become E.164; a fragment is no phone."""
    assert phone_key(value) == key


@pytest.mark.parametrize(("value", "key"), [
    ("123 Example Street North East, Apt. 4", "123 EXAMPLE ST NE"), ("123 EXAMPLE ST NE APT 4$SALEM OR 97301", "123 EXAMPLE ST NE"),
    ("4410 Southwest 1st Avenue #7", "4410 SW 1ST AVE"), ("P.O. Box 12", "PO BOX 12"), ("Example Street", None),
])
def test_addresses_normalise_to_the_usps_street_line(value: str, key: str | None) -> None:
    """Street suffixes, directionals and units are read the USPS way; the city line is dropped."""
    assert address_key(value) == key


def test_cards_emails_and_birth_dates_normalise() -> None:
    """Cards keep their digits, emails are lower-cased, birth dates become ISO."""
    assert card_key("A2 3610 00362281 7B") == "23610003622817"
    assert email_key("<Jane.Doe@Example.NET>") == "jane.doe@example.net"
    assert birth_key("01/02/1990") == birth_key("19900102") == birth_key("1990-01-02") == "1990-01-02"
    assert birth_key("13/45/1990") is None


# ----------------------------------------------------------------- import


@pytest.mark.parametrize("fmt", sorted(EXPORTS))
def test_each_export_format_imports_every_patron(tmp_path: Path, fmt: str) -> None:
    """Each format's synthetic export imports all its patrons, and the index finds each one's values."""
    people = patrons(40)
    export = tmp_path / "export.txt"
    export.write_text(EXPORTS[fmt](people), encoding="utf-8")
    summary = import_export(export, fmt, paths(tmp_path))
    assert summary.patrons == 40 and not summary.skipped, summary.text()
    index = PatronIndex(paths(tmp_path))
    p = people[3]
    found = index.lookup([
        (TokenKind.NAME, name_key(f"{p.first} {p.last}") or ""), (TokenKind.CARD, p.card),
        (TokenKind.PHONE, phone_key(p.phone) or ""), (TokenKind.EMAIL, p.email),
        (TokenKind.ADDRESS, address_key(p.street) or ""), (TokenKind.BIRTH_DATE, p.birth),
    ])
    assert len(found) == 6, sorted(k for k, _ in found)
    assert len(set.intersection(*(set(v) for v in found.values()))) == 1  # one patron, the same id


def test_the_index_holds_no_clear_names_numbers_or_addresses(tmp_path: Path) -> None:
    """Grepping the index file for any patron's name, card, phone, email or street finds nothing."""
    people = patrons(60)
    export = tmp_path / "export.csv"
    export.write_text(create_lists(people), encoding="utf-8")
    import_export(export, "sierra-create-lists", paths(tmp_path))
    data = Path(paths(tmp_path).index).read_bytes()
    for p in people:
        for value in (p.first, p.last, p.card, p.card[-8:], p.phone, p.phone.replace("-", ""), "+1" + p.phone.replace("-", ""),
                      p.email, p.street, p.street.split(" ", 1)[1], p.birth):
            for form in {value, value.upper(), value.lower()}:
                if len(form) >= 4:
                    assert form.encode() not in data, "a clear value is in the index"


def test_the_key_is_a_separate_file_of_mode_0600(tmp_path: Path) -> None:
    """The first import creates the key apart from the index, readable by its owner only."""
    export = tmp_path / "export.csv"
    export.write_text(plain_csv(patrons(3)), encoding="utf-8")
    import_export(export, "csv", paths(tmp_path))
    mode = stat.S_IMODE(os.stat(paths(tmp_path).key).st_mode)
    assert mode == 0o600
    assert Path(paths(tmp_path).key).parent != Path(paths(tmp_path).index).parent
    os.chmod(paths(tmp_path).key, 0o644)
    with pytest.raises(DirectoryError, match="readable by others"):
        PatronIndex(paths(tmp_path)).check()


def test_malformed_rows_are_reported_by_line_and_the_import_goes_on(tmp_path: Path) -> None:
    """Short rows, rows with nothing to match and bad values are reported by line; the rest is imported."""
    lines = create_lists(patrons(5)).splitlines()
    lines.insert(3, '"123"|"ONLY, TWO"')  # line 4: too few columns
    lines.insert(5, '""|"NOBODY, KNOWN"|""|""|""|""|"sa"')  # line 6: a name and nothing else
    lines[1] = lines[1].replace("503-555-1000", "555-01")  # line 2: a bad phone; the row stays
    export = tmp_path / "export.txt"
    export.write_text("\n".join(lines) + "\n", encoding="utf-8")
    seen = []
    summary = import_export(export, "sierra-create-lists", paths(tmp_path), report=seen.append)
    assert summary.patrons == 5
    assert [(p.line, p.skipped) for p in seen] == [(2, False), (4, True), (6, True)]
    assert summary.skipped == {"wrong number of columns": 1, "no card, phone, email, address or birth date": 1}
    assert "skipped 2 rows" in summary.text() and "1 phone not a valid number" in summary.text()


def test_json_and_symphony_malformed_records_are_reported(tmp_path: Path) -> None:
    """A line that is not JSON and a Symphony record with a broken line are skipped by line number."""
    export = tmp_path / "p.jsonl"
    export.write_text(api_json(patrons(2)) + "{not json\n", encoding="utf-8")
    summary = import_export(export, "sierra-api-json", paths(tmp_path))
    assert summary.patrons == 2 and [(p.line, p.reason) for p in summary.problems] == [(3, "not valid JSON")]
    flat = symphony(patrons(2)).replace(".ZIP.   |a97301", "garbage line", 1)
    export.write_text(flat, encoding="utf-8")
    summary = import_export(export, "symphony-flat", paths(tmp_path))
    assert summary.patrons == 1 and [(p.line, p.reason) for p in summary.problems] == [(11, "not a .FIELD. |a line")]


def test_map_and_library_choose_columns_and_patrons(tmp_path: Path) -> None:
    """--map names an unknown column; --library keeps one member library's patrons."""
    people = patrons(30)
    text = plain_csv(people).replace("Library Card", "Patron Key", 1)
    text = text.replace("DOB", "DOB,Branch", 1)
    lines = text.splitlines()
    lines = [lines[0]] + [f"{line},{p.library}" for line, p in zip(lines[1:], people, strict=True)]
    export = tmp_path / "export.csv"
    export.write_text("\n".join(lines) + "\n", encoding="utf-8")
    summary = import_export(export, "csv", paths(tmp_path), {"patron key": "card"}, library="ke")
    keizer = [p for p in people if p.library == "ke"]
    assert summary.patrons == len(keizer) and summary.other_library == len(people) - len(keizer)
    found = PatronIndex(paths(tmp_path)).lookup([(TokenKind.CARD, keizer[0].card)])
    assert found


def test_an_empty_import_keeps_the_old_index(tmp_path: Path) -> None:
    """An export where no row can be read does not replace a good index."""
    export = tmp_path / "export.csv"
    export.write_text(plain_csv(patrons(3)), encoding="utf-8")
    import_export(export, "csv", paths(tmp_path))
    before = Path(paths(tmp_path).index).read_bytes()
    export.write_text("First Name,Last Name,Library Card\nx\n", encoding="utf-8")
    with pytest.raises(DirectoryError, match="not replaced"):
        import_export(export, "csv", paths(tmp_path))
    assert Path(paths(tmp_path).index).read_bytes() == before


def test_a_running_reader_picks_up_a_new_index(tmp_path: Path) -> None:
    """After a new import replaces the file, an open index answers from the new one; pickled, it carries no handle."""
    first, second = patrons(5, seed=1), patrons(5, seed=2)
    export = tmp_path / "export.csv"
    export.write_text(plain_csv(first), encoding="utf-8")
    import_export(export, "csv", paths(tmp_path))
    index = PatronIndex(paths(tmp_path))
    assert index.lookup([(TokenKind.CARD, first[0].card)])
    clone = pickle.loads(pickle.dumps(index))
    assert clone._db is None and clone.lookup([(TokenKind.CARD, first[0].card)])
    export.write_text(plain_csv(second), encoding="utf-8")
    import_export(export, "csv", paths(tmp_path))
    index._checked = 0.0  # the once-a-second stat is due
    assert index.lookup([(TokenKind.CARD, second[0].card)])
    assert not index.lookup([(TokenKind.CARD, first[0].card)])


def test_an_index_built_with_another_key_is_refused(tmp_path: Path) -> None:
    """The index remembers a check of its key: the wrong key file is a clear error."""
    export = tmp_path / "export.csv"
    export.write_text(plain_csv(patrons(3)), encoding="utf-8")
    import_export(export, "csv", paths(tmp_path))
    other = DirectoryPaths(paths(tmp_path).index, str(tmp_path / "other.key"))
    import_export(export, "csv", DirectoryPaths(str(tmp_path / "x.db"), other.key))
    with pytest.raises(DirectoryError, match="another key"):
        PatronIndex(other).check()


def test_the_import_command_reports_rows_and_a_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`patronguard patrons import` prints each malformed row on stderr and the summary on stdout."""
    export = tmp_path / "export.txt"
    export.write_text(create_lists(patrons(4)) + '"1"|"SHORT"\n', encoding="utf-8")
    p = paths(tmp_path)
    code = main(["patrons", "import", str(export), "--index", p.index, "--key", p.key, "--config", str(Path(__file__).parents[1] / "config.yaml")])
    out, err = capsys.readouterr()
    assert code == 0
    assert "imported 4 patrons" in out and "skipped 1 rows (1 wrong number of columns)" in out
    assert f"{export}:6: skipped: wrong number of columns" in err
    assert main(["patrons", "import", str(export), "--index", p.index, "--key", p.key, "--map", "X=shoe size"]) == 2


def test_a_directory_without_a_key_is_a_config_error() -> None:
    """directory.index without directory.key names the line."""
    from proxy.config import load, parse

    base = Path(__file__).parents[1] / "config.yaml"
    text = base.read_text(encoding="utf-8") + "\ndirectory:\n  index: /tmp/patrons.db\n"
    with pytest.raises(ConfigError, match=r"config.yaml:\d+: directory.index: expected directory.key"):
        parse(text, "config.yaml")
    assert load(base).directory.index == ""


# ----------------------------------------------------------------- matching (no spaCy, in-memory directory)


def test_a_known_name_with_the_same_patrons_phone_is_a_known_patron() -> None:
    """A name and a phone of the same directory patron make one strong finding; of two patrons, only weak ones."""
    lookup = MemoryLookup()
    lookup.add(TokenKind.NAME, name_key("Jane Doe"), 1)
    lookup.add(TokenKind.PHONE, "+15035550142", 1)
    lookup.add(TokenKind.PHONE, "+15035550199", 2)
    lookup.add(TokenKind.CARD, "29990000123454", 2)
    text = "Hi Jane Doe, your number 503-555-0142. Card 29990000123454. Also 503-555-0199."
    part = TextPart("1", text)
    phones = [Finding(Kind.PHONE, "1", text.index(n), text.index(n) + 12, 0.8, "phone", "x") for n in ("503-555-0142", "503-555-0199")]
    name = Finding(Kind.PERSON_NAME, "1", 3, 11, 0.85, "person-name", "J••• D••")
    matcher = DirectoryMatcher(lookup)
    hits = matcher.identifiers([part], phones)
    assert sorted(h.kind.value for h in hits) == ["card", "phone", "phone"]
    match = matcher.match([part], [name, *phones], hits)
    kinds = sorted(f.kind.value for f in match.findings)
    assert kinds == ["known_patron", "known_patron_card"]
    known = next(f for f in match.findings if f.kind is Kind.KNOWN_PATRON)
    assert (known.start, known.end) == (3, text.index("503-555-0142") + 12)
    assert match.patrons[(known.part, known.start, known.end)] == {1}
    assert "Jane" not in known.masked and "0142" not in known.masked.replace("•", "")[:-2]


# ----------------------------------------------------------------- end to end (spaCy)

LETTER = "From: Jill Sato <jsato@cityofsalem.net>\nTo: {to}\nSubject: {subject}\n\n{body}\n"


@pytest.fixture(scope="module")
def directory_scanner(tmp_path_factory: pytest.TempPathFactory, config):  # type: ignore[no-untyped-def]
    import dataclasses

    from proxy.config import DirectoryConfig
    from proxy.scanning.scan import Scanner

    tmp = tmp_path_factory.mktemp("directory")
    export = tmp / "export.csv"
    export.write_text(
        "First Name,Last Name,Card,Phone,Email,Address,Guardian Email\n"
        "Jane,Doe,29990000123454,503-555-0142,jdoe.reads@example.net,1420 Oak Hollow Dr NE,\n"
        "Tommy,Ruiz,29990000123462,503-555-0177,tommy.ruiz@example.net,88 Birch Ct,ana.ruiz@example.org\n",
        encoding="utf-8",
    )
    p = paths(tmp)
    import_export(export, "csv", p)
    cfg = dataclasses.replace(config, directory=DirectoryConfig(index=p.index, key=p.key))
    scanner = Scanner(cfg)
    scanner.warm()
    return scanner


def _scan(scanner, to: str, body: str, subject: str = "Hello"):  # type: ignore[no-untyped-def]
    result = scanner.scan(LETTER.format(to=to, subject=subject, body=body).encode())
    (decision,) = result.decisions
    return result, decision


@pytest.mark.slow
def test_a_patrons_name_and_phone_are_held_without_library_words(directory_scanner, scanner) -> None:  # type: ignore[no-untyped-def]
    """With a directory, "Hi Jane Doe, your number 503-555-0142" to an outsider is held; without one it goes."""
    body = "Hi Jane Doe, your number 503-555-0142 is the one I have.\n\nThanks"
    result, d = _scan(directory_scanner, "someone@example.com", body)
    assert d.action.value == "hold", d.rules
    assert "known-patron" in result.rules
    _, plain = _scan(scanner, "someone@example.com", body)
    assert plain.action.value == "deliver", plain.rules


@pytest.mark.slow
def test_a_vendors_name_and_phone_are_not_patron_data(directory_scanner) -> None:  # type: ignore[no-untyped-def]
    """A name and phone that are not in the directory stay ordinary business mail."""
    body = "Hi Mark Jensen, your number 503-555-0123 is the one I have.\n\nThanks"
    result, d = _scan(directory_scanner, "mark@vendor.example.com", body)
    assert d.action.value == "deliver", d.rules
    assert not result.message.assessment.disclosures


@pytest.mark.slow
def test_a_known_card_number_is_strong_even_without_a_valid_check_digit(directory_scanner) -> None:  # type: ignore[no-untyped-def]
    """A card number in the directory discloses its patron whatever its layout."""
    result, d = _scan(directory_scanner, "someone@example.com", "The number is 2999 0000 1234 54, see you.")
    assert d.action.value == "hold" and "known-patron-card" in result.rules
    assert all("1234" not in f.masked[4:-3] for f in result.findings)


@pytest.mark.slow
def test_her_data_to_her_own_address_on_record_is_delivered(directory_scanner) -> None:  # type: ignore[no-untyped-def]
    """The directory confirms the recipient is the patron: delivered to her own email on record."""
    body = "Hi Jane Doe, your number on file is 503-555-0142 and your card is 29990000123454.\n\nThanks"
    result, d = _scan(directory_scanner, "Jane Doe <jdoe.reads@example.net>", body)
    assert d.action.value == "deliver", d.rules
    assert "patron-is-recipient" in d.rules


@pytest.mark.slow
def test_her_data_to_another_address_is_held_even_when_the_greeting_matches(directory_scanner) -> None:  # type: ignore[no-untyped-def]
    """An address that is not the patron's own on record is held, however well the greeting and name agree."""
    body = "Hi Jane Doe, your number on file is 503-555-0142 and your card is 29990000123454.\n\nThanks"
    _, d = _scan(directory_scanner, "Jane Doe <jane.doe@example.com>", body)
    assert d.action.value == "hold", d.rules


@pytest.mark.slow
def test_a_minors_data_to_the_guardian_on_record_is_delivered(directory_scanner) -> None:  # type: ignore[no-untyped-def]
    """A minor's card to the guardian's address on record is the patron-as-recipient case."""
    body = "Hello, Tommy Ruiz's card is 29990000123462 and it has a block until the book comes back.\n\nThanks"
    _, d = _scan(directory_scanner, "Ana Ruiz <ana.ruiz@example.org>", body)
    assert d.action.value == "deliver", d.rules
    _, other = _scan(directory_scanner, "Ana Ruiz <ana.r@example.org>", body)
    assert other.action.value == "hold", other.rules


def test_the_nightly_import_runs_as_the_relay_user_on_the_same_state() -> None:
    """The import timer is nightly and persistent; its service imports as the relay's user, with its config and state."""
    import configparser

    def unit(name: str) -> configparser.ConfigParser:
        parser = configparser.ConfigParser(strict=False, interpolation=None)
        parser.optionxform = str  # type: ignore[assignment,method-assign]
        parser.read(Path(__file__).parents[1] / "systemd" / name)
        return parser

    timer, service, relay = unit("patronguard-patrons.timer"), unit("patronguard-patrons.service"), unit("patronguard.service")
    assert timer["Timer"]["Persistent"] == "true" and timer["Timer"]["OnCalendar"].startswith("*-*-*")
    run = service["Service"]
    assert run["ExecStart"].split()[1:3] == ["patrons", "import"] and "--config /etc/patronguard/config.yaml" in run["ExecStart"]
    for key in ("User", "StateDirectory", "DynamicUser"):
        assert run[key] == relay["Service"][key]


@pytest.mark.slow
def test_fines_next_to_a_known_patrons_name_are_her_record(directory_scanner, scanner) -> None:  # type: ignore[no-untyped-def]
    """A balance next to a directory patron's name is held; next to a name the directory does not know it is not."""
    body = "Hello,\n\n{name} still has a balance of $64.00.\n\nThanks"
    result, d = _scan(directory_scanner, "someone@example.com", body.format(name="Jane Doe"))
    assert d.action.value == "hold" and "circulation-record" in result.rules, d.rules
    _, stranger = _scan(directory_scanner, "someone@example.com", body.format(name="Mark Jensen"))
    assert stranger.action.value == "deliver", stranger.rules


@pytest.mark.slow
def test_another_patrons_card_in_her_letter_still_holds_it(directory_scanner) -> None:  # type: ignore[no-untyped-def]
    """Her own card and another patron's card in one letter to her own address: held."""
    body = ("Hi Jane Doe, your card is 29990000123454 as before. Your neighbour's card 29990000123462 "
            "was handed in at the desk too.\n\nThanks")
    _, d = _scan(directory_scanner, "Jane Doe <jdoe.reads@example.net>", body)
    assert d.action.value == "hold", d.rules


@pytest.mark.slow
def test_a_redacted_copy_masks_a_known_card_and_passes_the_rescan(directory_scanner) -> None:  # type: ignore[no-untyped-def]
    """Redaction masks a directory card number of any layout, and the masked copy is delivered."""
    from proxy.scanning.redact import redact_checked

    raw = LETTER.format(to="someone@example.com", subject="Hello",
                        body="The number is 29990000123454, see you.\n\nThanks").encode()
    copy = redact_checked(directory_scanner, raw, ["someone@example.com"])
    assert copy is not None and b"29990000123454" not in copy.raw and b"[card]" in copy.raw


@pytest.mark.slow
def test_a_scanning_process_opens_its_own_index_and_sees_a_new_import(tmp_path: Path, config) -> None:  # type: ignore[no-untyped-def]
    """A scanner pickled for a worker process carries no open index; a nightly import is seen without a restart."""
    import dataclasses

    from proxy.config import DirectoryConfig
    from proxy.scanning.scan import Scanner

    p = paths(tmp_path)
    export = tmp_path / "export.csv"
    export.write_text("First Name,Last Name,Phone\nAlma,Quist,503-555-0111\n", encoding="utf-8")
    import_export(export, "csv", p)
    scanner = Scanner(dataclasses.replace(config, directory=DirectoryConfig(index=p.index, key=p.key)))
    worker = pickle.loads(pickle.dumps(scanner))  # what proxy.scanning.pool sends to a scanning process
    body = "Hi Rosa Lindqvist, your number 503-555-0122 is the one I have.\n\nThanks"
    _, before = _scan(worker, "someone@example.com", body)
    assert before.action.value == "deliver", before.rules
    export.write_text("First Name,Last Name,Phone\nRosa,Lindqvist,503-555-0122\n", encoding="utf-8")
    import_export(export, "csv", p)
    worker.engine.settings.directory._checked = 0.0  # the once-a-second look at the file is due
    _, after = _scan(worker, "someone@example.com", body)
    assert after.action.value == "hold", after.rules


def test_windows_1252_exports_and_json_documents_are_read(tmp_path: Path) -> None:
    """An old export in Windows-1252 and a Sierra API document with an entries list import like the others."""
    export = tmp_path / "old.txt"
    export.write_bytes('"P BARCODE"|"PATRN NAME"|"TELEPHONE"\n"29990000123454"|"NÚÑEZ, JOSÉ"|"503-555-0142"\n'.encode("cp1252"))
    import_export(export, "sierra-create-lists", paths(tmp_path))
    assert PatronIndex(paths(tmp_path)).lookup([(TokenKind.NAME, name_key("Jose Nunez") or "")])
    doc = tmp_path / "api.json"
    entries = [json.loads(line) for line in api_json(patrons(3)).splitlines()]
    doc.write_text(json.dumps({"total": 3, "entries": entries}, indent=2), encoding="utf-8")
    assert import_export(doc, "sierra-api-json", paths(tmp_path)).patrons == 3


@pytest.mark.slow
def test_a_reply_quoting_her_own_letter_goes_to_her_own_address(directory_scanner) -> None:  # type: ignore[no-untyped-def]
    """Her name and email in the quoted letter are hers on record: the reply to that address is delivered."""
    body = ("Hello Jane!\n\nGood news - The Night Circus came in for you today and is on the hold shelf. "
            "We'll keep it until May 11.\n\nThanks\n\n"
            "On Wed, May 7, 2025 at 8:46 AM, Jane Doe <jdoe.reads@example.net> wrote:\n"
            "> Hello, is my hold in yet? - Jane Doe\n")
    _, d = _scan(directory_scanner, "Jane Doe <jdoe.reads@example.net>", body)
    assert d.action.value == "deliver", d.rules
    _, other = _scan(directory_scanner, "Jane Doe <jane.doe@example.com>", body)
    assert other.action.value == "hold", other.rules


@pytest.mark.parametrize("nicknames", [True, False])
def test_nicknames_are_read_as_given_names_when_imported_so(tmp_path: Path, nicknames: bool) -> None:
    """An index imported with --nicknames matches "Bill Smith" to WILLIAM SMITH's phone; one without does not."""
    export = tmp_path / "export.txt"
    export.write_text('"PATRN NAME"|"TELEPHONE"\n"SMITH, WILLIAM R"|"503-555-0142"\n', encoding="utf-8")
    import_export(export, "sierra-create-lists", paths(tmp_path), nicknames=nicknames)
    text = "Hi Bill Smith, your number 503-555-0142 is the one I have."
    part = TextPart("1", text)
    phone = Finding(Kind.PHONE, "1", text.index("503"), text.index("503") + 12, 0.8, "phone", "x")
    name = Finding(Kind.PERSON_NAME, "1", 3, 13, 0.85, "person-name", "B••• S••••")
    matcher = DirectoryMatcher(PatronIndex(paths(tmp_path)))
    match = matcher.match([part], [name, phone], matcher.identifiers([part], [phone]))
    assert any(f.kind is Kind.KNOWN_PATRON for f in match.findings) is nicknames
