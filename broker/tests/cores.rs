//! The broker on several cores. Each core owns some of the store's shards; a request reaches the
//! queue it names whichever core accepted its connection. The shard count is fixed when the
//! store is created, so the same store must open on fewer or more cores with its messages,
//! committed offsets and topics in place.

mod common;

use common::{fields, fresh_dir, start_broker_with, start_namesrv, wait_for_route, Broker, Wire};
use ringmq_protocol::body::ConsumeStats;
use ringmq_protocol::json;
use ringmq_protocol::message::{MessageId, StoredMessage};
use ringmq_protocol::RequestCode;
use std::collections::BTreeMap;

const TOPIC: &str = "Spread";
const QUEUES: i32 = 8;
const SHARDS: u32 = 4;
const GROUP: &str = "cores_group";

/// What the broker must show after every restart.
struct Expected {
    /// Bodies per queue, in queue order.
    bodies: BTreeMap<i32, Vec<String>>,
    /// Committed offset per queue.
    committed: BTreeMap<i32, i64>,
    /// The offset msgIds the producer got, with their bodies.
    ids: Vec<(MessageId, String)>,
}

fn pull_all(wire: &mut Wire, queue: i32) -> Vec<String> {
    let resp = common::pull_from(wire, GROUP, TOPIC, queue, 0);
    assert_eq!(resp.code, 0, "pull of queue {queue}: {:?}", resp.remark);
    StoredMessage::decode_all(&resp.body)
        .unwrap()
        .into_iter()
        .map(|m| String::from_utf8(m.body.to_vec()).unwrap())
        .collect()
}

/// Checks everything in `want` over several connections, so that (with SO_REUSEPORT spreading
/// them) requests arrive on cores that do not own the queue they name.
fn check(broker: &Broker, want: &Expected, cores: usize) {
    let mut wires: Vec<Wire> = (0..4).map(|_| Wire::connect(&broker.addr)).collect();
    for (i, (queue, bodies)) in want.bodies.iter().enumerate() {
        let wire = &mut wires[i % 4];
        assert_eq!(
            &pull_all(wire, *queue),
            bodies,
            "queue {queue} on {cores} cores"
        );
        let q = queue.to_string();
        let committed = wire.call(fields(
            RequestCode::QUERY_CONSUMER_OFFSET,
            &[("consumerGroup", GROUP), ("topic", TOPIC), ("queueId", &q)],
        ));
        assert_eq!(
            committed.fields().get("offset"),
            Some(want.committed[queue].to_string().as_str()),
            "committed offset of queue {queue} on {cores} cores"
        );
    }
    for (i, (id, body)) in want.ids.iter().enumerate() {
        let view = wires[i % 4].call(fields(
            RequestCode::VIEW_MESSAGE_BY_ID,
            &[("offset", &id.commit_log_offset.to_string())],
        ));
        assert_eq!(view.code, 0, "{:?}", view.remark);
        let (msg, _) = StoredMessage::decode(&view.body).unwrap();
        assert_eq!(&String::from_utf8_lossy(&msg.body), body);
    }
    // Consume stats gather every core's queues and offsets.
    let stats = wires[0].call(fields(
        RequestCode::GET_CONSUME_STATS,
        &[("consumerGroup", GROUP), ("topic", TOPIC)],
    ));
    assert_eq!(stats.code, 0, "{:?}", stats.remark);
    let stats: ConsumeStats = json::from_slice(&stats.body).unwrap();
    let seen: BTreeMap<i32, (i64, i64)> = stats
        .offset_table
        .iter()
        .map(|(mq, o)| (mq.queue_id, (o.broker_offset, o.consumer_offset)))
        .collect();
    let expected: BTreeMap<i32, (i64, i64)> = want
        .bodies
        .iter()
        .map(|(q, b)| (*q, (b.len() as i64, want.committed[q])))
        .collect();
    assert_eq!(seen, expected, "consume stats on {cores} cores");
}

fn start(namesrv: &str, dir: std::path::PathBuf, cores: usize) -> Broker {
    start_broker_with(
        namesrv,
        "broker-cores",
        dir,
        "ASYNC_FLUSH",
        &format!("cores={cores}\nshards={SHARDS}\n"),
    )
}

#[test]
fn a_store_reopens_on_fewer_or_more_cores_with_everything_in_place() {
    // The topic's queues sit in shards of both cores of the first start.
    let owners: std::collections::BTreeSet<u32> = (0..QUEUES)
        .map(|q| ringmq_storage::store::shard_of(TOPIC, q, SHARDS) % 2)
        .collect();
    assert_eq!(owners.len(), 2, "the test needs queues on both cores");

    let namesrv = start_namesrv();
    let broker = start(&namesrv, fresh_dir("cores"), 2);
    let mut wire = Wire::connect(&broker.addr);
    let n = QUEUES.to_string();
    let created = wire.call(fields(
        RequestCode::UPDATE_AND_CREATE_TOPIC,
        &[
            ("topic", TOPIC),
            ("defaultTopic", "TBW102"),
            ("readQueueNums", &n),
            ("writeQueueNums", &n),
            ("perm", "6"),
            ("topicFilterType", "SINGLE_TAG"),
            ("order", "false"),
        ],
    ));
    assert_eq!(created.code, 0, "{:?}", created.remark);
    wait_for_route(&namesrv, TOPIC);

    // A third-party producer spreads 48 messages over the queues.
    let (owner, runtime) = common::client_runtime("cores-producer");
    let mut producer = common::start_producer(&owner, &runtime, &namesrv, "cores_producer");
    let mut ids = Vec::new();
    for i in 0..48 {
        let body = format!("spread {i}");
        #[allow(deprecated)] // the builder needs more of the client crate; this is enough here
        let msg = rocketmq_model::common::message::message_single::Message::with_tags(
            TOPIC,
            "T",
            body.as_bytes(),
        );
        let sent = owner
            .block_on(producer.send(msg))
            .expect("send")
            .expect("a send result");
        let id: MessageId = sent.offset_msg_id.as_deref().unwrap().parse().unwrap();
        ids.push((id, body));
    }
    owner.block_on(async move {
        producer.shutdown().await;
        runtime.shutdown().await;
    });
    owner.shutdown_runtime_blocking().unwrap();

    // What each queue holds, and a committed offset half-way through each.
    let mut bodies = BTreeMap::new();
    let mut committed = BTreeMap::new();
    for q in 0..QUEUES {
        let got = pull_all(&mut wire, q);
        let half = (got.len() / 2) as i64;
        let commit = wire.call(fields(
            RequestCode::UPDATE_CONSUMER_OFFSET,
            &[
                ("consumerGroup", GROUP),
                ("topic", TOPIC),
                ("queueId", &q.to_string()),
                ("commitOffset", &half.to_string()),
            ],
        ));
        assert_eq!(commit.code, 0, "{:?}", commit.remark);
        committed.insert(q, half);
        bodies.insert(q, got);
    }
    let total: usize = bodies.values().map(Vec::len).sum();
    assert_eq!(total, 48, "every message stored once");
    assert!(
        bodies.values().filter(|b| !b.is_empty()).count() > 1,
        "the producer spread its messages"
    );
    let want = Expected {
        bodies,
        committed,
        ids,
    };
    check(&broker, &want, 2);
    drop(wire);

    // The same store on one core, on three (owning shards {0, 3}, {1} and {2}) and on two
    // again, each after a graceful stop.
    let mut broker = broker;
    for cores in [1, 3, 2] {
        let (dir, status) = broker.stop(libc::SIGTERM);
        assert!(status.success(), "graceful stop: {status:?}");
        broker = start(&namesrv, dir, cores);
        check(&broker, &want, cores);
    }
}
