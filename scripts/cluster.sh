#!/usr/bin/env bash
# Three Leerpoort nodes on one PostgreSQL and one Redis, behind HAProxy, on this machine: what
# a country runs, in miniature. The tests (conformance-tests/tests/it/cluster.rs) and the load
# tool run through it.
#
#   scripts/cluster.sh up DIR           start (demo data, three nodes, Redis if asked, HAProxy)
#   scripts/cluster.sh down DIR         stop everything started in DIR
#   scripts/cluster.sh kill-node DIR N  kill node N (1-3) at once (SIGKILL: a crash)
#   scripts/cluster.sh start-node DIR N start node N again
#   scripts/cluster.sh restart-redis DIR  restart the cluster's own Redis (CLUSTER_REDIS=own)
#   scripts/cluster.sh restart-postgres DIR  restart its own PostgreSQL (CLUSTER_POSTGRES=own)
#   scripts/cluster.sh status DIR       one JSON line: the issuer, the nodes, what runs
#
# Settings (environment):
#   LEERPOORT_DATABASE_URL  PostgreSQL (required unless CLUSTER_POSTGRES=own; postgres://...)
#   CLUSTER_POSTGRES=own    start a PostgreSQL of the cluster's own in DIR (Debian's binaries,
#                           as the postgres user when run as root) on CLUSTER_PG_PORT (15432)
#   LEERPOORT_REDIS_URL     Redis (required unless CLUSTER_REDIS=own)
#   CLUSTER_REDIS=own       start a Redis of the cluster's own in DIR, with AOF persistence
#                           (appendfsync everysec), on CLUSTER_REDIS_PORT (16379)
#   CLUSTER_LB_PORT         HAProxy's port, the issuer's (18090)
#   CLUSTER_NODE_PORTS      the nodes' ports ("18091 18092 18093")
#   CLUSTER_METRICS_PORTS   the nodes' metrics ports ("19091 19092 19093")
#   CLUSTER_NO_DEMO=1       do not load the demo data (the database has data already)
#   LEERPOORT_BIN           the binary (default: target/release/leerpoort, else target/debug)
# Every other LEERPOORT_* variable reaches every node. Everything listens on 127.0.0.1 only.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
log() { echo "cluster.sh: $*" >&2; }
die() { log "$*"; exit 1; }

[ $# -ge 2 ] || die "usage: $0 up|down|kill-node|start-node|restart-redis|restart-postgres|status DIR [N]"
CMD=$1
mkdir -p "$2"
DIR=$(cd "$2" && pwd)

LB_PORT=${CLUSTER_LB_PORT:-18090}
read -r -a NODE_PORTS <<< "${CLUSTER_NODE_PORTS:-18091 18092 18093}"
read -r -a METRICS_PORTS <<< "${CLUSTER_METRICS_PORTS:-19091 19092 19093}"
[ ${#NODE_PORTS[@]} -eq 3 ] && [ ${#METRICS_PORTS[@]} -eq 3 ] || die "three node and three metrics ports"
REDIS_PORT=${CLUSTER_REDIS_PORT:-16379}
PG_PORT=${CLUSTER_PG_PORT:-15432}
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)
ISSUER="http://127.0.0.1:$LB_PORT"

if [ -n "${LEERPOORT_BIN:-}" ]; then
  BIN=$LEERPOORT_BIN
elif [ -x "$ROOT/target/release/leerpoort" ]; then
  BIN=$ROOT/target/release/leerpoort
else
  BIN=$ROOT/target/debug/leerpoort
fi

# The environment every node (and the demo command) shares, kept in DIR so that later
# commands (start-node) use the same.
write_env() {
  if [ "${CLUSTER_POSTGRES:-}" = own ]; then
    export LEERPOORT_DATABASE_URL="postgres://postgres@127.0.0.1:$PG_PORT/postgres"
  fi
  [[ "${LEERPOORT_DATABASE_URL:-}" == postgres* ]] \
    || die "a cluster needs PostgreSQL: set LEERPOORT_DATABASE_URL=postgres://..., or CLUSTER_POSTGRES=own"
  local redis
  if [ "${CLUSTER_REDIS:-}" = own ]; then
    redis="redis://127.0.0.1:$REDIS_PORT"
  else
    redis=${LEERPOORT_REDIS_URL:-}
    [ -n "$redis" ] || die "a cluster needs Redis: set LEERPOORT_REDIS_URL, or CLUSTER_REDIS=own"
  fi
  {
    # Every LEERPOORT_* setting given, then the cluster's own.
    env | grep '^LEERPOORT_' | grep -v -e '^LEERPOORT_LISTEN=' -e '^LEERPOORT_METRICS_LISTEN=' \
      -e '^LEERPOORT_REDIS_URL=' -e '^LEERPOORT_ISSUER=' -e '^LEERPOORT_BIN=' | sed 's/^/export /; s/=/="/; s/$/"/'
    echo "export LEERPOORT_REDIS_URL=\"$redis\""
    echo "export LEERPOORT_ISSUER=\"$ISSUER\""
    echo "export LEERPOORT_KEYS_DIR=\"$DIR/keys\""
    echo "export LEERPOORT_OUTBOX_DIR=\"$DIR/outbox\""
    # HAProxy is on this machine: believe its X-Forwarded-For (loopback only).
    echo "export LEERPOORT_TRUST_PROXY=true"
    echo "export NO_COLOR=1"
    echo "export BIN=\"$BIN\""
    echo "export CLUSTER_REDIS=\"${CLUSTER_REDIS:-}\""
    echo "export REDIS_PORT=\"$REDIS_PORT\""
    echo "export CLUSTER_POSTGRES=\"${CLUSTER_POSTGRES:-}\""
    echo "export PG_PORT=\"$PG_PORT\""
  } > "$DIR/cluster.env"
}

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# Wait (at most 60 s) until URL answers 200.
wait_ok() {
  local url=$1 what=$2
  for _ in $(seq 600); do
    if curl -fsS -o /dev/null --max-time 2 "$url" 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  die "$what did not answer at $url"
}

start_redis() {
  [ "${CLUSTER_REDIS:-}" = own ] || return 0
  mkdir -p "$DIR/redis"
  # AOF, fsync every second: a restart (SHUTDOWN) loses nothing; a crash of the machine at
  # most the last second's writes.
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$DIR/redis" \
    --appendonly yes --appendfsync everysec --save "" --daemonize yes \
    --pidfile "$DIR/redis.pid" --logfile "$DIR/redis.log"
  for _ in $(seq 100); do
    redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  die "Redis did not start (see $DIR/redis.log)"
}

# PostgreSQL refuses to run as root: as root, its commands run as the postgres user.
as_postgres() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start_postgres() {
  [ "${CLUSTER_POSTGRES:-}" = own ] || return 0
  [ -n "$PG_BIN" ] || die "no PostgreSQL binaries under /usr/lib/postgresql"
  mkdir -p "$DIR/pg"
  if [ "$(id -u)" -eq 0 ]; then chmod 755 "$DIR"; chown postgres: "$DIR/pg"; fi
  if [ ! -s "$DIR/pg/PG_VERSION" ]; then
    as_postgres "$PG_BIN/initdb" -D "$DIR/pg" -A trust -U postgres -E UTF8 >> "$DIR/postgres.log" 2>&1 \
      || die "initdb failed (see $DIR/postgres.log)"
  fi
  as_postgres "$PG_BIN/pg_ctl" -D "$DIR/pg" -l "$DIR/pg/server.log" -w -t 60 \
    -o "-p $PG_PORT -k $DIR/pg -c listen_addresses=127.0.0.1" start >> "$DIR/postgres.log" 2>&1 \
    || die "PostgreSQL did not start (see $DIR/pg/server.log)"
}

start_node() {
  local n=$1 i=$(($1 - 1))
  alive "$DIR/node-$n.pid" && return 0
  (
    # shellcheck disable=SC1091
    . "$DIR/cluster.env"
    export LEERPOORT_LISTEN="127.0.0.1:${NODE_PORTS[$i]}"
    export LEERPOORT_METRICS_LISTEN="127.0.0.1:${METRICS_PORTS[$i]}"
    exec "$BIN" serve
  ) >> "$DIR/node-$n.log" 2>&1 &
  echo $! > "$DIR/node-$n.pid"
}

haproxy_config() {
  cat > "$DIR/haproxy.cfg" <<EOF
global
    maxconn 4096
    log stderr format short local0 warning

defaults
    mode http
    log global
    option httplog
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    # A request that could not reach a node goes to another one.
    retries 2
    option redispatch 1
    retry-on conn-failure empty-response response-timeout

frontend leerpoort
    bind 127.0.0.1:$LB_PORT
    # Leerpoort reads the client's address from this header (LEERPOORT_TRUST_PROXY).
    option forwardfor
    default_backend nodes

backend nodes
    balance roundrobin
    option httpchk GET /healthz
    default-server inter 500ms fall 2 rise 2
    server node1 127.0.0.1:${NODE_PORTS[0]} check
    server node2 127.0.0.1:${NODE_PORTS[1]} check
    server node3 127.0.0.1:${NODE_PORTS[2]} check
EOF
}

case $CMD in
  up)
    command -v haproxy >/dev/null || die "haproxy is required (scripts/install-deps.sh)"
    [ -x "$BIN" ] || die "no leerpoort binary at $BIN (cargo build -p idp, or set LEERPOORT_BIN)"
    write_env
    start_postgres
    start_redis
    if [ -z "${CLUSTER_NO_DEMO:-}" ] && [ ! -s "$DIR/demo.json" ]; then
      (. "$DIR/cluster.env"; exec "$BIN" --json demo) > "$DIR/demo.json.tmp" 2>> "$DIR/demo.log" \
        || die "leerpoort demo failed (see $DIR/demo.log)"
      mv "$DIR/demo.json.tmp" "$DIR/demo.json"
    fi
    for n in 1 2 3; do start_node "$n"; done
    for n in 1 2 3; do
      wait_ok "http://127.0.0.1:${NODE_PORTS[$((n - 1))]}/readyz" "node $n (see $DIR/node-$n.log)"
    done
    haproxy_config
    haproxy -c -q -f "$DIR/haproxy.cfg" || die "the HAProxy configuration does not check"
    haproxy -f "$DIR/haproxy.cfg" -D -p "$DIR/haproxy.pid" 2>> "$DIR/haproxy.log"
    wait_ok "$ISSUER/readyz" "HAProxy"
    "$0" status "$DIR"
    ;;
  down)
    for n in 1 2 3; do
      if alive "$DIR/node-$n.pid"; then kill -TERM "$(cat "$DIR/node-$n.pid")" 2>/dev/null || true; fi
    done
    if alive "$DIR/haproxy.pid"; then kill -TERM "$(cat "$DIR/haproxy.pid")" 2>/dev/null || true; fi
    if alive "$DIR/redis.pid"; then
      redis-cli -p "$(. "$DIR/cluster.env"; echo "$REDIS_PORT")" shutdown >/dev/null 2>&1 \
        || kill -TERM "$(cat "$DIR/redis.pid")" 2>/dev/null || true
    fi
    for n in 1 2 3; do
      for _ in $(seq 100); do alive "$DIR/node-$n.pid" || break; sleep 0.1; done
      if alive "$DIR/node-$n.pid"; then kill -KILL "$(cat "$DIR/node-$n.pid")" 2>/dev/null || true; fi
    done
    if [ -s "$DIR/pg/postmaster.pid" ] && [ -n "$PG_BIN" ]; then
      as_postgres "$PG_BIN/pg_ctl" -D "$DIR/pg" -m fast -w stop >> "$DIR/postgres.log" 2>&1 || true
    fi
    ;;
  kill-node)
    n=${3:?which node (1-3)}
    alive "$DIR/node-$n.pid" || die "node $n is not running"
    kill -KILL "$(cat "$DIR/node-$n.pid")"
    for _ in $(seq 100); do alive "$DIR/node-$n.pid" || break; sleep 0.05; done
    ;;
  start-node)
    n=${3:?which node (1-3)}
    start_node "$n"
    wait_ok "http://127.0.0.1:${NODE_PORTS[$((n - 1))]}/readyz" "node $n (see $DIR/node-$n.log)"
    ;;
  restart-redis)
    # shellcheck disable=SC1091
    . "$DIR/cluster.env"
    [ "${CLUSTER_REDIS:-}" = own ] || die "only the cluster's own Redis (CLUSTER_REDIS=own) is restarted"
    # SHUTDOWN writes the AOF to disk first; then the same files are read at start.
    redis-cli -p "$REDIS_PORT" shutdown >/dev/null 2>&1 || true
    for _ in $(seq 100); do alive "$DIR/redis.pid" || break; sleep 0.05; done
    start_redis
    ;;
  restart-postgres)
    # shellcheck disable=SC1091
    . "$DIR/cluster.env"
    [ "${CLUSTER_POSTGRES:-}" = own ] || die "only the cluster's own PostgreSQL (CLUSTER_POSTGRES=own) is restarted"
    # A fast shutdown: open transactions are rolled back, connections cut; what was
    # committed is on disk.
    as_postgres "$PG_BIN/pg_ctl" -D "$DIR/pg" -m fast -w -t 60 \
      -o "-p $PG_PORT -k $DIR/pg -c listen_addresses=127.0.0.1" restart >> "$DIR/postgres.log" 2>&1 \
      || die "PostgreSQL did not restart (see $DIR/pg/server.log)"
    ;;
  status)
    nodes=""
    for n in 1 2 3; do
      state=stopped
      alive "$DIR/node-$n.pid" && state=running
      nodes="$nodes{\"node\":$n,\"url\":\"http://127.0.0.1:${NODE_PORTS[$((n - 1))]}\",\"state\":\"$state\"},"
    done
    lb=stopped
    alive "$DIR/haproxy.pid" && lb=running
    echo "{\"issuer\":\"$ISSUER\",\"load_balancer\":\"$lb\",\"nodes\":[${nodes%,}],\"dir\":\"$DIR\"}"
    ;;
  *)
    die "unknown command $CMD"
    ;;
esac
