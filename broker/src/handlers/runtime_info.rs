//! GET_BROKER_RUNTIME_INFO: the broker's counters and disk figures as Java's `KVTable` of
//! strings (what `mqadmin brokerStatus` prints and `clusterList` reads).
//!
//! The keys and value formats are Java's (`AdminBrokerProcessor.prepareRuntimeInfo` and
//! `StoreStatsService.getRuntimeInfo`), so tools that parse them keep working. Where a Java key
//! describes a part this broker does not have, the value says so truthfully: there are no request
//! thread-pool queues (a request runs on its core as soon as it is read), so their sizes and head
//! waits are 0; no page-cache lock, so `pageCacheLockTimeMills` is 0; consume queues are written
//! with the append, so nothing is ever behind dispatch. Commit-log offsets are per shard here, so
//! Java's single `commitLogMinOffset` / `commitLogMaxOffset` are left out.

use super::{ok, Handled};
use crate::core::BrokerCore;
use crate::traffic::{Rates, TrafficReport};
use ringmq_protocol::body::KvTable;
use ringmq_protocol::frame::ROCKETMQ_VERSION;
use ringmq_protocol::json::{self, JsonStyle};
use ringmq_protocol::RemotingCommand;
use ringmq_storage::disk::DiskSpace;
use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

/// Java's `MQVersion.getVersionDesc` of [`ROCKETMQ_VERSION`].
const VERSION_DESC: &str = "V4_9_7";

pub async fn handle(core: &BrokerCore, req: &RemotingCommand) -> Handled {
    let report = core.traffic_report().await;
    let table = KvTable {
        table: runtime_info(core, &report),
    };
    Ok(ok(req).with_body(json::to_vec(&table, JsonStyle::Fastjson)))
}

fn runtime_info(core: &BrokerCore, r: &TrafficReport) -> BTreeMap<String, String> {
    let mut info = BTreeMap::new();
    let mut put = |k: &str, v: String| {
        info.insert(k.to_owned(), v);
    };
    put("brokerVersionDesc", VERSION_DESC.into());
    put("brokerVersion", ROCKETMQ_VERSION.to_string());

    let booted = core.traffic.booted();
    let since_epoch = |t: SystemTime| t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis());
    put("bootTimestamp", since_epoch(booted).to_string());
    put(
        "runtime",
        uptime(booted.elapsed().map_or(0, |d| d.as_secs())),
    );

    let (t, today, yesterday) = (r.totals, r.today_morning, r.yesterday_morning);
    put(
        "msgPutTotalYesterdayMorning",
        yesterday.put_msgs.to_string(),
    );
    put("msgPutTotalTodayMorning", today.put_msgs.to_string());
    put("msgPutTotalTodayNow", t.put_msgs.to_string());
    put(
        "msgGetTotalYesterdayMorning",
        yesterday.msgs_out.to_string(),
    );
    put("msgGetTotalTodayMorning", today.msgs_out.to_string());
    put("msgGetTotalTodayNow", t.msgs_out.to_string());

    put("putMessageTimesTotal", t.put_msgs.to_string());
    put("putMessageSizeTotal", t.put_bytes.to_string());
    put("putMessageFailedTimes", t.put_failures.to_string());
    let average = t.put_bytes as f64 / t.put_msgs.max(1) as f64;
    put("putMessageAverageSize", format!("{average:?}"));
    put(
        "putMessageEntireTimeMax",
        r.put_time_max.as_millis().to_string(),
    );
    put("putTps", rates(r, |x| x.put));
    put("getFoundTps", rates(r, |x| x.found));
    put("getMissTps", rates(r, |x| x.missed));
    put("getTotalTps", rates(r, |x| x.found + x.missed));
    // 4.x spells it "Transfered", 5.x "Transferred"; tools of both ages read theirs.
    put("getTransferedTps", rates(r, |x| x.out));
    put("getTransferredTps", rates(r, |x| x.out));

    for key in [
        "sendThreadPoolQueueSize",
        "pullThreadPoolQueueSize",
        "queryThreadPoolQueueSize",
        "sendThreadPoolQueueHeadWaitTimeMills",
        "pullThreadPoolQueueHeadWaitTimeMills",
        "queryThreadPoolQueueHeadWaitTimeMills",
        "pageCacheLockTimeMills",
        "dispatchBehindBytes",
        "startAcceptSendRequestTimeStamp",
    ] {
        put(key, "0".into());
    }
    put(
        "earliestMessageTimeStamp",
        r.earliest_store_time.unwrap_or(-1).to_string(),
    );
    put("remainHowManyDataToFlush", human_bytes(r.unflushed_bytes));

    let root = &core.config().store_path_root_dir;
    match DiskSpace::of(root) {
        Ok(space) => {
            let ratio = format!("{:?}", space.java_used_ratio());
            put("commitLogDiskRatio", ratio.clone());
            put(
                &format!(
                    "commitLogDiskRatio_{}",
                    core.config().store_path_commit_log().display()
                ),
                ratio.clone(),
            );
            // Consume queues live beside the commit logs, in the shard directories.
            put("consumeQueueDiskRatio", ratio);
            put(
                "commitLogDirCapacity",
                format!(
                    "Total : {}, Free : {}.",
                    human_bytes(space.total),
                    human_bytes(space.available)
                ),
            );
        }
        Err(e) => log::warn!("GET_BROKER_RUNTIME_INFO: {e}"),
    }
    info
}

/// Java's three rates, 10 s, 1 min and 10 min, space-separated.
fn rates(r: &TrafficReport, pick: impl Fn(&Rates) -> f64) -> String {
    let [a, b, c] = r.rates.each_ref().map(|x| format!("{:?}", pick(x)));
    format!("{a} {b} {c}")
}

/// Java's `StoreStatsService.getFormatRuntime`.
fn uptime(secs: u64) -> String {
    format!(
        "[ {} days, {} hours, {} minutes, {} seconds ]",
        secs / 86_400,
        secs % 86_400 / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// Java's `MixAll.humanReadableByteCount(bytes, false)`: "512 B", "1.5 KiB", "251.9 GiB".
fn human_bytes(bytes: u64) -> String {
    const UNIT: f64 = 1024.0;
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let exp = ((bytes as f64).ln() / UNIT.ln()) as i32;
    let prefix = "KMGTPE".as_bytes()[(exp - 1).clamp(0, 5) as usize] as char;
    format!("{:.1} {prefix}iB", bytes as f64 / UNIT.powi(exp))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_match_java() {
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(1023), "1023 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(270_479_638_528), "251.9 GiB");
        assert_eq!(uptime(90_061), "[ 1 days, 1 hours, 1 minutes, 1 seconds ]");
    }
}
