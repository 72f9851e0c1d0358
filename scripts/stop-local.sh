#!/usr/bin/env bash
# Stops what start-local.sh started.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
run="${RINGMQ_RUN_DIR:-$root/run}"
for name in broker namesrv; do
    pidfile="$run/$name.pid"
    [ -f "$pidfile" ] || continue
    pid="$(cat "$pidfile")"
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid"
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        echo "stopped $name (pid $pid)"
    fi
    rm -f "$pidfile"
done
