"""Configuration shared by the relay tests: the library, its card layout, and no spaCy."""

from __future__ import annotations


def base_config(domains: str = "ccrls.org, cityofsalem.net", name: str | None = None) -> str:
    """The `library`, `barcodes` and `detection` sections every relay test starts from.

    Names are off so each relay process starts fast; the CCRLS patron layout makes
    23610003622817 a patron card. Append the test's own server/upstream/spool sections.
    """
    name_line = f"  name: {name}\n" if name else ""
    return (
        "library:\n"
        f"{name_line}"
        f"  domains: [{domains}]\n"
        "barcodes:\n"
        "  layouts:\n"
        "    - name: ccrls-patron\n"
        "      kind: patron\n"
        "      length: 14\n"
        '      type_digit: "2"\n'
        '      prefixes: ["2361"]\n'
        "detection:\n"
        "  names: false\n"
    )
