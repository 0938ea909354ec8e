#!/usr/bin/env bash
# Debian packages the tests and the service need. Checks what the tests *use* (a
# package can be installed without the part a test needs: swaks without its TLS
# and AUTH modules, which apt only recommends), installs only what is missing, and
# checks again, so a machine that has everything pays nothing. Runs as root (CI
# does); otherwise says what to install.
#   postfix     smtp-sink / smtp-source for relay tests and benchmarks, and a real sending MTA
#   swaks       SMTP test client (tests and the `make run` hint), with
#     libnet-ssleay-perl   its STARTTLS (tests: swaks over TLS)
#     libauthen-sasl-perl  its SASL mechanisms beyond PLAIN/LOGIN
#   tesseract   OCR for images and faxes (English data)
#   ghostscript PostScript/PDF text for fax jobs, and PDF pages rendered for OCR
#   fonts-dejavu-core  the font the OCR tests draw screenshots and fax pages with
#   postgresql  the scale-out quarantine backend (tests start a throwaway cluster)
#   chromium    the headless browser the review UI tests drive (Playwright, Debian's build)
# apt installs with --no-install-recommends: every recommended package a test needs is listed here.
set -euo pipefail
PACKAGES=(postfix swaks libnet-ssleay-perl libauthen-sasl-perl tesseract-ocr tesseract-ocr-eng ghostscript
          fonts-dejavu-core postgresql chromium)

# One line per missing capability: "package: what is missing".
missing_capabilities() {
  local support
  [ -x /usr/sbin/smtp-sink ] && [ -x /usr/sbin/smtp-source ] || echo "postfix: no /usr/sbin/smtp-sink or smtp-source"
  if command -v swaks >/dev/null; then
    support="$(swaks --support 2>&1 || true)"
    grep -q "^=== TLS supported" <<<"$support" || echo "libnet-ssleay-perl: swaks --support: no TLS"
    grep -q "^=== Basic AUTH supported" <<<"$support" || echo "swaks: swaks --support: no AUTH PLAIN/LOGIN"
    grep -q "^=== AUTH DIGEST-MD5 supported" <<<"$support" || echo "libauthen-sasl-perl: swaks --support: no SASL (Authen::SASL)"
  else
    echo "swaks: not on PATH"
  fi
  { command -v tesseract >/dev/null && tesseract --list-langs 2>/dev/null | grep -qx eng; } \
    || echo "tesseract-ocr-eng: tesseract with English data"
  { command -v gs >/dev/null && gs -q -dNODISPLAY -dBATCH -dNOPAUSE -c quit >/dev/null 2>&1; } \
    || echo "ghostscript: gs does not run"
  [ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] && [ -f /usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf ] \
    || echo "fonts-dejavu-core: DejaVuSans.ttf / DejaVuSansMono.ttf"
  compgen -G "/usr/lib/postgresql/*/bin/pg_ctl" >/dev/null || echo "postgresql: no /usr/lib/postgresql/*/bin/pg_ctl"
  [ -x /usr/bin/chromium ] || echo "chromium: no /usr/bin/chromium"
}

missing_packages=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing_packages+=("$p")
done
problems="$(missing_capabilities)"
[ ${#missing_packages[@]} -eq 0 ] && [ -z "$problems" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  [ -z "$problems" ] || { echo "system-deps: missing what the tests use:"; sed 's/^/  /' <<<"$problems"; } >&2
  echo "system-deps: run: sudo apt-get install -y --no-install-recommends ${PACKAGES[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# Postfix must not ask questions nor take over port 25: install it unconfigured.
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
apt-get update -qq
[ ${#missing_packages[@]} -eq 0 ] || apt-get install -y -qq --no-install-recommends "${missing_packages[@]}" >/dev/null
problems="$(missing_capabilities)"
if [ -n "$problems" ]; then  # installed, yet a part is gone (a removed file, a half-configured package): once more
  again=()
  while read -r line; do again+=("${line%%:*}"); done <<<"$problems"
  apt-get install -y -qq --no-install-recommends --reinstall "${again[@]}" >/dev/null
  problems="$(missing_capabilities)"
fi
if [ -n "$problems" ]; then
  { echo "system-deps: installed, but the tests still lack:"; sed 's/^/  /' <<<"$problems"; } >&2
  exit 1
fi
echo "system-deps: installed ${missing_packages[*]}"
