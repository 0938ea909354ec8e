#!/usr/bin/env bash
# Debian packages the tests and the service need. Installs only what is missing,
# so a machine that has them pays nothing. Runs as root (CI does); otherwise says
# what to install.
#   postfix     smtp-sink / smtp-source for relay tests and benchmarks, and a real sending MTA
#   swaks       SMTP test client (tests and the `make run` hint)
#   tesseract   OCR for images and faxes
#   ghostscript PostScript/PDF text for fax jobs, and PDF pages rendered for OCR
#   fonts-dejavu-core  the font the OCR tests draw screenshots and fax pages with
#   postgresql  the scale-out quarantine backend (tests start a throwaway cluster)
#   chromium    the headless browser the review UI tests drive (Playwright, Debian's build)
set -euo pipefail
PACKAGES=(postfix swaks tesseract-ocr tesseract-ocr-eng ghostscript fonts-dejavu-core postgresql chromium)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "system-deps: missing Debian packages: ${missing[*]}" >&2
  echo "system-deps: run: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# Postfix must not ask questions nor take over port 25: install it unconfigured.
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "system-deps: installed ${missing[*]}"
