//! GET_BROKER_RUNTIME_INFO and GET_TOPIC_STATS_INFO's put rate, read through the third-party
//! client's admin (what `mqadmin brokerStatus` and `clusterList` show): after known traffic on a
//! two-core broker, the totals count every message put and handed out, on whichever core it was,
//! and the rates, disk figures and version are there in Java's formats.

mod common;

use common::{fresh_dir, start_broker_with, start_namesrv, wait_for_route, Wire};
use ringmq_protocol::message::StoredMessage;
use rocketmq_client_rust::{BrokerAdmin, TopicAdmin};
use rocketmq_model::common::message::message_single::Message;
use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

const TOPIC: &str = "StatsTopic";
const QUEUES: i32 = 8;
const SENT: usize = 40;
const BODY: usize = 1024;

/// Pulls queue `queue` from `offset` without holding; returns how many messages came back.
fn pull(wire: &mut Wire, queue: i32, offset: i64) -> usize {
    let resp = common::pull_from(wire, "stats_group", TOPIC, queue, offset);
    StoredMessage::decode_all(&resp.body).unwrap().len()
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

#[test]
fn runtime_info_counts_what_every_core_stored_and_served() {
    let namesrv = start_namesrv();
    let broker = start_broker_with(
        &namesrv,
        "broker-stats",
        fresh_dir("broker-stats"),
        "ASYNC_FLUSH",
        &format!("defaultTopicQueueNums={QUEUES}"),
    );
    let (owner, runtime) = common::client_runtime("stats-test");
    let producer = common::start_producer(&owner, &runtime, &namesrv, "stats_producer");
    let before = now_ms();
    for i in 0..SENT {
        #[allow(deprecated)]
        let m = Message::with_tags(TOPIC, "T", &common::noise(BODY, i as u64 + 1));
        owner.block_on(producer.send(m)).expect("send");
    }
    wait_for_route(&namesrv, TOPIC);

    // Everything handed out once (8 pulls that find), then 8 pulls past the end (misses).
    let mut wire = Wire::connect(&broker.addr);
    let mut handed_out = 0;
    let mut ends = Vec::new();
    for q in 0..QUEUES {
        let n = pull(&mut wire, q, 0);
        handed_out += n;
        ends.push(n as i64);
    }
    assert_eq!(handed_out, SENT);
    for (q, end) in (0..QUEUES).zip(ends) {
        assert_eq!(pull(&mut wire, q, end), 0);
    }

    let admin = common::start_admin(&owner, &runtime, &namesrv);
    let kv = owner
        .block_on(admin.fetch_broker_runtime_stats(broker.addr.as_str().into()))
        .expect("GET_BROKER_RUNTIME_INFO");
    let info: HashMap<String, String> = kv
        .table
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let get = |k: &str| {
        info.get(k)
            .unwrap_or_else(|| panic!("no {k} in {info:?}"))
            .as_str()
    };
    let number = |k: &str| {
        get(k)
            .parse::<f64>()
            .unwrap_or_else(|_| panic!("{k}={}", get(k)))
    };
    // Both cores' counts, whichever core answered.
    assert_eq!(get("msgPutTotalTodayNow"), SENT.to_string());
    assert_eq!(get("putMessageTimesTotal"), SENT.to_string());
    assert_eq!(get("msgGetTotalTodayNow"), SENT.to_string());
    assert_eq!(get("msgPutTotalTodayMorning"), "0");
    assert_eq!(get("putMessageFailedTimes"), "0");
    let stored_bytes = number("putMessageSizeTotal");
    assert!(stored_bytes > (SENT * BODY) as f64, "{stored_bytes}");
    assert!(number("putMessageAverageSize") > BODY as f64);
    // Three rates each, as `clusterList` splits them; the puts just happened.
    for key in [
        "putTps",
        "getFoundTps",
        "getMissTps",
        "getTotalTps",
        "getTransferedTps",
    ] {
        let rates: Vec<f64> = get(key).split(' ').map(|r| r.parse().unwrap()).collect();
        assert_eq!(rates.len(), 3, "{key}={}", get(key));
        assert!(rates.iter().all(|r| *r > 0.0), "{key}={}", get(key));
    }
    let earliest = number("earliestMessageTimeStamp") as i64;
    assert!(before <= earliest && earliest <= now_ms(), "{earliest}");
    let ratio = number("commitLogDiskRatio");
    assert!(ratio > 0.0 && ratio <= 1.0, "{ratio}");
    assert!(get("commitLogDirCapacity").starts_with("Total : "));
    assert_eq!(get("brokerVersionDesc"), "V4_9_7");
    assert!(get("runtime").starts_with("[ 0 days, 0 hours"));

    let stats = owner
        .block_on(admin.examine_topic_stats(TOPIC.into(), Some(broker.addr.as_str().into())))
        .expect("GET_TOPIC_STATS_INFO");
    assert!(stats.get_topic_put_tps() > 0.0);
}
