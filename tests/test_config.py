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
        (MINIMAL + "detection:\n  scan_seconds: 0\n", "bad.yaml:4: detection.scan_seconds: expected a number of seconds, e.g. 120"),
        (MINIMAL + "detection:\n  scan_seconds: soon\n", "bad.yaml:4: detection.scan_seconds: expected a number of seconds, e.g. 120, got 'soon'"),
        (MINIMAL + "detection:\n  max_chars_per_part: 10\n", "bad.yaml:4: detection.max_chars_per_part: expected a number of characters, e.g. 26214400"),
    ],
)
def test_errors_name_file_line_and_key(text, expected):
    """Each kind of mistake is reported with file:line, the dotted key and what is expected."""
    with pytest.raises(ConfigError) as info:
        parse(text, "bad.yaml")
    assert expected in str(info.value)


def test_a_part_may_be_as_long_as_the_relay_accepts():
    """Unset, the characters read per part follow the SIZE limit; set, they are what the file says."""
    from proxy.scanning.scan import engine_settings

    def limit(text: str) -> int:
        return engine_settings(parse(MINIMAL + text, "mini.yaml")).limits.max_chars_per_part

    assert limit("") == 26_214_400
    assert limit("server:\n  max_message_size: 52428800\n") == 52_428_800
    assert limit("detection:\n  max_chars_per_part: 5000\n") == 5000
    assert parse(MINIMAL, "mini.yaml").detection.scan_seconds == 120.0


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


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (MINIMAL + "policy:\n  min_score: 7\n",
         "bad.yaml:4: policy.min_score: expected a score between 0 and 1, e.g. 0.75 (at most 1.0), got 7"),
        (MINIMAL + "policy:\n  min_name_score: 3\n",
         "bad.yaml:4: policy.min_name_score: expected a score between 0 and 1, e.g. 0.7 (at most 1.0), got 3"),
        (MINIMAL + "recipients:\n  fax:\n    default_region: Narnia\n",
         "bad.yaml:5: recipients.fax.default_region: expected a two-letter region code phonenumbers knows"),
        (MINIMAL + "barcodes:\n  layouts:\n    - name: x\n      length: 40\n",
         "bad.yaml:6: barcodes.layouts[0].length: expected the number of digits, e.g. 14 (at most 32), got 40"),
        (MINIMAL + "barcodes:\n  layouts:\n    - name: x\n      type_digit: \"22\"\n",
         "bad.yaml:6: barcodes.layouts[0].type_digit: expected a single digit"),
        (MINIMAL + "barcodes:\n  layouts:\n    - name: x\n      prefixes: [\"23a\"]\n",
         "bad.yaml:6: barcodes.layouts[0].prefixes[0]: expected a digit prefix"),
        (MINIMAL + "barcodes:\n  layouts:\n    - name: x\n      type_digit: \"3\"\n      prefixes: [\"2361\"]\n",
         "bad.yaml:7: barcodes.layouts[0].prefixes: expected prefixes that start with type_digit '3', got '2361'"),
        (MINIMAL + "recipients:\n  fax:\n    default_region: GB\n    approved:\n      - number: \"503-555-0142\"\n",
         "bad.yaml:7: recipients.fax.approved[0].number: expected a valid fax number of region GB"),
    ],
)
def test_values_are_checked_in_the_reader(text, expected):
    """Values that used to pass the reader and fail later (scores above 1, an unknown fax region, an approved
    number that does not parse in it, impossible barcode layouts) are collected file:line: key errors."""
    with pytest.raises(ConfigError) as info:
        parse(text, "bad.yaml")
    assert expected in str(info.value)


def test_an_unknown_region_with_a_local_fax_number_is_one_error_not_a_traceback():
    """default_region Narnia and an approved number without + give the region error (no phonenumbers exception)."""
    text = MINIMAL + "recipients:\n  fax:\n    default_region: Narnia\n    approved:\n      - number: \"503-555-0142\"\n"
    with pytest.raises(ConfigError) as info:
        parse(text, "bad.yaml")
    assert str(info.value).splitlines() == [
        "bad.yaml:5: recipients.fax.default_region: expected a two-letter region code phonenumbers knows, such as "
        "US, CA or GB, got 'Narnia'"]


def test_a_lower_case_region_is_read_as_upper_case():
    """default_region: ca is region CA; numbers without + are read in it."""
    cfg = parse(MINIMAL + "recipients:\n  fax:\n    default_region: ca\n    approved:\n      - number: \"604-555-0142\"\n",
                "ok.yaml")
    assert cfg.fax.default_region == "CA" and cfg.fax.approved[0].number == "+16045550142"


def test_missing_files_named_in_the_config_name_its_line(tmp_path):
    """A review_ui.password_file or notices.templates_dir that is not there is an error with file, line and key."""
    from proxy.relay.notices import notices_from_config
    from proxy.relay.spool import Spool
    from proxy.web.accounts import load_reviewers

    text = MINIMAL + f"review_ui:\n  password_file: {tmp_path / 'nope'}\nnotices:\n  templates_dir: {tmp_path / 'gone'}\n"
    cfg = parse(text, "conf.yaml")
    with pytest.raises(ConfigError) as info:
        load_reviewers(cfg.review_ui, tmp_path)
    assert str(info.value).startswith(f"conf.yaml:4: review_ui.password_file: cannot read password file {tmp_path / 'nope'}")
    with pytest.raises(ConfigError) as info:
        notices_from_config(cfg, Spool(tmp_path / "spool"), hostname="relay.test", postmaster="postmaster@ccrls.org")
    assert str(info.value).startswith("conf.yaml:6: notices.templates_dir: expected a directory")


def _without_origins(value):  # type: ignore[no-untyped-def]
    """`value` with every `*_at` field (where a key was written, for error messages) set back to its default."""
    import dataclasses

    if not dataclasses.is_dataclass(value):
        return value
    changes = {}
    for f in dataclasses.fields(value):
        if f.name.endswith("_at"):
            changes[f.name] = f.default
        elif dataclasses.is_dataclass(getattr(value, f.name)):
            changes[f.name] = _without_origins(getattr(value, f.name))
    return dataclasses.replace(value, **changes)


def test_defaults_are_declared_once_on_the_dataclasses():
    """A config with only the required key reads as the dataclasses' own defaults: there is no second source."""
    from proxy.config import Config

    read = parse(MINIMAL, "mini.yaml")
    assert _without_origins(read) == Config(source="mini.yaml", library_domains=("example-library.org",))


def test_every_leaf_of_the_schema_is_declared_on_a_field():
    """Each section the reader walks is read off its dataclass: every key of it has the Spec its field carries."""
    import dataclasses

    from proxy.config import SCHEMA, QuarantineConfig, SpoolConfig, UpstreamConfig

    for section, cls in (("spool", SpoolConfig), ("quarantine", QuarantineConfig), ("upstream", UpstreamConfig)):
        fields = {f.name: f.metadata["spec"] for f in dataclasses.fields(cls) if "spec" in f.metadata}
        assert SCHEMA[section].fields == fields


def test_spool_workers_default_is_the_documented_one():
    """spool.workers defaults to 8 whether the key is left out or the dataclass is built directly."""
    from proxy.config import SpoolConfig

    assert SpoolConfig().workers == parse(MINIMAL, "mini.yaml").spool.workers == 8
