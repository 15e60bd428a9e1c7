#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# The desktop entry and the AppStream metainfo pass their validators.
#   validate-desktop-files.sh DESKTOP_FILE METAINFO_FILE
set -eu
desktop=$1
metainfo=$2
for tool in desktop-file-validate appstreamcli; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "SKIP: $tool is not installed (Debian: desktop-file-utils, appstream)"
        exit 77
    fi
done
# A hint is advice, anything else it prints is a problem.
out=$(desktop-file-validate "$desktop" 2>&1 | grep -v ': hint: ' || true)
if [ -n "$out" ]; then
    echo "$out"
    exit 1
fi
echo "desktop-file-validate: $desktop is valid"
# --no-net: the screenshot URL is checked for form, not fetched.
appstreamcli validate --no-net --explain "$metainfo"
