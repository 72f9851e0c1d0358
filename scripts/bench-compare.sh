#!/usr/bin/env bash
# Runs the standard benchmark suite (bench/README.md) against a RingMQ name server + broker started
# here from a fresh store, then run 4 (run 3 against the broker restarted from a fresh store with
# flushDiskType=SYNC_FLUSH), and, given a peer, the suite against the peer plus an A/B comparison.
#
# usage: scripts/bench-compare.sh [--flush ASYNC_FLUSH|SYNC_FLUSH] [--duration S] [--warmup S]
#                                 [--results DIR] [--store-dir DIR] [PEER]
#   --flush      flushDiskType of runs 1-3 and 5 (env FLUSH, default ASYNC_FLUSH)
#   --duration   measured seconds per run (env DURATION, default 5); --warmup likewise (default 1)
#   --results    where the JSON lines, histogram logs, SVG plots and tables go
#                (env RESULTS, default target/bench-results/<date-time>)
#   --store-dir  parent of the fresh stores; the disk floor is measured there (env STORE_DIR,
#                default /var/tmp)
#   PEER         host:port of another broker's name server that is already running (Apache
#                RocketMQ, rocketmq-rust, ...), or `rocketmq-rust` to start rocketmq-rust's
#                binaries (rocketmq-namesrv-rust, rocketmq-broker-rust) from PATH. A peer that is
#                not installed or not reachable is skipped with a message; nothing is built for it.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
flush="${FLUSH:-ASYNC_FLUSH}"
duration="${DURATION:-5}"
warmup="${WARMUP:-1}"
results="${RESULTS:-$root/target/bench-results/$(date +%Y%m%d-%H%M%S)}"
store_parent="${STORE_DIR:-/var/tmp}"
peer=""
while [ $# -gt 0 ]; do
    case "$1" in
        --flush) flush="$2"; shift 2 ;;
        --duration) duration="$2"; shift 2 ;;
        --warmup) warmup="$2"; shift 2 ;;
        --results) results="$2"; shift 2 ;;
        --store-dir) store_parent="$2"; shift 2 ;;
        -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
        -*) echo "unknown option $1" >&2; exit 2 ;;
        *) peer="$1"; shift ;;
    esac
done
case "$flush" in ASYNC_FLUSH|SYNC_FLUSH) ;; *) echo "--flush must be ASYNC_FLUSH or SYNC_FLUSH" >&2; exit 2 ;; esac

cargo build --release -p ringmq-namesrv -p ringmq-broker -p ringmq-bench --manifest-path "$root/Cargo.toml"
bin="$root/target/release"
mkdir -p "$results"
work="$(mktemp -d "$store_parent/ringmq-bench.XXXXXX")"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

# wait_for LOG PID: waits for "boot success" in LOG, fails if PID dies first.
wait_for() {
    for _ in $(seq 200); do
        grep -q "boot success" "$1" 2>/dev/null && return 0
        kill -0 "$2" 2>/dev/null || { cat "$1" >&2; return 1; }
        sleep 0.05
    done
    echo "no start-up line in $1" >&2
    return 1
}

"$bin/namesrv" --listen 127.0.0.1:0 >"$work/namesrv.log" 2>&1 &
pids+=($!)
wait_for "$work/namesrv.log" "$!"
namesrv="$(sed -n 's/.*listening on \([0-9.:]*\).*/\1/p' "$work/namesrv.log" | head -1)"
echo "name server: $namesrv"

broker_pid=""
# start_broker FLUSH: a broker from a fresh store, registered with our name server.
start_broker() {
    if [ -n "$broker_pid" ]; then
        kill "$broker_pid"; wait "$broker_pid" 2>/dev/null || true
    fi
    local dir="$work/broker-$1"
    rm -rf "$dir"; mkdir -p "$dir"
    cat >"$dir/broker.conf" <<CONF
brokerClusterName=BenchCluster
brokerName=bench-broker
brokerIP1=127.0.0.1
listenPort=0
namesrvAddr=$namesrv
storePathRootDir=$dir/store
flushDiskType=$1
CONF
    "$bin/broker" -c "$dir/broker.conf" >"$dir/broker.log" 2>&1 &
    broker_pid=$!
    pids+=("$broker_pid")
    wait_for "$dir/broker.log" "$broker_pid"
    echo "broker ($1): pid $broker_pid"
}

# suite NAME ARGS...: runs `bench suite` and keeps its table, JSON lines, log and plot.
suite() {
    local name=$1
    shift
    "$bin/bench" suite --duration "$duration" --warmup "$warmup" --floor-dir "$store_parent" \
        --hist-log "$results/$name.hlog" --plot "$results/$name.svg" "$@" | tee "$results/$name.txt"
    grep '^RESULT_JSON ' "$results/$name.txt" | sed 's/^RESULT_JSON //' >>"$results/results.jsonl"
}

start_broker "$flush"
suite "ringmq-$flush" -n "$namesrv" --broker-pid "$broker_pid" --label "${flush%%_*}-" \
    | grep -v '^RESULT_JSON '
max_rate="$(grep '"name":"[A-Z]*-2-max' "$results/results.jsonl" | sed 's/.*"msgs_per_s":\([0-9.]*\).*/\1/' | head -1)"

if [ "$flush" != SYNC_FLUSH ] && [ -n "$max_rate" ]; then
    echo "run 4: run 3 at 50% and 80% of $max_rate msgs/s against a SYNC_FLUSH broker"
    start_broker SYNC_FLUSH
    suite "ringmq-SYNC_FLUSH-run4" -n "$namesrv" --broker-pid "$broker_pid" --runs 3 \
        --max-rate "$max_rate" --label "4-SYNC-" | grep -v '^RESULT_JSON '
    restart_for_peer=1
fi

if [ "$peer" = rocketmq-rust ]; then
    if ! command -v rocketmq-namesrv-rust >/dev/null || ! command -v rocketmq-broker-rust >/dev/null; then
        echo "peer rocketmq-rust: rocketmq-namesrv-rust / rocketmq-broker-rust not on PATH; skipped (install it separately; this script builds nothing for peers)"
        peer=""
    else
        rocketmq-namesrv-rust >"$work/peer-namesrv.log" 2>&1 &
        pids+=($!)
        sleep 2
        printf 'brokerClusterName=PeerCluster\nbrokerName=peer-broker\nbrokerIP1=127.0.0.1\nstorePathRootDir=%s\nflushDiskType=%s\n' \
            "$work/peer-store" "$flush" >"$work/peer-broker.conf"
        rocketmq-broker-rust -c "$work/peer-broker.conf" -n 127.0.0.1:9876 >"$work/peer-broker.log" 2>&1 &
        pids+=($!)
        sleep 5
        peer=127.0.0.1:9876
    fi
fi
if [ -n "$peer" ]; then
    echo "peer: $peer"
    [ -n "${restart_for_peer:-}" ] && start_broker "$flush"
    if suite "peer-$flush" -n "$peer" --label "peer-" | grep -v '^RESULT_JSON '; then
        "$bin/bench" compare -n "$namesrv" -n "$peer" --broker-pid "$broker_pid" -c 4 -i 16 \
            --duration "$duration" --warmup "$warmup" --rounds 2 --create-topic --no-floor \
            --hist-log "$results/compare.hlog" --plot "$results/compare.svg" | tee "$results/compare.txt" \
            | grep -v '^RESULT_JSON '
        grep '^RESULT_JSON ' "$results/compare.txt" | sed 's/^RESULT_JSON //' >>"$results/results.jsonl"
    else
        echo "peer at $peer could not be benchmarked (see the error above); skipped"
    fi
fi
echo "results: $results"
