use super::*;
use bytes::{Bytes, BytesMut};
use std::net::SocketAddr;

fn sample(topic: &str, born: &str, store: &str) -> StoredMessage {
    let body = Bytes::from_static(b"hello ringmq");
    StoredMessage {
        body_crc: body_crc(&body),
        queue_id: 3,
        flag: 7,
        queue_offset: 42,
        commit_log_offset: 1 << 40,
        sys_flag: sys_flag::TRANSACTION_PREPARED_TYPE,
        born_timestamp: 1_795_256_167_637,
        born_host: born.parse().unwrap(),
        store_timestamp: 1_795_256_167_640,
        store_host: store.parse().unwrap(),
        reconsume_times: 1,
        prepared_transaction_offset: 0,
        body,
        topic: topic.to_owned(),
        properties: "KEYS\u{1}k1 k2\u{2}TAGS\u{1}TagA\u{2}".to_owned(),
    }
}

#[test]
fn stored_message_round_trips_for_ipv4_ipv6_and_long_topics() {
    let long_topic = "t".repeat(200);
    for (topic, born, store) in [
        ("T", "10.0.0.1:5000", "127.0.0.2:10911"),
        ("T", "[::1]:5000", "[fe80::1]:10911"),
        (long_topic.as_str(), "10.0.0.1:5000", "127.0.0.2:10911"),
    ] {
        let mut m = sample(topic, born, store);
        let mut out = BytesMut::new();
        m.encode(&mut out).unwrap();
        assert_eq!(out.len(), m.encoded_len().unwrap());
        let magic = i32::from_be_bytes(out[4..8].try_into().unwrap());
        assert_eq!(
            magic,
            if topic.len() > 127 {
                MESSAGE_MAGIC_CODE_V2
            } else {
                MESSAGE_MAGIC_CODE
            }
        );
        let (back, len) = StoredMessage::decode(&out.freeze()).unwrap();
        assert_eq!(len, m.encoded_len().unwrap());
        // Encoding sets the host flags from the addresses.
        m.sys_flag = back.sys_flag;
        assert_eq!(back, m);
        assert!(back.crc_matches());
        assert_eq!(back.properties().keys().collect::<Vec<_>>(), ["k1", "k2"]);
    }
}

#[test]
fn truncated_or_corrupt_records_are_errors_not_panics() {
    let mut out = BytesMut::new();
    sample("T", "10.0.0.1:5000", "127.0.0.2:10911")
        .encode(&mut out)
        .unwrap();
    let full = out.freeze();
    for cut in 0..full.len() {
        assert!(
            StoredMessage::decode(&full.slice(..cut)).is_err(),
            "cut at {cut}"
        );
    }
    let mut bad = BytesMut::from(&full[..]);
    bad[4] ^= 0xFF;
    assert_eq!(
        StoredMessage::decode(&bad.freeze()).unwrap_err(),
        crate::ProtocolError::Message("bad magic code")
    );
    // A body length pointing past the record.
    let mut bad = BytesMut::from(&full[..]);
    let body_len_at = 4 + 4 + 4 + 4 + 4 + 8 + 8 + 4 + 8 + 8 + 8 + 8 + 4 + 8;
    bad[body_len_at..body_len_at + 4].copy_from_slice(&i32::MAX.to_be_bytes());
    assert!(StoredMessage::decode(&bad.freeze()).is_err());
}

#[test]
fn message_id_matches_java_format() {
    let id: MessageId = "7F000002000051B9000000000000BE28".parse().unwrap();
    assert_eq!(
        id.store_host,
        "127.0.0.2:20921".parse::<SocketAddr>().unwrap()
    );
    assert_eq!(id.commit_log_offset, 0xBE28);
    assert_eq!(id.to_string(), "7F000002000051B9000000000000BE28");
    let v6 = MessageId {
        store_host: "[fe80::1]:10911".parse().unwrap(),
        commit_log_offset: -1,
    };
    assert_eq!(v6.to_string().len(), 56);
    assert_eq!(v6.to_string().parse::<MessageId>().unwrap(), v6);
    assert!("XYZ".parse::<MessageId>().is_err());
    assert!("7F00".parse::<MessageId>().is_err());
}

#[test]
fn properties_keep_order_and_java_string_hash() {
    let text = "KEYS\u{1}key-0\u{2}idx\u{1}0\u{2}UNIQ_KEY\u{1}FD00\u{2}WAIT\u{1}true\u{2}TAGS\u{1}TagA\u{2}";
    let p = Properties::parse(text);
    assert_eq!(p.get("idx"), Some("0"));
    assert_eq!(p.tags(), Some("TagA"));
    assert_eq!(p.unique_key(), Some("FD00"));
    assert_eq!(p.encode(), text);
    // Java: "TagA".hashCode() == 2598919, "*".hashCode() == 42.
    assert_eq!(properties::tag_hash_code("TagA"), 2_598_919);
    assert_eq!(properties::tag_hash_code("*"), 42);
}

#[test]
fn sys_flag_compression_bits() {
    assert_eq!(
        sys_flag::compression(0x301),
        Some(sys_flag::Compression::Zlib)
    );
    assert_eq!(
        sys_flag::compression(0x101),
        Some(sys_flag::Compression::Lz4)
    );
    assert_eq!(
        sys_flag::compression(0x201),
        Some(sys_flag::Compression::Zstd)
    );
    assert_eq!(
        sys_flag::compression(0x1),
        Some(sys_flag::Compression::Zlib)
    );
    assert_eq!(sys_flag::compression(0x300), None);
    assert_eq!(
        sys_flag::transaction_type(0x305),
        sys_flag::TRANSACTION_PREPARED_TYPE
    );
    assert_eq!(
        sys_flag::with_transaction_type(0x305, sys_flag::TRANSACTION_COMMIT_TYPE),
        0x309
    );
}

#[test]
fn batch_round_trip_and_refuses_inconsistent_sizes() {
    let items = vec![
        BatchItem {
            flag: 0,
            body: Bytes::from_static(b"one"),
            properties: "TAGS\u{1}A\u{2}".into(),
        },
        BatchItem {
            flag: 5,
            body: Bytes::new(),
            properties: String::new(),
        },
    ];
    let body = encode_batch(&items).unwrap();
    assert_eq!(decode_batch(&body).unwrap(), items);
    let first_len = 4 + 4 + 4 + 4 + 4 + 3 + 2 + items[0].properties.len();
    assert_eq!(decode_batch(&body.slice(..first_len)).unwrap(), items[..1]);
    for cut in (1..body.len()).filter(|&c| c != first_len) {
        assert!(decode_batch(&body.slice(..cut)).is_err(), "cut at {cut}");
    }
}
