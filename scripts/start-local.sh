#!/usr/bin/env bash
# Starts a local RingMQ cluster in the background: the name server (and, once it exists, a broker).
# Logs and pid files go to $RINGMQ_RUN_DIR (default ./run).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
run="${RINGMQ_RUN_DIR:-$root/run}"
mkdir -p "$run"
cargo build --release -p ringmq-namesrv --manifest-path "$root/Cargo.toml"
if [ -f "$run/namesrv.pid" ] && kill -0 "$(cat "$run/namesrv.pid")" 2>/dev/null; then
    echo "namesrv already running (pid $(cat "$run/namesrv.pid"))"
    exit 0
fi
"$root/target/release/namesrv" "$@" >"$run/namesrv.log" 2>&1 &
echo $! >"$run/namesrv.pid"
for _ in $(seq 50); do
    grep -q "boot success" "$run/namesrv.log" 2>/dev/null && { cat "$run/namesrv.log"; exit 0; }
    kill -0 "$(cat "$run/namesrv.pid")" 2>/dev/null || { cat "$run/namesrv.log" >&2; exit 1; }
    sleep 0.1
done
echo "namesrv did not report start-up; see $run/namesrv.log" >&2
exit 1
