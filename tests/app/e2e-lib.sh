# SPDX-License-Identifier: GPL-3.0-or-later
# What the end-to-end scripts share; sourced, not run.

say() { printf '%s\n' "$*"; }
now_ms() { local t=${EPOCHREALTIME/[.,]/}; printf '%s' $((t / 1000)); }

# wait_for SECONDS COMMAND...: run COMMAND until it succeeds or time is up.
wait_for() {
    local deadline=$(($(now_ms) + $1 * 1000))
    shift
    until "$@"; do
        (($(now_ms) >= deadline)) && return 1
        sleep 0.2
    done
}
