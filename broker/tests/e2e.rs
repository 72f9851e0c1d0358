//! The real broker binary with a name server, driven by the third-party rocketmq-client-rust
//! producer and by raw frames: route discovery, topic auto-creation from TBW102, sends, pulls,
//! long polling, offsets and refusals.

mod common;

use common::{fields, start_broker, start_broker_in, start_namesrv, wait_for_route, Wire};
use ringmq_protocol::body::{ConsumeStats, TopicStatsTable};
use ringmq_protocol::header::pull::PullMessageRequestHeader;
use ringmq_protocol::json;
use ringmq_protocol::message::StoredMessage;
use ringmq_protocol::{RemotingCommand, RequestCode, ResponseCode};
use std::time::{Duration, Instant};

fn pull(topic: &str, queue: i32, offset: i64, suspend_ms: i64) -> RemotingCommand {
    let h = PullMessageRequestHeader {
        consumer_group: "e2e_group".into(),
        topic: topic.into(),
        queue_id: queue,
        queue_offset: offset,
        max_msg_nums: 32,
        sys_flag: if suspend_ms > 0 { 2 } else { 0 },
        commit_offset: 0,
        suspend_timeout_millis: suspend_ms,
        sub_version: 0,
        ..Default::default()
    };
    RemotingCommand::request_with(RequestCode::PULL_MESSAGE, 0, &h)
}

fn send_raw(wire: &mut Wire, topic: &str, queue: i32, body: &[u8]) -> RemotingCommand {
    common::send_v2(wire, topic, queue, "TAGS\u{1}raw\u{2}", body)
}

#[test]
fn a_third_party_producer_sends_and_messages_come_back_from_pulls() {
    let namesrv = start_namesrv();
    let broker = start_broker(&namesrv, "broker-e2e");
    wait_for_route(&namesrv, "TBW102");

    let (owner, runtime) = common::client_runtime("e2e-producer");
    const N: usize = 40;
    let ns = namesrv.clone();
    let rt = runtime.clone();
    let sent = owner.block_on(async move {
        let mut producer = rocketmq_client_rust::DefaultMQProducer::builder(rt)
            .producer_group("e2e_producer_group")
            .name_server_addr(ns.as_str())
            .build();
        producer.start().await.expect("producer start");
        let mut sent = Vec::new();
        for i in 0..N {
            #[allow(deprecated)] // the builder needs more of the client crate; this is enough here
            let msg = rocketmq_model::common::message::message_single::Message::with_tags(
                "E2eTopic",
                "TagA",
                format!("hello {i}").as_bytes(),
            );
            let result = producer
                .send(msg)
                .await
                .expect("send")
                .expect("a send result");
            assert_eq!(result.send_status, rocketmq_client_rust::SendStatus::SendOk);
            sent.push(result);
        }
        producer.shutdown().await;
        sent
    });
    owner.block_on(async move {
        runtime.shutdown().await;
    });
    owner.shutdown_runtime_blocking().unwrap();
    assert_eq!(sent.len(), N);

    // The topic was created from TBW102 with the producer's 4 queues and registered.
    wait_for_route(&namesrv, "E2eTopic");
    let mut wire = Wire::connect(&broker.addr);
    let mut bodies = Vec::new();
    let mut total = 0;
    for q in 0..4 {
        let max = wire.call(fields(
            RequestCode::GET_MAX_OFFSET,
            &[("topic", "E2eTopic"), ("queueId", &q.to_string())],
        ));
        let count: i64 = max.fields().get("offset").unwrap().parse().unwrap();
        total += count;
        if count == 0 {
            continue;
        }
        let resp = wire.call(pull("E2eTopic", q, 0, 0));
        assert_eq!(resp.code, 0, "{:?}", resp.remark);
        assert_eq!(
            resp.fields().get("nextBeginOffset"),
            Some(count.to_string().as_str())
        );
        for m in StoredMessage::decode_all(&resp.body).unwrap() {
            assert_eq!(m.topic, "E2eTopic");
            assert_eq!(m.properties().tags(), Some("TagA"));
            assert_eq!(
                m.properties().get("CLUSTER"),
                Some("DefaultCluster"),
                "the broker adds the cluster, as Java"
            );
            bodies.push(String::from_utf8(m.body.to_vec()).unwrap());
        }
    }
    assert_eq!(total, N as i64);
    bodies.sort();
    let mut want: Vec<String> = (0..N).map(|i| format!("hello {i}")).collect();
    want.sort();
    assert_eq!(bodies, want);
    // The msgIds the producer got point at the stored records.
    for r in sent.iter().take(3) {
        // msg_id is the client's unique key; offset_msg_id is the id the broker answered with.
        let id: ringmq_protocol::message::MessageId = r
            .offset_msg_id
            .as_deref()
            .expect("the broker's msgId")
            .parse()
            .unwrap();
        let view = wire.call(fields(
            RequestCode::VIEW_MESSAGE_BY_ID,
            &[("offset", &id.commit_log_offset.to_string())],
        ));
        assert_eq!(view.code, 0, "{:?}", view.remark);
        assert!(
            String::from_utf8_lossy(&StoredMessage::decode(&view.body).unwrap().0.body)
                .starts_with("hello ")
        );
    }
}

#[test]
fn a_held_pull_is_answered_as_soon_as_a_message_arrives() {
    let namesrv = start_namesrv();
    let broker = start_broker(&namesrv, "broker-lp");
    let mut wire = Wire::connect(&broker.addr);
    assert_eq!(send_raw(&mut wire, "LongPoll", 0, b"first").code, 0);
    let addr = broker.addr.clone();
    let held = std::thread::spawn(move || {
        let mut w = Wire::connect(&addr);
        let started = Instant::now();
        let resp = w.call(pull("LongPoll", 0, 1, 10_000));
        (resp, started.elapsed())
    });
    std::thread::sleep(Duration::from_millis(300));
    let sent_at = Instant::now();
    assert_eq!(send_raw(&mut wire, "LongPoll", 0, b"second").code, 0);
    let (resp, waited) = held.join().unwrap();
    assert_eq!(resp.code, 0, "{:?}", resp.remark);
    let msgs = StoredMessage::decode_all(&resp.body).unwrap();
    assert_eq!(&msgs[0].body[..], b"second");
    assert!(
        waited >= Duration::from_millis(250),
        "the pull was held: {waited:?}"
    );
    assert!(
        sent_at.elapsed() < Duration::from_secs(2),
        "answered when the message arrived, not at the timeout"
    );

    // With nothing arriving, a held pull ends at its timeout with PULL_NOT_FOUND.
    let started = Instant::now();
    let resp = wire.call(pull("LongPoll", 0, 2, 300));
    assert_eq!(resp.code, ResponseCode::PULL_NOT_FOUND.0);
    assert!(started.elapsed() >= Duration::from_millis(250));
}

#[test]
fn bad_requests_get_java_codes_and_offsets_round_trip() {
    let namesrv = start_namesrv();
    let broker = start_broker(&namesrv, "broker-bad");
    let mut wire = Wire::connect(&broker.addr);
    let unknown = wire.call(RemotingCommand::request(RequestCode(4242), 0));
    assert_eq!(
        (unknown.code, unknown.remark.as_deref()),
        (3, Some(" request type 4242 not supported"))
    );
    let too_big = send_raw(&mut wire, "Big", 0, &vec![b'x'; 4 * 1024 * 1024 + 1]);
    assert_eq!(
        too_big.code,
        ResponseCode::MESSAGE_ILLEGAL.0,
        "{:?}",
        too_big.remark
    );
    let bad_topic = send_raw(&mut wire, "bad topic!", 0, b"x");
    assert_eq!(bad_topic.code, ResponseCode::SYSTEM_ERROR.0);
    assert!(bad_topic.remark.unwrap().contains("illegal characters"));
    let no_topic = wire.call(pull("NoSuchTopic", 0, 0, 0));
    assert_eq!(no_topic.code, ResponseCode::TOPIC_NOT_EXIST.0);
    // A topic made write-only (perm 2) takes sends and refuses pulls, saying which permission.
    let created = wire.call(fields(
        RequestCode::UPDATE_AND_CREATE_TOPIC,
        &[
            ("topic", "WriteOnly"),
            ("defaultTopic", "TBW102"),
            ("readQueueNums", "1"),
            ("writeQueueNums", "1"),
            ("perm", "2"),
            ("topicFilterType", "SINGLE_TAG"),
            ("order", "false"),
        ],
    ));
    assert_eq!(created.code, 0, "{:?}", created.remark);
    assert_eq!(send_raw(&mut wire, "WriteOnly", 0, b"x").code, 0);
    let unreadable = wire.call(pull("WriteOnly", 0, 0, 0));
    assert_eq!(
        (unreadable.code, unreadable.remark.as_deref()),
        (
            ResponseCode::NO_PERMISSION.0,
            Some("the topic[WriteOnly] pulling message is forbidden")
        )
    );
    assert_eq!(unreadable.fields().get("forbiddenType"), Some("3"));
    // System topics are the broker's own: the admin may neither create nor delete them.
    let conflict = |topic: &str| {
        (
            ResponseCode::SYSTEM_ERROR.0,
            Some(format!("The topic[{topic}] is conflict with system topic.")),
        )
    };
    let create = wire.call(fields(
        RequestCode::UPDATE_AND_CREATE_TOPIC,
        &[
            ("topic", "SCHEDULE_TOPIC_XXXX"),
            ("defaultTopic", "TBW102"),
            ("readQueueNums", "1"),
            ("writeQueueNums", "1"),
            ("perm", "6"),
            ("topicFilterType", "SINGLE_TAG"),
            ("order", "false"),
        ],
    ));
    assert_eq!(
        (create.code, create.remark),
        conflict("SCHEDULE_TOPIC_XXXX")
    );
    let delete = wire.call(fields(
        RequestCode::DELETE_TOPIC_IN_BROKER,
        &[("topic", "TBW102")],
    ));
    assert_eq!((delete.code, delete.remark), conflict("TBW102"));
    // TBW102 is still there: a new topic is still made from it on its first send.
    assert_eq!(send_raw(&mut wire, "AfterRefusedDelete", 0, b"x").code, 0);

    assert_eq!(send_raw(&mut wire, "Offsets", 1, b"x").code, 0);
    let q = |w: &mut Wire| {
        w.call(fields(
            RequestCode::QUERY_CONSUMER_OFFSET,
            &[
                ("consumerGroup", "g1"),
                ("topic", "Offsets"),
                ("queueId", "1"),
            ],
        ))
    };
    // A new group on a queue whose first message is still there starts at 0.
    assert_eq!(q(&mut wire).fields().get("offset"), Some("0"));
    let upd = wire.call(fields(
        RequestCode::UPDATE_CONSUMER_OFFSET,
        &[
            ("consumerGroup", "g1"),
            ("topic", "Offsets"),
            ("queueId", "1"),
            ("commitOffset", "1"),
        ],
    ));
    assert_eq!(upd.code, 0);
    assert_eq!(q(&mut wire).fields().get("offset"), Some("1"));

    // What mqadmin's consumerProgress and topicStatus show.
    let stats = wire.call(fields(
        RequestCode::GET_CONSUME_STATS,
        &[("consumerGroup", "g1")],
    ));
    assert_eq!(stats.code, 0);
    let stats: ConsumeStats = json::from_slice(&stats.body).unwrap();
    let q1 = stats
        .offset_table
        .iter()
        .find(|(mq, _)| mq.topic == "Offsets" && mq.queue_id == 1)
        .unwrap()
        .1;
    assert_eq!((q1.broker_offset, q1.consumer_offset), (1, 1));
    assert!(
        q1.last_timestamp > 0,
        "the last consumed message's store time"
    );
    let topic = wire.call(fields(
        RequestCode::GET_TOPIC_STATS_INFO,
        &[("topic", "Offsets")],
    ));
    let topic: TopicStatsTable = json::from_slice(&topic.body).unwrap();
    let q1 = topic
        .offset_table
        .iter()
        .find(|(mq, _)| mq.queue_id == 1)
        .unwrap()
        .1;
    assert_eq!((q1.min_offset, q1.max_offset), (0, 1));
    assert!(q1.last_update_timestamp > 0);
    let missing = wire.call(fields(
        RequestCode::GET_TOPIC_STATS_INFO,
        &[("topic", "Nope")],
    ));
    assert_eq!(
        (missing.code, missing.remark.as_deref()),
        (
            ResponseCode::TOPIC_NOT_EXIST.0,
            Some("topic[Nope] not exist")
        )
    );
}

#[test]
fn sigterm_stops_cleanly_and_a_restart_keeps_messages_offsets_and_topics() {
    let namesrv = start_namesrv();
    let broker = start_broker(&namesrv, "broker-term");
    let mut wire = Wire::connect(&broker.addr);
    for i in 0..20 {
        assert_eq!(
            send_raw(&mut wire, "Durable", i % 2, format!("m{i}").as_bytes()).code,
            0
        );
    }
    let commit = wire.call(fields(
        RequestCode::UPDATE_CONSUMER_OFFSET,
        &[
            ("consumerGroup", "g"),
            ("topic", "Durable"),
            ("queueId", "0"),
            ("commitOffset", "7"),
        ],
    ));
    assert_eq!(commit.code, 0);
    wait_for_route(&namesrv, "Durable");
    drop(wire);

    let (dir, status) = broker.stop(libc::SIGTERM);
    assert!(status.success(), "graceful shutdown exits 0: {status:?}");
    // It left the name server: its topics have no route any more.
    let mut ns = Wire::connect(&namesrv);
    assert_eq!(
        ns.call(fields(
            RequestCode::GET_ROUTEINFO_BY_TOPIC,
            &[("topic", "Durable")]
        ))
        .code,
        ResponseCode::TOPIC_NOT_EXIST.0
    );

    let broker = start_broker_in(&namesrv, "broker-term", dir, "ASYNC_FLUSH");
    let mut wire = Wire::connect(&broker.addr);
    let offset = wire.call(fields(
        RequestCode::QUERY_CONSUMER_OFFSET,
        &[
            ("consumerGroup", "g"),
            ("topic", "Durable"),
            ("queueId", "0"),
        ],
    ));
    assert_eq!(offset.fields().get("offset"), Some("7"));
    let resp = wire.call(pull("Durable", 1, 0, 0));
    let bodies: Vec<String> = StoredMessage::decode_all(&resp.body)
        .unwrap()
        .iter()
        .map(|m| String::from_utf8_lossy(&m.body).into_owned())
        .collect();
    assert_eq!(
        bodies,
        (0..20)
            .filter(|i| i % 2 == 1)
            .map(|i| format!("m{i}"))
            .collect::<Vec<_>>()
    );
    let topics = wire.call(RemotingCommand::request(
        RequestCode::GET_ALL_TOPIC_CONFIG,
        0,
    ));
    assert!(String::from_utf8_lossy(&topics.body).contains("\"Durable\""));
    wait_for_route(&namesrv, "Durable");
}

#[test]
fn sigkill_under_sync_flush_loses_no_acknowledged_send() {
    let namesrv = start_namesrv();
    let dir = std::env::temp_dir().join(format!("ringmq-broker-e2e-kill-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let broker = start_broker_in(&namesrv, "broker-kill", dir, "SYNC_FLUSH");
    // Several connections sending concurrently; acknowledgements are collected until the kill.
    let acked = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let senders: Vec<_> = (0..4)
        .map(|t| {
            let (addr, acked, stop) = (broker.addr.clone(), acked.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut w = Wire::connect(&addr);
                w.stream
                    .set_read_timeout(Some(Duration::from_secs(2)))
                    .unwrap();
                for i in 0.. {
                    if stop.load(std::sync::atomic::Ordering::SeqCst) {
                        break;
                    }
                    let body = format!("t{t}-{i}");
                    // A send cut by the kill panics inside call(); that one was never acknowledged.
                    let Ok(resp) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        send_raw(&mut w, "KillMe", t, body.as_bytes())
                    })) else {
                        break;
                    };
                    assert_eq!(resp.code, 0, "{:?}", resp.remark);
                    acked.lock().unwrap().push((t, body));
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(700));
    let (dir, _) = broker.stop(libc::SIGKILL);
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    for s in senders {
        let _ = s.join();
    }
    let acked = acked.lock().unwrap().clone();
    assert!(
        acked.len() > 20,
        "only {} sends were acknowledged",
        acked.len()
    );

    let broker = start_broker_in(&namesrv, "broker-kill", dir, "SYNC_FLUSH");
    let mut wire = Wire::connect(&broker.addr);
    let mut stored = std::collections::HashSet::new();
    for q in 0..4 {
        let mut offset = 0;
        loop {
            let resp = wire.call(pull("KillMe", q, offset, 0));
            if resp.code != 0 {
                break;
            }
            for m in StoredMessage::decode_all(&resp.body).unwrap() {
                assert!(m.crc_matches());
                stored.insert((q, String::from_utf8_lossy(&m.body).into_owned()));
            }
            offset = resp
                .fields()
                .get("nextBeginOffset")
                .unwrap()
                .parse()
                .unwrap();
        }
    }
    for (q, body) in &acked {
        assert!(
            stored.contains(&(*q, body.clone())),
            "acknowledged message {body} on queue {q} was lost"
        );
    }
}

#[test]
fn a_sync_flush_that_misses_its_timeout_is_answered_flush_disk_timeout_and_kept() {
    let namesrv = start_namesrv();
    // syncFlushTimeout=0: no send waits for its flush, so every one is stored but not yet
    // durable when answered, as after a stalled disk.
    let broker = common::start_broker_with(
        &namesrv,
        "broker-flush-timeout",
        common::fresh_dir("broker-flush-timeout"),
        "SYNC_FLUSH",
        "syncFlushTimeout=0\n",
    );
    wait_for_route(&namesrv, "TBW102");
    let (owner, runtime) = common::client_runtime("flush-timeout-producer");
    let mut producer = common::start_producer(&owner, &runtime, &namesrv, "flush_timeout_group");
    #[allow(deprecated)] // the builder needs more of the client crate; this is enough here
    let msg = rocketmq_model::common::message::message_single::Message::with_tags(
        "SlowDisk", "T", b"kept",
    );
    let sent = owner
        .block_on(producer.send(msg))
        .expect("a FLUSH_DISK_TIMEOUT answer is a result, not an error")
        .expect("a send result");
    assert_eq!(
        sent.send_status,
        rocketmq_client_rust::SendStatus::FlushDiskTimeout
    );
    let queue = sent.message_queue.as_ref().expect("the queue").queue_id();
    owner.block_on(async move {
        producer.shutdown().await;
        runtime.shutdown().await;
    });
    owner.shutdown_runtime_blocking().unwrap();
    // The message was stored all the same, where the answer said.
    let mut wire = Wire::connect(&broker.addr);
    let resp = wire.call(pull("SlowDisk", queue, sent.queue_offset as i64, 0));
    assert_eq!(resp.code, 0, "{:?}", resp.remark);
    let msgs = StoredMessage::decode_all(&resp.body).unwrap();
    assert_eq!(msgs[0].body.as_ref(), b"kept");
}
