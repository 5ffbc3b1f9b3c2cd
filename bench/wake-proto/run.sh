#!/bin/sh
# Futex against pipe wake-ups, quiet and with a CPU hog per core: sh bench/wake-proto/run.sh [rounds]
set -e
dir=$(dirname "$0"); out=$(mktemp -d)
cc -O2 -pthread -o "$out/pingpong" "$dir/pingpong.c"
rounds=${1:-3}
for state in quiet busy; do
  pids=""
  if [ $state = busy ]; then for i in $(seq "$(nproc)"); do (while :; do :; done) & pids="$pids $!"; done; fi
  for r in $(seq "$rounds"); do for k in futex pipe; do printf '%s ' $state; "$out/pingpong" $k 2; done; done
  [ -n "$pids" ] && kill $pids
done
rm -rf "$out"
