#!/bin/sh
# Makes sure Debian's chromium is installed for the console's browser test
# (test/console.browser.test.ts) and prints its path. Bounded in time: the
# apt steps get CHROMIUM_INSTALL_TIMEOUT seconds (default 300) in all; on
# failure it exits non-zero with the reason on stderr, and the test skips.
set -u
find_chromium() {
  for c in chromium chromium-browser; do
    p=$(command -v "$c" 2>/dev/null) && { echo "$p"; return 0; }
  done
  return 1
}
if p=$(find_chromium); then echo "$p"; exit 0; fi
limit=${CHROMIUM_INSTALL_TIMEOUT:-300}
if [ "$(id -u)" != 0 ]; then
  echo "chromium is not installed and installing it needs root (apt-get install chromium)" >&2
  exit 2
fi
export DEBIAN_FRONTEND=noninteractive
if ! timeout "$limit" sh -c 'apt-get install -y -q chromium >/dev/null 2>&1 || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q chromium >/dev/null 2>&1; }'; then
  echo "apt-get install chromium failed or took over ${limit}s" >&2
  exit 3
fi
if p=$(find_chromium); then echo "$p"; exit 0; fi
echo "apt-get installed chromium but no chromium binary is on PATH" >&2
exit 4
