#!/usr/bin/env bash
# Short fuzz runs of the SAML, EDEXML, UWLR, DUO and spreadsheet parsers and the icon sanitiser with cargo fuzz (libFuzzer): each target in
# protocol/fuzz/ for SECONDS seconds (default 20), starting from the seed corpus in the
# repository. CI runs it after the tests; a crash fails it and leaves the input in
# protocol/fuzz/artifacts/. Longer runs: see docs/security.md. Only the stable toolchain is
# needed (RUSTC_BOOTSTRAP=1 lets cargo fuzz use the flags it needs).
set -euo pipefail
seconds="${1:-20}"
cd "$(dirname "$0")/../protocol/fuzz"

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "Installing cargo-fuzz"
  cargo install --locked cargo-fuzz
fi
export RUSTC_BOOTSTRAP=1
for target in authn_request redirect_binding sp_metadata logout_message edexml uwlr duo spreadsheet icon; do
  echo "fuzz: $target for ${seconds}s"
  cargo fuzz run --sanitizer none -O "$target" -- \
    -max_total_time="$seconds" -rss_limit_mb=2048 -print_final_stats=1
done
