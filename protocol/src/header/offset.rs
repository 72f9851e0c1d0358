//! Offset and lookup headers: consumer offsets, queue offset bounds and time searches, message
//! queries by key or offset id, and offset resets.

crate::command_header! {
    /// `QUERY_CONSUMER_OFFSET` (14): reads a consumer group's stored offset of one queue.
    pub struct QueryConsumerOffsetRequestHeader: TopicRequestHeader {
        pub consumer_group: String => "consumerGroup",
        pub topic: String => "topic",
        pub queue_id: i32 => "queueId",
        /// 5.x: answer offset 0 instead of `QUERY_NOT_FOUND` when nothing is stored.
        pub set_zero_if_not_found: Option<bool> => "setZeroIfNotFound",
    }
}

crate::command_header! {
    /// Answer to `QUERY_CONSUMER_OFFSET` (14).
    pub struct QueryConsumerOffsetResponseHeader {
        pub offset: i64 => "offset",
    }
}

crate::command_header! {
    /// `UPDATE_CONSUMER_OFFSET` (15): stores a consumer group's offset of one queue (4.9.7 clients
    /// send it oneway).
    pub struct UpdateConsumerOffsetRequestHeader: TopicRequestHeader {
        pub consumer_group: String => "consumerGroup",
        pub topic: String => "topic",
        pub queue_id: i32 => "queueId",
        pub commit_offset: i64 => "commitOffset",
    }
}

crate::command_header! {
    /// Answer to `UPDATE_CONSUMER_OFFSET` (15); it has no fields.
    pub struct UpdateConsumerOffsetResponseHeader {}
}

crate::command_header! {
    /// `GET_MAX_OFFSET` (30): asks for the offset one past a queue's last message.
    ///
    /// Pull and lite-pull consumers also send `ReqT` = `0`: Java's `StreamTypeRPCHook` adds it to
    /// every request of those clients; it is not a field of this header.
    pub struct GetMaxOffsetRequestHeader: TopicRequestHeader {
        pub topic: String => "topic",
        pub queue_id: i32 => "queueId",
        /// 5.x: only count committed (consumer-visible) messages.
        /// Java default: true
        pub committed: Option<bool> => "committed",
    }
}

crate::command_header! {
    /// Answer to `GET_MAX_OFFSET` (30).
    pub struct GetMaxOffsetResponseHeader {
        pub offset: i64 => "offset",
    }
}

crate::command_header! {
    /// `GET_MIN_OFFSET` (31): asks for the offset of a queue's oldest message still stored.
    pub struct GetMinOffsetRequestHeader: TopicRequestHeader {
        pub topic: String => "topic",
        pub queue_id: i32 => "queueId",
    }
}

crate::command_header! {
    /// Answer to `GET_MIN_OFFSET` (31).
    pub struct GetMinOffsetResponseHeader {
        pub offset: i64 => "offset",
    }
}

crate::command_header! {
    /// `GET_EARLIEST_MSG_STORETIME` (32): asks for the store time of a queue's oldest message.
    pub struct GetEarliestMsgStoretimeRequestHeader: TopicRequestHeader {
        pub topic: String => "topic",
        pub queue_id: i32 => "queueId",
    }
}

crate::command_header! {
    /// Answer to `GET_EARLIEST_MSG_STORETIME` (32).
    pub struct GetEarliestMsgStoretimeResponseHeader {
        /// Store time in milliseconds since the epoch.
        pub timestamp: i64 => "timestamp",
    }
}

crate::command_header! {
    /// `SEARCH_OFFSET_BY_TIMESTAMP` (29): asks for the queue offset of the message stored at a
    /// given time.
    pub struct SearchOffsetRequestHeader: TopicRequestHeader {
        pub topic: String => "topic",
        pub queue_id: i32 => "queueId",
        /// Milliseconds since the epoch.
        pub timestamp: i64 => "timestamp",
        /// 5.x: `LOWER` or `UPPER` (read case-insensitively, anything else is lower): the first or
        /// the last offset when several messages match.
        /// Java default: LOWER
        pub boundary_type: Option<String> => "boundaryType",
    }
}

crate::command_header! {
    /// Answer to `SEARCH_OFFSET_BY_TIMESTAMP` (29).
    pub struct SearchOffsetResponseHeader {
        pub offset: i64 => "offset",
    }
}

crate::command_header! {
    /// `QUERY_MESSAGE` (12): looks messages of a topic up in the index by key (or by unique
    /// message id) within a time range; the messages come back in the body.
    ///
    /// `_UNIQUE_KEY_QUERY` is not a field of Java's class: the client adds it to `extFields`
    /// directly and the broker reads it, so it is modelled here too.
    pub struct QueryMessageRequestHeader: TopicRequestHeader {
        pub topic: String => "topic",
        /// Message key, or the unique message id when `unique_key_query` is true.
        pub key: String => "key",
        pub max_num: i32 => "maxNum",
        pub begin_timestamp: i64 => "beginTimestamp",
        pub end_timestamp: i64 => "endTimestamp",
        /// `key` is a unique message id (`UNIQ_KEY`) rather than a user key.
        pub unique_key_query: Option<bool> => "_UNIQUE_KEY_QUERY",
    }
}

crate::command_header! {
    /// Answer to `QUERY_MESSAGE` (12): how fresh the index is.
    pub struct QueryMessageResponseHeader {
        pub index_last_update_timestamp: i64 => "indexLastUpdateTimestamp",
        pub index_last_update_phyoffset: i64 => "indexLastUpdatePhyoffset",
    }
}

crate::command_header! {
    /// `VIEW_MESSAGE_BY_ID` (33): reads one message by its commit log offset (decoded from an
    /// offset message id); the message is the answer's body.
    pub struct ViewMessageRequestHeader {
        /// Commit log offset.
        pub offset: i64 => "offset",
        /// 5.x: the message's topic (for permission checks).
        pub topic: Option<String> => "topic",
    }
}

crate::command_header! {
    /// Answer to `VIEW_MESSAGE_BY_ID` (33); it has no fields.
    pub struct ViewMessageResponseHeader {}
}

crate::command_header! {
    /// `INVOKE_BROKER_TO_RESET_OFFSET` (222, admin to broker) and `RESET_CONSUMER_CLIENT_OFFSET`
    /// (220, broker to consumer, oneway, new offsets in the body): moves a group's offsets on a
    /// topic back or forth to a point in time.
    pub struct ResetOffsetRequestHeader: TopicRequestHeader {
        pub topic: String => "topic",
        /// Consumer group.
        pub group: String => "group",
        /// Target time in milliseconds since the epoch.
        pub timestamp: i64 => "timestamp",
        /// Also move offsets forward (otherwise only offsets ahead of the target move back).
        pub is_force: bool => "isForce",
        /// 5.x: only this queue; all queues when negative.
        /// Java default: -1
        pub queue_id: Option<i32> => "queueId",
        /// 5.x: reset to this offset instead of searching by `timestamp`.
        pub offset: Option<i64> => "offset",
    }
}

crate::command_header! {
    /// `INVOKE_BROKER_TO_GET_CONSUMER_STATUS` (223, admin to broker) and
    /// `GET_CONSUMER_STATUS_FROM_CLIENT` (221, broker to consumer): asks consumers of a group for
    /// their offsets on a topic.
    pub struct GetConsumerStatusRequestHeader: TopicRequestHeader {
        pub topic: String => "topic",
        /// Consumer group.
        pub group: String => "group",
        /// Only the consumer at this address; every consumer of the group when absent.
        pub client_addr: Option<String> => "clientAddr",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ProtocolError;
    use crate::ext_fields::ExtFields;
    use crate::header::test_support::{fields, round_trip};
    use crate::header::CommandHeader;
    use std::fmt::Debug;

    /// Decodes `pairs` and checks that re-encoding gives back the same fields.
    fn decode_exact<H: CommandHeader + Debug>(pairs: &[(&str, &str)]) -> H {
        let f = fields(pairs);
        let h = H::decode(&f).unwrap();
        let mut out = ExtFields::new();
        h.encode(&mut out);
        assert_eq!(out.len(), f.len(), "{h:?} re-encoded as {out:?}");
        for (k, v) in f.iter() {
            assert_eq!(out.get(k), Some(v), "field {k}");
        }
        h
    }

    #[test]
    fn round_trips() {
        round_trip(
            QueryConsumerOffsetRequestHeader {
                consumer_group: "G".into(),
                topic: "T".into(),
                queue_id: 1,
                set_zero_if_not_found: Some(false),
                broker_name: Some("b".into()),
                namespace: Some("ns".into()),
                namespaced: Some(true),
                oneway: Some(false),
                logical: Some(true),
            },
            9,
        );
        round_trip(QueryConsumerOffsetResponseHeader { offset: 42 }, 1);
        round_trip(
            UpdateConsumerOffsetRequestHeader {
                consumer_group: "G".into(),
                topic: "T".into(),
                queue_id: 2,
                commit_offset: 24,
                broker_name: Some("b".into()),
                namespace: Some("ns".into()),
                namespaced: Some(false),
                oneway: Some(true),
                logical: Some(false),
            },
            9,
        );
        round_trip(UpdateConsumerOffsetResponseHeader {}, 0);
        round_trip(
            GetMaxOffsetRequestHeader {
                topic: "T".into(),
                queue_id: 3,
                committed: Some(false),
                broker_name: Some("b".into()),
                namespace: Some("ns".into()),
                namespaced: Some(true),
                oneway: Some(true),
                logical: Some(true),
            },
            8,
        );
        round_trip(GetMaxOffsetResponseHeader { offset: 10 }, 1);
        round_trip(
            GetMinOffsetRequestHeader {
                topic: "T".into(),
                queue_id: 4,
                broker_name: Some("b".into()),
                namespace: Some("ns".into()),
                namespaced: Some(true),
                oneway: Some(false),
                logical: Some(false),
            },
            7,
        );
        round_trip(GetMinOffsetResponseHeader { offset: -1 }, 1);
        round_trip(
            GetEarliestMsgStoretimeRequestHeader {
                topic: "T".into(),
                queue_id: 5,
                broker_name: Some("b".into()),
                namespace: Some("ns".into()),
                namespaced: Some(true),
                oneway: Some(false),
                logical: Some(true),
            },
            7,
        );
        round_trip(
            GetEarliestMsgStoretimeResponseHeader {
                timestamp: 1795256260680,
            },
            1,
        );
        round_trip(
            SearchOffsetRequestHeader {
                topic: "T".into(),
                queue_id: 6,
                timestamp: 1795256263748,
                boundary_type: Some("UPPER".into()),
                broker_name: Some("b".into()),
                namespace: Some("ns".into()),
                namespaced: Some(false),
                oneway: Some(false),
                logical: Some(false),
            },
            9,
        );
        round_trip(SearchOffsetResponseHeader { offset: 3 }, 1);
        round_trip(
            QueryMessageRequestHeader {
                topic: "T".into(),
                key: "k".into(),
                max_num: 32,
                begin_timestamp: 1,
                end_timestamp: 2,
                unique_key_query: Some(true),
                broker_name: Some("b".into()),
                namespace: Some("ns".into()),
                namespaced: Some(true),
                oneway: Some(true),
                logical: Some(true),
            },
            11,
        );
        round_trip(
            QueryMessageResponseHeader {
                index_last_update_timestamp: 5,
                index_last_update_phyoffset: 6,
            },
            2,
        );
        round_trip(
            ViewMessageRequestHeader {
                offset: 218224,
                topic: Some("T".into()),
            },
            2,
        );
        round_trip(ViewMessageResponseHeader {}, 0);
        round_trip(
            ResetOffsetRequestHeader {
                topic: "T".into(),
                group: "G".into(),
                timestamp: 7,
                is_force: true,
                queue_id: Some(-1),
                offset: Some(8),
                broker_name: Some("b".into()),
                namespace: Some("ns".into()),
                namespaced: Some(true),
                oneway: Some(false),
                logical: Some(true),
            },
            11,
        );
        round_trip(
            GetConsumerStatusRequestHeader {
                topic: "T".into(),
                group: "G".into(),
                client_addr: Some("127.0.0.1:5555".into()),
                broker_name: Some("b".into()),
                namespace: Some("ns".into()),
                namespaced: Some(true),
                oneway: Some(false),
                logical: Some(false),
            },
            8,
        );
    }

    // Field values below are copied from /work/shared/wire-vectors (Java 4.9.7 captures).

    #[test]
    fn captured_consumer_offsets() {
        let h: QueryConsumerOffsetRequestHeader = decode_exact(&[
            ("queueId", "1"),
            ("bname", "broker-a"),
            ("topic", "IT_async_256166t02asy"),
            ("consumerGroup", "GID_async_c_256166t02asy"),
        ]);
        assert_eq!(
            h,
            QueryConsumerOffsetRequestHeader {
                consumer_group: "GID_async_c_256166t02asy".into(),
                topic: "IT_async_256166t02asy".into(),
                queue_id: 1,
                broker_name: Some("broker-a".into()),
                ..Default::default()
            }
        );
        let r: QueryConsumerOffsetResponseHeader = decode_exact(&[("offset", "0")]);
        assert_eq!(r.offset, 0);

        let h: UpdateConsumerOffsetRequestHeader = decode_exact(&[
            ("queueId", "1"),
            ("bname", "broker-a"),
            ("commitOffset", "24"),
            ("topic", "IT_async_256166t02asy"),
            ("consumerGroup", "GID_async_c_256166t02asy"),
        ]);
        assert_eq!((h.queue_id, h.commit_offset), (1, 24));
        assert_eq!(h.consumer_group, "GID_async_c_256166t02asy");
        assert_eq!(h.broker_name.as_deref(), Some("broker-a"));
    }

    #[test]
    fn captured_max_min_offsets_ignore_request_type() {
        // "ReqT" comes from Java's StreamTypeRPCHook (pull consumers), not from the header class.
        let captured = fields(&[
            ("ReqT", "0"),
            ("queueId", "1"),
            ("bname", "broker-a"),
            ("topic", "IT_pull_256166t07pul"),
        ]);
        let h = GetMaxOffsetRequestHeader::decode(&captured).unwrap();
        assert_eq!(
            h,
            GetMaxOffsetRequestHeader {
                topic: "IT_pull_256166t07pul".into(),
                queue_id: 1,
                broker_name: Some("broker-a".into()),
                ..Default::default()
            }
        );
        let mut out = ExtFields::new();
        h.encode(&mut out);
        assert_eq!(out.get("ReqT"), None);
        assert_eq!(out.len(), 3);
        let h = GetMinOffsetRequestHeader::decode(&captured).unwrap();
        assert_eq!(
            (h.topic.as_str(), h.queue_id, h.broker_name.as_deref()),
            ("IT_pull_256166t07pul", 1, Some("broker-a"))
        );

        let r: GetMaxOffsetResponseHeader = decode_exact(&[("offset", "10")]);
        assert_eq!(r.offset, 10);
        let r: GetMinOffsetResponseHeader = decode_exact(&[("offset", "0")]);
        assert_eq!(r.offset, 0);
    }

    #[test]
    fn captured_time_lookups() {
        let h: GetEarliestMsgStoretimeRequestHeader = decode_exact(&[
            ("queueId", "0"),
            ("bname", "broker-a"),
            ("topic", "IT_otime_256166t14off"),
        ]);
        assert_eq!((h.topic.as_str(), h.queue_id), ("IT_otime_256166t14off", 0));
        let r: GetEarliestMsgStoretimeResponseHeader =
            decode_exact(&[("timestamp", "1795256260680")]);
        assert_eq!(r.timestamp, 1795256260680);

        let h: SearchOffsetRequestHeader = decode_exact(&[
            ("queueId", "0"),
            ("bname", "broker-a"),
            ("topic", "IT_otime_256166t14off"),
            ("timestamp", "1795256263748"),
        ]);
        assert_eq!(h.timestamp, 1795256263748);
        assert_eq!(h.boundary_type, None);
        assert_eq!(h.broker_name.as_deref(), Some("broker-a"));
        let r: SearchOffsetResponseHeader = decode_exact(&[("offset", "3")]);
        assert_eq!(r.offset, 3);
    }

    #[test]
    fn captured_query_and_view_message() {
        let h: QueryMessageRequestHeader = decode_exact(&[
            ("_UNIQUE_KEY_QUERY", "false"),
            ("beginTimestamp", "1795256199652"),
            ("topic", "IT_query_256166t13que"),
            ("maxNum", "32"),
            ("endTimestamp", "1795256319741"),
            ("key", "qk-0-256166t13que"),
        ]);
        assert_eq!(
            h,
            QueryMessageRequestHeader {
                topic: "IT_query_256166t13que".into(),
                key: "qk-0-256166t13que".into(),
                max_num: 32,
                begin_timestamp: 1795256199652,
                end_timestamp: 1795256319741,
                unique_key_query: Some(false),
                ..Default::default()
            }
        );
        let h: QueryMessageRequestHeader = decode_exact(&[
            ("_UNIQUE_KEY_QUERY", "true"),
            ("beginTimestamp", "1795256199652"),
            ("topic", "IT_query_256166t13que"),
            ("maxNum", "32"),
            ("endTimestamp", "1795256319741"),
            (
                "key",
                "FD0000000000000000000000000000021AFB30946E096934AC720000",
            ),
        ]);
        assert_eq!(h.unique_key_query, Some(true));
        assert_eq!(
            h.key,
            "FD0000000000000000000000000000021AFB30946E096934AC720000"
        );

        let r: QueryMessageResponseHeader = decode_exact(&[
            ("indexLastUpdatePhyoffset", "221164"),
            ("indexLastUpdateTimestamp", "1795256259737"),
        ]);
        assert_eq!(
            (r.index_last_update_phyoffset, r.index_last_update_timestamp),
            (221164, 1795256259737)
        );

        let v: ViewMessageRequestHeader = decode_exact(&[("offset", "218224")]);
        assert_eq!(
            v,
            ViewMessageRequestHeader {
                offset: 218224,
                topic: None
            }
        );
    }

    #[test]
    fn captured_reset_offset() {
        let admin: ResetOffsetRequestHeader = decode_exact(&[
            ("topic", "IT_otime_256166t14off"),
            ("isForce", "true"),
            ("group", "GID_otime_push_256166t14off"),
            ("timestamp", "1795256263748"),
        ]);
        assert_eq!(
            admin,
            ResetOffsetRequestHeader {
                topic: "IT_otime_256166t14off".into(),
                group: "GID_otime_push_256166t14off".into(),
                timestamp: 1795256263748,
                is_force: true,
                ..Default::default()
            }
        );
        // Broker -> consumer (220) uses the same header.
        let to_client: ResetOffsetRequestHeader = decode_exact(&[
            ("topic", "IT_otime_256166t14off"),
            ("isForce", "false"),
            ("group", "GID_otime_push_256166t14off"),
            ("timestamp", "1795256263748"),
        ]);
        assert!(!to_client.is_force);
        assert_eq!(to_client.queue_id, None);
    }

    #[test]
    fn missing_required_field() {
        let f = fields(&[("topic", "T"), ("group", "G"), ("timestamp", "1")]);
        assert_eq!(
            ResetOffsetRequestHeader::decode(&f),
            Err(ProtocolError::MissingField("isForce"))
        );
        let f = fields(&[("topic", "T"), ("bname", "b")]);
        assert_eq!(
            GetMaxOffsetRequestHeader::decode(&f),
            Err(ProtocolError::MissingField("queueId"))
        );
    }
}
