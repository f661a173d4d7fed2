#!/usr/bin/env bash
# Installs the charting library the HTML report embeds (Chart.js, MIT) from
# the npm registry into reports/assets/, which git ignores; the shakedown
# binary embeds that folder at build time. Skips the download when the
# pinned version is already there. Usage: scripts/report-assets.sh
set -euo pipefail
CHARTJS_VERSION=4.6.1
dest="$(cd "$(dirname "$0")/.." && pwd)/reports/assets"
stamp="$dest/chart.version"
if [ -f "$dest/chart.umd.min.js" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$CHARTJS_VERSION" ]; then
  exit 0
fi
command -v npm >/dev/null || { echo "report-assets: npm is needed (Debian package npm)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# npm pack checks the tarball against the registry's integrity digest.
(cd "$tmp" && npm pack --silent "chart.js@$CHARTJS_VERSION" >/dev/null)
tar -xzf "$tmp"/chart.js-"$CHARTJS_VERSION".tgz -C "$tmp" package/dist/chart.umd.min.js package/LICENSE.md
# The source-map comment points at a file the report does not carry.
sed -e '/^\/\/# sourceMappingURL=/d' "$tmp/package/dist/chart.umd.min.js" >"$dest/chart.umd.min.js"
cp "$tmp/package/LICENSE.md" "$dest/chart.LICENSE.md"
echo "$CHARTJS_VERSION" >"$stamp"
echo "report-assets: Chart.js $CHARTJS_VERSION in reports/assets/"
