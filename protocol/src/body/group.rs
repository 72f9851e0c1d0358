//! Subscription groups: a consumer group's settings on a broker, as UPDATE_AND_CREATE_SUBSCRIPTIONGROUP
//! sends them and GET_ALL_SUBSCRIPTIONGROUP_CONFIG / GET_SUBSCRIPTIONGROUP_CONFIG return them.

use super::DataVersion;
use std::collections::BTreeMap;

crate::json_bean! {
    /// One consumer group's settings (Java's `SubscriptionGroupConfig`). Absent fields take
    /// Java's initial values, so a body naming only `groupName` makes a group with defaults.
    pub struct SubscriptionGroupConfig {
        pub group_name: String => "groupName",
        /// `false` refuses the group's pulls with NO_PERMISSION.
        pub consume_enable: bool => "consumeEnable" = true,
        pub consume_from_min_enable: bool => "consumeFromMinEnable" = true,
        pub consume_broadcast_enable: bool => "consumeBroadcastEnable" = true,
        /// Queues of the group's `%RETRY%` topic when the broker creates it.
        pub retry_queue_nums: i32 => "retryQueueNums" = 1,
        /// Retries before a message goes to the group's `%DLQ%` topic, for clients too old to say.
        pub retry_max_times: i32 => "retryMaxTimes" = 16,
        pub broker_id: i64 => "brokerId",
        pub which_broker_when_consume_slowly: i64 => "whichBrokerWhenConsumeSlowly" = 1,
        /// `false`: members are not sent NOTIFY_CONSUMER_IDS_CHANGED when the group changes.
        pub notify_consumer_ids_changed_enable: bool => "notifyConsumerIdsChangedEnable" = true,
        /// 5.x fields, kept so that what a 5.x admin set comes back.
        pub consume_message_orderly: bool => "consumeMessageOrderly",
        pub group_sys_flag: i32 => "groupSysFlag",
        pub consume_timeout_minute: i32 => "consumeTimeoutMinute" = 15,
        pub attributes: Option<BTreeMap<String, String>> => "attributes",
    }
}

crate::json_bean! {
    /// A broker's subscription groups with their version: the GET_ALL_SUBSCRIPTIONGROUP_CONFIG
    /// body and `config/subscriptionGroup.json`. `forbiddenTable` is 5.x's; 5.x clients require
    /// the field, 4.x clients ignore it.
    pub struct SubscriptionGroupWrapper {
        pub subscription_group_table: BTreeMap<String, SubscriptionGroupConfig> => "subscriptionGroupTable",
        pub forbidden_table: BTreeMap<String, BTreeMap<String, i32>> => "forbiddenTable",
        pub data_version: DataVersion => "dataVersion",
    }
}

crate::json_bean! {
    /// Consumer group names (QUERY_TOPIC_CONSUME_BY_WHO).
    pub struct GroupList {
        pub group_list: Vec<String> => "groupList",
    }
}

crate::json_bean! {
    /// Several groups' settings at once (UPDATE_AND_CREATE_SUBSCRIPTIONGROUP_LIST, 5.x).
    pub struct SubscriptionGroupList {
        pub group_config_list: Vec<SubscriptionGroupConfig> => "groupConfigList",
    }
}
