# What the send benchmarks share (sourced by benches/stores.sh and
# benches/dkim.sh): a free port on loopback, Postfix's smtp-sink started on
# one, the time, medians, and a rate.

# A free TCP port on loopback.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Starts smtp-sink on a free port: sets `port` and `sink_pid`, returns
# once it listens.
start_sink() {
  local user=()
  [[ $(id -u) -eq 0 ]] && user=(-u root)
  port=$(free_port)
  smtp-sink "${user[@]}" "127.0.0.1:$port" 256 >/dev/null 2>&1 &
  sink_pid=$!
  for _ in $(seq 100); do (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.05; done
}

now() { date +%s.%N; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# Messages per second: $1 messages from time $2 to time $3.
rate() { awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN {printf "%.0f", n / (b - a)}'; }

# Writes the list $work/$1-$SENDS.toml (id $1, extra [list] lines $3) and
# its members file of SENDS members whose interests are $2 (empty: every
# section); prints the list's path. Sets the secret of the links too.
bench_list() {
  local id=$1 interests=$2 extra=$3
  local list=$work/$id-$SENDS.toml
  {
    printf '[list]\nid = "%s"\n' "$id"
    printf 'from = "SER de Londres – Brèves numériques <breves@example.fr>"\n'
    printf 'unsubscribe_url = "https://breves.example.fr/desabonnement"\n'
    [[ -n "$extra" ]] && printf '%s\n' "$extra"
    printf 'members = "%s-%s.csv"\n' "$id" "$SENDS"
    printf 'topics = { economie-numerique = "E", donnees-ia = "D", cybersecurite = "C", spatial = "S", nouvelles-technologies = "N", ecosysteme-tech = "T" }\n'
  } >"$list"
  awk -v n="$SENDS" -v i="$interests" 'BEGIN { print "email,name,interests"; for (k = 0; k < n; k++) printf "abonne%d@example.org,Abonné %d,%s\n", k, k, i }' >"$work/$id-$SENDS.csv"
  printf '%s\n' "$list"
}
export BREVES_UNSUBSCRIBE_SECRET=bench-secret-bench-secret-bench-secret-0123456789
