//! Client bodies sent to brokers: heartbeats, queue locks, group membership.

crate::json_bean! {
    /// A queue of a topic on a broker; also a map key in offset tables.
    #[derive(Eq, Hash, PartialOrd, Ord)]
    pub struct MessageQueue {
        pub topic: String => "topic",
        pub broker_name: String => "brokerName",
        pub queue_id: i32 => "queueId",
    }
}

crate::json_bean! {
    /// A consumer's subscription to one topic.
    pub struct SubscriptionData {
        pub class_filter_mode: bool => "classFilterMode",
        pub topic: String => "topic",
        pub sub_string: String => "subString",
        pub tags_set: Vec<String> => "tagsSet",
        pub code_set: Vec<i32> => "codeSet",
        pub sub_version: i64 => "subVersion",
        /// `TAG` or `SQL92`.
        pub expression_type: Option<String> => "expressionType",
    }
}

crate::json_bean! {
    /// CHECK_CLIENT_CONFIG request body: a consumer asks, before it starts, whether the broker
    /// can serve one of its subscriptions (an SQL92 one).
    pub struct CheckClientRequestBody {
        pub client_id: String => "clientId",
        pub group: String => "group",
        pub subscription_data: Option<SubscriptionData> => "subscriptionData",
    }
}

crate::json_bean! {
    pub struct ProducerData {
        pub group_name: String => "groupName",
    }
}

crate::json_bean! {
    pub struct ConsumerData {
        pub group_name: String => "groupName",
        /// `CONSUME_ACTIVELY` (pull) or `CONSUME_PASSIVELY` (push).
        pub consume_type: String => "consumeType",
        /// `CLUSTERING` or `BROADCASTING`.
        pub message_model: String => "messageModel",
        pub consume_from_where: String => "consumeFromWhere",
        pub subscription_data_set: Vec<SubscriptionData> => "subscriptionDataSet",
        pub unit_mode: bool => "unitMode",
    }
}

crate::json_bean! {
    /// HEART_BEAT body: who the client is and which groups it runs.
    pub struct HeartbeatData {
        pub client_id: String => "clientID",
        pub producer_data_set: Vec<ProducerData> => "producerDataSet",
        pub consumer_data_set: Vec<ConsumerData> => "consumerDataSet",
    }
}

crate::json_bean! {
    /// LOCK_BATCH_MQ and UNLOCK_BATCH_MQ request body.
    pub struct LockBatchRequestBody {
        pub consumer_group: String => "consumerGroup",
        pub client_id: String => "clientId",
        pub only_this_broker: Option<bool> => "onlyThisBroker",
        pub mq_set: Vec<MessageQueue> => "mqSet",
    }
}

crate::json_bean! {
    /// LOCK_BATCH_MQ answer: the queues now locked by the caller.
    pub struct LockBatchResponseBody {
        pub lock_ok_mq_set: Vec<MessageQueue> => "lockOKMQSet",
    }
}

crate::json_bean! {
    /// GET_CONSUMER_LIST_BY_GROUP answer.
    pub struct ConsumerIdList {
        pub consumer_id_list: Vec<String> => "consumerIdList",
    }
}

crate::json_bean! {
    /// One queue's progress for a consumer group.
    pub struct OffsetWrapper {
        pub broker_offset: i64 => "brokerOffset",
        pub consumer_offset: i64 => "consumerOffset",
        /// 5.x: how far the group has pulled (never behind `consumer_offset`). 5.x clients need
        /// the field to decode the table; 4.x clients ignore it.
        pub pull_offset: i64 => "pullOffset",
        /// Store time of the last consumed message (ms), 0 if unknown.
        pub last_timestamp: i64 => "lastTimestamp",
    }
}

crate::json_bean! {
    /// GET_CONSUME_STATS answer: each queue's max offset next to the group's committed offset.
    pub struct ConsumeStats {
        pub offset_table: std::collections::BTreeMap<MessageQueue, OffsetWrapper> => "offsetTable",
        pub consume_tps: f64 => "consumeTps",
    }
}

crate::json_bean! {
    /// One window of a broker statistic (Java's `BrokerStatsItem`).
    pub struct BrokerStatsItem {
        pub sum: i64 => "sum",
        /// `sum` per second over the window.
        pub tps: f64 => "tps",
        /// `sum` per request that added to it.
        pub avgpt: f64 => "avgpt",
    }
}

crate::json_bean! {
    /// VIEW_BROKER_STATS_DATA answer: one statistic over the last minute, hour and day.
    pub struct BrokerStatsData {
        pub stats_minute: BrokerStatsItem => "statsMinute",
        pub stats_hour: BrokerStatsItem => "statsHour",
        pub stats_day: BrokerStatsItem => "statsDay",
    }
}

crate::json_bean! {
    /// GET_BROKER_CONSUME_STATS answer (`mqadmin brokerConsumeStats`): for each subscription
    /// group, one entry naming it, with the stats of each topic it consumes.
    pub struct ConsumeStatsList {
        pub consume_stats_list: Vec<std::collections::BTreeMap<String, Vec<ConsumeStats>>> => "consumeStatsList",
        pub broker_addr: String => "brokerAddr",
        /// Messages stored and not yet consumed, over every group and queue.
        pub total_diff: i64 => "totalDiff",
        /// 5.x: messages pulled and not yet acknowledged (always 0 here: no pop consumption).
        pub total_inflight_diff: i64 => "totalInflightDiff",
    }
}

crate::json_bean! {
    /// INVOKE_BROKER_TO_RESET_OFFSET answer and RESET_CONSUMER_CLIENT_OFFSET body: the offset
    /// each queue of the topic is reset to.
    pub struct ResetOffsetBody {
        pub offset_table: std::collections::BTreeMap<MessageQueue, i64> => "offsetTable",
    }
}

crate::json_bean! {
    /// One queue's extent.
    pub struct TopicOffset {
        pub min_offset: i64 => "minOffset",
        pub max_offset: i64 => "maxOffset",
        pub last_update_timestamp: i64 => "lastUpdateTimestamp",
    }
}

crate::json_bean! {
    /// GET_TOPIC_STATS_INFO answer.
    pub struct TopicStatsTable {
        pub offset_table: std::collections::BTreeMap<MessageQueue, TopicOffset> => "offsetTable",
        /// 5.x: messages put into the topic per second over the last minute. 5.x clients need
        /// the field to decode the table; 4.x clients ignore it.
        pub topic_put_tps: f64 => "topicPutTps",
    }
}

crate::json_bean! {
    /// One client connection of a group (Java's `Connection`), in the answers below.
    pub struct ClientConnection {
        pub client_id: String => "clientId",
        /// `ip:port` of the client's end of the connection.
        pub client_addr: String => "clientAddr",
        /// The client's `LanguageCode` name (`JAVA`, `RUST`, ...).
        pub language: String => "language",
        /// The client's version number, from its heartbeat's header.
        pub version: i32 => "version",
    }
}

crate::json_bean! {
    /// GET_CONSUMER_CONNECTION_LIST answer: who is in a consumer group and what it subscribes.
    pub struct ConsumerConnection {
        pub connection_set: Vec<ClientConnection> => "connectionSet",
        pub subscription_table: std::collections::BTreeMap<String, SubscriptionData> => "subscriptionTable",
        pub consume_type: String => "consumeType",
        pub message_model: String => "messageModel",
        pub consume_from_where: String => "consumeFromWhere",
    }
}

crate::json_bean! {
    /// GET_PRODUCER_CONNECTION_LIST answer.
    pub struct ProducerConnection {
        pub connection_set: Vec<ClientConnection> => "connectionSet",
    }
}

crate::json_bean! {
    /// A consumer's offsets on a topic's queues (its answer to GET_CONSUMER_STATUS_FROM_CLIENT,
    /// in `messageQueueTable`), and those of each client of a group gathered by the broker (the
    /// INVOKE_BROKER_TO_GET_CONSUMER_STATUS answer, in `consumerTable`).
    pub struct GetConsumerStatusBody {
        pub message_queue_table: std::collections::BTreeMap<MessageQueue, i64> => "messageQueueTable",
        pub consumer_table: std::collections::BTreeMap<String, std::collections::BTreeMap<MessageQueue, i64>> => "consumerTable",
    }
}
