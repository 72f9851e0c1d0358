#!/usr/bin/env bash
# Builds and starts a local RingMQ cluster in the background: a name server on 127.0.0.1:9876
# and a broker on 127.0.0.1:10911 registered with it, both with their built-in defaults (the
# broker's store goes under $RINGMQ_RUN_DIR/store). Logs and pid files go to $RINGMQ_RUN_DIR
# (default ./run). Extra arguments go to the broker (e.g. `-c broker.conf`).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
run="${RINGMQ_RUN_DIR:-$root/run}"
mkdir -p "$run"
cargo build --release -p ringmq-namesrv -p ringmq-broker --manifest-path "$root/Cargo.toml"

# start NAME LOGLINE COMMAND...: runs COMMAND in the background unless already running, and
# waits for LOGLINE in its output.
start() {
    local name=$1 ready=$2
    shift 2
    if [ -f "$run/$name.pid" ] && kill -0 "$(cat "$run/$name.pid")" 2>/dev/null; then
        echo "$name already running (pid $(cat "$run/$name.pid"))"
        return 0
    fi
    "$@" >"$run/$name.log" 2>&1 &
    echo $! >"$run/$name.pid"
    for _ in $(seq 100); do
        if grep -q "$ready" "$run/$name.log" 2>/dev/null; then
            cat "$run/$name.log"
            return 0
        fi
        kill -0 "$(cat "$run/$name.pid")" 2>/dev/null || { cat "$run/$name.log" >&2; exit 1; }
        sleep 0.1
    done
    echo "$name did not report start-up; see $run/$name.log" >&2
    exit 1
}

start namesrv "boot success" "$root/target/release/namesrv"
conf="$run/broker.conf"
[ -f "$conf" ] || printf 'storePathRootDir=%s\n' "$run/store" >"$conf"
start broker "boot success" "$root/target/release/broker" -c "$conf" -n 127.0.0.1:9876 "$@"
