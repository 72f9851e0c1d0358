//! Topic configs: what a broker registers with the name server (its table and the table's data
//! version), and what an admin sends to create several at once.

use std::collections::BTreeMap;

crate::json_bean! {
    /// Version of a broker's topic table; the name server skips unchanged tables.
    #[derive(Eq)]
    pub struct DataVersion {
        pub timestamp: i64 => "timestamp",
        pub counter: i64 => "counter",
        /// 5.x controller mode.
        pub state_version: Option<i64> => "stateVersion",
    }
}

crate::json_bean! {
    /// One topic's configuration on a broker.
    pub struct TopicConfig {
        pub topic_name: String => "topicName",
        pub read_queue_nums: i32 => "readQueueNums",
        pub write_queue_nums: i32 => "writeQueueNums",
        pub perm: i32 => "perm",
        /// `SINGLE_TAG` or `MULTI_TAG`.
        pub topic_filter_type: String => "topicFilterType",
        pub topic_sys_flag: i32 => "topicSysFlag",
        pub order: bool => "order",
        /// 5.x topic attributes (`+message.type=NORMAL`, ...).
        pub attributes: Option<BTreeMap<String, String>> => "attributes",
    }
}

crate::json_bean! {
    /// A broker's topic table with its version (also the GET_ALL_TOPIC_CONFIG answer).
    pub struct TopicConfigSerializeWrapper {
        pub topic_config_table: BTreeMap<String, TopicConfig> => "topicConfigTable",
        pub data_version: DataVersion => "dataVersion",
    }
}

crate::json_bean! {
    /// The JSON form of a REGISTER_BROKER body (`compressed=false`).
    pub struct RegisterBrokerBody {
        pub topic_config_serialize_wrapper: TopicConfigSerializeWrapper => "topicConfigSerializeWrapper",
        pub filter_server_list: Vec<String> => "filterServerList",
    }
}

crate::json_bean! {
    /// Several topics' configs at once (UPDATE_AND_CREATE_TOPIC_LIST, 5.x).
    pub struct CreateTopicListRequestBody {
        pub topic_config_list: Vec<TopicConfig> => "topicConfigList",
    }
}
