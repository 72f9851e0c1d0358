//! Ordered messages and broadcasting, through the third-party rocketmq-client-rust: a producer
//! picks queues with a selector and an orderly consumer (which locks its queues on the broker
//! with LOCK_BATCH_MQ) sees every key's messages in send order; two broadcasting consumers of one
//! group each receive every message.

mod common;

use common::{fresh_dir, start_broker_with, start_namesrv, wait_for_route, wait_until};
use rocketmq_client_rust::{
    ClientResult, ConsumeConcurrentlyContext, ConsumeConcurrentlyStatus, ConsumeOrderlyContext,
    ConsumeOrderlyStatus, DefaultMQPushConsumer, MQPushConsumer, MessageListenerConcurrently,
    MessageListenerOrderly,
};
use rocketmq_model::common::consumer::consume_from_where::ConsumeFromWhere;
use rocketmq_model::common::message::message_ext::MessageExt;
use rocketmq_model::common::message::message_queue::MessageQueue;
use rocketmq_model::common::message::message_single::Message;
use rocketmq_protocol::protocol::heartbeat::message_model::MessageModel;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const ORDER_TOPIC: &str = "OrderTopic";
const BROADCAST_TOPIC: &str = "BroadcastTopic";
const KEYS: usize = 3;
const PER_KEY: usize = 10;

/// (queue id, body) per delivery, in delivery order.
type Seen = Arc<Mutex<Vec<(i32, String)>>>;

struct Ordered(Seen);

impl MessageListenerOrderly for Ordered {
    fn consume_message(
        &self,
        msgs: &[&MessageExt],
        _: &mut ConsumeOrderlyContext,
    ) -> ClientResult<ConsumeOrderlyStatus> {
        let mut seen = self.0.lock().unwrap();
        for m in msgs {
            let body = String::from_utf8_lossy(&common::body_of(m)).into_owned();
            seen.push((m.queue_id(), body));
        }
        Ok(ConsumeOrderlyStatus::Success)
    }
}

struct Concurrent(Seen);

impl MessageListenerConcurrently for Concurrent {
    fn consume_message(
        &self,
        msgs: &[&MessageExt],
        _: &ConsumeConcurrentlyContext,
    ) -> ClientResult<ConsumeConcurrentlyStatus> {
        let mut seen = self.0.lock().unwrap();
        for m in msgs {
            let body = String::from_utf8_lossy(&common::body_of(m)).into_owned();
            seen.push((m.queue_id(), body));
        }
        Ok(ConsumeConcurrentlyStatus::ConsumeSuccess)
    }
}

#[allow(deprecated)] // the builder needs more of the client crate; this is enough here
fn message(topic: &str, body: &str) -> Message {
    Message::with_tags(topic, "T", body.as_bytes())
}

fn bodies(seen: &Seen, prefix: &str) -> Vec<(i32, String)> {
    let seen = seen.lock().unwrap();
    seen.iter()
        .filter(|(_, b)| b.starts_with(prefix))
        .cloned()
        .collect()
}

#[test]
fn ordered_messages_stay_in_order_and_broadcasts_reach_every_member() {
    let namesrv = start_namesrv();
    let _broker = start_broker_with(
        &namesrv,
        "broker-modes",
        fresh_dir("broker-modes"),
        "ASYNC_FLUSH",
        "",
    );
    let (owner, runtime) = common::client_runtime("modes-test");
    let producer = common::start_producer(&owner, &runtime, &namesrv, "modes_producer");
    for topic in [ORDER_TOPIC, BROADCAST_TOPIC] {
        owner
            .block_on(producer.send(message(topic, "warm-up")))
            .expect("warm-up send");
        wait_for_route(&namesrv, topic);
    }

    // Like Java's, the client keeps one instance per name and a group once per instance, so
    // broadcasting members in one process need instance names of their own (clustering ones get
    // one from the client). The client reads it, as Java reads the system property, from
    // `rocketmq.client.name` when a consumer is built; nothing else reads the environment then.
    let members = std::cell::Cell::new(0);
    let start = |group: &str, topic: &str, model: MessageModel, ordered: bool, seen: &Seen| {
        members.set(members.get() + 1);
        std::env::set_var("rocketmq.client.name", format!("member-{}", members.get()));
        let (rt, ns, group, topic, seen) = (
            runtime.clone(),
            namesrv.clone(),
            group.to_owned(),
            topic.to_owned(),
            seen.clone(),
        );
        owner.block_on(async move {
            let mut c = DefaultMQPushConsumer::builder(rt)
                .consumer_group(group)
                .name_server_addr(ns)
                .message_model(model)
                .consume_from_where(ConsumeFromWhere::ConsumeFromFirstOffset)
                .build();
            c.subscribe(&topic, "*").await.expect("subscribe");
            if ordered {
                c.register_message_listener_orderly(Ordered(seen));
            } else {
                c.register_message_listener_concurrently(Concurrent(seen));
            }
            c.start().await.expect("consumer start");
            c
        })
    };
    let ordered_seen: Seen = Arc::default();
    let broadcast_seen: [Seen; 2] = [Arc::default(), Arc::default()];
    let mut consumers = vec![start(
        "ordered_group",
        ORDER_TOPIC,
        MessageModel::Clustering,
        true,
        &ordered_seen,
    )];
    for seen in &broadcast_seen {
        consumers.push(start(
            "broadcast_group",
            BROADCAST_TOPIC,
            MessageModel::Broadcasting,
            false,
            seen,
        ));
    }
    let limit = Duration::from_secs(30);
    wait_until("the orderly consumer's warm-up", limit, || {
        !bodies(&ordered_seen, "warm-up").is_empty()
    });
    for seen in &broadcast_seen {
        wait_until("each broadcast member's warm-up", limit, || {
            !bodies(seen, "warm-up").is_empty()
        });
    }

    // Keys interleaved, each key always to one queue (the usual order-id selector).
    for seq in 0..PER_KEY {
        for key in 0..KEYS {
            let selector = |queues: &[MessageQueue], _: &Message, key: &usize| {
                queues.get(key % queues.len()).cloned()
            };
            let body = format!("order {key} {seq}");
            owner
                .block_on(producer.send_with_selector(message(ORDER_TOPIC, &body), selector, key))
                .expect("selector send")
                .expect("a send result");
        }
    }
    const BROADCASTS: usize = 20;
    for i in 0..BROADCASTS {
        owner
            .block_on(producer.send(message(BROADCAST_TOPIC, &format!("bcast {i}"))))
            .expect("broadcast send");
    }

    wait_until("every ordered message", limit, || {
        bodies(&ordered_seen, "order ").len() >= KEYS * PER_KEY
    });
    let ordered = bodies(&ordered_seen, "order ");
    for key in 0..KEYS {
        let mine: Vec<&(i32, String)> = ordered
            .iter()
            .filter(|(_, b)| b.starts_with(&format!("order {key} ")))
            .collect();
        let seqs: Vec<usize> = mine
            .iter()
            .map(|(_, b)| b.rsplit(' ').next().unwrap().parse().unwrap())
            .collect();
        assert_eq!(
            seqs,
            (0..PER_KEY).collect::<Vec<_>>(),
            "key {key} out of order"
        );
        let queues: std::collections::BTreeSet<i32> = mine.iter().map(|(q, _)| *q).collect();
        assert_eq!(queues.len(), 1, "key {key} spread over queues {queues:?}");
    }

    for (member, seen) in broadcast_seen.iter().enumerate() {
        wait_until("every broadcast at each member", limit, || {
            bodies(seen, "bcast ").len() >= BROADCASTS
        });
        let mut got: Vec<String> = bodies(seen, "bcast ").into_iter().map(|(_, b)| b).collect();
        got.sort();
        got.dedup();
        assert_eq!(got.len(), BROADCASTS, "member {member} missed broadcasts");
    }

    owner.block_on(async move {
        for c in &mut consumers {
            c.shutdown().await;
        }
        let mut producer = producer;
        producer.shutdown().await;
        runtime.shutdown().await;
    });
    owner.shutdown_runtime_blocking().unwrap();
}
