#!/usr/bin/env bash
# Installs the system packages Leerpoort needs to build and test on Debian/Ubuntu.
# Used by the README's quick start and by CI (.ci/run). Safe to run again: it installs only
# what is missing.
set -euo pipefail

packages=(
  build-essential   # cc for -sys crates (SQLite is bundled and compiled from source)
  pkg-config
  clang             # bindgen for the XML-security bindings
  libclang-dev
  libssl-dev        # key and certificate generation
  libpq-dev         # PostgreSQL client library
  libxml2-dev       # SAML (xmlsec)
  libxmlsec1-dev
  libxmlsec1-openssl
  xmlsec1           # the xmlsec1 command, used by pysaml2 in the SAML conformance test
  python3-venv      # the SAML conformance test keeps pysaml2 in a venv of its own
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  echo "Installing: ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "System packages: all present."
fi

if ! command -v cargo >/dev/null 2>&1; then
  echo "cargo is missing: install Rust from https://rustup.rs (stable, 1.86 or newer)" >&2
  exit 1
fi
for component in rustfmt clippy; do
  if ! cargo "${component/rustfmt/fmt}" --version >/dev/null 2>&1; then
    rustup component add "$component"
  fi
done
