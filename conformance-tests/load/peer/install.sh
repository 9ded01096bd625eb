#!/usr/bin/env bash
# Install the peer provider's exact dependency tree from package-lock.json.
set -euo pipefail
cd "$(dirname "$0")"
command -v npm >/dev/null || { echo "install.sh: npm is required (Node.js 20 or later)" >&2; exit 1; }
npm ci --no-audit --no-fund
