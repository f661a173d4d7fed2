#!/usr/bin/env bash
# Installs Debian packages that are not installed yet, without prompts, and
# retries once when the registry hiccups. Usage: scripts/apt-install.sh PKG...
set -euo pipefail
missing=()
for p in "$@"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
stamp=/var/lib/apt/periodic/shakedown-update-stamp
try() { "$@" || { echo "apt: retrying once: $*" >&2; sleep 5; "$@"; }; }
if [ ! -f "$stamp" ] || [ -n "$(find "$stamp" -mmin +360 2>/dev/null)" ]; then
  try $SUDO apt-get update -q
  $SUDO mkdir -p "$(dirname "$stamp")" && $SUDO touch "$stamp"
fi
echo "apt: installing ${missing[*]}"
try $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
