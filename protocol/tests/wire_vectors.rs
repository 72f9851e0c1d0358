//! Every frame a real Java 4.9.7 client and broker exchanged (../shared/wire-vectors) must decode,
//! and re-encode to the same bytes in its own header encoding.

use bytes::{Bytes, BytesMut};
use ringmq_protocol::message::{decode_batch, StoredMessage};
use ringmq_protocol::{FrameDecoder, RemotingCommand, SerializeType};
use std::path::PathBuf;

fn vectors() -> Vec<(String, Bytes)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/wire-vectors");
    let mut out: Vec<(String, Bytes)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("wire vectors expected at {}: {e}", dir.display()))
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "bin"))
        .map(|p| {
            (
                p.file_stem().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap().into(),
            )
        })
        .collect();
    out.sort();
    assert!(
        out.len() > 100,
        "expected the captured frames, found {}",
        out.len()
    );
    out
}

#[test]
fn every_captured_frame_decodes_and_reencodes_byte_for_byte() {
    for (name, raw) in vectors() {
        let cmd = RemotingCommand::decode(raw.clone()).unwrap_or_else(|e| panic!("{name}: {e}"));
        let expected_type = if name.ends_with("-json") {
            SerializeType::Json
        } else {
            SerializeType::RocketMq
        };
        assert_eq!(cmd.serialize_type, expected_type, "{name}");
        assert_eq!(cmd.is_response(), name.starts_with("response-"), "{name}");
        assert_eq!(cmd.to_bytes(), raw, "{name} re-encoded differently");
    }
}

#[test]
fn the_streaming_decoder_splits_a_concatenated_capture() {
    let all = vectors();
    let mut stream = BytesMut::new();
    for (_, raw) in &all {
        stream.extend_from_slice(raw);
    }
    let decoder = FrameDecoder::default();
    let mut count = 0;
    // Feed it in odd-sized pieces to exercise partial frames.
    let mut buf = BytesMut::new();
    for piece in stream.chunks(977) {
        buf.extend_from_slice(piece);
        while let Some(cmd) = decoder.decode(&mut buf).unwrap() {
            assert_eq!(cmd.to_bytes(), all[count].1, "{}", all[count].0);
            count += 1;
        }
    }
    assert_eq!(count, all.len());
    assert!(buf.is_empty());
}

#[test]
fn switching_header_encoding_keeps_every_field() {
    for (name, raw) in vectors() {
        let cmd = RemotingCommand::decode(raw).unwrap();
        let other = match cmd.serialize_type {
            SerializeType::Json => SerializeType::RocketMq,
            SerializeType::RocketMq => SerializeType::Json,
        };
        let back =
            RemotingCommand::decode(cmd.clone().with_serialize_type(other).to_bytes()).unwrap();
        assert_eq!(back.code, cmd.code, "{name}");
        assert_eq!(back.opaque, cmd.opaque, "{name}");
        assert_eq!(back.flag, cmd.flag, "{name}");
        assert_eq!(back.version, cmd.version, "{name}");
        assert_eq!(back.remark, cmd.remark, "{name}");
        assert_eq!(back.fields(), cmd.fields(), "{name}");
        assert_eq!(back.body, cmd.body, "{name}");
    }
}

#[test]
fn message_bodies_in_captures_decode_with_valid_crcs() {
    let mut records = 0;
    for (name, raw) in vectors() {
        let cmd = RemotingCommand::decode(raw).unwrap();
        let carries_records = (name.starts_with("response-11-") && cmd.code == 0)
            || name.starts_with("response-12-")
            || name.starts_with("response-33-")
            || name.starts_with("request-39-");
        if !carries_records {
            continue;
        }
        let msgs = StoredMessage::decode_all(&cmd.body).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(!msgs.is_empty(), "{name}");
        for m in &msgs {
            assert!(m.crc_matches(), "{name}: body CRC");
            let mut out = BytesMut::new();
            m.encode(&mut out).unwrap();
            assert_eq!(
                StoredMessage::decode(&out.freeze()).unwrap().0,
                *m,
                "{name}"
            );
        }
        records += msgs.len();
    }
    assert!(
        records > 5,
        "found only {records} stored records in captures"
    );
}

#[test]
fn batch_send_bodies_decode_and_reencode_exactly() {
    for name in [
        "request-320-send_batch_message-json",
        "request-320-send_batch_message-rocketmq",
    ] {
        let raw = vectors().into_iter().find(|(n, _)| n == name).unwrap().1;
        let cmd = RemotingCommand::decode(raw).unwrap();
        let items = decode_batch(&cmd.body).unwrap();
        assert_eq!(items.len(), 32, "{name}");
        assert_eq!(&items[0].body[..], b"batch-one 0");
        assert_eq!(
            ringmq_protocol::message::encode_batch(&items).unwrap(),
            cmd.body,
            "{name}"
        );
    }
}
