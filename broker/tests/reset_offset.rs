//! Resetting a consumer group's offsets by time (`mqadmin resetOffsetByTime`), as the Java 4.9.7
//! broker does it: the third-party admin asks the broker (INVOKE_BROKER_TO_RESET_OFFSET), the
//! broker tells the group's online members (RESET_CONSUMER_CLIENT_OFFSET), and the third-party
//! push consumer goes back and consumes again from the reset point.

mod common;

use common::{fields, start_broker, start_namesrv, wait_for_route, Wire};
use ringmq_protocol::{RequestCode, ResponseCode};
use rocketmq_client_rust::{MessageSelector, OffsetAdmin};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

const TOPIC: &str = "ResetTopic";
const GROUP: &str = "reset_group";
/// Messages per batch; two per queue of the topic's four.
const N: usize = 8;

fn send(wire: &mut Wire, queue: i32, body: &str) {
    let resp = common::send_v2(wire, TOPIC, queue, "", body.as_bytes());
    assert_eq!(resp.code, 0, "{:?}", resp.remark);
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

/// How often each of `bodies` was delivered.
fn deliveries(seen: &Mutex<Vec<String>>, bodies: &[String]) -> Vec<usize> {
    let seen = seen.lock().unwrap();
    bodies
        .iter()
        .map(|b| seen.iter().filter(|s| *s == b).count())
        .collect()
}

fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> Option<String>) {
    let deadline = Instant::now() + limit;
    loop {
        match done() {
            None => return,
            Some(state) if Instant::now() > deadline => panic!("{what}: {state}"),
            Some(_) => std::thread::sleep(Duration::from_millis(100)),
        }
    }
}

#[test]
fn a_reset_by_time_makes_the_online_group_consume_again_from_that_time() {
    let namesrv = start_namesrv();
    let broker = start_broker(&namesrv, "broker-reset");
    let mut wire = Wire::connect(&broker.addr);
    send(&mut wire, 0, "warm-up");
    wait_for_route(&namesrv, TOPIC);

    let (owner, runtime) = common::client_runtime("reset");
    let (mut consumer, seen) = common::start_body_consumer(
        &owner,
        &runtime,
        &namesrv,
        GROUP,
        TOPIC,
        MessageSelector::by_tag("*"),
    );
    let old: Vec<String> = (0..N).map(|i| format!("old {i}")).collect();
    let new: Vec<String> = (0..N).map(|i| format!("new {i}")).collect();
    for (i, body) in old.iter().enumerate() {
        send(&mut wire, (i % 4) as i32, body);
    }
    std::thread::sleep(Duration::from_millis(50));
    let reset_to = now_ms();
    std::thread::sleep(Duration::from_millis(50));
    for (i, body) in new.iter().enumerate() {
        send(&mut wire, (i % 4) as i32, body);
    }
    let all: Vec<String> = old.iter().chain(&new).cloned().collect();
    wait_for(
        "every message consumed once",
        Duration::from_secs(30),
        || {
            let d = deliveries(&seen, &all);
            d.contains(&0).then(|| format!("{d:?}"))
        },
    );
    // The group's commits reach the broker (the client commits every few seconds); a reset
    // needs a committed offset on every queue, as on Java's broker.
    wait_for("offsets committed", Duration::from_secs(20), || {
        let behind: Vec<i32> = (0..4)
            .filter(|q| {
                let qs = q.to_string();
                let mut offset = |code, pairs: &[(&str, &str)]| {
                    wire.call(fields(code, pairs))
                        .fields()
                        .get("offset")
                        .map(str::to_owned)
                };
                let max = offset(
                    RequestCode::GET_MAX_OFFSET,
                    &[("topic", TOPIC), ("queueId", &qs)],
                );
                let committed = offset(
                    RequestCode::QUERY_CONSUMER_OFFSET,
                    &[("consumerGroup", GROUP), ("topic", TOPIC), ("queueId", &qs)],
                );
                committed != max
            })
            .collect();
        (!behind.is_empty()).then(|| format!("queues {behind:?} not committed to their end"))
    });
    let before = deliveries(&seen, &new);

    let admin = common::start_admin(&owner, &runtime, &namesrv);
    let table = owner
        .block_on(admin.reset_offset_by_timestamp(None, TOPIC.into(), GROUP.into(), reset_to, true))
        .unwrap_or_else(|e| panic!("reset by time: {e}"));
    // Queue q holds: (warm-up on 0), two old, then two new messages.
    let mut by_queue: Vec<(i32, u64)> = table.iter().map(|(mq, o)| (mq.queue_id(), *o)).collect();
    by_queue.sort();
    assert_eq!(by_queue, vec![(0, 3), (1, 2), (2, 2), (3, 2)]);

    // The member goes back (the client waits up to 10 s for messages in hand, as Java's does).
    wait_for(
        "the new messages consumed again",
        Duration::from_secs(40),
        || {
            let d = deliveries(&seen, &new);
            let again = d.iter().zip(&before).all(|(now, was)| now > was);
            (!again).then(|| format!("before {before:?}, now {d:?}"))
        },
    );

    // A group without online members is refused, with Java's code and words.
    let offline = wire.call(fields(
        RequestCode::UPDATE_CONSUMER_OFFSET,
        &[
            ("consumerGroup", "offline_group"),
            ("topic", TOPIC),
            ("queueId", "0"),
            ("commitOffset", "1"),
        ],
    ));
    assert_eq!(offline.code, 0);
    let reset = |wire: &mut Wire, group: &str, topic: &str| {
        wire.call(fields(
            RequestCode::INVOKE_BROKER_TO_RESET_OFFSET,
            &[
                ("topic", topic),
                ("group", group),
                ("timestamp", "0"),
                ("isForce", "true"),
            ],
        ))
    };
    let refused = reset(&mut wire, "offline_group", TOPIC);
    assert_eq!(
        refused.code,
        ResponseCode::SYSTEM_ERROR.0,
        "offsets on one queue only: {:?}",
        refused.remark
    );
    assert_eq!(
        refused.remark.as_deref(),
        Some("THe consumer group <offline_group> not exist")
    );
    for q in 1..4 {
        let qs = q.to_string();
        wire.call(fields(
            RequestCode::UPDATE_CONSUMER_OFFSET,
            &[
                ("consumerGroup", "offline_group"),
                ("topic", TOPIC),
                ("queueId", &qs),
                ("commitOffset", "1"),
            ],
        ));
    }
    let refused = reset(&mut wire, "offline_group", TOPIC);
    assert_eq!(refused.code, ResponseCode::CONSUMER_NOT_ONLINE.0);
    assert_eq!(
        refused.remark.as_deref(),
        Some("Consumer not online, so can not reset offset, Group: offline_group Topic: ResetTopic Timestamp: 0")
    );
    let unknown = reset(&mut wire, GROUP, "NoSuchTopic");
    assert_eq!(unknown.code, ResponseCode::SYSTEM_ERROR.0);
    assert_eq!(
        unknown.remark.as_deref(),
        Some("[reset-offset] reset offset failed, no topic in this broker. topic=NoSuchTopic")
    );

    owner.block_on(async move {
        consumer.shutdown().await;
        runtime.shutdown().await;
    });
    owner.shutdown_runtime_blocking().unwrap();
}
