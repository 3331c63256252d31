#!/usr/bin/env bash
# Installs Debian's redis-server when it is missing: the tests of the Redis response store start
# their own redis-server on loopback. Run as root (CI) or with sudo.
set -euo pipefail

if command -v redis-server >/dev/null 2>&1; then
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-redis: redis-server is missing and apt-get is not available: install redis-server (7.x) by hand" >&2
    exit 1
fi
as_root=()
if [ "$(id -u)" -ne 0 ]; then
    as_root=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" apt-get install -y -qq --no-install-recommends redis-server
# The package starts a system service where there is an init system; the tests start their own.
redis-server --version
