//! Deleting a topic removes its queues and the offsets on them, on every core, and a crash
//! afterwards does not bring them back: a topic created again under the same name starts
//! empty, and its consumers do not resume from the old queues' offsets.

mod common;

use common::{fields, pull_from, send_v2, start_broker_with, wait_for_route, Wire};
use ringmq_protocol::message::StoredMessage;
use ringmq_protocol::{RequestCode, ResponseCode};
use rocketmq_client_rust::TopicAdmin;
use std::collections::HashSet;
use std::time::Duration;

const TOPIC: &str = "DoomedTopic";
const GROUP: &str = "doomed_group";

fn queue_field(wire: &mut Wire, code: RequestCode, queue: i32, field: &str) -> Option<String> {
    let q = queue.to_string();
    let r = wire.call(fields(
        code,
        &[
            ("consumerGroup", GROUP),
            ("topic", TOPIC),
            ("queueId", q.as_str()),
        ],
    ));
    assert_eq!(r.code, ResponseCode::SUCCESS.0, "{:?}", r.remark);
    r.fields().get(field).map(str::to_owned)
}

fn bodies(wire: &mut Wire, queue: i32) -> Vec<String> {
    let r = pull_from(wire, GROUP, TOPIC, queue, 0);
    if r.code != ResponseCode::SUCCESS.0 {
        return Vec::new();
    }
    StoredMessage::decode_all(&r.body)
        .unwrap()
        .iter()
        .map(|m| String::from_utf8_lossy(&m.body).into_owned())
        .collect()
}

#[test]
fn a_deleted_topic_comes_back_empty_even_after_a_crash() {
    let namesrv = common::start_namesrv();
    let dir = common::fresh_dir("topic-deletion");
    // Offsets are written often, so the test can see the deletion reach the file.
    let broker = start_broker_with(
        &namesrv,
        "broker-topic-deletion",
        dir,
        "SYNC_FLUSH",
        "flushConsumerOffsetInterval=200",
    );
    let mut wire = Wire::connect(&broker.addr);
    // Four queues, spread over both cores.
    for i in 0..12 {
        let r = send_v2(&mut wire, TOPIC, i % 4, "", format!("old{i}").as_bytes());
        assert_eq!(r.code, 0, "{:?}", r.remark);
    }
    for queue in 0..4 {
        let q = queue.to_string();
        let r = wire.call(fields(
            RequestCode::UPDATE_CONSUMER_OFFSET,
            &[
                ("consumerGroup", GROUP),
                ("topic", TOPIC),
                ("queueId", q.as_str()),
                ("commitOffset", "2"),
            ],
        ));
        assert_eq!(r.code, 0);
    }
    let offsets_file = broker.dir.join("store/config/consumerOffset.json");
    common::wait_until("the offsets written", Duration::from_secs(10), || {
        std::fs::read_to_string(&offsets_file).is_ok_and(|s| s.contains(TOPIC))
    });
    wait_for_route(&namesrv, TOPIC);

    // mqadmin deleteTopic's broker half, from the third-party admin.
    let (owner, runtime) = common::client_runtime("topic-deletion");
    let mut admin = common::start_admin(&owner, &runtime, &namesrv);
    owner
        .block_on(
            admin
                .delete_topic_in_broker(HashSet::from([broker.addr.as_str().into()]), TOPIC.into()),
        )
        .expect("the topic deleted");

    for queue in 0..4 {
        assert_eq!(
            queue_field(&mut wire, RequestCode::GET_MAX_OFFSET, queue, "offset").as_deref(),
            Some("0"),
            "queue {queue} is gone"
        );
        // No committed offset any more: a group starts at the beginning of the empty queue.
        assert_eq!(
            queue_field(
                &mut wire,
                RequestCode::QUERY_CONSUMER_OFFSET,
                queue,
                "offset"
            )
            .as_deref(),
            Some("0"),
            "the offset on queue {queue} is gone"
        );
    }
    common::wait_until("the offsets file forgets", Duration::from_secs(10), || {
        std::fs::read_to_string(&offsets_file).is_ok_and(|s| !s.contains(TOPIC))
    });

    // Sent to again, the topic is made anew and its queues start at 0.
    let r = send_v2(&mut wire, TOPIC, 1, "", b"new0");
    assert_eq!(r.code, 0, "{:?}", r.remark);
    assert_eq!(r.fields().get("queueOffset"), Some("0"));
    assert_eq!(bodies(&mut wire, 1), ["new0"]);
    assert_eq!(bodies(&mut wire, 0), Vec::<String>::new());
    drop(wire);
    owner.block_on(admin.shutdown());

    // A crash, and recovery from the commit log, which still holds the old records.
    let (dir, _) = broker.stop(libc::SIGKILL);
    let broker = start_broker_with(&namesrv, "broker-topic-deletion", dir, "SYNC_FLUSH", "");
    let mut wire = Wire::connect(&broker.addr);
    assert_eq!(bodies(&mut wire, 1), ["new0"]);
    for queue in [0, 2, 3] {
        assert_eq!(
            bodies(&mut wire, queue),
            Vec::<String>::new(),
            "queue {queue}"
        );
        assert_eq!(
            queue_field(&mut wire, RequestCode::GET_MAX_OFFSET, queue, "offset").as_deref(),
            Some("0")
        );
    }
    assert_eq!(
        queue_field(&mut wire, RequestCode::QUERY_CONSUMER_OFFSET, 1, "offset").as_deref(),
        Some("0")
    );
}
