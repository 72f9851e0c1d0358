//! What a producer application does besides plain sync sends, through the third-party
//! rocketmq-client-rust against the real broker binary: async (callback) and oneway sends, batch
//! sends, 3 MiB bodies (compressible ones arrive zlib-compressed, flagged in sysFlag), tag
//! filtering on the consumer side, lookups by key and by message id, and the broker's own refusal
//! of a message over its `maxMessageSize`.

mod common;

use common::{
    fields, fresh_dir, noise, start_broker_with, start_namesrv, wait_for_route, wait_until, Wire,
};
use ringmq_protocol::message::sys_flag;
use ringmq_protocol::RequestCode;
use rocketmq_client_rust::{
    ClientResult, ConsumeConcurrentlyContext, ConsumeConcurrentlyStatus, DefaultMQPushConsumer,
    MQPushConsumer, MessageListenerConcurrently, SendStatus,
};
use rocketmq_model::common::message::message_ext::MessageExt;
use rocketmq_model::common::message::message_single::Message;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const TOPIC: &str = "FeatureTopic";
/// Below the client's own 4 MiB limit, so the broker is the one that refuses.
const BROKER_MAX: usize = 3_800_000;
const BIG: usize = 3 << 20;

#[allow(deprecated)] // the builder needs more of the client crate; this is enough here
fn message(tag: &str, key: &str, body: &[u8]) -> Message {
    Message::with_keys(TOPIC, tag, key, body)
}

/// A delivery: the message's first key, its body, and its sysFlag as stored.
type Delivery = (String, Vec<u8>, i32);

struct Collect {
    seen: Arc<Mutex<Vec<Delivery>>>,
}

impl MessageListenerConcurrently for Collect {
    fn consume_message(
        &self,
        msgs: &[&MessageExt],
        _: &ConsumeConcurrentlyContext,
    ) -> ClientResult<ConsumeConcurrentlyStatus> {
        let mut seen = self.seen.lock().unwrap();
        for m in msgs {
            let key = m
                .message_inner()
                .keys()
                .and_then(|k| k.first().cloned())
                .unwrap_or_default();
            seen.push((key, common::body_of(m), m.sys_flag()));
        }
        Ok(ConsumeConcurrentlyStatus::ConsumeSuccess)
    }
}

#[test]
fn async_oneway_batch_big_compressed_filtered_and_looked_up() {
    let namesrv = start_namesrv();
    let broker = start_broker_with(
        &namesrv,
        "broker-features",
        fresh_dir("broker-features"),
        "ASYNC_FLUSH",
        &format!("maxMessageSize={BROKER_MAX}"),
    );
    let (owner, runtime) = common::client_runtime("features-test");
    let mut producer = common::start_producer(&owner, &runtime, &namesrv, "features_producer");
    // A first sync send creates the topic (4 queues from TBW102).
    let first = owner
        .block_on(producer.send(message("TagA", "k-sync", b"sync")))
        .expect("sync send")
        .expect("a send result");
    assert_eq!(first.send_status, SendStatus::SendOk);
    wait_for_route(&namesrv, TOPIC);

    let seen = Arc::new(Mutex::new(Vec::new()));
    let (rt, ns, s) = (runtime.clone(), namesrv.clone(), seen.clone());
    let mut consumer = owner.block_on(async move {
        let mut c = DefaultMQPushConsumer::builder(rt)
            .consumer_group("features_consumer".to_string())
            .name_server_addr(ns)
            .build();
        c.subscribe(TOPIC, "TagA || TagC").await.expect("subscribe");
        c.register_message_listener_concurrently(Collect { seen: s });
        c.start().await.expect("consumer start");
        c
    });
    wait_until("the first message", Duration::from_secs(20), || {
        seen.lock().unwrap().iter().any(|(k, _, _)| k == "k-sync")
    });

    let mut expected: HashMap<String, Vec<u8>> = HashMap::new();
    expected.insert("k-sync".into(), b"sync".to_vec());
    // Async with a callback.
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    owner
        .block_on(producer.send_with_callback(
            message("TagA", "k-async", b"async"),
            move |result, error| {
                let ok =
                    error.is_none() && result.is_some_and(|r| r.send_status == SendStatus::SendOk);
                done_tx.send(ok).ok();
            },
        ))
        .expect("async send");
    assert!(
        done_rx.recv_timeout(Duration::from_secs(10)).unwrap(),
        "the async send's callback reported a failure"
    );
    expected.insert("k-async".into(), b"async".to_vec());
    // Oneway: no answer, but stored all the same.
    owner
        .block_on(producer.send_oneway(message("TagA", "k-oneway", b"oneway")))
        .expect("oneway send");
    expected.insert("k-oneway".into(), b"oneway".to_vec());
    // A batch: three messages in one request.
    let batch: Vec<Message> = (0..3)
        .map(|i| {
            message(
                "TagA",
                &format!("k-batch-{i}"),
                format!("batch {i}").as_bytes(),
            )
        })
        .collect();
    let sent = owner
        .block_on(producer.send_batch(batch))
        .expect("batch send");
    assert_eq!(sent.send_status, SendStatus::SendOk);
    assert_eq!(
        sent.msg_id.as_deref().map(|ids| ids.split(',').count()),
        Some(3),
        "one id per batched message"
    );
    for i in 0..3 {
        expected.insert(format!("k-batch-{i}"), format!("batch {i}").into_bytes());
    }
    // 3 MiB: one that compresses (the client zlibs it), one that does not.
    let compressible: Vec<u8> = (0..BIG).map(|i| (i % 64) as u8 + b'0').collect();
    let random = noise(BIG, 0x9e37_79b9_7f4a_7c15);
    for (key, body) in [("k-big-text", &compressible), ("k-big-noise", &random)] {
        let r = owner
            .block_on(producer.send(message("TagC", key, body)))
            .expect("3 MiB send")
            .expect("a send result");
        assert_eq!(r.send_status, SendStatus::SendOk, "{key}");
        expected.insert(key.into(), body.clone());
    }
    // Filtered out by the consumer's subscription.
    for i in 0..3 {
        owner
            .block_on(producer.send(message("TagB", &format!("k-b-{i}"), b"not for us")))
            .expect("TagB send");
    }
    // Over the broker's limit (not the client's): MESSAGE_ILLEGAL, nothing stored.
    let too_big = noise(BROKER_MAX + 100_000, 7);
    let refused = owner.block_on(producer.send(message("TagA", "k-too-big", &too_big)));
    let err = refused.expect_err("a message over maxMessageSize was accepted");
    // The client keeps the broker's answer code among its diagnostic fields.
    let diagnostics = format!(
        "{:?}",
        err.diagnostic_view().expect("a diagnostic view").fields()
    );
    assert!(
        diagnostics.contains("name: \"broker_code\", visibility: Diagnostic, value: 13 }"),
        "expected the broker's MESSAGE_ILLEGAL (13): {diagnostics}"
    );

    wait_until("every TagA / TagC message", Duration::from_secs(30), || {
        let seen = seen.lock().unwrap();
        expected.keys().all(|k| seen.iter().any(|(s, _, _)| s == k))
    });
    std::thread::sleep(Duration::from_millis(500));
    let seen = seen.lock().unwrap().clone();
    for (key, body) in &expected {
        let (_, got, flag) = seen.iter().find(|(k, _, _)| k == key).unwrap();
        assert!(
            got == body,
            "{key}: body differs ({} vs {} bytes)",
            got.len(),
            body.len()
        );
        if key == "k-big-text" {
            assert_ne!(
                flag & sys_flag::COMPRESSED,
                0,
                "the client did not compress"
            );
        }
    }
    assert!(
        !seen
            .iter()
            .any(|(k, _, _)| k.starts_with("k-b-") || k == "k-too-big"),
        "TagB or the refused message reached the consumer"
    );

    // Lookups a user makes from the console or the admin tools.
    let by_key = owner
        .block_on(producer.query_message(TOPIC, "k-async", 8, 0, u64::MAX / 2))
        .expect("query by key");
    let found: Vec<Vec<u8>> = by_key
        .message_list()
        .iter()
        .map(|m| m.body().map(|b| b.to_vec()).unwrap_or_default())
        .collect();
    assert_eq!(found, vec![b"async".to_vec()]);
    let offset_id = first.offset_msg_id.clone().expect("an offset message id");
    let viewed = owner
        .block_on(producer.view_message(TOPIC, &offset_id))
        .expect("view by message id");
    assert_eq!(viewed.body().map(|b| b.to_vec()), Some(b"sync".to_vec()));

    // The broker counted every stored message: 1 + async + oneway + 3 batch + 2 big + 3 TagB.
    let mut wire = Wire::connect(&broker.addr);
    let total: i64 = (0..4)
        .map(|q| {
            let q = q.to_string();
            let r = wire.call(fields(
                RequestCode::GET_MAX_OFFSET,
                &[("topic", TOPIC), ("queueId", &q)],
            ));
            r.fields().get("offset").unwrap().parse::<i64>().unwrap()
        })
        .sum();
    assert_eq!(total, 11);

    owner.block_on(async move {
        consumer.shutdown().await;
        producer.shutdown().await;
        runtime.shutdown().await;
    });
    owner.shutdown_runtime_blocking().unwrap();
}
