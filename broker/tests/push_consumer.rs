//! A consumer group of the third-party rocketmq-client-rust push consumer against our broker:
//! heartbeats, rebalancing between members, long-polling pulls and offset commits all come from
//! code nobody here wrote.

mod common;

use common::{fields, start_broker, start_namesrv, Wire};
use ringmq_protocol::RequestCode;
use rocketmq_client_rust::{
    ClientResult, ConsumeConcurrentlyContext, ConsumeConcurrentlyStatus, DefaultMQPushConsumer,
    MQPushConsumer, MessageListenerConcurrently,
};
use rocketmq_model::common::message::message_ext::MessageExt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const TOPIC: &str = "PushTopic";
const GROUP: &str = "push_group";
const N: usize = 40;

struct Collect {
    member: usize,
    seen: Arc<Mutex<Vec<(usize, String)>>>,
}

impl MessageListenerConcurrently for Collect {
    fn consume_message(
        &self,
        msgs: &[&MessageExt],
        _: &ConsumeConcurrentlyContext,
    ) -> ClientResult<ConsumeConcurrentlyStatus> {
        let mut seen = self.seen.lock().unwrap();
        for m in msgs {
            let body = m
                .body()
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .unwrap_or_default();
            seen.push((self.member, body));
        }
        Ok(ConsumeConcurrentlyStatus::ConsumeSuccess)
    }
}

fn send(wire: &mut Wire, queue: i32, body: &str) {
    let resp = common::send_v2(wire, TOPIC, queue, "TAGS\u{1}TagA\u{2}", body.as_bytes());
    assert_eq!(resp.code, 0, "{:?}", resp.remark);
}

#[test]
fn a_push_consumer_group_of_two_receives_every_message() {
    let namesrv = start_namesrv();
    let broker = start_broker(&namesrv, "broker-push");
    let mut wire = Wire::connect(&broker.addr);
    // The topic exists (4 queues) and is routable before the consumers look it up.
    send(&mut wire, 0, "warm-up");
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut ns = Wire::connect(&namesrv);
    while ns
        .call(fields(
            RequestCode::GET_ROUTEINFO_BY_TOPIC,
            &[("topic", TOPIC)],
        ))
        .code
        != 0
    {
        assert!(Instant::now() < deadline, "topic never routable");
        std::thread::sleep(Duration::from_millis(20));
    }

    let (owner, runtime) = common::client_runtime("push-consumers");
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (rt, ns_addr, s) = (runtime.clone(), namesrv.clone(), seen.clone());
    let mut consumers = owner.block_on(async move {
        let mut consumers = Vec::new();
        for member in 0..2 {
            let mut c = DefaultMQPushConsumer::builder(rt.clone())
                .consumer_group(GROUP.to_string())
                .name_server_addr(ns_addr.clone())
                .build();
            c.subscribe(TOPIC, "*").await.expect("subscribe");
            c.register_message_listener_concurrently(Collect {
                member,
                seen: s.clone(),
            });
            c.start().await.expect("consumer start");
            consumers.push(c);
        }
        consumers
    });

    // Both members are in the group as the broker sees it.
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let list = wire.call(fields(
            RequestCode::GET_CONSUMER_LIST_BY_GROUP,
            &[("consumerGroup", GROUP)],
        ));
        if list.code == 0 && String::from_utf8_lossy(&list.body).matches('@').count() == 2 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the group never had two members: {:?}",
            String::from_utf8_lossy(&list.body)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    for i in 0..N {
        send(&mut wire, (i % 4) as i32, &format!("push {i}"));
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let got: std::collections::HashSet<String> = seen
            .lock()
            .unwrap()
            .iter()
            .map(|(_, b)| b.clone())
            .collect();
        if (0..N).all(|i| got.contains(&format!("push {i}"))) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "received only {} of {N} messages",
            got.iter().filter(|b| b.starts_with("push ")).count()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let seen_all = seen.lock().unwrap().clone();
    let pushes: Vec<&(usize, String)> = seen_all
        .iter()
        .filter(|(_, b)| b.starts_with("push "))
        .collect();
    let duplicates = pushes.len() - N;
    // Redelivery during a rebalance is allowed (at-least-once); report it rather than hide it.
    eprintln!(
        "{} deliveries for {N} messages ({duplicates} duplicates); by member: {:?}",
        pushes.len(),
        [0, 1].map(|m| pushes.iter().filter(|(x, _)| *x == m).count())
    );

    // The group's committed offsets catch up with the queues (the client commits on later pulls
    // and every few seconds).
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let mut behind = Vec::new();
        for q in 0..4 {
            let qs = q.to_string();
            let max = wire.call(fields(
                RequestCode::GET_MAX_OFFSET,
                &[("topic", TOPIC), ("queueId", &qs)],
            ));
            let committed = wire.call(fields(
                RequestCode::QUERY_CONSUMER_OFFSET,
                &[("consumerGroup", GROUP), ("topic", TOPIC), ("queueId", &qs)],
            ));
            if committed.fields().get("offset") != max.fields().get("offset") {
                behind.push((
                    q,
                    committed.fields().get("offset").map(str::to_owned),
                    max.fields().get("offset").map(str::to_owned),
                ));
            }
        }
        if behind.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "committed offsets behind the queues: {behind:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }

    owner.block_on(async move {
        for c in &mut consumers {
            c.shutdown().await;
        }
        runtime.shutdown().await;
    });
    owner.shutdown_runtime_blocking().unwrap();
}
