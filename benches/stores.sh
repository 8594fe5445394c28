#!/usr/bin/env bash
# The send with its ledger in SQLite and in PostgreSQL, in the same run:
#
#   benches/stores.sh          # 3,000 recipients, 8 connections, 5 pairs
#
# Starts a PostgreSQL of its own on loopback in target/bench/postgres
# (Debian's postgresql; as the `postgres` user when run as root), and
# Postfix's smtp-sink; builds breves in release mode; then sends the shipped
# issue to a list of SENDS members through the sink, alternately with a
# fresh SQLite ledger and a fresh PostgreSQL database, RUNS pairs, and
# prints each time, the medians and their ratio (messages per second).
# Then the same send to PostgreSQL by one sender, and by two (the second
# with --join, started as soon as the first has begun), alternately: the
# rate of the whole send, from the first start to the last end.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=benches/common.sh
. benches/common.sh

RUNS=${RUNS:-5}
SENDS=${SENDS:-3000}
CONCURRENCY=${CONCURRENCY:-8}

work=target/bench
mkdir -p "$work"
work=$(cd "$work" && pwd)
bin=$(ls -d /usr/lib/postgresql/*/bin | sort | tail -1)
[[ -x "$bin/initdb" ]] || { echo "PostgreSQL is needed: apt-get install postgresql" >&2; exit 1; }
command -v smtp-sink >/dev/null || [[ -x /usr/sbin/smtp-sink ]] || { echo "smtp-sink is needed: apt-get install postfix" >&2; exit 1; }

as_owner=()
if [[ $(id -u) -eq 0 ]]; then as_owner=(runuser -u postgres --); fi
pg=$work/postgres
rm -rf "$pg"
mkdir -p "$pg"
[[ $(id -u) -eq 0 ]] && chown postgres:postgres "$pg"
"${as_owner[@]}" "$bin/initdb" -D "$pg/data" -U breves --auth=trust -E UTF8 --no-locale >/dev/null
pgport=$(free_port)
"${as_owner[@]}" "$bin/pg_ctl" -D "$pg/data" -l "$pg/log" -w \
  -o "-p $pgport -k $pg -c listen_addresses=127.0.0.1" start >/dev/null
sink_pid=
cleanup() {
  "${as_owner[@]}" "$bin/pg_ctl" -D "$pg/data" -m fast stop >/dev/null 2>&1 || true
  [[ -n "$sink_pid" ]] && kill "$sink_pid" 2>/dev/null || true
}
trap cleanup EXIT

start_sink

cargo build --release --quiet
breves=$PWD/target/release/breves

list=$(bench_list stores "spatial;cybersecurite" "")

# One send with the ledger at $1: prints messages per second.
send() {
  local t0 t1
  t0=$(now)
  "$breves" send issues/2026-03-royaume-uni.toml --subscribers "$list" \
    --smtp "smtp://127.0.0.1:$port?tls=none" --ledger "$1" --concurrency "$CONCURRENCY" -y >/dev/null
  t1=$(now)
  rate "$SENDS" "$t0" "$t1"
}
fresh_database() {
  "${as_owner[@]}" "$bin/psql" -h 127.0.0.1 -p "$pgport" -U breves -d postgres -q \
    -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1"
}
# The send by two senders with the ledger at $1: prints messages per second.
send_two() {
  local t0 t1 first
  t0=$(now)
  "$breves" send issues/2026-03-royaume-uni.toml --subscribers "$list" \
    --smtp "smtp://127.0.0.1:$port?tls=none" --ledger "$1" --concurrency "$CONCURRENCY" -y >/dev/null &
  first=$!
  until "${as_owner[@]}" "$bin/psql" -h 127.0.0.1 -p "$pgport" -U breves -d "${1##*/}" -tAq \
      -c "SELECT 1 FROM sends" 2>/dev/null | grep -q 1; do sleep 0.01; done
  "$breves" send issues/2026-03-royaume-uni.toml --subscribers "$list" \
    --smtp "smtp://127.0.0.1:$port?tls=none" --ledger "$1" --concurrency "$CONCURRENCY" -y --join >/dev/null
  wait "$first"
  t1=$(now)
  rate "$SENDS" "$t0" "$t1"
}

echo "breves $(git describe --always --dirty 2>/dev/null), $(date -u +%F), $(nproc) cores: $SENDS recipients, $CONCURRENCY connections, $RUNS pairs"
# Every database made before the first send, and a checkpoint after: a
# CREATE DATABASE writes the whole template to the server's journal, whose
# flushes and checkpoint would otherwise fall on the send that follows it.
for i in $(seq "$RUNS"); do
  for name in "stores_$i" "one_$i" "two_$i"; do fresh_database "$name"; done
done
"${as_owner[@]}" "$bin/psql" -h 127.0.0.1 -p "$pgport" -U breves -d postgres -q -c "CHECKPOINT"
sqlite=() postgres=()
for i in $(seq "$RUNS"); do
  rm -f "$work/stores.sqlite3" "$work/stores.sqlite3"-*
  s=$(send "$work/stores.sqlite3")
  p=$(send "postgres://breves@127.0.0.1:$pgport/stores_$i")
  echo "pair $i: SQLite $s/s, PostgreSQL $p/s"
  sqlite+=("$s") postgres+=("$p")
done
ms=$(printf '%s\n' "${sqlite[@]}" | median)
mp=$(printf '%s\n' "${postgres[@]}" | median)
awk -v s="$ms" -v p="$mp" 'BEGIN {printf "median: SQLite %d/s, PostgreSQL %d/s, ratio %.2f\n", s, p, p / s}'

one=() two=()
for i in $(seq "$RUNS"); do
  o=$(send "postgres://breves@127.0.0.1:$pgport/one_$i")
  t=$(send_two "postgres://breves@127.0.0.1:$pgport/two_$i")
  echo "pair $i: one sender $o/s, two senders $t/s"
  one+=("$o") two+=("$t")
done
mo=$(printf '%s\n' "${one[@]}" | median)
mt=$(printf '%s\n' "${two[@]}" | median)
awk -v o="$mo" -v t="$mt" 'BEGIN {printf "median: one sender %d/s, two senders %d/s, ratio %.2f\n", o, t, t / o}'
