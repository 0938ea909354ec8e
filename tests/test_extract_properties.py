"""Property tests: extract() never raises and keeps its path invariants on arbitrary and mutated bytes."""

from __future__ import annotations

from email.message import EmailMessage

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from detectors.extract import Extraction, extract
from detectors.findings import Kind
from detectors.html import html_to_text

_SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _seed_message() -> bytes:
    msg = EmailMessage()
    msg["From"] = "Circ Desk <circ@library.example.org>"
    msg["To"] = "Vendor <a@vendor.example.com>, b@example.org"
    msg["Subject"] = "Fwd: patron list für Zoë"
    msg.set_content("> PATRN NAME  Doe, Jane\n> P BARCODE  23610003622817\nThanks\n")
    msg.add_alternative("<table><tr><td>Doe, Jane</td><td>23610003622817</td></tr></table>", subtype="html")
    inner = EmailMessage()
    inner["Subject"] = "inner"
    inner.set_content("Card 23610003622817\n")
    msg.add_attachment(inner)
    msg.add_attachment(b"a,b\n1,2\n", maintype="text", subtype="csv", filename="list.csv")
    msg.add_attachment(b"%PDF-1.4\x00\x01", maintype="application", subtype="pdf", filename="x.pdf")
    return msg.as_bytes()


SEED = _seed_message()


def _check_invariants(ex: Extraction) -> None:
    paths = [p.path for p in ex.parts]
    assert len(paths) == len(set(paths)), "part paths must be unique"
    for part in ex.parts:
        assert isinstance(part.text, str) and part.text.strip()
    for finding in ex.uninspectable:
        assert finding.kind is Kind.UNINSPECTABLE
        assert (finding.start, finding.end, finding.score, finding.masked) == (0, 0, 1.0, "")
        assert finding.part and finding.reason
    assert len(set(ex.recipients)) == len(ex.recipients)


# A mutation: (position as a fraction of the length, bytes deleted there, bytes inserted there).
_mutation = st.tuples(st.floats(min_value=0.0, max_value=1.0), st.integers(0, 40), st.binary(max_size=40))
_interesting = st.sampled_from(
    [
        b"\n",
        b"\r\n",
        b"--",
        b"\n--",
        b"boundary=",
        b"Content-Type: multipart/mixed; boundary=x\n",
        b"Content-Transfer-Encoding: base64\n",
        b"=?utf-8?b?",
        b"<table>",
        b"\xff\xfe",
        b"message/rfc822",
        b">",
    ]
)


def _mutate(data: bytes, mutations: list[tuple[float, int, bytes]]) -> bytes:
    for where, delete, insert in mutations:
        at = int(where * len(data))
        data = data[:at] + insert + data[at + delete :]
    return data


@_SETTINGS
@given(st.binary(max_size=4096))
def test_extract_never_raises_on_arbitrary_bytes(raw: bytes) -> None:
    """Any byte string extracts without raising and with unique part paths."""
    _check_invariants(extract(raw))


@_SETTINGS
@given(
    st.lists(
        st.one_of(_mutation, st.tuples(st.floats(0.0, 1.0), st.integers(0, 4), _interesting)), max_size=12
    )
)
def test_extract_never_raises_on_mutated_real_messages(mutations: list[tuple[float, int, bytes]]) -> None:
    """A valid multipart message with random insertions and deletions still extracts without raising."""
    _check_invariants(extract(_mutate(SEED, mutations)))


@_SETTINGS
@given(st.text(alphabet=st.sampled_from(list("<>/!?-&#;ab tdrTD=\"'\n")), max_size=2000))
def test_html_to_text_never_raises(source: str) -> None:
    """Any markup-heavy text converts without raising."""
    assert isinstance(html_to_text(source).text, str)


def test_seed_message_reads_as_expected() -> None:
    """The unmutated seed gives body, HTML, forwarded, CSV parts and one PDF finding."""
    ex = extract(SEED)
    assert [p.path for p in ex.parts] == ["subject", "1.1", "1.2", "2/subject", "2/1", "3"]
    assert [f.reason for f in ex.uninspectable] == ["no-extractor application/pdf"]
    _check_invariants(ex)
