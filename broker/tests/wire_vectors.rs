//! Frames a real Java 4.9.7 client sent to a Java broker (../shared/wire-vectors), sent unchanged
//! to ours: each answer must carry the code, the remark and the header fields the Java broker
//! answered with. Where a capture assumed state (messages in a queue, a registered group), the
//! test creates that state first with ordinary requests.

mod common;

use common::{
    consumer_heartbeat, consumer_heartbeat_with, fields, fresh_dir, start_broker_with,
    start_namesrv, vector, Wire,
};
use ringmq_protocol::body::{HeartbeatData, ResetOffsetBody, SubscriptionData};
use ringmq_protocol::json::{self, JsonStyle};
use ringmq_protocol::message::{MessageId, StoredMessage};
use ringmq_protocol::{RemotingCommand, RequestCode, ResponseCode};
use std::collections::BTreeSet;
use std::time::Duration;

/// Name-server requests, and requests a broker sends to clients: not ours to answer here.
const NOT_FOR_A_BROKER: &[&str] = &[
    "request-103-",
    "request-104-",
    "request-105-",
    "request-106-",
    "request-39-",
    "request-40-",
    "request-220-",
];

/// Sends one message; returns its commit-log offset (from its offset message id).
fn send(wire: &mut Wire, topic: &str, queue: i32, props: &str) -> i64 {
    let resp = common::send_v2(wire, topic, queue, props, b"prep");
    assert_eq!(resp.code, 0, "prep send to {topic}: {:?}", resp.remark);
    let id: MessageId = resp.fields().get("msgId").unwrap().parse().unwrap();
    id.commit_log_offset
}

/// A Java push consumer renews its subscription's version when a rebalance hands it queues and
/// announces it in a new heartbeat; its pulls carry that version. Only the first heartbeat of
/// each client was captured, so before a captured pull the consumer's captured heartbeat is sent
/// again with the pull's version, as that later heartbeat was: unless Java's answer shows the
/// pull arrived before it (SUBSCRIPTION_NOT_LATEST).
fn announce_pulled_version(wire: &mut Wire, name: &str, req: &RemotingCommand) {
    let answer = vector(&name.replacen("request-", "response-", 1));
    let f = req.fields();
    let (Some(group), Some(version)) = (f.get("consumerGroup"), f.get("subVersion")) else {
        return;
    };
    if answer.code == ResponseCode::SUBSCRIPTION_NOT_LATEST.0 {
        return;
    }
    let enc = name.rsplit('-').next().unwrap();
    for hb_name in common::vector_names()
        .into_iter()
        .filter(|n| n.starts_with("request-34-") && n.ends_with(&format!("-{enc}")))
    {
        let hb = vector(&hb_name);
        let mut data: HeartbeatData = json::from_slice(&hb.body).unwrap();
        let Some(consumer) = data
            .consumer_data_set
            .iter_mut()
            .find(|c| c.group_name == group)
        else {
            continue;
        };
        for sub in &mut consumer.subscription_data_set {
            sub.sub_version = version.parse().unwrap();
        }
        let resp = wire.call(hb.with_body(json::to_vec(&data, JsonStyle::Fastjson)));
        assert_eq!(resp.code, 0, "{hb_name} again");
    }
}

/// The state each capture assumed (`req` is adjusted where it names state of the Java store).
fn prepare(wire: &mut Wire, name: &str, req: &mut RemotingCommand) {
    if name.starts_with("request-11-") {
        announce_pulled_version(wire, name, req);
    }
    let f = req.fields();
    let topic = f.get("topic").unwrap_or_default().to_owned();
    let queue: i32 = f.get("queueId").and_then(|q| q.parse().ok()).unwrap_or(0);
    match name {
        n if n.starts_with("request-11-pull_message.found") => (0..7).for_each(|_| {
            send(wire, &topic, queue, "TAGS\u{1}async\u{2}");
        }),
        n if n.starts_with("request-11-pull_message.not_found") => (0..10).for_each(|_| {
            send(wire, &topic, queue, "");
        }),
        // In the ROCKETMQ run this frame is the SQL92 consumer's pull of a queue whose messages
        // its selector (announced by the captured heartbeat) does not select.
        n if n.starts_with("request-11-pull_message.offset_moved")
            && f.get("expressionType") == Some("SQL92") =>
        {
            (0..10).for_each(|_| {
                send(wire, &topic, queue, "TAGS\u{1}plain\u{2}a\u{1}9\u{2}");
            });
        }
        n if n.starts_with("request-11-pull_message.sql92") => {
            send(wire, &topic, queue, "a\u{1}4\u{2}color\u{1}red\u{2}");
            send(wire, &topic, queue, "TAGS\u{1}vip\u{2}");
        }
        n if n.starts_with("request-11-pull_message.offset_moved") => {
            // The tag consumer's heartbeat was not captured: announce its subscription, at
            // the version its pull names.
            let subscription = SubscriptionData {
                topic: topic.clone(),
                sub_string: "TagA || TagB".into(),
                expression_type: Some("TAG".into()),
                sub_version: f.get("subVersion").unwrap().parse().unwrap(),
                ..Default::default()
            };
            let group = f.get("consumerGroup").unwrap();
            consumer_heartbeat_with(wire, group, "CLUSTERING", subscription);
            (0..10).for_each(|_| {
                send(wire, &topic, queue, "TAGS\u{1}TagA\u{2}");
            });
            send(wire, &topic, queue, "TAGS\u{1}TagC\u{2}");
        }
        n if n.starts_with("request-11-pull_message.retry_topic") => {
            send(wire, &topic, queue, "RECONSUME_TIME\u{1}1\u{2}");
        }
        n if n.starts_with("request-222-invoke_broker_to_reset_offset") => {
            // An online member of the group with offsets on every queue of the topic.
            let group = f.get("group").unwrap().to_owned();
            send(wire, &topic, 0, "");
            for q in 0..4 {
                let r = wire.call(fields(
                    RequestCode::UPDATE_CONSUMER_OFFSET,
                    &[
                        ("consumerGroup", &group),
                        ("topic", &topic),
                        ("queueId", &q.to_string()),
                        ("commitOffset", "1"),
                    ],
                ));
                assert_eq!(r.code, 0);
            }
            consumer_heartbeat(wire, &group, "CLUSTERING", &topic, "*");
        }
        n if n.starts_with("request-33-view_message_by_id") => {
            // The capture names a commit-log offset of the Java store: ask for one of ours.
            let offset = send(wire, "ViewedTopic", 0, "TAGS\u{1}viewed\u{2}");
            req.fields_mut().insert("offset", offset.to_string());
        }
        n if n.starts_with("request-36-consumer_send_msg_back") => {
            // The capture names a commit-log offset of the Java store: hand back one of ours.
            let origin = f.get("originTopic").unwrap().to_owned();
            let offset = send(wire, &origin, 0, "TAGS\u{1}retry\u{2}");
            req.fields_mut().insert("offset", offset.to_string());
        }
        n if n.starts_with("request-12-query_message") => {
            let key = f.get("key").unwrap();
            send(
                wire,
                &topic,
                0,
                &format!("KEYS\u{1}{key}\u{2}UNIQ_KEY\u{1}{key}\u{2}"),
            );
        }
        _ => {}
    }
}

/// What is compared: code, remark, and the names of the header fields.
fn shape(cmd: &RemotingCommand) -> (i32, Option<String>, BTreeSet<String>) {
    (
        cmd.code,
        cmd.remark.clone(),
        cmd.fields().iter().map(|(k, _)| k.to_owned()).collect(),
    )
}

#[test]
fn captured_java_requests_get_the_java_brokers_answers() {
    let namesrv = start_namesrv();
    for enc in ["json", "rocketmq"] {
        // The capture's broker filtered by SQL92 (enablePropertyFilter=true).
        let name = format!("broker-vectors-{enc}");
        let broker = start_broker_with(
            &namesrv,
            &name,
            fresh_dir(&name),
            "ASYNC_FLUSH",
            "enablePropertyFilter=true",
        );
        let mut wire = Wire::connect(&broker.addr);
        // Producer and consumer heartbeats first, as the clients sent them.
        let mut names: Vec<String> = common::vector_names()
            .into_iter()
            .filter(|n| n.starts_with("request-") && n.ends_with(&format!("-{enc}")))
            .filter(|n| !NOT_FOR_A_BROKER.iter().any(|code| n.starts_with(code)))
            .collect();
        // Then in the order each client sent them (a consumer's pulls depend on which of its
        // heartbeats came first).
        names.sort_by_key(|n| (!n.contains("-34-heart_beat"), vector(n).opaque, n.clone()));
        let mut compared = 0;
        // Our half message for the captured transaction: (commit-log offset, queue offset).
        let mut half: Option<(i64, i64)> = None;
        for name in names {
            let base = name.trim_end_matches(&format!("-{enc}"));
            let mut req = vector(&name);
            prepare(&mut wire, &name, &mut req);
            if base == "request-37-end_transaction.commit" {
                // The capture names the Java store's half: commit ours, sent just before.
                let (commit_log_offset, queue_offset) = half.take().expect("no half sent");
                req.fields_mut()
                    .insert("commitLogOffset", commit_log_offset.to_string());
                req.fields_mut()
                    .insert("tranStateTableOffset", queue_offset.to_string());
            }
            if base.starts_with("request-12-query_message") {
                // The capture's two-minute window is around capture time; ours is now.
                req.fields_mut().insert("beginTimestamp", "0");
                req.fields_mut()
                    .insert("endTimestamp", i64::MAX.to_string());
            }
            if req.is_oneway() {
                wire.send_oneway(&req);
                if base == "request-37-end_transaction.commit" {
                    // The committed half reaches its real queue.
                    let f = vector(&format!("request-310-send_message_v2.tx_half-{enc}"));
                    let (topic, queue) =
                        (f.fields().get("b").unwrap(), f.fields().get("e").unwrap());
                    common::wait_until("the captured commit", Duration::from_secs(5), || {
                        let max = wire.call(fields(
                            RequestCode::GET_MAX_OFFSET,
                            &[("topic", topic), ("queueId", queue)],
                        ));
                        max.fields().get("offset") == Some("1")
                    });
                }
                continue;
            }
            let asked_offset = req.fields().get("offset").map(str::to_owned);
            let got = wire.call(req);
            let want = vector(&name.replacen("request-", "response-", 1));
            assert_eq!(shape(&got), shape(&want), "{name}");
            assert_eq!(
                got.serialize_type, want.serialize_type,
                "{name}: answered in the request's encoding"
            );
            compared += 1;
            if base == "request-310-send_message_v2.tx_half" {
                let id: MessageId = got.fields().get("msgId").unwrap().parse().unwrap();
                let queue_offset = got.fields().get("queueOffset").unwrap().parse().unwrap();
                half = Some((id.commit_log_offset, queue_offset));
            }
            if base == "request-33-view_message_by_id" {
                // The body is the stored message at the offset asked for.
                let (viewed, _) = StoredMessage::decode(&got.body).unwrap();
                let asked: i64 = asked_offset.unwrap().parse().unwrap();
                assert_eq!(viewed.commit_log_offset, asked, "{name}");
                assert_eq!(viewed.topic, "ViewedTopic");
            }
            if base == "request-222-invoke_broker_to_reset_offset" {
                // The member was told, in the words Java's broker told it.
                let told = wire
                    .from_broker
                    .iter()
                    .rfind(|r| r.code == RequestCode::RESET_CONSUMER_CLIENT_OFFSET.0)
                    .expect("no RESET_CONSUMER_CLIENT_OFFSET reached the member");
                let captured = vector(&format!("request-220-reset_consumer_client_offset-{enc}"));
                assert_eq!(
                    shape(told),
                    shape(&captured),
                    "{name}: the member's request"
                );
                for field in ["topic", "group", "isForce", "timestamp"] {
                    assert_eq!(
                        told.fields().get(field),
                        captured.fields().get(field),
                        "{field}"
                    );
                }
                assert!(told.is_oneway());
                let body: ResetOffsetBody = json::from_slice(&told.body).unwrap();
                assert_eq!(body.offset_table.len(), 4);
                assert_eq!(
                    json::from_slice::<ResetOffsetBody>(&got.body).unwrap(),
                    body
                );
            }
        }
        assert!(compared >= 20, "{enc}: only {compared} captures compared");
        // The oneway frames left the connection usable.
        assert_eq!(
            wire.call(fields(
                RequestCode::GET_MAX_OFFSET,
                &[("topic", "TBW102"), ("queueId", "0")]
            ))
            .code,
            0
        );
    }
}
