//! Headers of `PULL_MESSAGE` (11), its answer, and the bits of the pull request's `sysFlag`.

crate::command_header! {
    /// `PULL_MESSAGE` (11): a consumer asks for messages of one queue from an offset on; the broker
    /// may hold the request (long polling) until messages arrive.
    pub struct PullMessageRequestHeader: TopicRequestHeader {
        pub consumer_group: String => "consumerGroup",
        pub topic: String => "topic",
        pub queue_id: i32 => "queueId",
        /// Consume queue offset to read from.
        pub queue_offset: i64 => "queueOffset",
        pub max_msg_nums: i32 => "maxMsgNums",
        /// [`pull_sys_flag`] bits.
        pub sys_flag: i32 => "sysFlag",
        /// The consumer's offset for the broker to store when the commit-offset bit is set.
        pub commit_offset: i64 => "commitOffset",
        /// How long the broker may hold the request when the suspend bit is set.
        pub suspend_timeout_millis: i64 => "suspendTimeoutMillis",
        /// Filter expression, sent when the subscription bit is set.
        pub subscription: Option<String> => "subscription",
        /// Version (creation time) of the consumer's subscription, checked against the broker's.
        pub sub_version: i64 => "subVersion",
        /// `TAG` or `SQL92`; tags when absent.
        pub expression_type: Option<String> => "expressionType",
        /// 5.x: byte limit of the answer.
        pub max_msg_bytes: Option<i32> => "maxMsgBytes",
        /// 5.x: who pulls: -1 SDK, 0/1/2 proxy for an orderly/broadcast/stream consumer.
        pub request_source: Option<i32> => "requestSource",
        /// 5.x: the end client a proxy pulls for (the wire name's typo is Java's).
        pub proxy_forward_client_id: Option<String> => "proxyFrowardClientId",
    }
}

crate::command_header! {
    /// Answer to `PULL_MESSAGE` (11), with every pull status (found, not found, offset moved, ...):
    /// where to pull next and the queue's offset bounds.
    pub struct PullMessageResponseHeader {
        /// Broker id (0 = master) the consumer should pull this queue from next.
        pub suggest_which_broker_id: i64 => "suggestWhichBrokerId",
        pub next_begin_offset: i64 => "nextBeginOffset",
        pub min_offset: i64 => "minOffset",
        pub max_offset: i64 => "maxOffset",
        /// 5.x: logical-queue offset correction for static topics.
        pub offset_delta: Option<i64> => "offsetDelta",
        /// 5.x: the topic's `topicSysFlag`.
        pub topic_sys_flag: Option<i32> => "topicSysFlag",
        /// 5.x: the group's system flag.
        pub group_sys_flag: Option<i32> => "groupSysFlag",
        /// 5.x: which permission check refused the pull (broker, group, topic, broadcast).
        pub forbidden_type: Option<i32> => "forbiddenType",
    }
}

/// Values of [`PullMessageResponseHeader::forbidden_type`] (Java 5.x `ForbiddenType`): which
/// permission refused a pull with NO_PERMISSION.
pub mod forbidden_type {
    /// The broker is not readable (`brokerPermission`), or refuses lite pulls.
    pub const BROKER: i32 = 1;
    /// The subscription group may not consume (`consumeEnable=false`).
    pub const GROUP: i32 = 2;
    /// The topic is not readable.
    pub const TOPIC: i32 = 3;
    /// The group consumes by broadcasting, which its config does not allow.
    pub const BROADCASTING_DISABLED: i32 = 4;
    /// The group is forbidden to read this topic.
    pub const SUBSCRIPTION: i32 = 5;
}

/// Bits of [`PullMessageRequestHeader::sys_flag`] (Java's `PullSysFlag`).
pub mod pull_sys_flag {
    /// The broker should store `commitOffset` as the group's offset.
    pub const FLAG_COMMIT_OFFSET: i32 = 1;
    /// The broker may hold the request (long polling) for `suspendTimeoutMillis`.
    pub const FLAG_SUSPEND: i32 = 1 << 1;
    /// The request carries its own `subscription` instead of using the registered one.
    pub const FLAG_SUBSCRIPTION: i32 = 1 << 2;
    /// Class-filter mode (filter server; obsolete).
    pub const FLAG_CLASS_FILTER: i32 = 1 << 3;
    /// Sent by the lite pull consumer.
    pub const FLAG_LITE_PULL_MESSAGE: i32 = 1 << 4;

    /// Combines the flags the way Java's `buildSysFlag` does.
    pub fn build(
        commit_offset: bool,
        suspend: bool,
        subscription: bool,
        class_filter: bool,
        lite_pull: bool,
    ) -> i32 {
        [
            (commit_offset, FLAG_COMMIT_OFFSET),
            (suspend, FLAG_SUSPEND),
            (subscription, FLAG_SUBSCRIPTION),
            (class_filter, FLAG_CLASS_FILTER),
            (lite_pull, FLAG_LITE_PULL_MESSAGE),
        ]
        .iter()
        .filter(|(on, _)| *on)
        .fold(0, |acc, (_, bit)| acc | bit)
    }

    pub fn has_commit_offset(sys_flag: i32) -> bool {
        sys_flag & FLAG_COMMIT_OFFSET != 0
    }

    pub fn has_suspend(sys_flag: i32) -> bool {
        sys_flag & FLAG_SUSPEND != 0
    }

    pub fn has_subscription(sys_flag: i32) -> bool {
        sys_flag & FLAG_SUBSCRIPTION != 0
    }

    pub fn has_class_filter(sys_flag: i32) -> bool {
        sys_flag & FLAG_CLASS_FILTER != 0
    }

    pub fn has_lite_pull(sys_flag: i32) -> bool {
        sys_flag & FLAG_LITE_PULL_MESSAGE != 0
    }

    pub fn clear_commit_offset(sys_flag: i32) -> i32 {
        sys_flag & !FLAG_COMMIT_OFFSET
    }

    pub fn clear_suspend(sys_flag: i32) -> i32 {
        sys_flag & !FLAG_SUSPEND
    }
}

#[cfg(test)]
mod tests {
    use super::pull_sys_flag::*;
    use super::*;
    use crate::error::ProtocolError;
    use crate::ext_fields::ExtFields;
    use crate::header::test_support::{fields, round_trip};
    use crate::header::CommandHeader;

    #[test]
    fn round_trips() {
        round_trip(
            PullMessageRequestHeader {
                consumer_group: "G".into(),
                topic: "T".into(),
                queue_id: 3,
                queue_offset: 1 << 40,
                max_msg_nums: 32,
                sys_flag: 0x1f,
                commit_offset: 17,
                suspend_timeout_millis: 15000,
                subscription: Some("a > 1".into()),
                sub_version: 1795256169688,
                expression_type: Some("SQL92".into()),
                max_msg_bytes: Some(1 << 20),
                request_source: Some(-1),
                proxy_forward_client_id: Some("client-1".into()),
                broker_name: Some("broker-a".into()),
                namespace: Some("ns".into()),
                namespaced: Some(true),
                oneway: Some(false),
                logical: Some(true),
            },
            19,
        );
        round_trip(
            PullMessageResponseHeader {
                suggest_which_broker_id: 1,
                next_begin_offset: 2,
                min_offset: 3,
                max_offset: 4,
                offset_delta: Some(5),
                topic_sys_flag: Some(6),
                group_sys_flag: Some(7),
                forbidden_type: Some(8),
            },
            8,
        );
    }

    #[test]
    fn sys_flag_bits() {
        assert_eq!(
            [
                FLAG_COMMIT_OFFSET,
                FLAG_SUSPEND,
                FLAG_SUBSCRIPTION,
                FLAG_CLASS_FILTER,
                FLAG_LITE_PULL_MESSAGE
            ],
            [1, 2, 4, 8, 16]
        );
        assert_eq!(build(true, true, false, false, false), 3);
        assert_eq!(build(false, false, true, false, true), 20);
        assert_eq!(build(true, true, true, true, true), 31);
        assert!(has_commit_offset(3) && has_suspend(3) && !has_subscription(3));
        assert!(has_subscription(4) && !has_class_filter(4) && !has_lite_pull(4));
        assert!(has_class_filter(8) && has_lite_pull(16));
        assert_eq!(clear_commit_offset(3), 2);
        assert_eq!(clear_suspend(3), 1);
    }

    // Field values below are copied from /work/shared/wire-vectors (Java 4.9.7 captures).

    #[test]
    fn captured_push_consumer_pull() {
        let f = fields(&[
            ("queueId", "1"),
            ("maxMsgNums", "32"),
            ("sysFlag", "2"),
            ("suspendTimeoutMillis", "15000"),
            ("commitOffset", "0"),
            ("bname", "broker-a"),
            ("topic", "IT_async_256166t02asy"),
            ("queueOffset", "0"),
            ("expressionType", "TAG"),
            ("subVersion", "1795256169688"),
            ("consumerGroup", "GID_async_c_256166t02asy"),
        ]);
        let h = PullMessageRequestHeader::decode(&f).unwrap();
        assert_eq!(
            h,
            PullMessageRequestHeader {
                consumer_group: "GID_async_c_256166t02asy".into(),
                topic: "IT_async_256166t02asy".into(),
                queue_id: 1,
                queue_offset: 0,
                max_msg_nums: 32,
                sys_flag: 2,
                commit_offset: 0,
                suspend_timeout_millis: 15000,
                subscription: None,
                sub_version: 1795256169688,
                expression_type: Some("TAG".into()),
                broker_name: Some("broker-a".into()),
                ..Default::default()
            }
        );
        assert!(
            has_suspend(h.sys_flag)
                && !has_commit_offset(h.sys_flag)
                && !has_subscription(h.sys_flag)
        );
        let mut out = ExtFields::new();
        h.encode(&mut out);
        assert_eq!(out.len(), f.len());
        for (k, v) in f.iter() {
            assert_eq!(out.get(k), Some(v), "field {k}");
        }
    }

    #[test]
    fn captured_pull_consumer_pull_with_stream_request_type() {
        // DefaultMQPullConsumer/DefaultLitePullConsumer install Java's StreamTypeRPCHook, which
        // adds "ReqT" = "0" (RequestType.STREAM) to every request: not a header field, ignored.
        let f = fields(&[
            ("queueId", "1"),
            ("maxMsgNums", "32"),
            ("sysFlag", "4"),
            ("commitOffset", "0"),
            ("subscription", "*"),
            ("ReqT", "0"),
            ("suspendTimeoutMillis", "20000"),
            ("bname", "broker-a"),
            ("topic", "IT_pull_256166t07pul"),
            ("queueOffset", "10"),
            ("expressionType", "TAG"),
            ("subVersion", "0"),
            ("consumerGroup", "GID_pull_c1_256166t07pul"),
        ]);
        let h = PullMessageRequestHeader::decode(&f).unwrap();
        assert_eq!(h.queue_offset, 10);
        assert_eq!(h.sys_flag, 4);
        assert!(has_subscription(h.sys_flag) && !has_suspend(h.sys_flag));
        assert_eq!(h.subscription.as_deref(), Some("*"));
        assert_eq!(h.sub_version, 0);
        assert_eq!(h.suspend_timeout_millis, 20000);
        assert_eq!(h.broker_name.as_deref(), Some("broker-a"));
        let mut out = ExtFields::new();
        h.encode(&mut out);
        assert_eq!(out.get("ReqT"), None);
        assert_eq!(out.len(), f.len() - 1);
    }

    #[test]
    fn captured_commit_and_sql92_pulls() {
        let base = [
            ("queueId", "0"),
            ("maxMsgNums", "32"),
            ("sysFlag", "3"),
            ("suspendTimeoutMillis", "15000"),
            ("commitOffset", "9"),
            ("bname", "broker-a"),
            ("topic", "IT_tags_256166t08tag"),
            ("queueOffset", "10"),
            ("expressionType", "TAG"),
            ("subVersion", "1795256185695"),
            ("consumerGroup", "GID_tags_c_256166t08tag"),
        ];
        let h = PullMessageRequestHeader::decode(&fields(&base)).unwrap();
        assert_eq!((h.sys_flag, h.commit_offset, h.queue_offset), (3, 9, 10));
        assert!(has_commit_offset(h.sys_flag) && has_suspend(h.sys_flag));

        let mut sql = fields(&base);
        sql.insert("expressionType", "SQL92");
        assert_eq!(
            PullMessageRequestHeader::decode(&sql)
                .unwrap()
                .expression_type
                .as_deref(),
            Some("SQL92")
        );
    }

    #[test]
    fn captured_pull_responses() {
        let found = fields(&[
            ("suggestWhichBrokerId", "0"),
            ("nextBeginOffset", "7"),
            ("maxOffset", "7"),
            ("minOffset", "0"),
        ]);
        assert_eq!(
            PullMessageResponseHeader::decode(&found).unwrap(),
            PullMessageResponseHeader {
                suggest_which_broker_id: 0,
                next_begin_offset: 7,
                min_offset: 0,
                max_offset: 7,
                ..Default::default()
            }
        );
        let not_found = fields(&[
            ("suggestWhichBrokerId", "0"),
            ("nextBeginOffset", "10"),
            ("maxOffset", "10"),
            ("minOffset", "0"),
        ]);
        let h = PullMessageResponseHeader::decode(&not_found).unwrap();
        assert_eq!((h.next_begin_offset, h.max_offset), (10, 10));
    }

    #[test]
    fn missing_required_field() {
        let f = fields(&[
            ("suggestWhichBrokerId", "0"),
            ("nextBeginOffset", "7"),
            ("maxOffset", "7"),
        ]);
        assert_eq!(
            PullMessageResponseHeader::decode(&f),
            Err(ProtocolError::MissingField("minOffset"))
        );
    }
}
