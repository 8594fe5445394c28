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
