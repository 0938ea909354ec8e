"""The evaluation corpus generator: deterministic, the promised counts and split, labels the messages bear out.

The generator (bench/corpus) writes to a temporary folder here, never into
tests/leakset; the scanner is not involved.
"""

from __future__ import annotations

import email
import email.policy
import email.utils
import json
import re
from collections import Counter
from pathlib import Path

import pytest

from bench.corpus import generate, ils, patronself, prose, tables, wrappers
from bench.corpus.identity import LIBRARIES, OTHER_INSTITUTIONS, TITLES, valid_library_barcode
from bench.corpus.model import SPLITS
from bench.corpus.scene import is_internal

ILS_FAMILIES = ("koha", "evergreen", "sierra", "polaris", "symphony")
FAMILIES = ILS_FAMILIES + ("multilingual", "prose", "identifiers", "tables", "attachments", "partner", "fax", "patron-self",
                           "ordinary", "internal")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict]]:
    out = tmp_path_factory.mktemp("eval-corpus")
    rows = generate.generate(out)
    return out, rows


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _text(raw: bytes) -> str:
    """Every decoded text the message carries (headers, text parts, attachments that are text, forwarded messages)."""
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    out = [str(msg.get("Subject", "")), str(msg.get("To", ""))]
    for part in msg.walk():
        if part.is_multipart() or part.get_content_type() == "message/rfc822":
            continue
        payload = part.get_payload(decode=True) or b""
        if part.get_content_maintype() == "text" or part.get_content_type() == "application/json":
            out.append(payload.decode(part.get_content_charset() or "utf-8", "replace"))
    return "\n".join(out)


def test_generation_is_deterministic_and_fast(corpus, tmp_path: Path) -> None:
    """A second run with the same seed writes the same files, byte for byte, in seconds."""
    import time

    out, _ = corpus
    started = time.perf_counter()
    generate.generate(tmp_path / "again")
    assert time.perf_counter() - started < 60
    assert _files(tmp_path / "again") == _files(out)


def test_counts_and_classes(corpus) -> None:
    """At least 700 messages: 350 disclosures, 350 ordinary (60 of them to the patron herself), in both halves."""
    _, rows = corpus
    klass = Counter(r["klass"] for r in rows)
    assert len(rows) >= 700
    assert klass["disclosure"] >= 350
    assert klass["ordinary"] + klass["patron-self"] >= 350
    assert klass["patron-self"] >= 60
    by_split = Counter(r["split"] for r in rows)
    assert set(by_split) == set(SPLITS)
    assert abs(by_split["dev"] - by_split["test"]) <= 0.1 * len(rows)


def test_every_family_is_in_both_halves(corpus) -> None:
    """Each half covers every source family and every ordinary kind."""
    _, rows = corpus
    for split in SPLITS:
        fams = {r["family"] for r in rows if r["split"] == split}
        assert set(FAMILIES) <= fams, set(FAMILIES) - fams
        kinds = {r["kind"] for r in rows if r["split"] == split and r["family"] == "ordinary"}
        assert kinds >= {"job-posting", "ill-request", "grant-report", "board-minutes", "policy", "vendor-question",
                         "blank-template", "program", "contacts", "card-outreach", "newsletter", "purchase-order"}
        for fam in ILS_FAMILIES:
            assert any(r["klass"] == "disclosure" for r in rows if r["split"] == split and r["family"] == fam), (split, fam)


def test_material_belongs_to_one_half() -> None:
    """Templates, table layouts, sentences and phrasing pools are each in exactly one half, both halves populated."""
    for items in (ils.TEMPLATES, tables.LAYOUTS, prose.SENTENCES):
        ids = [x.id for x in items]
        assert len(ids) == len(set(ids))
        assert {x.split for x in items} == set(SPLITS)
    for fam in ILS_FAMILIES + ("multilingual",):
        for split in SPLITS:
            assert len([t for t in ils.TEMPLATES if t.family == fam and t.split == split]) >= 2, (fam, split)
    for pool in (wrappers.INTROS, wrappers.GREETINGS, wrappers.CLOSINGS, wrappers.QUESTIONS, patronself.SELF_GREETINGS,
                 patronself.SELF_CLOSINGS, patronself.SELF_QUESTIONS):
        flat = {split: set(_flatten(pool[split])) for split in SPLITS}
        assert not flat["dev"] & flat["test"]


def _flatten(value) -> list[str]:  # type: ignore[no-untyped-def]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _flatten(v)]
    return list(value)


def _literal_phrases(fmt: str, minimum: int = 30) -> list[str]:
    """The literal stretches of a format string (between placeholders and line ends) long enough to be telling."""
    parts = re.split(r"\{[^{}]*\}|\n", fmt.replace("{{", "").replace("}}", ""))
    return [p.strip() for p in parts if len(p.strip()) >= minimum]


def test_no_test_half_text_appears_in_the_dev_half(corpus) -> None:
    """No literal phrase of a test-half template, sentence or pool entry occurs in any dev-half message."""
    out, rows = corpus
    phrases: set[str] = set()
    for t in ils.TEMPLATES:
        if t.split == "test":
            phrases.update(_literal_phrases(t.body) + _literal_phrases(t.item))
    for s in prose.SENTENCES:
        if s.split == "test":
            phrases.update(_literal_phrases(s.text))
    for pool in (wrappers.INTROS, wrappers.QUESTIONS):
        for entry in _flatten(pool["test"]):
            phrases.update(_literal_phrases(entry))
    for _, _, letter in patronself.LETTERS["test"]:
        phrases.update(_literal_phrases(letter))
    for entry in patronself.EXTRA["test"] + patronself.SELF_QUESTIONS["test"]:
        phrases.update(_literal_phrases(entry))
    assert len(phrases) > 80
    dev_text = "\n".join(_text((out / r["file"]).read_bytes()) for r in rows if r["split"] == "dev")
    found = sorted(p for p in phrases if p in dev_text)
    assert found == []
    test_templates = {t for r in rows if r["split"] == "test" for t in r["templates"]}
    dev_templates = {t for r in rows if r["split"] == "dev" for t in r["templates"]}
    assert test_templates & dev_templates == set()


def test_the_halves_share_no_long_line_except_data(corpus) -> None:
    """A line of 40 characters or more found in both halves is data (a title, a library, a merge field), never phrasing."""
    out, rows = corpus
    seen: dict[str, set[str]] = {"dev": set(), "test": set()}
    for r in rows:
        for line in _text((out / r["file"]).read_bytes()).splitlines():
            line = " ".join(line.split())
            if len(line) >= 40:
                seen[r["split"]].add(line)
    titles = [t for t, _ in TITLES] + [lib.name for lib in LIBRARIES] + [lib.street for lib in LIBRARIES]
    shared = [line for line in seen["dev"] & seen["test"]
              if not any(t in line for t in titles) and not re.search(r"<<|\[%|_C\b|\{[A-Z]|<[a-z]", line)]
    assert shared == []


def test_every_message_parses_and_has_its_labelled_recipients(corpus) -> None:
    """Each .eml parses, every part decodes, and its To/Cc are exactly the manifest's recipients."""
    out, rows = corpus
    for r in rows:
        msg = email.message_from_bytes((out / r["file"]).read_bytes(), policy=email.policy.default)
        for part in msg.walk():
            if not part.is_multipart():
                part.get_content()
        addresses = {a.lower() for _, a in email.utils.getaddresses(msg.get_all("To", []) + msg.get_all("Cc", []))}
        assert addresses == {x["address"].lower() for x in r["recipients"]}, r["file"]
        assert r["recipients"] and all(x["expect"] in ("hold", "deliver") for x in r["recipients"])
        if r["klass"] == "disclosure":
            assert any(x["expect"] == "hold" and not is_internal(x["address"]) for x in r["recipients"]), r["file"]
            assert r["categories"], r["file"]
        else:
            assert all(x["expect"] == "deliver" for x in r["recipients"]), r["file"]


def test_card_numbers_are_valid_and_present(corpus) -> None:
    """Every card a message claims is a 14-digit type-2 barcode with a valid check digit, and is in the message."""
    out, rows = corpus
    others = 0
    for r in rows:
        if not r["cards"]:
            continue
        text = re.sub(r"[\s\-]", "", _text((out / r["file"]).read_bytes()))
        for card in r["cards"]:
            assert len(card) == 14 and card[0] == "2" and valid_library_barcode(card), r["file"]
            others += card[1:5] in OTHER_INSTITUTIONS
            if r["carrier"] not in ("xlsx", "pdf"):  # binary attachments: their text is not decoded here
                assert card in text, r["file"]
    assert others >= 10


def test_disclosures_with_card_category_carry_a_card(corpus) -> None:
    """A disclosure labelled with card_number from a notice or record names at least one valid card."""
    _, rows = corpus
    for r in rows:
        if r["klass"] == "disclosure" and r["kind"].endswith("forward") and "card_number" in r["categories"]:
            assert r["cards"], r["file"]


def test_patron_self_mail_is_addressed_to_the_patron_it_names(corpus) -> None:
    """In patron-self mail the recipient is the patron, her display name (if any) is her name, and the greeting names her."""
    out, rows = corpus
    for r in rows:
        if r["klass"] != "patron-self":
            continue
        a = r["addressee"]
        msg = email.message_from_bytes((out / r["file"]).read_bytes(), policy=email.policy.default)
        (display, address), = email.utils.getaddresses(msg.get_all("To", []))
        assert address == a["address"], r["file"]
        first, last = a["name"].split(" ", 1)[0], a["name"].rsplit(" ", 1)[-1]
        if display:
            assert {first, last} <= set(display.replace(",", " ").split()), r["file"]
        assert first in a["greeting"] or last in a["greeting"] or (display and not a["greeting"]), r["file"]


def test_manifest_is_jsonl_and_output_stays_out_of_the_leak_set(corpus) -> None:
    """The manifest is one JSON object a line, and the default output folder is var/, not tests/leakset."""
    out, rows = corpus
    lines = (out / "manifest.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["file"] for line in lines] == [r["file"] for r in rows]
    assert "leakset" not in str(generate.DEFAULT_OUT)
    assert generate.DEFAULT_OUT.parts[-2:] == ("var", "eval-corpus")
    assert generate.is_current(out)
    with pytest.raises(ValueError):
        generate.generate(generate.REPO / "tests" / "leakset" / "corpus")


def test_eval_judges_each_recipient() -> None:
    """bench/eval.py: a disclosure passes when every recipient labelled hold is held (or redacted); other mail when all get it."""
    from bench import eval as evaluation

    expected = [{"address": "Kin@Example.com", "expect": "hold", "role": "relative"},
                {"address": "circ@ccrls.org", "expect": "deliver", "role": "internal"}]
    assert evaluation.judge("disclosure", expected, {"kin@example.com": "hold", "circ@ccrls.org": "deliver"})
    assert evaluation.judge("disclosure", expected, {"kin@example.com": "redact", "circ@ccrls.org": "hold"})
    assert not evaluation.judge("disclosure", expected, {"kin@example.com": "deliver", "circ@ccrls.org": "deliver"})
    assert not evaluation.judge("disclosure", expected, {"circ@ccrls.org": "deliver"})
    mine = [{"address": "maria@example.com", "expect": "deliver", "role": "patron"}]
    assert evaluation.judge("patron-self", mine, {"maria@example.com": "deliver"})
    assert not evaluation.judge("patron-self", mine, {"maria@example.com": "redact"})
    assert not evaluation.judge("ordinary", [], {})
