#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
#
# The dashboard's cost, measured from the outside next to htop and btop.
#
# Starts EXTRA sleeping processes (default 1000), then runs for MINUTES
# (default 10), side by side on the same machine:
#   - headroom --interval 1, offscreen (QT_QPA_PLATFORM=offscreen)
#   - htop -d 10            (1 s refresh) in tmux
#   - btop, update_ms=1000  (1 s refresh) in tmux
# and reads each one's CPU time (utime + stime, /proc/<pid>/stat) and resident
# memory (VmRSS, /proc/<pid>/status) at the start, the middle and the end,
# plus the smallest and largest resident size seen every 10 s.
#
#   bench/dashboard/run-benchmark.sh [--minutes N] [--extra N] [--build-dir DIR]
#
# Needs htop, btop and tmux (Debian: apt-get install htop btop tmux).
set -euo pipefail

minutes=10
extra=1000
build=build/dev
while [[ $# -gt 0 ]]; do
    case $1 in
    --minutes) minutes=$2; shift 2 ;;
    --extra) extra=$2; shift 2 ;;
    --build-dir) build=$2; shift 2 ;;
    -h | --help) sed -n '3,17p' "$0"; exit 0 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
    esac
done
headroom=$build/app/headroom
[[ -x $headroom ]] || { echo "build $headroom first" >&2; exit 1; }
for tool in htop btop tmux; do
    command -v "$tool" >/dev/null || { echo "$tool is missing (apt-get install $tool)" >&2; exit 1; }
done

work=$(mktemp -d)
session=headroom-bench-$$
sleepers=
dashboard=
cleanup() {
    tmux kill-session -t "$session" 2>/dev/null || true
    [[ -n $dashboard ]] && kill "$dashboard" 2>/dev/null || true
    [[ -n $sleepers ]] && kill -- "-$sleepers" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

# The extra processes: plain sleeps in one process group.
setsid bash -c "for i in \$(seq $extra); do sleep 100000 & done; wait" &
sleepers=$!
sleep 3

# Private settings and home for the peers, so nothing of the user's is used.
export HOME=$work/home XDG_CONFIG_HOME=$work/home/.config XDG_DATA_HOME=$work/home/.local/share
mkdir -p "$XDG_CONFIG_HOME/btop" "$XDG_CONFIG_HOME/htop"
printf 'update_ms = 1000\n' >"$XDG_CONFIG_HOME/btop/btop.conf"
export LANG=C.UTF-8 LC_ALL=C.UTF-8 TERM=xterm-256color

QT_QPA_PLATFORM=offscreen "$headroom" --interval 1 >"$work/headroom.log" 2>&1 &
dashboard=$!
tmux new-session -d -s "$session" -x 200 -y 50 "htop -d 10"
tmux new-window -t "$session" "btop --utf-force"
sleep 2
htop_pid=$(tmux list-panes -s -t "$session" -F '#{pane_pid} #{pane_current_command}' | awk '$2=="htop"{print $1}')
btop_pid=$(tmux list-panes -s -t "$session" -F '#{pane_pid} #{pane_current_command}' | awk '$2=="btop"{print $1}')
[[ -n $htop_pid && -n $btop_pid ]] || { echo "htop or btop did not start" >&2; exit 1; }

ticks=$(getconf CLK_TCK)
cpu_ticks() { awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }
# The dashboard's sampling thread alone (user and system ticks), to tell the
# cost of reading /proc from the cost of drawing.
sampling_ticks() {
    local task
    for task in /proc/"$1"/task/*; do
        [[ $(cat "$task/comm") == sampling ]] && awk '{ sub(/.*\) /, ""); print $12, $13 }' "$task/stat"
    done
}
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
names=(headroom "htop -d 10" "btop (1000 ms)")
pids=("$dashboard" "$htop_pid" "$btop_pid")

# Let start-up settle (fonts, first polls) before the clock starts.
sleep 10
declare -A cpu0 rss0 rssMid rssEnd rssMin rssMax
for i in 0 1 2; do
    cpu0[$i]=$(cpu_ticks "${pids[$i]}")
    rss0[$i]=$(rss_kib "${pids[$i]}")
    rssMin[$i]=${rss0[$i]}
    rssMax[$i]=${rss0[$i]}
done
processes=$(ls -d /proc/[0-9]* | wc -l)
read -r samplingUser0 samplingSys0 < <(sampling_ticks "$dashboard")
start=$(date +%s.%N)
total=$((minutes * 60))
for ((elapsed = 10; elapsed <= total; elapsed += 10)); do
    sleep 10
    for i in 0 1 2; do
        kill -0 "${pids[$i]}" 2>/dev/null || { echo "${names[$i]} exited early" >&2; exit 1; }
        rss=$(rss_kib "${pids[$i]}")
        ((rss < rssMin[$i])) && rssMin[$i]=$rss
        ((rss > rssMax[$i])) && rssMax[$i]=$rss
        ((elapsed == total / 2 / 10 * 10)) && rssMid[$i]=$rss
    done
done
end=$(date +%s.%N)
read -r samplingUser1 samplingSys1 < <(sampling_ticks "$dashboard")
for i in 0 1 2; do rssEnd[$i]=$(rss_kib "${pids[$i]}"); done

seconds=$(echo "$end - $start" | bc -l)
mib() { printf '%.1f' "$(echo "$1 / 1024" | bc -l)"; }
echo
echo "Dashboard benchmark: $minutes min at 1 s refresh, $processes processes ($extra extra sleeping), $(nproc) cores"
echo "$(uname -sr), $(date -u '+%Y-%m-%d %H:%M UTC')"
echo
printf '| %-16s | %12s | %15s | %10s | %10s | %10s | %16s |\n' "Program" "CPU time (s)" "CPU % (1 core)" \
    "RSS start" "RSS middle" "RSS end" "RSS min..max"
printf '|%s|%s|%s|%s|%s|%s|%s|\n' "------------------" "-------------:" "----------------:" "-----------:" \
    "-----------:" "-----------:" "-----------------:"
for i in 0 1 2; do
    used=$(echo "($(cpu_ticks "${pids[$i]}") - ${cpu0[$i]}) / $ticks" | bc -l)
    percent=$(echo "100 * $used / $seconds" | bc -l)
    printf '| %-16s | %12.1f | %14.2f%% | %6s MiB | %6s MiB | %6s MiB | %5s..%5s MiB |\n' "${names[$i]}" "$used" \
        "$percent" "$(mib "${rss0[$i]}")" "$(mib "${rssMid[$i]:-${rss0[$i]}}")" "$(mib "${rssEnd[$i]}")" \
        "$(mib "${rssMin[$i]}")" "$(mib "${rssMax[$i]}")"
done
samplingUser=$(echo "100 * ($samplingUser1 - $samplingUser0) / $ticks / $seconds" | bc -l)
samplingSys=$(echo "100 * ($samplingSys1 - $samplingSys0) / $ticks / $seconds" | bc -l)
echo
printf 'headroom sampling thread: %.2f%% user + %.2f%% system of one core; the rest is the GUI thread.\n' \
    "$samplingUser" "$samplingSys"
