"""The config loader: the shipped example loads, and every mistake names file, line and key."""

from __future__ import annotations

import pytest

from detectors.findings import Category
from proxy.config import load, parse
from proxy.errors import ConfigError

MINIMAL = "library:\n  domains: [example-library.org]\n"


def test_shipped_config_loads(repo):
    """The commented example config.yaml is valid and has the CCRLS partner and fax approvals."""
    cfg = load(repo / "config.yaml")
    assert "ccrls.org" in cfg.library_domains
    assert cfg.partners[0].domains == ("unique-mgmt.com",)
    assert Category.TITLES not in cfg.partners[0].categories
    assert cfg.fax.approved[0].number == "+15035550142"
    assert cfg.public_phones[0] == "+15035886130"


def test_builtin_config_matches_shipped_example(repo):
    """Without a path, the built-in config is the shipped example."""
    assert load(None).library_domains == load(repo / "config.yaml").library_domains


def test_minimal_config_gets_defaults():
    """Only library.domains is required; everything else has a default."""
    cfg = parse(MINIMAL, "mini.yaml")
    assert cfg.policy.actions["external"] == "hold"
    assert cfg.policy.actions["internal"] == "deliver"
    assert cfg.detection.names is True


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (MINIMAL + "polcy:\n  min_score: 1\n", "bad.yaml:3: polcy: unknown key; expected one of: library"),
        (MINIMAL + "policy:\n  actions:\n    external: drop\n", "bad.yaml:5: policy.actions.external: expected an action: one of deliver, redact, hold; got 'drop'"),
        (MINIMAL + "policy:\n  proximity_chars: lots\n", "bad.yaml:4: policy.proximity_chars: expected a number of characters, e.g. 300, got 'lots'"),
        ("library:\n  name: X\n", "bad.yaml:1: library.domains: is missing"),
        ("library:\n  domains: ccrls.org\n", "bad.yaml:2: library.domains: expected a list of the library's mail domains (a YAML list)"),
        ("library:\n  domains: [ccrls]\n", "bad.yaml:2: library.domains[0]: expected a mail domain such as 'ccrls.org', got 'ccrls'"),
        (MINIMAL + "recipients:\n  partners:\n    - name: A\n      domains: [a.com]\n      categories: [titels]\n", "bad.yaml:7: recipients.partners[0].categories[0]: expected a data category: one of name"),
        (MINIMAL + "recipients:\n  fax:\n    approved:\n      - number: call-me\n", "bad.yaml:6: recipients.fax.approved[0].number: expected a phone number"),
        (MINIMAL + "barcodes:\n  layouts:\n    - kind: patron\n", "bad.yaml:5: barcodes.layouts[0].name: is missing"),
        ("library: [\n", "bad.yaml:2: not valid YAML"),
    ],
)
def test_errors_name_file_line_and_key(text, expected):
    """Each kind of mistake is reported with file:line, the dotted key and what is expected."""
    with pytest.raises(ConfigError) as info:
        parse(text, "bad.yaml")
    assert expected in str(info.value)


def test_all_errors_are_reported_at_once():
    """Several mistakes give several lines, not just the first."""
    text = MINIMAL + "policy:\n  min_score: high\n  colour: red\n"
    with pytest.raises(ConfigError) as info:
        parse(text, "bad.yaml")
    lines = str(info.value).splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("bad.yaml:4: policy.min_score")
    assert lines[1].startswith("bad.yaml:5: policy.colour: unknown key")


def test_missing_file_is_a_config_error(tmp_path):
    """A path that does not exist says so."""
    with pytest.raises(ConfigError, match="no such configuration file"):
        load(tmp_path / "nope.yaml")
