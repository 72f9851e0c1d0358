//! Producer-side message headers: sending (long-name V1 and short-name V2 forms), the send answer,
//! consumer send-back for retry, and the broker's reply-message push.

crate::command_header! {
    /// `SEND_MESSAGE` (10) and `SEND_REPLY_MESSAGE` (324), and `SEND_BATCH_MESSAGE` (320) from a
    /// client with smart-message encoding off: stores one message (or a batch) given in the body.
    /// The V2 form below carries the same fields under one-letter names.
    pub struct SendMessageRequestHeader: TopicRequestHeader {
        pub producer_group: String => "producerGroup",
        pub topic: String => "topic",
        /// Template topic used when `topic` has to be auto-created (normally `TBW102`).
        pub default_topic: String => "defaultTopic",
        /// Queue count of an auto-created topic.
        pub default_topic_queue_nums: i32 => "defaultTopicQueueNums",
        /// Target queue; negative asks the broker to pick one.
        pub queue_id: i32 => "queueId",
        /// Message `sysFlag` bits (compression, transaction type, ...).
        pub sys_flag: i32 => "sysFlag",
        pub born_timestamp: i64 => "bornTimestamp",
        /// The user flag of the message.
        pub flag: i32 => "flag",
        /// Message properties, `name\u{1}value` pairs joined by `\u{2}`.
        pub properties: Option<String> => "properties",
        pub reconsume_times: Option<i32> => "reconsumeTimes",
        pub unit_mode: Option<bool> => "unitMode",
        /// The body is a batch of encoded messages.
        pub batch: Option<bool> => "batch",
        /// For retry-topic sends: the consumer group's retry limit.
        pub max_reconsume_times: Option<i32> => "maxReconsumeTimes",
    }
}

crate::command_header! {
    /// `SEND_MESSAGE_V2` (310), `SEND_BATCH_MESSAGE` (320) and `SEND_REPLY_MESSAGE_V2` (325):
    /// the same request as [`SendMessageRequestHeader`] with one-letter field names, which is what
    /// stock clients send by default.
    ///
    /// Java's class also inherits the `bname`/`ns`/`nsd`/`oway`/`lo` fields, but clients never set
    /// them (the broker name travels as `n`) and Java's decoder of this class ignores them, so they
    /// are left out here.
    pub struct SendMessageRequestHeaderV2 {
        /// `producerGroup`.
        pub producer_group: String => "a",
        /// `topic`.
        pub topic: String => "b",
        /// `defaultTopic`.
        pub default_topic: String => "c",
        /// `defaultTopicQueueNums`.
        pub default_topic_queue_nums: i32 => "d",
        /// `queueId`.
        pub queue_id: i32 => "e",
        /// `sysFlag`.
        pub sys_flag: i32 => "f",
        /// `bornTimestamp`.
        pub born_timestamp: i64 => "g",
        /// `flag`.
        pub flag: i32 => "h",
        /// `properties`.
        pub properties: Option<String> => "i",
        /// `reconsumeTimes`.
        pub reconsume_times: Option<i32> => "j",
        /// `unitMode`.
        pub unit_mode: Option<bool> => "k",
        /// `maxReconsumeTimes` (Java's comment calls it "consumeRetryTimes").
        pub max_reconsume_times: Option<i32> => "l",
        /// `batch`.
        pub batch: Option<bool> => "m",
        /// `bname`: the broker the request is meant for.
        pub broker_name: Option<String> => "n",
    }
}

impl SendMessageRequestHeaderV2 {
    /// The short-name form of a V1 header (Java's `createSendMessageRequestHeaderV2`); the 5.x
    /// `ns`/`nsd`/`oway`/`lo` fields have no short name and are dropped, as in Java.
    pub fn from_v1(v1: &SendMessageRequestHeader) -> Self {
        v1.clone().into()
    }
}

impl From<SendMessageRequestHeader> for SendMessageRequestHeaderV2 {
    fn from(v1: SendMessageRequestHeader) -> Self {
        Self {
            producer_group: v1.producer_group,
            topic: v1.topic,
            default_topic: v1.default_topic,
            default_topic_queue_nums: v1.default_topic_queue_nums,
            queue_id: v1.queue_id,
            sys_flag: v1.sys_flag,
            born_timestamp: v1.born_timestamp,
            flag: v1.flag,
            properties: v1.properties,
            reconsume_times: v1.reconsume_times,
            unit_mode: v1.unit_mode,
            max_reconsume_times: v1.max_reconsume_times,
            batch: v1.batch,
            broker_name: v1.broker_name,
        }
    }
}

/// The long-name form (Java's `createSendMessageRequestHeaderV1`).
impl From<SendMessageRequestHeaderV2> for SendMessageRequestHeader {
    fn from(v2: SendMessageRequestHeaderV2) -> Self {
        Self {
            producer_group: v2.producer_group,
            topic: v2.topic,
            default_topic: v2.default_topic,
            default_topic_queue_nums: v2.default_topic_queue_nums,
            queue_id: v2.queue_id,
            sys_flag: v2.sys_flag,
            born_timestamp: v2.born_timestamp,
            flag: v2.flag,
            properties: v2.properties,
            reconsume_times: v2.reconsume_times,
            unit_mode: v2.unit_mode,
            batch: v2.batch,
            max_reconsume_times: v2.max_reconsume_times,
            broker_name: v2.broker_name,
            namespace: None,
            namespaced: None,
            oneway: None,
            logical: None,
        }
    }
}

crate::command_header! {
    /// Answer to every send request (10, 310, 320, 324, 325): where the message was stored.
    ///
    /// `MSG_REGION` and `TRACE_ON` are not fields of Java's class: the broker adds them to the
    /// answer's `extFields` directly and the client reads them, so they are modelled here too.
    pub struct SendMessageResponseHeader {
        /// Offset message id (store host + commit log offset, hex); comma-joined ids for a batch.
        pub msg_id: String => "msgId",
        pub queue_id: i32 => "queueId",
        /// Consume queue offset of the (first) message.
        pub queue_offset: i64 => "queueOffset",
        pub transaction_id: Option<String> => "transactionId",
        /// 5.x: unique id of a batch as a whole.
        pub batch_uniq_id: Option<String> => "batchUniqId",
        /// 5.x: handle for recalling a timer (delayed) message.
        pub recall_handle: Option<String> => "recallHandle",
        /// Broker region id; the client falls back to `DefaultRegion` when absent or empty.
        pub region_id: Option<String> => "MSG_REGION",
        /// Whether message tracing is on; the client treats anything but `false` as on.
        pub trace_on: Option<bool> => "TRACE_ON",
    }
}

crate::command_header! {
    /// `CONSUMER_SEND_MSG_BACK` (36): a consumer hands a message it failed to consume back to the
    /// broker, which requeues it on the group's retry topic (or the DLQ once retries run out).
    pub struct ConsumerSendMsgBackRequestHeader: RpcRequestHeader {
        /// Commit log offset of the message.
        pub offset: i64 => "offset",
        /// Consumer group.
        pub group: String => "group",
        /// Delay level of the retry: 0 lets the broker pick from the retry count, negative sends
        /// straight to the DLQ.
        pub delay_level: i32 => "delayLevel",
        /// Unique (client-side) id of the original message.
        pub origin_msg_id: Option<String> => "originMsgId",
        pub origin_topic: Option<String> => "originTopic",
        pub unit_mode: Option<bool> => "unitMode",
        pub max_reconsume_times: Option<i32> => "maxReconsumeTimes",
    }
}

crate::command_header! {
    /// `PUSH_REPLY_MESSAGE_TO_CLIENT` (326): the broker pushes a reply message (body) to the
    /// requesting producer of a request-reply exchange.
    pub struct ReplyMessageRequestHeader: TopicRequestHeader {
        pub producer_group: String => "producerGroup",
        pub topic: String => "topic",
        pub default_topic: String => "defaultTopic",
        pub default_topic_queue_nums: i32 => "defaultTopicQueueNums",
        pub queue_id: i32 => "queueId",
        pub sys_flag: i32 => "sysFlag",
        pub born_timestamp: i64 => "bornTimestamp",
        pub flag: i32 => "flag",
        pub properties: Option<String> => "properties",
        pub reconsume_times: Option<i32> => "reconsumeTimes",
        pub unit_mode: Option<bool> => "unitMode",
        /// `ip:port` of the replying producer.
        pub born_host: String => "bornHost",
        /// `ip:port` of the broker.
        pub store_host: String => "storeHost",
        pub store_timestamp: i64 => "storeTimestamp",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ProtocolError;
    use crate::ext_fields::ExtFields;
    use crate::header::test_support::{fields, round_trip};
    use crate::header::CommandHeader;

    fn encoded<H: CommandHeader>(h: &H) -> ExtFields {
        let mut f = ExtFields::new();
        h.encode(&mut f);
        f
    }

    fn names(f: &ExtFields) -> Vec<&str> {
        let mut v: Vec<&str> = f.iter().map(|(k, _)| k).collect();
        v.sort_unstable();
        v
    }

    fn full_v1() -> SendMessageRequestHeader {
        SendMessageRequestHeader {
            producer_group: "PG".into(),
            topic: "T".into(),
            default_topic: "TBW102".into(),
            default_topic_queue_nums: 4,
            queue_id: 3,
            sys_flag: 0x301,
            born_timestamp: 1_700_000_000_123,
            flag: 7,
            properties: Some("KEYS\u{1}k\u{2}TAGS\u{1}t".into()),
            reconsume_times: Some(2),
            unit_mode: Some(true),
            batch: Some(true),
            max_reconsume_times: Some(16),
            broker_name: Some("broker-a".into()),
            namespace: Some("ns".into()),
            namespaced: Some(false),
            oneway: Some(true),
            logical: Some(false),
        }
    }

    #[test]
    fn round_trips() {
        round_trip(full_v1(), 18);
        round_trip(SendMessageRequestHeaderV2::from_v1(&full_v1()), 14);
        round_trip(
            SendMessageResponseHeader {
                msg_id: "7F000002000051B90000000000000000".into(),
                queue_id: 1,
                queue_offset: 99,
                transaction_id: Some("tx".into()),
                batch_uniq_id: Some("bu".into()),
                recall_handle: Some("rh".into()),
                region_id: Some("DefaultRegion".into()),
                trace_on: Some(true),
            },
            8,
        );
        round_trip(
            ConsumerSendMsgBackRequestHeader {
                offset: 211341,
                group: "G".into(),
                delay_level: -1,
                origin_msg_id: Some("id".into()),
                origin_topic: Some("T".into()),
                unit_mode: Some(false),
                max_reconsume_times: Some(3),
                broker_name: Some("broker-a".into()),
                namespace: Some("ns".into()),
                namespaced: Some(true),
                oneway: Some(false),
            },
            11,
        );
        round_trip(
            ReplyMessageRequestHeader {
                producer_group: "PG".into(),
                topic: "T".into(),
                default_topic: "TBW102".into(),
                default_topic_queue_nums: 4,
                queue_id: 0,
                sys_flag: 0,
                born_timestamp: 1,
                flag: 0,
                properties: Some("p\u{1}v".into()),
                reconsume_times: Some(0),
                unit_mode: Some(false),
                born_host: "127.0.0.1:5000".into(),
                store_host: "127.0.0.1:10911".into(),
                store_timestamp: 2,
                broker_name: Some("b".into()),
                namespace: Some("ns".into()),
                namespaced: Some(true),
                oneway: Some(true),
                logical: Some(true),
            },
            19,
        );
    }

    #[test]
    fn v1_v2_conversions() {
        let v2 = SendMessageRequestHeaderV2::from(full_v1());
        assert_eq!(v2.producer_group, "PG");
        assert_eq!(v2.max_reconsume_times, Some(16));
        assert_eq!(v2.broker_name.as_deref(), Some("broker-a"));
        let back = SendMessageRequestHeader::from(v2);
        // Only the 5.x base fields without a short name are lost.
        assert_eq!(
            back,
            SendMessageRequestHeader {
                namespace: None,
                namespaced: None,
                oneway: None,
                logical: None,
                ..full_v1()
            }
        );
    }

    // Field values below are copied from /work/shared/wire-vectors (Java 4.9.7 captures).

    const CAPTURED_PROPERTIES: &str = concat!(
        "KEYS\u{1}key-0-256166t01syn\u{2}idx\u{1}0\u{2}",
        "UNIQ_KEY\u{1}FD000000000000000000000000000002148F30946E09693344D50000\u{2}",
        "WAIT\u{1}true\u{2}TAGS\u{1}TagA"
    );

    fn captured_v2_plain() -> ExtFields {
        fields(&[
            ("a", "GID_sync_p_256166t01syn"),
            ("b", "IT_sync_256166t01syn"),
            ("c", "TBW102"),
            ("d", "4"),
            ("e", "1"),
            ("f", "0"),
            ("g", "1795256167637"),
            ("h", "0"),
            ("i", CAPTURED_PROPERTIES),
            ("j", "0"),
            ("k", "false"),
            ("m", "false"),
            ("n", "broker-a"),
        ])
    }

    #[test]
    fn captured_send_message_v2() {
        let captured = captured_v2_plain();
        let v2 = SendMessageRequestHeaderV2::decode(&captured).unwrap();
        assert_eq!(v2.queue_id, 1);
        assert_eq!(v2.max_reconsume_times, None);
        assert_eq!(v2.unit_mode, Some(false));

        // V2 -> V1 gives the long names.
        let v1 = SendMessageRequestHeader::from(v2.clone());
        assert_eq!(
            v1,
            SendMessageRequestHeader {
                producer_group: "GID_sync_p_256166t01syn".into(),
                topic: "IT_sync_256166t01syn".into(),
                default_topic: "TBW102".into(),
                default_topic_queue_nums: 4,
                queue_id: 1,
                sys_flag: 0,
                born_timestamp: 1795256167637,
                flag: 0,
                properties: Some(CAPTURED_PROPERTIES.into()),
                reconsume_times: Some(0),
                unit_mode: Some(false),
                batch: Some(false),
                max_reconsume_times: None,
                broker_name: Some("broker-a".into()),
                namespace: None,
                namespaced: None,
                oneway: None,
                logical: None,
            }
        );
        let long = encoded(&v1);
        assert_eq!(
            names(&long),
            [
                "batch",
                "bname",
                "bornTimestamp",
                "defaultTopic",
                "defaultTopicQueueNums",
                "flag",
                "producerGroup",
                "properties",
                "queueId",
                "reconsumeTimes",
                "sysFlag",
                "topic",
                "unitMode"
            ]
        );
        assert_eq!(long.get("bname"), Some("broker-a"));
        assert_eq!(long.get("bornTimestamp"), Some("1795256167637"));

        // V1 -> V2 -> encode reproduces the captured short-name fields exactly.
        let again = encoded(&SendMessageRequestHeaderV2::from_v1(&v1));
        assert_eq!(names(&again), names(&captured));
        for (k, v) in captured.iter() {
            assert_eq!(again.get(k), Some(v), "field {k}");
        }
    }

    #[test]
    fn captured_send_message_v2_variants() {
        // Transactional half message: sysFlag carries TRANSACTION_PREPARED_TYPE.
        let mut f = captured_v2_plain();
        f.insert("f", "4");
        assert_eq!(SendMessageRequestHeaderV2::decode(&f).unwrap().sys_flag, 4);
        // zlib-compressed body: COMPRESSED_FLAG | zlib compression type.
        f.insert("f", "769");
        assert_eq!(
            SendMessageRequestHeaderV2::decode(&f).unwrap().sys_flag,
            0x301
        );
        // Batch send (code 320).
        let batch = fields(&[
            ("a", "GID_batch_p_256166t03bat"),
            ("b", "IT_batch_256166t03bat"),
            ("c", "TBW102"),
            ("d", "4"),
            ("e", "1"),
            ("f", "0"),
            ("g", "1795256172088"),
            ("h", "0"),
            ("i", "WAIT\u{1}true"),
            ("j", "0"),
            ("k", "false"),
            ("m", "true"),
            ("n", "broker-a"),
        ]);
        let h = SendMessageRequestHeaderV2::decode(&batch).unwrap();
        assert_eq!(h.batch, Some(true));
        assert_eq!(h.properties.as_deref(), Some("WAIT\u{1}true"));
    }

    #[test]
    fn captured_send_response() {
        let f = fields(&[
            ("queueId", "1"),
            ("TRACE_ON", "true"),
            ("MSG_REGION", "DefaultRegion"),
            ("msgId", "7F000002000051B90000000000000000"),
            ("queueOffset", "0"),
        ]);
        let h = SendMessageResponseHeader::decode(&f).unwrap();
        assert_eq!(
            h,
            SendMessageResponseHeader {
                msg_id: "7F000002000051B90000000000000000".into(),
                queue_id: 1,
                queue_offset: 0,
                transaction_id: None,
                batch_uniq_id: None,
                recall_handle: None,
                region_id: Some("DefaultRegion".into()),
                trace_on: Some(true),
            }
        );
        assert_eq!(names(&encoded(&h)), names(&f));
    }

    #[test]
    fn captured_consumer_send_msg_back() {
        let f = fields(&[
            ("maxReconsumeTimes", "2"),
            ("offset", "211341"),
            ("bname", "broker-a"),
            ("delayLevel", "1"),
            ("originTopic", "IT_retry_256166t11ret"),
            (
                "originMsgId",
                "FD00000000000000000000000000000218DA30946E096933D1670000",
            ),
            ("unitMode", "false"),
            ("group", "GID_retry_c_256166t11ret"),
        ]);
        let h = ConsumerSendMsgBackRequestHeader::decode(&f).unwrap();
        assert_eq!(
            h,
            ConsumerSendMsgBackRequestHeader {
                offset: 211341,
                group: "GID_retry_c_256166t11ret".into(),
                delay_level: 1,
                origin_msg_id: Some(
                    "FD00000000000000000000000000000218DA30946E096933D1670000".into()
                ),
                origin_topic: Some("IT_retry_256166t11ret".into()),
                unit_mode: Some(false),
                max_reconsume_times: Some(2),
                broker_name: Some("broker-a".into()),
                namespace: None,
                namespaced: None,
                oneway: None,
            }
        );
    }

    #[test]
    fn missing_required_field() {
        let mut f = captured_v2_plain();
        f.remove("g");
        assert_eq!(
            SendMessageRequestHeaderV2::decode(&f),
            Err(ProtocolError::MissingField("g"))
        );
        let f = fields(&[("msgId", "X"), ("queueId", "1")]);
        assert_eq!(
            SendMessageResponseHeader::decode(&f),
            Err(ProtocolError::MissingField("queueOffset"))
        );
    }
}
