//! The binary (ROCKETMQ) header encoding end to end, driven by the third-party
//! rocketmq-client-rust set up the way `-Drocketmq.serialize.type=ROCKETMQ` sets up the Java
//! client: a producer sends single messages and a batch, a push consumer receives every one of
//! them with its tags and keys and commits its offsets, and the admin reads topic and consume
//! stats.
//!
//! A tap between the client and each server decodes every frame, so the test fails if the client
//! quietly fell back to JSON headers or if a server answered a binary request in JSON. The broker
//! is bound to 127.0.0.1 and advertises 127.0.0.2 (`bindAddress` / `brokerIP1`): the tap listens
//! on the advertised address and every client connection to the broker goes through it.

mod common;

use bytes::BytesMut;
use common::{fresh_dir, start_broker_with, start_namesrv, wait_for_route, wait_until};
use ringmq_protocol::{FrameDecoder, RequestCode, SerializeType};
use rocketmq_client_rust::{
    ClientResult, ConsumeConcurrentlyContext, ConsumeConcurrentlyStatus, ConsumerAdmin,
    DefaultMQPushConsumer, MQPushConsumer, MessageListenerConcurrently, TopicAdmin,
};
use rocketmq_model::common::consumer::consume_from_where::ConsumeFromWhere;
use rocketmq_model::common::message::message_ext::MessageExt;
use rocketmq_model::common::message::message_single::Message;
use rocketmq_protocol::protocol::remoting_command_defaults::{
    RemotingCommandDefaults, RemotingCommandFactory,
};
use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const TOPIC: &str = "BinaryHeaderTopic";
const GROUP: &str = "binary_header_group";
const SINGLES: usize = 16;
const BATCH: usize = 8;

/// One frame that crossed a tap.
#[derive(Debug, Clone)]
struct Frame {
    /// Client to server.
    upstream: bool,
    serialize: SerializeType,
    response: bool,
    code: i32,
}

type Frames = Arc<Mutex<Vec<Result<Frame, String>>>>;

/// Forwards every connection made to `listen` on to `upstream`, decoding the frames both ways.
fn tap(listen: &str, upstream: &str) -> Frames {
    let listener = TcpListener::bind(listen).expect("bind the tap");
    let frames = Frames::default();
    let (upstream, seen) = (upstream.to_owned(), frames.clone());
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(client) = client else { return };
            let server = TcpStream::connect(&upstream).expect("tap upstream");
            for (from, to, up) in [
                (
                    client.try_clone().unwrap(),
                    server.try_clone().unwrap(),
                    true,
                ),
                (server, client, false),
            ] {
                let seen = seen.clone();
                std::thread::spawn(move || pump(from, to, up, &seen));
            }
        }
    });
    frames
}

fn pump(mut from: TcpStream, mut to: TcpStream, upstream: bool, seen: &Frames) {
    let decoder = FrameDecoder::new(64 << 20);
    let mut pending = BytesMut::new();
    let mut buf = vec![0u8; 64 << 10];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if to.write_all(&buf[..n]).is_err() {
            break;
        }
        pending.extend_from_slice(&buf[..n]);
        loop {
            match decoder.decode(&mut pending) {
                Ok(Some(cmd)) => seen.lock().unwrap().push(Ok(Frame {
                    upstream,
                    serialize: cmd.serialize_type,
                    response: cmd.is_response(),
                    code: cmd.code,
                })),
                Ok(None) => break,
                Err(e) => {
                    seen.lock()
                        .unwrap()
                        .push(Err(format!("undecodable frame: {e}")));
                    let _ = to.shutdown(Shutdown::Both);
                    return;
                }
            }
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}

/// Every frame seen so far, failing on one that did not decode.
fn seen(frames: &Frames) -> Vec<Frame> {
    let frames = frames.lock().unwrap();
    frames.iter().map(|f| f.clone().unwrap()).collect()
}

/// The client's requests and the server's answers to them must all be binary. (A server's own
/// requests to the client, like NOTIFY_CONSUMER_IDS_CHANGED, use its default encoding, as Java's
/// do, so they are not checked.)
fn assert_binary(frames: &[Frame], server: &str, must_include: &[RequestCode]) {
    let requests: Vec<&Frame> = frames
        .iter()
        .filter(|f| f.upstream && !f.response)
        .collect();
    let answers: Vec<&Frame> = frames
        .iter()
        .filter(|f| !f.upstream && f.response)
        .collect();
    assert!(
        !requests.is_empty() && !answers.is_empty(),
        "no traffic to the {server}"
    );
    for f in requests.iter().chain(&answers) {
        assert_eq!(f.serialize, SerializeType::RocketMq, "{server}: {f:?}");
    }
    let codes: BTreeSet<i32> = requests.iter().map(|f| f.code).collect();
    for code in must_include {
        assert!(
            codes.contains(&code.0),
            "{server}: no {code:?} among {codes:?}"
        );
    }
}

struct Collect(Arc<Mutex<Vec<(String, String, String)>>>);

impl MessageListenerConcurrently for Collect {
    fn consume_message(
        &self,
        msgs: &[&MessageExt],
        _: &ConsumeConcurrentlyContext,
    ) -> ClientResult<ConsumeConcurrentlyStatus> {
        let mut got = self.0.lock().unwrap();
        for m in msgs {
            got.push((
                String::from_utf8_lossy(&common::body_of(m)).into_owned(),
                m.tags().map(|t| t.to_string()).unwrap_or_default(),
                m.keys().map(|k| k.join(" ")).unwrap_or_default(),
            ));
        }
        Ok(ConsumeConcurrentlyStatus::ConsumeSuccess)
    }
}

fn tag_of(i: usize) -> &'static str {
    if i.is_multiple_of(2) {
        "even"
    } else {
        "odd"
    }
}

#[allow(deprecated)] // the builder needs more of the client crate; this is enough here
fn message(i: usize) -> Message {
    let mut m = Message::with_tags(TOPIC, tag_of(i), format!("binary-{i}").as_bytes());
    m.set_keys(format!("key-{i}").into());
    m
}

#[test]
fn a_client_using_binary_headers_produces_consumes_and_administers() {
    let namesrv = start_namesrv();
    let broker = start_broker_with(
        &namesrv,
        "broker-binary",
        fresh_dir("broker-binary"),
        "ASYNC_FLUSH",
        "bindAddress=127.0.0.1\nbrokerIP1=127.0.0.2",
    );
    // The broker registered its advertised address; the tap takes that address over.
    let advertised = broker.addr.clone();
    assert!(advertised.starts_with("127.0.0.2:"), "{advertised}");
    let bound = advertised.replace("127.0.0.2", "127.0.0.1");
    let broker_frames = tap(&advertised, &bound);
    let ns_tap = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().to_string()
    };
    let ns_frames = tap(&ns_tap, &namesrv);
    wait_for_route(&namesrv, "TBW102");

    let owner = rocketmq_runtime::RuntimeOwner::plan(rocketmq_runtime::RuntimeConfig {
        thread_name: "binary-headers".into(),
        ..Default::default()
    })
    .unwrap()
    .build()
    .unwrap();
    // What the Java client does with -Drocketmq.serialize.type=ROCKETMQ.
    let binary = RemotingCommandFactory::new(RemotingCommandDefaults::new(
        rocketmq_model::version::CURRENT_VERSION as i32,
        rocketmq_protocol::protocol::SerializeType::ROCKETMQ,
    ));
    let runtime = rocketmq_client_rust::ClientRuntime::try_new_with_remoting_command_factory(
        owner.root_context().component("client"),
        rocketmq_client_rust::ClientRuntimeConfig::default(),
        rocketmq_client_rust::TelemetryHandle::noop(),
        binary,
    )
    .unwrap();

    let producer = common::start_producer(&owner, &runtime, &ns_tap, "binary_producer");
    for i in 0..SINGLES {
        let sent = owner.block_on(producer.send(message(i))).expect("send");
        assert!(sent.is_some(), "sync send {i} has no result");
    }
    wait_for_route(&namesrv, TOPIC);
    let batch: Vec<Message> = (SINGLES..SINGLES + BATCH).map(message).collect();
    owner
        .block_on(producer.send_batch(batch))
        .expect("batch send");

    let got = Arc::new(Mutex::new(Vec::new()));
    let consumer = {
        let (rt, ns, got) = (runtime.clone(), ns_tap.clone(), got.clone());
        owner.block_on(async move {
            let mut c = DefaultMQPushConsumer::builder(rt)
                .consumer_group(GROUP)
                .name_server_addr(ns)
                .consume_from_where(ConsumeFromWhere::ConsumeFromFirstOffset)
                .build();
            c.subscribe(TOPIC, "even || odd").await.expect("subscribe");
            c.register_message_listener_concurrently(Collect(got));
            c.start().await.expect("consumer start");
            c
        })
    };
    wait_until("every message consumed", Duration::from_secs(30), || {
        got.lock().unwrap().len() >= SINGLES + BATCH
    });
    let mut received = got.lock().unwrap().clone();
    received.sort();
    received.dedup();
    let mut expected: Vec<(String, String, String)> = (0..SINGLES + BATCH)
        .map(|i| {
            (
                format!("binary-{i}"),
                tag_of(i).to_owned(),
                format!("key-{i}"),
            )
        })
        .collect();
    expected.sort();
    assert_eq!(received, expected);

    // The consumer's offsets reach the broker (UPDATE_CONSUMER_OFFSET or the pull's commit
    // flag, both binary), and the admin's stats requests decode.
    let admin = common::start_admin(&owner, &runtime, &ns_tap);
    wait_until("offsets committed", Duration::from_secs(30), || {
        owner
            .block_on(admin.examine_consume_stats(
                GROUP.into(),
                Some(TOPIC.into()),
                None,
                None,
                None,
            ))
            .map(|s| s.compute_total_diff() == 0 && !s.get_offset_table().is_empty())
            .unwrap_or(false)
    });
    let stats = owner
        .block_on(admin.examine_topic_stats(TOPIC.into(), Some(advertised.as_str().into())))
        .expect("topic stats");
    let stored: i64 = stats
        .get_offset_table()
        .values()
        .map(|o| o.get_max_offset() - o.get_min_offset())
        .sum();
    assert_eq!(stored, (SINGLES + BATCH) as i64);
    drop(consumer);

    assert_binary(
        &seen(&broker_frames),
        "broker",
        &[
            RequestCode::SEND_MESSAGE,
            RequestCode::SEND_BATCH_MESSAGE,
            RequestCode::HEART_BEAT,
            RequestCode::PULL_MESSAGE,
            RequestCode::QUERY_CONSUMER_OFFSET,
            RequestCode::GET_CONSUME_STATS,
            RequestCode::GET_TOPIC_STATS_INFO,
        ],
    );
    assert_binary(
        &seen(&ns_frames),
        "name server",
        &[RequestCode::GET_ROUTEINFO_BY_TOPIC],
    );
}
