//! The lite pull consumer (Java's `DefaultLitePullConsumer`), through the third-party
//! rocketmq-client-rust. Like Java's 5.x client, it pulls with LITE_PULL_MESSAGE (361), not
//! PULL_MESSAGE: in subscribe mode it gets every message and a new consumer of the group resumes
//! from the offsets the first one committed; in assign mode `seek` re-reads a queue from any
//! offset. `litePullMessageEnable=false` refuses those pulls as Java does.

mod common;

use common::Wire;
use common::{fields, fresh_dir, start_broker_with, start_namesrv, wait_for_route, wait_until};
use ringmq_protocol::{RequestCode, ResponseCode};
use rocketmq_client_rust::DefaultLitePullConsumer;
use rocketmq_model::common::consumer::consume_from_where::ConsumeFromWhere;
use rocketmq_model::common::message::message_queue::MessageQueue;
use rocketmq_model::common::message::message_single::Message;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

const TOPIC: &str = "LiteTopic";
const GROUP: &str = "lite_group";

#[allow(deprecated)] // the builder needs more of the client crate; this is enough here
fn message(body: &str) -> Message {
    Message::with_tags(TOPIC, "T", body.as_bytes())
}

type Runtime = (
    rocketmq_runtime::RuntimeOwner,
    Arc<rocketmq_client_rust::ClientRuntime>,
);

/// A started lite consumer of `GROUP` with offsets committed only when asked (or at shutdown),
/// whose pulls the broker holds for a second at most.
fn lite_consumer(rt: &Runtime, namesrv: &str) -> DefaultLitePullConsumer {
    let (runtime, ns) = (rt.1.clone(), namesrv.to_owned());
    rt.0.block_on(async move {
        let c = DefaultLitePullConsumer::builder(runtime)
            .consumer_group(GROUP)
            .name_server_addr(ns)
            .consume_from_where(ConsumeFromWhere::ConsumeFromFirstOffset)
            .auto_commit(false)
            .poll_timeout_millis(500)
            // Shutdown waits for the pull in flight, which the broker may hold this long.
            .broker_suspend_max_time_millis(1000)
            .consumer_timeout_millis_when_suspend(3000)
            .build()
            .expect("build lite consumer");
        c.start().await.expect("lite consumer start");
        c
    })
}

/// Polls until `want` distinct bodies came (or 20 s passed); every body, repeats included.
fn poll_bodies(rt: &Runtime, c: &DefaultLitePullConsumer, want: usize) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut all = Vec::new();
    while all.iter().collect::<BTreeSet<_>>().len() < want && Instant::now() < deadline {
        let batch = rt.0.block_on(c.poll_with_timeout(500));
        all.extend(
            batch
                .iter()
                .map(|m| String::from_utf8_lossy(&common::body_of(m)).into_owned()),
        );
    }
    all
}

fn field(answer: &ringmq_protocol::RemotingCommand, name: &str) -> Option<i64> {
    answer.fields().get(name)?.parse().ok()
}

#[test]
fn a_lite_pull_consumer_gets_every_message_and_a_successor_resumes_from_its_commit() {
    let namesrv = start_namesrv();
    let broker = start_broker_with(
        &namesrv,
        "broker-lite",
        fresh_dir("broker-lite"),
        "ASYNC_FLUSH",
        "defaultTopicQueueNums=4",
    );
    let rt = common::client_runtime("lite-test");
    let producer = common::start_producer(&rt.0, &rt.1, &namesrv, "lite_producer");
    let send = |range: std::ops::Range<usize>| {
        for i in range {
            rt.0.block_on(producer.send(message(&format!("m-{i}"))))
                .expect("send");
        }
    };
    send(0..1);
    wait_for_route(&namesrv, TOPIC);
    send(1..40);

    let first = lite_consumer(&rt, &namesrv);
    rt.0.block_on(first.subscribe(TOPIC)).expect("subscribe");
    let got = poll_bodies(&rt, &first, 40);
    let expected: BTreeSet<String> = (0..40).map(|i| format!("m-{i}")).collect();
    assert_eq!(
        got.iter().cloned().collect::<BTreeSet<_>>(),
        expected,
        "the first consumer's messages"
    );
    assert_eq!(got.len(), 40, "no message came twice: {got:?}");
    rt.0.block_on(async {
        first.commit_all().await.expect("commit");
        first.shutdown().await;
    });
    // Shutdown writes the committed offsets to the broker (UPDATE_CONSUMER_OFFSET).
    wait_until("the offsets on the broker", Duration::from_secs(10), || {
        common::committed_total(&broker.addr, GROUP, TOPIC, 4) == 40
    });

    send(40..60);
    let second = lite_consumer(&rt, &namesrv);
    rt.0.block_on(second.subscribe(TOPIC)).expect("subscribe");
    let got = poll_bodies(&rt, &second, 20);
    let expected: BTreeSet<String> = (40..60).map(|i| format!("m-{i}")).collect();
    assert_eq!(
        got.iter().cloned().collect::<BTreeSet<_>>(),
        expected,
        "the successor resumes where the first one committed"
    );
    rt.0.block_on(second.shutdown());
}

#[test]
fn assign_and_seek_reread_a_queue_and_the_switch_refuses_lite_pulls() {
    let namesrv = start_namesrv();
    let broker = start_broker_with(
        &namesrv,
        "broker-lite-seek",
        fresh_dir("broker-lite-seek"),
        "ASYNC_FLUSH",
        "defaultTopicQueueNums=2",
    );
    let rt = common::client_runtime("lite-seek-test");
    let producer = common::start_producer(&rt.0, &rt.1, &namesrv, "lite_seek_producer");
    rt.0.block_on(producer.send(message("warm-up")))
        .expect("send");
    wait_for_route(&namesrv, TOPIC);
    // Where q1-0 will be: the warm-up may have gone to queue 1 too.
    let base = field(
        &Wire::connect(&broker.addr).call(fields(
            RequestCode::GET_MAX_OFFSET,
            &[("topic", TOPIC), ("queueId", "1")],
        )),
        "offset",
    )
    .expect("max offset of queue 1");
    // Ten messages on queue 1, through the third-party client's queue-directed send.
    let queue = MessageQueue::from_parts(TOPIC, "broker-lite-seek", 1);
    for i in 0..10 {
        rt.0.block_on(producer.send_to_queue(message(&format!("q1-{i}")), queue.clone()))
            .expect("send to queue 1");
    }

    let c = lite_consumer(&rt, &namesrv);
    // As Java users do: the queues from the client's own route lookup, then assign and seek.
    let queues =
        rt.0.block_on(c.fetch_message_queues(TOPIC))
            .expect("fetch queues");
    assert!(queues.contains(&queue), "{queues:?}");
    rt.0.block_on(c.assign(vec![queue.clone()]))
        .expect("assign");
    rt.0.block_on(c.seek(&queue, base + 4)).expect("seek");
    let got = poll_bodies(&rt, &c, 6);
    let expected: Vec<String> = (4..10).map(|i| format!("q1-{i}")).collect();
    assert_eq!(got, expected, "queue 1 from q1-4 on, in order");
    rt.0.block_on(c.seek(&queue, base + 8)).expect("seek back");
    let got = poll_bodies(&rt, &c, 2);
    assert_eq!(got, vec!["q1-8".to_owned(), "q1-9".to_owned()]);
    rt.0.block_on(c.shutdown());

    // Java's switch for the lite consumer: its pulls are refused, ordinary ones still served.
    let mut wire = Wire::connect(&broker.addr);
    let set = wire.call(
        fields(RequestCode::UPDATE_BROKER_CONFIG, &[])
            .with_body(b"litePullMessageEnable=false\n".to_vec()),
    );
    assert_eq!(set.code, 0, "{:?}", set.remark);
    let pull = |code| {
        fields(
            code,
            &[
                ("consumerGroup", GROUP),
                ("topic", TOPIC),
                ("queueId", "1"),
                ("queueOffset", "0"),
                ("maxMsgNums", "32"),
                ("sysFlag", "2"),
                ("commitOffset", "0"),
                ("suspendTimeoutMillis", "0"),
                ("subVersion", "0"),
            ],
        )
    };
    let refused = wire.call(pull(RequestCode::LITE_PULL_MESSAGE));
    assert_eq!(refused.code, ResponseCode::NO_PERMISSION.0);
    assert!(
        refused
            .remark
            .as_deref()
            .is_some_and(|r| r.contains("lite pull consumer is forbidden")),
        "{:?}",
        refused.remark
    );
    assert_eq!(field(&refused, "forbiddenType"), Some(1));
    let served = wire.call(pull(RequestCode::PULL_MESSAGE));
    assert_eq!(served.code, ResponseCode::SUCCESS.0, "{:?}", served.remark);
}
