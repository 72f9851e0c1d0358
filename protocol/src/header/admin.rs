//! Broker administration headers (the `mqadmin` tool and admin APIs): topic and subscription group
//! management, statistics and consumption queries.

crate::command_header! {
    /// `UPDATE_AND_CREATE_TOPIC` (17), and in 5.x `UPDATE_AND_CREATE_STATIC_TOPIC` (513): creates
    /// a topic on a broker or updates its config.
    pub struct CreateTopicRequestHeader: TopicRequestHeader {
        pub topic: String => "topic",
        /// Template topic; the broker ignores it.
        pub default_topic: String => "defaultTopic",
        pub read_queue_nums: i32 => "readQueueNums",
        pub write_queue_nums: i32 => "writeQueueNums",
        /// Permission bits: 4 read, 2 write, 1 inherit.
        pub perm: i32 => "perm",
        /// `SINGLE_TAG` or `MULTI_TAG`.
        pub topic_filter_type: String => "topicFilterType",
        pub topic_sys_flag: Option<i32> => "topicSysFlag",
        pub order: bool => "order",
        /// 5.x: attribute changes, comma-separated `+key=value` / `-key` items.
        pub attributes: Option<String> => "attributes",
        /// 5.x: force the change (static-topic updates).
        pub force: Option<bool> => "force",
    }
}

crate::command_header! {
    /// `DELETE_TOPIC_IN_BROKER` (215): removes a topic's config (and its queues) from a broker.
    pub struct DeleteTopicRequestHeader: TopicRequestHeader {
        pub topic: String => "topic",
    }
}

crate::command_header! {
    /// `DELETE_SUBSCRIPTIONGROUP` (207): removes a subscription group's config from a broker,
    /// optionally with its stored offsets. 4.9.7 names the offset switch `removeOffset`, 5.x
    /// `cleanOffset`; both are kept.
    pub struct DeleteSubscriptionGroupRequestHeader: RpcRequestHeader {
        pub group_name: String => "groupName",
        /// 4.9.7: also delete the group's consumer offsets.
        pub remove_offset: Option<bool> => "removeOffset",
        /// 5.x: also delete the group's consumer offsets.
        pub clean_offset: Option<bool> => "cleanOffset",
    }
}

crate::command_header! {
    /// `GET_TOPIC_STATS_INFO` (202): asks for the min/max offsets of every queue of a topic
    /// (answered in the body).
    pub struct GetTopicStatsInfoRequestHeader: TopicRequestHeader {
        pub topic: String => "topic",
    }
}

crate::command_header! {
    /// `GET_CONSUME_STATS` (208): asks for a consumer group's progress (broker vs consumer offset
    /// per queue) on one topic or all its topics (answered in the body).
    pub struct GetConsumeStatsRequestHeader: TopicRequestHeader {
        pub consumer_group: String => "consumerGroup",
        /// Only this topic; every subscribed topic when absent.
        pub topic: Option<String> => "topic",
        /// 5.x: only these topics, separated by `;`.
        pub topic_list: Option<String> => "topicList",
    }
}

crate::command_header! {
    /// Answer to `GET_ALL_TOPIC_CONFIG` (21); it has no fields (the configs are the body).
    pub struct GetAllTopicConfigResponseHeader {}
}

crate::command_header! {
    /// Answer to `GET_BROKER_CONFIG` (26); the config itself is the body.
    pub struct GetBrokerConfigResponseHeader {
        /// Data version of the broker config, as JSON text.
        pub version: String => "version",
    }
}

crate::command_header! {
    /// `QUERY_TOPIC_CONSUME_BY_WHO` (300): asks which consumer groups consume a topic (answered in
    /// the body).
    pub struct QueryTopicConsumeByWhoRequestHeader: TopicRequestHeader {
        pub topic: String => "topic",
    }
}

crate::command_header! {
    /// `QUERY_CORRECTION_OFFSET` (308): asks, per queue of a topic, for the smallest offset among
    /// a set of groups, to correct `compareGroup`'s offsets (answered in the body).
    pub struct QueryCorrectionOffsetHeader: TopicRequestHeader {
        /// Comma-separated groups to take the minimum over.
        pub filter_groups: Option<String> => "filterGroups",
        pub compare_group: String => "compareGroup",
        pub topic: String => "topic",
    }
}

crate::command_header! {
    /// `CLONE_GROUP_OFFSET` (314): copies one consumer group's offsets to another.
    pub struct CloneGroupOffsetRequestHeader: RpcRequestHeader {
        pub src_group: String => "srcGroup",
        pub dest_group: String => "destGroup",
        /// Only this topic; every topic of the source group when absent.
        pub topic: Option<String> => "topic",
        /// The source group is offline (otherwise only topics it is subscribed to are copied).
        pub offline: Option<bool> => "offline",
    }
}

crate::command_header! {
    /// `QUERY_CONSUME_TIME_SPAN` (303): asks, per queue, for the store-time span of a topic and how
    /// far a group has consumed into it (answered in the body).
    pub struct QueryConsumeTimeSpanRequestHeader: TopicRequestHeader {
        pub topic: String => "topic",
        /// Consumer group.
        pub group: String => "group",
    }
}

crate::command_header! {
    /// `QUERY_CONSUME_QUEUE` (321, `mqadmin queryCq`): reads consume-queue entries of one queue
    /// from an index on (answered in the body).
    pub struct QueryConsumeQueueRequestHeader: TopicRequestHeader {
        pub topic: String => "topic",
        pub queue_id: i32 => "queueId",
        /// Queue offset of the first entry.
        pub index: i64 => "index",
        /// Entries wanted.
        pub count: i32 => "count",
        /// A group whose subscription to show with the entries.
        pub consumer_group: Option<String> => "consumerGroup",
    }
}

crate::command_header! {
    /// `VIEW_BROKER_STATS_DATA` (315): reads one of the broker's runtime statistics (answered in
    /// the body).
    pub struct ViewBrokerStatsDataRequestHeader {
        /// Statistic family, e.g. `TOPIC_PUT_NUMS`.
        pub stats_name: String => "statsName",
        /// Key within the family, e.g. a topic or `topic@group`.
        pub stats_key: String => "statsKey",
    }
}

crate::command_header! {
    /// `GET_BROKER_CONSUME_STATS` (317): asks for the consume stats of every group on a broker
    /// (answered in the body).
    pub struct GetConsumeStatsInBrokerHeader {
        /// Only orderly topics.
        pub is_order: bool => "isOrder",
    }
}

crate::command_header! {
    /// `GET_ALL_PRODUCER_INFO` (328): asks for every connected producer; it has no fields.
    pub struct GetAllProducerInfoRequestHeader {}
}

crate::command_header! {
    /// `QUERY_TOPICS_BY_CONSUMER` (343, 5.x): asks which topics a consumer group subscribes to
    /// (answered in the body).
    pub struct QueryTopicsByConsumerRequestHeader: RpcRequestHeader {
        pub group: String => "group",
    }
}

crate::command_header! {
    /// `QUERY_SUBSCRIPTION_BY_CONSUMER` (345, 5.x): asks for a group's subscription to a topic
    /// (answered in the body).
    pub struct QuerySubscriptionByConsumerRequestHeader: TopicRequestHeader {
        pub group: String => "group",
        pub topic: Option<String> => "topic",
    }
}

crate::command_header! {
    /// `GET_TOPIC_CONFIG` (351, 5.x): reads one topic's config (answered in the body).
    pub struct GetTopicConfigRequestHeader: TopicRequestHeader {
        pub topic: String => "topic",
    }
}

crate::command_header! {
    /// `GET_SUBSCRIPTIONGROUP_CONFIG` (352, 5.x): reads one subscription group's config (answered
    /// in the body).
    pub struct GetSubscriptionGroupConfigRequestHeader: RpcRequestHeader {
        pub group: String => "group",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ProtocolError;
    use crate::ext_fields::ExtFields;
    use crate::header::test_support::{fields, round_trip};
    use crate::header::CommandHeader;

    #[test]
    fn round_trips() {
        round_trip(
            CreateTopicRequestHeader {
                topic: "T".into(),
                default_topic: "TBW102".into(),
                read_queue_nums: 8,
                write_queue_nums: 4,
                perm: 6,
                topic_filter_type: "MULTI_TAG".into(),
                topic_sys_flag: Some(1),
                order: true,
                attributes: Some("+message.type=FIFO".into()),
                force: Some(true),
                broker_name: Some("b".into()),
                namespace: Some("ns".into()),
                namespaced: Some(false),
                oneway: Some(false),
                logical: Some(true),
            },
            15,
        );
        round_trip(
            DeleteTopicRequestHeader {
                topic: "T".into(),
                broker_name: Some("b".into()),
                namespace: Some("ns".into()),
                namespaced: Some(true),
                oneway: Some(true),
                logical: Some(false),
            },
            6,
        );
        round_trip(
            DeleteSubscriptionGroupRequestHeader {
                group_name: "G".into(),
                remove_offset: Some(true),
                clean_offset: Some(false),
                broker_name: Some("b".into()),
                namespace: Some("ns".into()),
                namespaced: Some(true),
                oneway: Some(false),
            },
            7,
        );
        round_trip(
            GetTopicStatsInfoRequestHeader {
                topic: "T".into(),
                broker_name: Some("b".into()),
                namespace: Some("ns".into()),
                namespaced: Some(true),
                oneway: Some(false),
                logical: Some(true),
            },
            6,
        );
        round_trip(
            GetConsumeStatsRequestHeader {
                consumer_group: "G".into(),
                topic: Some("T".into()),
                topic_list: Some("T1;T2".into()),
                broker_name: Some("b".into()),
                namespace: Some("ns".into()),
                namespaced: Some(false),
                oneway: Some(true),
                logical: Some(false),
            },
            8,
        );
        round_trip(GetAllTopicConfigResponseHeader {}, 0);
        round_trip(
            GetBrokerConfigResponseHeader {
                version: r#"{"counter":1,"timestamp":2}"#.into(),
            },
            1,
        );
        round_trip(
            QueryTopicConsumeByWhoRequestHeader {
                topic: "T".into(),
                broker_name: Some("b".into()),
                namespace: Some("ns".into()),
                namespaced: Some(true),
                oneway: Some(true),
                logical: Some(true),
            },
            6,
        );
        round_trip(
            QueryCorrectionOffsetHeader {
                filter_groups: Some("G1,G2".into()),
                compare_group: "G".into(),
                topic: "T".into(),
                broker_name: Some("b".into()),
                namespace: Some("ns".into()),
                namespaced: Some(true),
                oneway: Some(false),
                logical: Some(false),
            },
            8,
        );
        round_trip(
            CloneGroupOffsetRequestHeader {
                src_group: "S".into(),
                dest_group: "D".into(),
                topic: Some("T".into()),
                offline: Some(true),
                broker_name: Some("b".into()),
                namespace: Some("ns".into()),
                namespaced: Some(true),
                oneway: Some(false),
            },
            8,
        );
        round_trip(
            QueryConsumeTimeSpanRequestHeader {
                topic: "T".into(),
                group: "G".into(),
                broker_name: Some("b".into()),
                namespace: Some("ns".into()),
                namespaced: Some(false),
                oneway: Some(false),
                logical: Some(true),
            },
            7,
        );
        round_trip(
            ViewBrokerStatsDataRequestHeader {
                stats_name: "TOPIC_PUT_NUMS".into(),
                stats_key: "T".into(),
            },
            2,
        );
        round_trip(GetConsumeStatsInBrokerHeader { is_order: true }, 1);
        round_trip(GetAllProducerInfoRequestHeader {}, 0);
        round_trip(
            QueryTopicsByConsumerRequestHeader {
                group: "G".into(),
                broker_name: Some("b".into()),
                namespace: Some("ns".into()),
                namespaced: Some(true),
                oneway: Some(true),
            },
            5,
        );
        round_trip(
            QuerySubscriptionByConsumerRequestHeader {
                group: "G".into(),
                topic: Some("T".into()),
                broker_name: Some("b".into()),
                namespace: Some("ns".into()),
                namespaced: Some(true),
                oneway: Some(false),
                logical: Some(false),
            },
            7,
        );
        round_trip(
            GetTopicConfigRequestHeader {
                topic: "T".into(),
                broker_name: Some("b".into()),
                namespace: Some("ns".into()),
                namespaced: Some(false),
                oneway: Some(true),
                logical: Some(true),
            },
            6,
        );
        round_trip(
            GetSubscriptionGroupConfigRequestHeader {
                group: "G".into(),
                broker_name: Some("b".into()),
                namespace: Some("ns".into()),
                namespaced: Some(false),
                oneway: Some(false),
            },
            5,
        );
    }

    // Field values below are copied from /work/shared/wire-vectors (Java 4.9.7 captures).

    #[test]
    fn captured_create_topic() {
        let f = fields(&[
            ("readQueueNums", "4"),
            ("perm", "6"),
            ("writeQueueNums", "4"),
            ("topicFilterType", "SINGLE_TAG"),
            ("topic", "IT_sync_256166t01syn"),
            ("defaultTopic", "TBW102"),
            ("topicSysFlag", "0"),
            ("order", "false"),
        ]);
        let h = CreateTopicRequestHeader::decode(&f).unwrap();
        assert_eq!(
            h,
            CreateTopicRequestHeader {
                topic: "IT_sync_256166t01syn".into(),
                default_topic: "TBW102".into(),
                read_queue_nums: 4,
                write_queue_nums: 4,
                perm: 6,
                topic_filter_type: "SINGLE_TAG".into(),
                topic_sys_flag: Some(0),
                order: false,
                ..Default::default()
            }
        );
        let mut out = ExtFields::new();
        h.encode(&mut out);
        assert_eq!(out.len(), f.len());
        for (k, v) in f.iter() {
            assert_eq!(out.get(k), Some(v), "field {k}");
        }
    }

    #[test]
    fn captured_get_consume_stats() {
        let f = fields(&[("consumerGroup", "GID_otime_push_256166t14off")]);
        let h = GetConsumeStatsRequestHeader::decode(&f).unwrap();
        assert_eq!(
            h,
            GetConsumeStatsRequestHeader {
                consumer_group: "GID_otime_push_256166t14off".into(),
                ..Default::default()
            }
        );
        let mut out = ExtFields::new();
        h.encode(&mut out);
        assert_eq!(out, f);
    }

    #[test]
    fn missing_required_field() {
        let f = fields(&[
            ("readQueueNums", "4"),
            ("perm", "6"),
            ("writeQueueNums", "4"),
            ("topicFilterType", "SINGLE_TAG"),
            ("topic", "T"),
            ("defaultTopic", "TBW102"),
        ]);
        assert_eq!(
            CreateTopicRequestHeader::decode(&f),
            Err(ProtocolError::MissingField("order"))
        );
    }
}
