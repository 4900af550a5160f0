#!/usr/bin/env bash
# Install Debian's Chromium and a CJK font for the browser tests and screenshots (idempotent).
# Playwright drives it through executable_path="/usr/bin/chromium"; no Playwright browser
# download is needed.
set -euo pipefail

have_chromium() { command -v chromium >/dev/null 2>&1 && chromium --version >/dev/null 2>&1; }
have_cjk_font() { fc-list :lang=zh 2>/dev/null | grep -q .; }

if have_chromium && have_cjk_font; then
  echo "chromium and a CJK font are installed: $(chromium --version)"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "need root (or sudo) to apt-get install chromium" >&2; exit 1; fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends chromium fonts-wqy-microhei fontconfig
chromium --version
