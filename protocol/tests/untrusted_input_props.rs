//! Property tests: every decoder that reads what a client sends (JSON bodies, batch bodies, stored
//! records coming back, properties, message ids, request headers) answers arbitrary input with a
//! value or an error, never a panic.

use bytes::{Bytes, BytesMut};
use proptest::prelude::*;
use ringmq_protocol::body::{HeartbeatData, LockBatchRequestBody, ResetOffsetBody};
use ringmq_protocol::header::pull::PullMessageRequestHeader;
use ringmq_protocol::header::send::{SendMessageRequestHeader, SendMessageRequestHeaderV2};
use ringmq_protocol::header::CommandHeader;
use ringmq_protocol::json;
use ringmq_protocol::message::{
    body_crc, decode_batch, encode_batch, BatchItem, MessageId, Properties, StoredMessage,
};
use ringmq_protocol::ExtFields;

/// Text made of JSON's own pieces and the field names of real bodies, so that the parser gets
/// deep into objects before something goes wrong (random bytes mostly fail at the first one).
fn jsonish() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        Just("{".to_owned()),
        Just("}".to_owned()),
        Just("[".to_owned()),
        Just("]".to_owned()),
        Just(":".to_owned()),
        Just(",".to_owned()),
        Just("\"clientID\"".to_owned()),
        Just("\"consumerDataSet\"".to_owned()),
        Just("\"subscriptionDataSet\"".to_owned()),
        Just("\"producerDataSet\"".to_owned()),
        Just("\"mqSet\"".to_owned()),
        Just("\"tagsSet\"".to_owned()),
        Just("\"codeSet\"".to_owned()),
        Just("\"offsetTable\"".to_owned()),
        Just("\"\\u12\"".to_owned()),
        Just("'x'".to_owned()),
        Just("true".to_owned()),
        Just("null".to_owned()),
        "-?[0-9]{1,25}(\\.[0-9]{0,5})?(e[+-]?[0-9]{1,4})?",
        "\"[a-zA-Z%@\\\\\"]{0,12}\"",
    ];
    proptest::collection::vec(token, 0..60).prop_map(|t| t.concat())
}

fn stored_record(body: Vec<u8>, properties: String) -> Bytes {
    let body = Bytes::from(body);
    let msg = StoredMessage {
        body_crc: body_crc(&body),
        queue_id: 1,
        flag: 0,
        queue_offset: 5,
        commit_log_offset: 1234,
        sys_flag: 0,
        born_timestamp: 1,
        born_host: "127.0.0.1:1".parse().unwrap(),
        store_timestamp: 2,
        store_host: "127.0.0.1:10911".parse().unwrap(),
        reconsume_times: 0,
        prepared_transaction_offset: 0,
        body,
        topic: "T".into(),
        properties,
    };
    let mut out = BytesMut::new();
    msg.encode(&mut out).unwrap();
    out.freeze()
}

const HEADER_FIELDS: &[&str] = &[
    "a",
    "b",
    "c",
    "d",
    "e",
    "f",
    "g",
    "h",
    "i",
    "j",
    "k",
    "l",
    "m",
    "n",
    "topic",
    "queueId",
    "producerGroup",
    "defaultTopic",
    "defaultTopicQueueNums",
    "sysFlag",
    "bornTimestamp",
    "flag",
    "properties",
    "reconsumeTimes",
    "unitMode",
    "batch",
    "maxReconsumeTimes",
    "consumerGroup",
    "queueOffset",
    "maxMsgNums",
    "commitOffset",
    "suspendTimeoutMillis",
    "subscription",
    "subVersion",
    "expressionType",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn json_parser_survives_anything(bytes in proptest::collection::vec(any::<u8>(), 0..512), text in jsonish()) {
        let _ = json::parse(&bytes);
        let _ = json::parse(text.as_bytes());
        let _ = json::from_slice::<HeartbeatData>(text.as_bytes());
        let _ = json::from_slice::<LockBatchRequestBody>(text.as_bytes());
        let _ = json::from_slice::<ResetOffsetBody>(text.as_bytes());
    }

    #[test]
    fn batch_bodies_survive_anything(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = decode_batch(&Bytes::from(bytes));
    }

    #[test]
    fn a_damaged_batch_is_refused_or_read_within_its_bytes(
        bodies in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..40), 1..5),
        at in any::<prop::sample::Index>(),
        byte in any::<u8>(),
    ) {
        let items: Vec<BatchItem> = bodies
            .into_iter()
            .map(|b| BatchItem { flag: 0, body: Bytes::from(b), properties: "KEYS\u{1}k\u{2}".into() })
            .collect();
        let mut raw = encode_batch(&items).unwrap().to_vec();
        let i = at.index(raw.len());
        raw[i] = byte;
        let len = raw.len();
        if let Ok(read) = decode_batch(&Bytes::from(raw)) {
            let total: usize = read.iter().map(|it| it.body.len() + it.properties.len()).sum();
            prop_assert!(total <= len);
        }
    }

    #[test]
    fn stored_records_survive_damage(
        body in proptest::collection::vec(any::<u8>(), 0..64),
        at in any::<prop::sample::Index>(),
        byte in any::<u8>(),
        junk in proptest::collection::vec(any::<u8>(), 0..256),
    ) {
        let mut raw = stored_record(body, "UNIQ_KEY\u{1}abc\u{2}".into()).to_vec();
        let i = at.index(raw.len());
        raw[i] = byte;
        let _ = StoredMessage::decode_all(&Bytes::from(raw));
        let _ = StoredMessage::decode_all(&Bytes::from(junk));
    }

    #[test]
    fn properties_and_message_ids_survive_anything(text in "\\PC{0,80}", id in "[0-9A-Fa-fé]{0,60}") {
        let _ = Properties::parse(&text);
        let _ = text.parse::<MessageId>();
        let _ = id.parse::<MessageId>();
    }

    #[test]
    fn request_headers_survive_any_values(
        pairs in proptest::collection::vec(
            (proptest::sample::select(HEADER_FIELDS), "\\PC{0,24}|-?[0-9]{1,22}"),
            0..20,
        ),
    ) {
        let fields: ExtFields = pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
        let _ = SendMessageRequestHeader::decode(&fields);
        let _ = SendMessageRequestHeaderV2::decode(&fields);
        let _ = PullMessageRequestHeader::decode(&fields);
    }
}

/// Found by `stored_records_survive_damage`: a size field below the size of the size and magic
/// fields themselves made the decoder slice backwards and panic.
#[test]
fn a_record_claiming_fewer_bytes_than_its_header_is_refused() {
    for total in [0i32, 4, 7] {
        let mut raw = stored_record(b"x".to_vec(), String::new()).to_vec();
        raw[0..4].copy_from_slice(&total.to_be_bytes());
        assert!(StoredMessage::decode(&Bytes::from(raw.clone())).is_err());
        assert!(StoredMessage::decode_all(&Bytes::from(raw)).is_err());
    }
}
