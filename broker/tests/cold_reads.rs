//! Pulls of records that are no longer in the tail cache: the broker sends them from their
//! segment files (`sendfile`), and they must arrive exactly as stored, whatever their size and
//! however many such pulls are in flight on one connection.

mod common;

use bytes::BytesMut;
use common::{fields, fresh_dir, noise, start_broker_with, start_namesrv, Wire};
use ringmq_protocol::header::pull::PullMessageRequestHeader;
use ringmq_protocol::header::send::SendMessageRequestHeaderV2;
use ringmq_protocol::message::StoredMessage;
use ringmq_protocol::{FrameDecoder, RemotingCommand, RequestCode};
use std::io::{Read, Write};

const TOPIC: &str = "ColdTopic";

fn send(wire: &mut Wire, body: &[u8]) {
    let h = SendMessageRequestHeaderV2 {
        producer_group: "cold_producer".into(),
        topic: TOPIC.into(),
        default_topic: "TBW102".into(),
        default_topic_queue_nums: 1,
        queue_id: 0,
        born_timestamp: 1,
        properties: Some("TAGS\u{1}cold\u{2}".into()),
        ..Default::default()
    };
    let resp = wire.call(
        RemotingCommand::request_with(RequestCode::SEND_MESSAGE_V2, 0, &h).with_body(body.to_vec()),
    );
    assert_eq!(resp.code, 0, "{:?}", resp.remark);
}

fn pull(opaque: i32, offset: i64) -> RemotingCommand {
    let h = PullMessageRequestHeader {
        consumer_group: "cold_group".into(),
        topic: TOPIC.into(),
        queue_id: 0,
        queue_offset: offset,
        max_msg_nums: 32,
        ..Default::default()
    };
    let mut r = RemotingCommand::request_with(RequestCode::PULL_MESSAGE, 0, &h);
    r.opaque = opaque;
    r
}

/// Pulls the whole queue, several pulls in flight at once, and returns the bodies in order.
fn pull_everything(wire: &mut Wire, count: i64) -> Vec<Vec<u8>> {
    // Every offset at once: many replies, some of several MiB, queue up on the socket before
    // the first byte is read.
    for offset in 0..count {
        wire.stream
            .write_all(&pull(offset as i32 + 1000, offset).to_bytes())
            .unwrap();
    }
    let mut by_offset = vec![None; count as usize];
    let mut buf = BytesMut::new();
    let decoder = FrameDecoder::new(64 << 20);
    let mut chunk = vec![0u8; 16 * 1024];
    let mut answered = 0;
    while answered < count {
        let Some(frame) = decoder.decode(&mut buf).unwrap() else {
            let n = wire.stream.read(&mut chunk).unwrap();
            assert!(n > 0, "connection closed");
            buf.extend_from_slice(&chunk[..n]);
            continue;
        };
        answered += 1;
        assert_eq!(frame.code, 0, "{:?}", frame.remark);
        let offset = (frame.opaque - 1000) as usize;
        let first = StoredMessage::decode_all(&frame.body).unwrap();
        assert_eq!(
            first[0].queue_offset, offset as i64,
            "a pull starts at its offset"
        );
        by_offset[offset] = Some(first[0].body.to_vec());
    }
    by_offset.into_iter().map(Option::unwrap).collect()
}

#[test]
fn records_served_from_segment_files_arrive_byte_exact_when_many_large_pulls_are_in_flight() {
    let namesrv = start_namesrv();
    let sizes = [
        1,
        1000,
        3 * 1024 * 1024,
        70_000,
        5,
        2 * 1024 * 1024 + 3,
        300_000,
        17,
    ];
    let bodies: Vec<Vec<u8>> = sizes
        .iter()
        .enumerate()
        .map(|(i, len)| noise(*len, i as u64 + 1)) // differs per message: a swapped range shows
        .collect();
    // No tail cache: every record leaves memory once it is written, so even the first pulls
    // are served from the file.
    let broker = start_broker_with(
        &namesrv,
        "broker-cold",
        fresh_dir("broker-cold"),
        "SYNC_FLUSH",
        "tailCacheBytes=0",
    );
    let mut wire = Wire::connect(&broker.addr);
    for body in &bodies {
        send(&mut wire, body);
    }
    assert!(
        pull_everything(&mut wire, bodies.len() as i64) == bodies,
        "pulled bodies differ from the sent ones"
    );

    // After a restart nothing is cached at all.
    drop(wire);
    let (dir, status) = broker.stop(libc::SIGTERM);
    assert!(status.success());
    let broker = start_broker_with(&namesrv, "broker-cold", dir, "SYNC_FLUSH", "");
    let mut wire = Wire::connect(&broker.addr);
    let max = wire.call(fields(
        RequestCode::GET_MAX_OFFSET,
        &[("topic", TOPIC), ("queueId", "0")],
    ));
    assert_eq!(max.fields().get("offset"), Some("8"));
    assert!(
        pull_everything(&mut wire, bodies.len() as i64) == bodies,
        "pulled bodies differ from the sent ones after a restart"
    );
}
