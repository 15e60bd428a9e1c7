#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
#
#   bench/export/run-benchmark.sh [BUILD_DIR] [SCRAPES]
#
# What a Prometheus scrape of `headroom export` costs, beside node_exporter's
# own /metrics on the same machine in the same run: time per scrape (median
# and 90th percentile over SCRAPES sequential scrapes, default 50), the size
# of the answer, its series, and each exporter's resident memory afterwards.
# Prints a table; asserts nothing.
set -euo pipefail
build=${1:-build/dev}
scrapes=${2:-50}
cli=$build/cli/headroom-cli
node=/usr/bin/prometheus-node-exporter
[ -x "$cli" ] || { echo "no $cli: build first (cmake --build --preset dev)" >&2; exit 1; }
[ -x "$node" ] || { echo "no $node: apt-get install prometheus-node-exporter" >&2; exit 1; }

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
hp=$(port) np=$(port)
"$cli" export --listen "127.0.0.1:$hp" >/dev/null 2>&1 & hpid=$!
"$node" --web.listen-address="127.0.0.1:$np" >/dev/null 2>&1 & npid=$!
trap 'kill $hpid $npid 2>/dev/null; wait 2>/dev/null' EXIT
sleep 2

printf '%-22s %10s %10s %10s %8s %10s\n' exporter "median ms" "p90 ms" bytes series "RSS KiB"
for row in "headroom export:$hp:$hpid" "node_exporter 1.5:$np:$npid"; do
    IFS=: read -r name p pid <<<"$row"
    python3 - "$name" "http://127.0.0.1:$p/metrics" "$scrapes" "$pid" <<'PY'
import statistics, sys, time, urllib.request
name, url, n, pid = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
times = []
for _ in range(n):
    t = time.perf_counter()
    body = urllib.request.urlopen(url, timeout=10).read()
    times.append((time.perf_counter() - t) * 1000)
series = sum(1 for l in body.decode().splitlines() if l and not l.startswith("#"))
rss = next(l.split()[1] for l in open(f"/proc/{pid}/status") if l.startswith("VmRSS"))
times.sort()
print(f"{name:<22} {statistics.median(times):10.1f} {times[int(len(times) * 0.9) - 1]:10.1f} "
      f"{len(body):10d} {series:8d} {rss:>10}")
PY
done
