#!/usr/bin/env bash
# Debian packages the tests need beyond the venv (idempotent): Chromium and a CJK font for the
# browser tests and screenshots (Playwright drives /usr/bin/chromium; no Playwright browser
# download), faketime for the shifted-clock runs (make test-clock), and haproxy, the load balancer
# of the failure drills (make test-cluster).
set -euo pipefail

have_chromium() { command -v chromium >/dev/null 2>&1 && chromium --version >/dev/null 2>&1; }
have_cjk_font() { fc-list :lang=zh 2>/dev/null | grep -q .; }
have_faketime() { command -v faketime >/dev/null 2>&1; }
have_haproxy() { command -v haproxy >/dev/null 2>&1 || test -x /usr/sbin/haproxy; }

if have_chromium && have_cjk_font && have_faketime && have_haproxy; then
  echo "installed: $(chromium --version), a CJK font, faketime, haproxy"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "need root (or sudo) to apt-get install chromium, faketime and haproxy" >&2; exit 1; fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends chromium fonts-wqy-microhei fontconfig faketime haproxy
chromium --version
