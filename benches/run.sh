#!/usr/bin/env bash
# The performance table of docs/PERFORMANCE.md, measured from the command
# line as a user runs breves, every figure beside its yardstick in the same
# run:
#
#   benches/run.sh             # rates, latency, dry run, memory at 10k and 100k
#   benches/run.sh --million   # the same, and a real send to 1,000,000 members
#
# It installs what it needs when missing (Postfix's smtp-sink and
# smtp-source, GNU time, mailmerge from PyPI in a virtualenv under
# target/bench/), builds breves in release mode, and works in target/bench/.
# Environment: RUNS (pairs per figure, default 3), SENDS (messages per rate
# run, default 3000), MAILMERGE (messages for mailmerge, default 500),
# SIZES (lists for memory and the dry run, default "10000 100000").
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${RUNS:-3}
SENDS=${SENDS:-3000}
MAILMERGE=${MAILMERGE:-500}
read -r -a SIZES <<<"${SIZES:-10000 100000}"
MILLION=0
[[ "${1:-}" == "--million" ]] && MILLION=1

work=target/bench
mkdir -p "$work"
work=$(cd "$work" && pwd)

# What the benchmark needs ----------------------------------------------------
apt_install() {
  export DEBIAN_FRONTEND=noninteractive
  if [[ $(id -u) -eq 0 ]]; then apt-get update -qq && apt-get install -y -qq "$@" >/dev/null
  else sudo apt-get update -qq && sudo apt-get install -y -qq "$@" >/dev/null; fi
}
command -v smtp-sink >/dev/null || [[ -x /usr/sbin/smtp-sink ]] || apt_install postfix
[[ -x /usr/bin/time ]] || apt_install time
command -v python3 >/dev/null || apt_install python3 python3-venv
if [[ ! -x "$work/venv/bin/mailmerge" ]]; then
  python3 -m venv "$work/venv" 2>/dev/null || { apt_install python3-venv && python3 -m venv "$work/venv"; }
  "$work/venv/bin/pip" install -q mailmerge
fi
export PATH="/usr/sbin:$PATH"
cargo build --locked --release -q
breves=$PWD/target/release/breves
issue=$PWD/issues/2026-03-royaume-uni.toml

# Helpers ---------------------------------------------------------------------
median() { sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN {printf "%.3f", b-a}'; }

# A list of N members choosing pseudo-random sets of the issue's six
# sections (the same sequence every run): list-N.toml and list-N.csv.
make_list() {
  local n=$1 toml="$work/list-$1.toml"
  [[ -s "$toml" ]] && return
  cat >"$toml" <<EOF
[list]
id = "bench-$n"
name = "Brèves numériques (banc d'essai)"
from = "SER de Londres – Brèves numériques <breves@example.fr>"
unsubscribe_url = "https://breves.example.fr/desabonnement"
members = "list-$n.csv"

[list.topics]
economie-numerique = "Economie numérique et régulation"
donnees-ia = "Données et intelligence artificielle"
cybersecurite = "Cybersécurité"
spatial = "Spatial"
nouvelles-technologies = "Nouvelles technologies"
ecosysteme-tech = "Ecosystème tech"
EOF
  awk -v n="$n" 'BEGIN {
    split("economie-numerique donnees-ia cybersecurite spatial nouvelles-technologies ecosysteme-tech", s, " ")
    print "email,name,interests"
    x = 12345
    for (i = 0; i < n; i++) {
      x = (x * 1103515245 + 12345) % 2147483648
      pick = int(x / 65536) % 64; interests = ""
      for (b = 0; b < 6; b++) if (int(pick / 2^b) % 2) interests = interests (interests == "" ? "" : ";") s[b + 1]
      printf "abonne%d@example.org,Abonné %d,%s\n", i, i, interests
    }
  }' >"$work/list-$n.csv"
}

sink_pid=
start_sink() {
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  local user=()
  [[ $(id -u) -eq 0 ]] && user=(-u root)
  smtp-sink "${user[@]}" "127.0.0.1:$port" 256 >/dev/null 2>&1 &
  sink_pid=$!
  for _ in $(seq 100); do (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return; sleep 0.05; done
  echo "smtp-sink did not start" >&2; exit 1
}
stop_sink() { kill "$sink_pid" 2>/dev/null || true; wait "$sink_pid" 2>/dev/null || true; }
trap stop_sink EXIT

export BREVES_UNSUBSCRIBE_SECRET=bench-secret-bench-secret-bench-secret-0123456789

# A real send of list N at concurrency C to the sink, with a fresh ledger:
# prints "seconds peak-RSS-kB p99-ms".
real_send() {
  local n=$1 c=$2 ledger="$work/ledger.sqlite3" out
  rm -f "$ledger" "$ledger"-*
  out=$(/usr/bin/time -f 'TIME %e %M' "$breves" send "$issue" --subscribers "$work/list-$n.toml" \
    --smtp "smtp://127.0.0.1:$port?tls=none" --ledger "$ledger" --concurrency "$c" -y 2>&1) \
    || { echo "$out" >&2; exit 1; }
  local rss p99 secs
  read -r secs rss < <(grep '^TIME' <<<"$out" | awk '{print $2, $3}')
  p99=$(sed -n 's/.*99th percentile \([0-9.]*\) ms.*/\1/p' <<<"$out")
  echo "$secs $rss ${p99:-0}"
}

# smtp-source sending M copies of FILE at concurrency C: prints seconds.
source_send() {
  local m=$1 c=$2 file=$3 t
  t=$(now)
  smtp-source -d -s "$c" -m "$m" -f breves@example.fr -t abonne@example.org -F "$file" "127.0.0.1:$port"
  since "$t"
}

# The figures -----------------------------------------------------------------
echo "breves $(git describe --always --dirty 2>/dev/null), $(date -u +%F), $(nproc) cores, RUNS=$RUNS"
make_list "$SENDS"
for n in "${SIZES[@]}"; do make_list "$n"; done

# The message smtp-source sends: breves' own, of the list's mean size.
rm -rf "$work/sizes"
"$breves" send "$issue" --subscribers "$work/list-$SENDS.toml" --dry-run "$work/sizes" >/dev/null
sample=$(python3 - "$work/sizes" <<'EOF'
import json, sys, statistics
m = json.load(open(sys.argv[1] + "/manifest.json"))["messages"]
mean = statistics.mean(e["size"] for e in m)
best = min(m, key=lambda e: abs(e["size"] - mean))
print(sys.argv[1] + "/" + best["file"], int(mean))
EOF
)
read -r sample_file mean_size <<<"$sample"
echo "messages: $SENDS personalised digests, mean size $mean_size bytes"

start_sink
declare -A rate p99s
for c in 1 8; do
  b=() s=() p=()
  for _ in $(seq "$RUNS"); do
    read -r secs _ p99 < <(real_send "$SENDS" "$c")
    b+=("$(awk -v n="$SENDS" -v t="$secs" 'BEGIN {printf "%.0f", n/t}')"); p+=("$p99")
    secs=$(source_send "$SENDS" "$c" "$sample_file")
    s+=("$(awk -v n="$SENDS" -v t="$secs" 'BEGIN {printf "%.0f", n/t}')")
  done
  rate[breves$c]=$(printf '%s\n' "${b[@]}" | median)
  rate[source$c]=$(printf '%s\n' "${s[@]}" | median)
  p99s[$c]=$(printf '%s\n' "${p[@]}" | median)
  echo "  concurrency $c: breves ${b[*]} msgs/s, smtp-source ${s[*]} msgs/s, p99 ${p[*]} ms"
done

# mailmerge, on the same sink: one connection per message, as it works.
mm="$work/mailmerge"
rm -rf "$mm" && mkdir -p "$mm"
head -n $((MAILMERGE + 1)) "$work/list-$SENDS.csv" >"$mm/database.csv"
cat >"$mm/server.conf" <<EOF
[smtp_server]
host = 127.0.0.1
port = $port
ratelimit = 0
EOF
{ printf 'TO: {{email}}\nFROM: breves@example.fr\nSUBJECT: Brèves numériques\n\n'; sed '1,/^$/d' "$sample_file"; } >"$mm/template.txt"
mmr=()
for _ in $(seq "$RUNS"); do
  t=$(now)
  (cd "$mm" && "$work/venv/bin/mailmerge" --no-dry-run --no-limit --template template.txt \
    --database database.csv --config server.conf >/dev/null)
  mmr+=("$(awk -v n="$MAILMERGE" -v t="$(since "$t")" 'BEGIN {printf "%.0f", n/t}')")
done
rate[mailmerge]=$(printf '%s\n' "${mmr[@]}" | median)
echo "  mailmerge: ${mmr[*]} msgs/s ($MAILMERGE messages a run)"

# Peak memory of a real send (concurrency 8) as the list grows.
declare -A rss secs_at
sizes=("${SIZES[@]}")
if [[ $MILLION -eq 1 ]]; then make_list 1000000; sizes+=(1000000); fi
for n in "${sizes[@]}"; do
  read -r secs r _ < <(real_send "$n" 8)
  rss[$n]=$r secs_at[$n]=$secs
  echo "  real send to $n: $secs s, peak RSS $((r / 1024)) MB"
done
stop_sink

# The dry run against `cp -r` of its own output, each timed in the same
# state of the file system: just after as many files were deleted (ext4
# pays to allocate inodes among those recently freed, whoever writes
# first: see docs/PERFORMANCE.md), with the page cache written back
# (sync before each, not timed).
declare -A dry cp dryrss
for n in "${SIZES[@]}"; do
  d=() k=() m=()
  for _ in $(seq "$RUNS"); do
    rm -rf "$work/out-$n" "$work/copy-$n"; sync
    out=$(/usr/bin/time -f 'TIME %e %M' "$breves" send "$issue" --subscribers "$work/list-$n.toml" \
      --dry-run "$work/out-$n" 2>&1)
    read -r secs r < <(grep '^TIME' <<<"$out" | awk '{print $2, $3}')
    d+=("$secs"); m+=("$r")
    sync
    cp -r "$work/out-$n" "$work/scratch-$n"; sync; rm -rf "$work/scratch-$n"; sync
    t=$(now); cp -r "$work/out-$n" "$work/copy-$n"; k+=("$(since "$t")")
  done
  rm -rf "$work/out-$n" "$work/copy-$n"
  dry[$n]=$(printf '%s\n' "${d[@]}" | median)
  cp[$n]=$(printf '%s\n' "${k[@]}" | median)
  dryrss[$n]=$(printf '%s\n' "${m[@]}" | median)
  echo "  dry run of $n: ${d[*]} s; cp -r: ${k[*]} s; peak RSS ${m[*]} kB"
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a/b}'; }
echo
echo "| what | breves | yardstick | ratio |"
echo "|---|---|---|---|"
for c in 1 8; do
  echo "| send $SENDS messages, concurrency $c (messages/s) | ${rate[breves$c]} | smtp-source ${rate[source$c]} | $(ratio "${rate[breves$c]}" "${rate[source$c]}") |"
done
echo "| send, breves at one connection, mailmerge at one connection per message (messages/s) | ${rate[breves1]} | mailmerge ${rate[mailmerge]} | $(ratio "${rate[breves1]}" "${rate[mailmerge]}") |"
echo "| time per message, concurrency 1, 99th percentile | ${p99s[1]} ms | under 2 ms | |"
for n in "${SIZES[@]}"; do
  echo "| dry run of $n (s) | ${dry[$n]} | cp -r ${cp[$n]} | $(ratio "${dry[$n]}" "${cp[$n]}") |"
  echo "| dry run of $n, peak RSS | $((dryrss[$n] / 1024)) MB | 64 MB | |"
done
for n in "${sizes[@]}"; do
  echo "| real send to $n, peak RSS ($(printf '%.0f' "${secs_at[$n]}") s) | $((rss[$n] / 1024)) MB | 64 MB | |"
done

# The DKIM-signed send beside the unsigned one.
echo
bash "$(dirname "$0")/dkim.sh"
