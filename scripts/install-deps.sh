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
  redis-server      # the Redis store tests (Debian's build speaks TLS: the rediss:// test)
  libxml2-dev       # SAML (xmlsec)
  libxmlsec1-dev
  libxmlsec1-openssl
  chromium          # the browser tests: Debian's headless Chromium ...
  chromium-driver   # ... driven through chromedriver (WebDriver)
  fonts-dejavu-core # legible screenshots
  xmlsec1           # the xmlsec1 command, used by pysaml2 (SAML conformance tests, examples/saml-publisher)
  python3-venv      # the SAML conformance test keeps pysaml2 in a venv of its own
  # The real SAML SPs of conformance-tests/tests/it/saml_sps.rs; the test runs its own Apache
  # and shibd on loopback (the system services these packages bring are not used).
  apache2
  libapache2-mod-php
  php-xml
  php-mbstring
  simplesamlphp       # SimpleSAMLphp 1.19
  libapache2-mod-shib # Shibboleth SP 3.4: mod_shib ...
  shibboleth-sp-utils # ... and shibd
  openssl             # the SPs' key pairs
  curl                # the Dynamic IP agent's documented one-liner, run as a school would
  haproxy             # the load balancer in front of scripts/cluster.sh's three nodes
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

# Node.js 20+ and npm: for the tests' relying party (openid-client) and axe-core, the sample
# app examples/oidc-publisher, and for refreshing the pictures (scripts/update-pictures.sh).
# Debian's own only when none is there. The npm and PyPI packages themselves (conformance-tests/
# node, examples/oidc-publisher: `npm ci`; pysaml2 into conformance-tests/saml/.venv) are
# installed by the tests that use them, from their lock and requirements files.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "Installing: nodejs npm"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get install -y -qq --no-install-recommends nodejs npm
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
