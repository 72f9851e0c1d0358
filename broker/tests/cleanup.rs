//! Deleting stored data on the admin's request, on both cores, through the third-party admin:
//! a deleted topic's queues and offsets (and a crash afterwards does not bring them back), the
//! queues of topics the broker no longer has, and expired segments and the queues they emptied.

mod common;

use common::{fields, pull_from, send_v2, start_broker_with, wait_for_route, Wire};
use ringmq_protocol::message::StoredMessage;
use ringmq_protocol::{RequestCode, ResponseCode};
use rocketmq_client_rust::{ConsumerAdmin, OffsetAdmin, TopicAdmin};
use std::collections::HashSet;
use std::time::Duration;

const TOPIC: &str = "DoomedTopic";
const GROUP: &str = "doomed_group";

fn queue_field(wire: &mut Wire, code: RequestCode, queue: i32, field: &str) -> Option<String> {
    queue_field_of(wire, TOPIC, code, queue, field)
}

fn queue_field_of(
    wire: &mut Wire,
    topic: &str,
    code: RequestCode,
    queue: i32,
    field: &str,
) -> Option<String> {
    let q = queue.to_string();
    let r = wire.call(fields(
        code,
        &[
            ("consumerGroup", GROUP),
            ("topic", topic),
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

fn max_offset(wire: &mut Wire, topic: &str, queue: i32) -> i64 {
    queue_field_of(wire, topic, RequestCode::GET_MAX_OFFSET, queue, "offset")
        .and_then(|o| o.parse().ok())
        .expect("an offset")
}

fn send_each_queue(wire: &mut Wire, topic: &str, rounds: usize, body: &[u8]) {
    for _ in 0..rounds {
        for queue in 0..4 {
            let r = send_v2(wire, topic, queue, "", body);
            assert_eq!(r.code, 0, "{:?}", r.remark);
        }
    }
}

#[test]
fn queues_of_topics_without_a_config_are_cleaned_on_request() {
    let namesrv = common::start_namesrv();
    let broker = common::start_broker(&namesrv, "broker-unused-topics");
    let mut wire = Wire::connect(&broker.addr);
    send_each_queue(&mut wire, "Forgotten", 3, b"f");
    send_each_queue(&mut wire, "Remembered", 2, b"r");
    drop(wire);
    // The topic table is lost; the queues stay on disk.
    let (dir, status) = broker.stop(libc::SIGTERM);
    assert!(status.success());
    for copy in ["topics.json", "topics.json.bak"] {
        let _ = std::fs::remove_file(dir.join("store/config").join(copy));
    }
    let broker = start_broker_with(&namesrv, "broker-unused-topics", dir, "ASYNC_FLUSH", "");
    let mut wire = Wire::connect(&broker.addr);
    let created = wire.call(fields(
        RequestCode::UPDATE_AND_CREATE_TOPIC,
        &[
            ("topic", "Remembered"),
            ("defaultTopic", "TBW102"),
            ("readQueueNums", "4"),
            ("writeQueueNums", "4"),
            ("perm", "6"),
            ("topicFilterType", "SINGLE_TAG"),
            ("order", "false"),
        ],
    ));
    assert_eq!(created.code, 0, "{:?}", created.remark);
    assert_eq!(max_offset(&mut wire, "Forgotten", 0), 3);

    let (owner, runtime) = common::client_runtime("unused-topics");
    let mut admin = common::start_admin(&owner, &runtime, &namesrv);
    let cleaned = owner.block_on(admin.clean_unused_topic_by_addr(broker.addr.as_str().into()));
    assert!(cleaned.expect("cleanUnusedTopic answered"));
    for queue in 0..4 {
        assert_eq!(
            max_offset(&mut wire, "Forgotten", queue),
            0,
            "queue {queue}"
        );
        assert_eq!(
            max_offset(&mut wire, "Remembered", queue),
            2,
            "queue {queue}"
        );
    }
    owner.block_on(admin.shutdown());
}

#[test]
fn expired_segments_and_the_queues_they_emptied_are_deleted_on_request() {
    let namesrv = common::start_namesrv();
    let dir = common::fresh_dir("expired-cleanup");
    // Small segments, so a few hundred KiB seal some on both shards; an hour's reserve.
    let broker = start_broker_with(
        &namesrv,
        "broker-expired-cleanup",
        dir,
        "ASYNC_FLUSH",
        "mappedFileSizeCommitLog=262144\nmaxMessageSize=65536\nfileReservedTime=1",
    );
    let mut wire = Wire::connect(&broker.addr);
    let body = vec![b'x'; 1024];
    send_each_queue(&mut wire, "Early", 5, &body);
    send_each_queue(&mut wire, "Late", 400, &body);
    let (owner, runtime) = common::client_runtime("expired-cleanup");
    let mut admin = common::start_admin(&owner, &runtime, &namesrv);
    let addr = || broker.addr.as_str().into();

    // Nothing has expired yet: both requests delete nothing.
    assert!(owner
        .block_on(admin.delete_expired_commit_log_by_addr(addr()))
        .unwrap());
    assert!(owner
        .block_on(admin.clean_expired_consumer_queue_by_addr(addr()))
        .unwrap());
    assert_eq!(max_offset(&mut wire, "Early", 0), 5);
    assert_eq!(min_offset(&mut wire, "Late", 0), 0);

    // Every segment last written two hours ago: all but each shard's active one go now, not at
    // `deleteWhen`.
    let two_hours_ago = std::time::SystemTime::now() - Duration::from_secs(7200);
    for shard in std::fs::read_dir(broker.dir.join("store"))
        .unwrap()
        .flatten()
    {
        let Ok(segments) = std::fs::read_dir(shard.path().join("commitlog")) else {
            continue;
        };
        for segment in segments.flatten() {
            std::fs::File::options()
                .write(true)
                .open(segment.path())
                .unwrap()
                .set_modified(two_hours_ago)
                .unwrap();
        }
    }
    assert!(owner
        .block_on(admin.delete_expired_commit_log_by_addr(addr()))
        .unwrap());
    for queue in 0..4 {
        assert!(min_offset(&mut wire, "Late", queue) > 0, "queue {queue}");
        // Early's records are all gone, but its queues still stand until they are cleaned.
        assert_eq!(max_offset(&mut wire, "Early", queue), 5);
    }
    assert!(owner
        .block_on(admin.clean_expired_consumer_queue_by_addr(addr()))
        .unwrap());
    for queue in 0..4 {
        assert_eq!(max_offset(&mut wire, "Early", queue), 0, "queue {queue}");
        assert_eq!(max_offset(&mut wire, "Late", queue), 400, "queue {queue}");
        let tail = pull_from(&mut wire, GROUP, "Late", queue, 399);
        assert_eq!(tail.code, ResponseCode::SUCCESS.0);
    }
    owner.block_on(admin.shutdown());
}

fn min_offset(wire: &mut Wire, topic: &str, queue: i32) -> i64 {
    queue_field_of(wire, topic, RequestCode::GET_MIN_OFFSET, queue, "offset")
        .and_then(|o| o.parse().ok())
        .expect("an offset")
}
