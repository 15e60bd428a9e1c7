#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# shellcheck disable=SC2317 # functions called through wait_for and traps
#
# End-to-end check of a remote machine in the window, through a real
# Prometheus:
#
#   remote-e2e.sh <headroom> <headroom-cli> <fakeproc> <output-dir>
#
# A fake cargo build (fakeproc installed as cargo and rustc, holding memory)
# runs; `headroom-cli export` serves this machine's metrics on a loopback
# port; a real Prometheus (its own config and data folder, loopback only)
# scrapes it every second. Once Prometheus has the build's series, the
# dashboard starts under Xvfb with a settings file that lists that machine
# (Prometheus kind, instance label 127.0.0.1:<port>) as the one shown, and
# renders itself to <output-dir>/remote-machine-prometheus.png. The check
# reads what the dashboard says it showed: the banner, the summary figures,
# the build row from Prometheus and the chart's points.
#
# Exit status: 0 pass, 1 fail, 77 skipped because a tool is missing. Every
# process started here is stopped on exit. The run takes well under 30 s.

set -uo pipefail

readonly headroom=$1 cli=$2 fakeproc=$3 out=$4
readonly CHECK_SECONDS=15

# shellcheck source=e2e-lib.sh
. "$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)/e2e-lib.sh"

for tool in /usr/bin/prometheus xvfb-run curl python3; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        say "SKIP: $tool is not installed"
        [[ ${HEADROOM_REQUIRE_DESKTOP:-0} == 1 ]] && exit 1
        exit 77
    fi
done

rm -rf "$out"
mkdir -p "$out/bin" "$out/home" "$out/config" "$out/data" "$out/runtime" "$out/prom-data" "$out/ws"
chmod 700 "$out/runtime"

started=()
cleanup() {
    local pid
    for pid in "${started[@]}"; do kill -TERM "$pid" 2>/dev/null; done
    sleep 0.3
    for pid in "${started[@]}"; do kill -KILL "$pid" 2>/dev/null; done
    wait 2>/dev/null
}
trap cleanup EXIT
trap 'exit 143' TERM INT HUP
fail() {
    say "FAIL: $*"
    for log in export prometheus dashboard; do
        [[ -s $out/$log.log ]] && { say "--- $log.log (last 40 lines)"; tail -n 40 "$out/$log.log"; }
    done
    exit 1
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
export_port=$(free_port)
prom_port=$(free_port)
while [[ $prom_port == "$export_port" ]]; do prom_port=$(free_port); done

# -- a fake cargo build in a workspace of its own ---------------------------
cp "$fakeproc" "$out/bin/cargo"
cp "$fakeproc" "$out/bin/rustc"
printf '[package]\nname = "engine"\nversion = "0.1.0"\n' >"$out/ws/Cargo.toml"
(cd "$out/ws" && exec "$out/bin/cargo" build --release '{' rustc --crate-name engine --mem 96 --sleep 60 '}' --sleep 60) \
    >"$out/cargo.log" 2>&1 &
started+=($!)

# -- this machine's exporter and a Prometheus scraping it ---------------------
env HOME="$out/home" XDG_CONFIG_HOME="$out/config" XDG_DATA_HOME="$out/data" \
    "$cli" export --listen "127.0.0.1:$export_port" >"$out/export.log" 2>&1 &
started+=($!)
cat >"$out/prometheus.yml" <<YML
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: headroom
    static_configs:
      - targets: ["127.0.0.1:$export_port"]
YML
/usr/bin/prometheus --config.file="$out/prometheus.yml" --storage.tsdb.path="$out/prom-data" \
    --web.listen-address="127.0.0.1:$prom_port" >"$out/prometheus.log" 2>&1 &
started+=($!)

exporter_has_build() {
    curl -fsS --max-time 2 "http://127.0.0.1:$export_port/metrics" 2>/dev/null |
        grep -q '^headroom_build_resident_bytes{.*tool="cargo"'
}
prometheus_has_build() {
    curl -fsS --max-time 2 "http://127.0.0.1:$prom_port/api/v1/query" \
        --data-urlencode "query=headroom_build_resident_bytes{instance=\"127.0.0.1:$export_port\"}" \
        2>/dev/null | grep -q '"tool":"cargo"'
}
wait_for "$CHECK_SECONDS" exporter_has_build || fail "the exporter on 127.0.0.1:$export_port shows no cargo build"
wait_for "$CHECK_SECONDS" prometheus_has_build ||
    fail "Prometheus on 127.0.0.1:$prom_port has no build series of instance 127.0.0.1:$export_port"
sleep 8 # more scrapes, so the charts have lines to draw
say "Prometheus has the build's series"

# -- the dashboard, showing that machine --------------------------------------
mkdir -p "$out/config/headroom"
cat >"$out/config/headroom/headroom.conf" <<INI
[machines]
1\\id=buildbox
1\\name=buildbox
1\\kind=prometheus
1\\url=http://127.0.0.1:$prom_port
1\\instance=127.0.0.1:$export_port
1\\followInTray=true
size=1
shown=buildbox
INI
shot="$out/remote-machine-prometheus.png"
# No session bus: the passwords' store is the file in the isolated config
# folder, and nothing reaches a user's real desktop.
env -u DBUS_SESSION_BUS_ADDRESS HOME="$out/home" XDG_CONFIG_HOME="$out/config" XDG_DATA_HOME="$out/data" \
    XDG_RUNTIME_DIR="$out/runtime" QT_QPA_PLATFORM=xcb \
    timeout 25 xvfb-run -a -s "-screen 0 1280x800x24" \
    "$headroom" --settings "$out/config/headroom/headroom.conf" --history "$out/data/history.sqlite" \
    --interval 0.5 --size 1280x800 --screenshot "$shot" >"$out/dashboard.log" 2>&1
rc=$?
((rc == 0)) || fail "the dashboard exited with $rc"
[[ -s $shot ]] || fail "no screenshot at $shot"

log=$out/dashboard.log
grep -q "shown: buildbox — read-only, from Prometheus at http://127.0.0.1:$prom_port, last reading [0-9]* s ago" "$log" ||
    fail "the banner does not say buildbox is read from Prometheus"
grep -Eq "summary: available [0-9.]+ [KMGT]iB · level (Normal|Warning|Critical)" "$log" ||
    fail "the summary shows no figures of buildbox"
grep -q "build row: cargo build" "$log" || fail "the builds panel has no cargo build row from Prometheus"
grep -q "build row: .*pid" "$log" && fail "a remote build row names a pid"
points=$(sed -n 's/.*chart points: \([0-9]*\).*/\1/p' "$log" | tail -n 1)
((${points:-0} >= 2)) || fail "the remote charts have ${points:-no} points"
say "PASS: buildbox shown from Prometheus: $(grep -o 'build row: .*' "$log" | head -n 1); $points chart points; $shot"
