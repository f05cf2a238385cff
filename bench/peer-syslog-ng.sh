#!/usr/bin/env bash
# Copied from the project's shared benchmark helpers (shared/bench/peer-syslog-ng.sh), unchanged
# below this header, so a clone has it; laforge-bench ingest runs it.
# peer-syslog-ng.sh — the peer baseline for durable audit ingest: syslog-ng (Debian) receiving
# newline-framed events over TCP on 127.0.0.1 and writing them to a file, with fsync on, measured
# end to end (first byte sent to last line on disk).
#
# Usage: peer-syslog-ng.sh EVENTS.ndjson [SECONDS=10] [CONNECTIONS=1] [fsync|buffered]
# Prints one line:  peer=syslog-ng mode=fsync conn=1 lines=N seconds=S lines_per_s=R
# Installs syslog-ng (for loggen as well) with apt-get if it is missing. Everything it starts it
# stops by PID; it writes only under a fresh mktemp folder. Run it in the same invocation as the
# benchmark it is compared with: this machine is noisy, only ratios from one run mean anything.
set -euo pipefail
events=${1:?usage: peer-syslog-ng.sh EVENTS.ndjson [SECONDS] [CONNECTIONS] [fsync|buffered]}
secs=${2:-10} conn=${3:-1} mode=${4:-fsync}
command -v syslog-ng >/dev/null && command -v loggen >/dev/null || {
  apt-get install -y -qq syslog-ng-core >/dev/null 2>&1 || { apt-get update -qq >/dev/null && apt-get install -y -qq syslog-ng-core >/dev/null; }
}
dir=$(mktemp -d)
port=$(( 20000 + RANDOM % 20000 ))
sync=no; [ "$mode" = fsync ] && sync=yes
cat >"$dir/sng.conf" <<CONF
@version: 3.38
options { use_dns(no); use_fqdn(no); keep_hostname(yes); chain_hostnames(no); stats_freq(0); log_msg_size(65536); flush_lines(1000); };
source s_tcp { network(ip("127.0.0.1") port($port) transport("tcp") flags(no-parse) max_connections(64) log_iw_size(10000)); };
destination d_file { file("$dir/out.log" template("\${MSG}\n") fsync($sync) log_fifo_size(20000)); };
log { source(s_tcp); destination(d_file); flags(flow-control); };
CONF
syslog-ng -F --no-caps -f "$dir/sng.conf" -p "$dir/sng.pid" -c "$dir/sng.ctl" -R "$dir/sng.persist" >"$dir/sng.stderr" 2>&1 &
spid=$!
trap 'kill $spid 2>/dev/null; wait $spid 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
t0=$(date +%s.%N)
loggen -i -S -R "$events" -l -d -r 100000000 -I "$secs" --active-connections="$conn" 127.0.0.1 "$port" >"$dir/loggen.out" 2>&1
prev=-1
while :; do n=$(wc -l <"$dir/out.log" 2>/dev/null || echo 0); [ "$n" = "$prev" ] && break; prev=$n; sleep 0.5; done
t1=$(date +%s.%N)
elapsed=$(echo "$t1 - $t0 - 0.5" | bc)
echo "peer=syslog-ng mode=$mode conn=$conn lines=$n seconds=$elapsed lines_per_s=$(echo "$n / $elapsed" | bc)"
