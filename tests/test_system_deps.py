"""scripts/system-deps.sh checks what the tests use, not only which packages dpkg lists."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "scripts" / "system-deps.sh"


def _run_as_nobody(path: str) -> subprocess.CompletedProcess[str]:
    """The script as an unprivileged user (it then reports instead of installing)."""
    if os.getuid() == 0 and shutil.which("setpriv"):
        command = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "bash", str(SCRIPT)]
    elif os.getuid() != 0:
        command = ["bash", str(SCRIPT)]
    else:
        pytest.skip("needs setpriv to run the script unprivileged")
    return subprocess.run(command, capture_output=True, text=True, timeout=120, cwd="/",
                          env={"PATH": path, "LANG": "C.UTF-8"})


def test_this_machine_has_what_the_tests_use():
    """On a machine `make test` prepared, the script finds every capability (swaks with TLS and AUTH too)."""
    done = _run_as_nobody("/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin")
    assert (done.returncode, done.stderr) == (0, "")


def test_a_swaks_without_tls_is_caught_even_with_the_package_installed():
    """A swaks whose --support says TLS is not available (Net::SSLeay only recommended) fails the check and
    names the package that brings it."""
    with tempfile.TemporaryDirectory(prefix="system-deps-") as scratch:  # pytest's tmp_path is root-only
        fake = Path(scratch)
        fake.chmod(0o755)
        _check_fake_swaks(fake)


def _check_fake_swaks(fake: Path) -> None:
    (fake / "swaks").write_text("#!/bin/sh\necho '*** TLS not available: requires Net::SSLeay'\n"
                                "echo '=== Basic AUTH supported'\necho '=== AUTH DIGEST-MD5 supported'\n")
    (fake / "swaks").chmod(0o755)
    done = _run_as_nobody(f"{fake}:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin")
    assert done.returncode == 1
    assert "libnet-ssleay-perl: swaks --support: no TLS" in done.stderr
    assert "sudo apt-get install" in done.stderr and "libauthen-sasl-perl" in done.stderr
