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


def sink_relay_config(sink_port: int, name: str | None = None, state_dir: str | None = None) -> str:
    """`base_config` plus a relay on a free port delivering to a sink on `sink_port` with fast retries.

    Without `state_dir` the spool and quarantine go where `--state-dir` puts them.
    """
    state = f'  state_dir: "{state_dir}"\n' if state_dir else ""
    return base_config(name=name) + (
        "server:\n"
        '  listen: "127.0.0.1:0"\n'
        "  hostname: relay.test\n"
        "upstream:\n"
        f'  url: "smtp://127.0.0.1:{sink_port}"\n'
        "  timeout: 5\n"
        "  retry_first: 0.1\n"
        "spool:\n"
        f"{state}"
        "  workers: 2\n"
    )
