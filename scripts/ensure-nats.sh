#!/bin/sh
# Makes sure Debian's nats-server is installed for the replication tests
# (test/replicate*.test.ts) and prints its path. Bounded in time: the apt
# steps get NATS_INSTALL_TIMEOUT seconds (default 300) in all; on failure it
# exits non-zero with the reason on stderr, and the tests skip.
set -u
find_nats() {
  for p in "$(command -v nats-server 2>/dev/null)" /usr/sbin/nats-server /usr/bin/nats-server; do
    [ -n "$p" ] && [ -x "$p" ] && { echo "$p"; return 0; }
  done
  return 1
}
if p=$(find_nats); then echo "$p"; exit 0; fi
limit=${NATS_INSTALL_TIMEOUT:-300}
if [ "$(id -u)" != 0 ]; then
  echo "nats-server is not installed and installing it needs root (apt-get install nats-server)" >&2
  exit 2
fi
export DEBIAN_FRONTEND=noninteractive
if ! timeout "$limit" sh -c 'apt-get install -y -q nats-server >/dev/null 2>&1 || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q nats-server >/dev/null 2>&1; }'; then
  echo "apt-get install nats-server failed or took over ${limit}s" >&2
  exit 3
fi
if p=$(find_nats); then echo "$p"; exit 0; fi
echo "apt-get installed nats-server but no nats-server binary was found" >&2
exit 4
