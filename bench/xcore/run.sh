#!/bin/sh
# A payload written on core 0 and read on core 1, against both on core 0, in turns:
#   sh bench/xcore/run.sh [bytes] [rounds]
set -e
dir=$(dirname "$0"); out=$(mktemp -d)
cc -O2 -pthread -o "$out/xcore" "$dir/xcore.c"
for r in $(seq "${2:-3}"); do "$out/xcore" same "${1:-102400}"; "$out/xcore" cross "${1:-102400}"; done
rm -rf "$out"
