//! Bodies of the admin's questions about queues, consumers and producers that `client.rs` does
//! not already carry: QUERY_CONSUME_TIME_SPAN, QUERY_SUBSCRIPTION_BY_CONSUMER,
//! GET_ALL_PRODUCER_INFO, QUERY_CONSUME_QUEUE.

use super::{MessageQueue, SubscriptionData};
use std::collections::BTreeMap;

crate::json_bean! {
    /// How far in time a group has consumed one queue (Java's `QueueTimeSpan`). Times are epoch
    /// milliseconds of when messages were stored.
    pub struct QueueTimeSpan {
        pub message_queue: MessageQueue => "messageQueue",
        /// The queue's oldest message.
        pub min_time_stamp: i64 => "minTimeStamp",
        /// The queue's newest message.
        pub max_time_stamp: i64 => "maxTimeStamp",
        /// The last message the group consumed (the oldest message if it consumed none).
        pub consume_time_stamp: i64 => "consumeTimeStamp",
        /// How long ago the first message the group has not consumed was stored; 0 when the
        /// group is caught up.
        pub delay_time: i64 => "delayTime",
    }
}

crate::json_bean! {
    /// QUERY_CONSUME_TIME_SPAN answer: one span per write queue of the topic.
    pub struct QueryConsumeTimeSpanBody {
        pub consume_time_span_set: Vec<QueueTimeSpan> => "consumeTimeSpanSet",
    }
}

crate::json_bean! {
    /// QUERY_SUBSCRIPTION_BY_CONSUMER answer: the subscription the group's online members
    /// announced for the topic (none when it has no such member).
    pub struct QuerySubscriptionResponseBody {
        pub subscription_data: Option<SubscriptionData> => "subscriptionData",
        pub group: String => "group",
        pub topic: String => "topic",
    }
}

crate::json_bean! {
    /// One connected producer client (Java's `ProducerInfo`).
    pub struct ProducerInfo {
        pub client_id: String => "clientId",
        /// `ip:port` of the client's end of the connection.
        pub remote_ip: String => "remoteIP",
        /// The client's `LanguageCode` name.
        pub language: String => "language",
        pub version: i32 => "version",
        /// Epoch milliseconds of its last heartbeat.
        pub last_update_timestamp: i64 => "lastUpdateTimestamp",
    }
}

crate::json_bean! {
    /// GET_ALL_PRODUCER_INFO answer: producer group -> its connected clients.
    pub struct ProducerTableInfo {
        pub data: BTreeMap<String, Vec<ProducerInfo>> => "data",
    }
}

crate::json_bean! {
    /// One consume-queue entry (Java's `ConsumeQueueData`). The extension fields are for Java's
    /// consume-queue extension (filter bit maps), which this broker does not keep.
    pub struct ConsumeQueueData {
        /// Where the message's record starts in the commit log.
        pub physic_offset: i64 => "physicOffset",
        pub physic_size: i32 => "physicSize",
        /// Hash code of the message's tag.
        pub tags_code: i64 => "tagsCode",
        pub extend_data_json: Option<String> => "extendDataJson",
        pub bit_map: Option<String> => "bitMap",
        pub eval: bool => "eval",
        pub msg: Option<String> => "msg",
    }
}

crate::json_bean! {
    /// QUERY_CONSUME_QUEUE answer.
    pub struct QueryConsumeQueueResponseBody {
        /// The asked group's subscription to the topic, when it has an online member.
        pub subscription_data: Option<SubscriptionData> => "subscriptionData",
        /// Java's filter data of that subscription, or why there is none.
        pub filter_data: Option<String> => "filterData",
        pub queue_data: Vec<ConsumeQueueData> => "queueData",
        /// The queue's max offset (one past its last entry).
        pub max_queue_index: i64 => "maxQueueIndex",
        pub min_queue_index: i64 => "minQueueIndex",
    }
}
