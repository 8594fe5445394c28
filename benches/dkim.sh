#!/usr/bin/env bash
# A DKIM-signed send beside the same send unsigned, in the same run:
#
#   benches/dkim.sh            # 3,000 recipients, 8 connections, 3 rounds
#
# Starts Postfix's smtp-sink on loopback, builds breves in release mode,
# makes an RSA-2048 key (openssl) and an Ed25519 seed, then sends the
# shipped issue to a list of SENDS members through the sink, unsigned, signed
# with RSA and signed with Ed25519, in turn, RUNS rounds, and prints each
# rate (messages per second, the whole command), the medians and the ratio
# of each signed send to the unsigned one. (benches/run.sh runs it too.)
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=benches/common.sh
. benches/common.sh

RUNS=${RUNS:-3}
SENDS=${SENDS:-3000}
CONCURRENCY=${CONCURRENCY:-8}

work=target/bench
mkdir -p "$work"
work=$(cd "$work" && pwd)
command -v smtp-sink >/dev/null || [[ -x /usr/sbin/smtp-sink ]] || { echo "smtp-sink is needed: apt-get install postfix" >&2; exit 1; }
command -v openssl >/dev/null || { echo "openssl is needed: apt-get install openssl" >&2; exit 1; }

start_sink
trap 'kill "$sink_pid" 2>/dev/null || true' EXIT

cargo build --release --quiet
breves=$PWD/target/release/breves

openssl genrsa -traditional -out "$work/dkim-rsa.pem" 2048 2>/dev/null
head -c 32 /dev/urandom | base64 >"$work/dkim-ed25519.key"
list=$(bench_list dkim "" 'dkim_selector = "bench"')

# One send, signed with the key $1 (none: unsigned): messages per second.
send() {
  local t0 t1 key=()
  [[ -n "$1" ]] && key=(--dkim-key "$1")
  rm -f "$work/dkim.sqlite3" "$work/dkim.sqlite3"-*
  t0=$(now)
  "$breves" send issues/2026-03-royaume-uni.toml --subscribers "$list" \
    --smtp "smtp://127.0.0.1:$port?tls=none" --ledger "$work/dkim.sqlite3" \
    --concurrency "$CONCURRENCY" -y "${key[@]}" >/dev/null 2>&1
  t1=$(now)
  rate "$SENDS" "$t0" "$t1"
}

echo "breves $(git describe --always --dirty 2>/dev/null), $(date -u +%F), $(nproc) cores: $SENDS recipients (every section, about 68 KB each), $CONCURRENCY connections, $RUNS rounds"
plain=() rsa=() ed=()
for i in $(seq "$RUNS"); do
  p=$(send "")
  r=$(send "$work/dkim-rsa.pem")
  e=$(send "$work/dkim-ed25519.key")
  echo "round $i: unsigned $p/s, RSA-2048 $r/s, Ed25519 $e/s"
  plain+=("$p") rsa+=("$r") ed+=("$e")
done
mp=$(printf '%s\n' "${plain[@]}" | median)
mr=$(printf '%s\n' "${rsa[@]}" | median)
me=$(printf '%s\n' "${ed[@]}" | median)
awk -v p="$mp" -v r="$mr" -v e="$me" 'BEGIN {printf "median: unsigned %d/s, RSA-2048 %d/s (%.2f of unsigned), Ed25519 %d/s (%.2f of unsigned)\n", p, r, r / p, e, e / p}'
