//! Route bodies: what the name server answers about topics, brokers and clusters.

use std::collections::BTreeMap;

/// Permission bits of a topic or broker (Java's `PermName`).
pub mod perm {
    pub const PRIORITY: i32 = 1 << 3;
    pub const READ: i32 = 1 << 2;
    pub const WRITE: i32 = 1 << 1;
    pub const INHERIT: i32 = 1;

    pub fn is_readable(perm: i32) -> bool {
        perm & READ != 0
    }
    pub fn is_writeable(perm: i32) -> bool {
        perm & WRITE != 0
    }
}

/// The broker id of a master in `brokerAddrs`.
pub const MASTER_ID: i64 = 0;

crate::json_bean! {
    /// A topic's queues on one broker.
    pub struct QueueData {
        pub broker_name: String => "brokerName",
        pub read_queue_nums: i32 => "readQueueNums",
        pub write_queue_nums: i32 => "writeQueueNums",
        pub perm: i32 => "perm",
        pub topic_sys_flag: i32 => "topicSysFlag",
    }
}

crate::json_bean! {
    /// A broker group: its name, cluster and the address of each member by broker id (0 = master).
    pub struct BrokerData {
        pub cluster: String => "cluster",
        pub broker_name: String => "brokerName",
        pub broker_addrs: BTreeMap<i64, String> => "brokerAddrs",
        /// 5.x: a slave may act as master while the master is down.
        pub enable_acting_master: Option<bool> => "enableActingMaster",
        pub zone_name: Option<String> => "zoneName",
    }
}

crate::json_bean! {
    /// The answer to GET_ROUTEINFO_BY_TOPIC.
    pub struct TopicRouteData {
        /// `brokerName:queueNums;...` for ordered topics, from the KV config.
        pub order_topic_conf: Option<String> => "orderTopicConf",
        pub queue_datas: Vec<QueueData> => "queueDatas",
        pub broker_datas: Vec<BrokerData> => "brokerDatas",
        pub filter_server_table: BTreeMap<String, Vec<String>> => "filterServerTable",
    }
}

crate::json_bean! {
    /// The answer to GET_BROKER_CLUSTER_INFO.
    pub struct ClusterInfo {
        pub broker_addr_table: BTreeMap<String, BrokerData> => "brokerAddrTable",
        pub cluster_addr_table: BTreeMap<String, Vec<String>> => "clusterAddrTable",
    }
}

crate::json_bean! {
    /// A list of topic names (GET_ALL_TOPIC_LIST_FROM_NAMESERVER, GET_TOPICS_BY_CLUSTER, ...).
    pub struct TopicList {
        pub topic_list: Vec<String> => "topicList",
        pub broker_addr: Option<String> => "brokerAddr",
    }
}

crate::json_bean! {
    /// A KV namespace's entries (GET_KVLIST_BY_NAMESPACE, and the REGISTER_BROKER answer).
    pub struct KvTable {
        pub table: BTreeMap<String, String> => "table",
    }
}
