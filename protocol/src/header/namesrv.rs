//! Name server headers: broker registration and heartbeats, route lookups, the KV config store
//! and broker write permissions.

// `GET_BROKER_CLUSTER_INFO` (106) and `GET_ALL_TOPIC_LIST_FROM_NAMESERVER` (206) carry no header,
// and Java has no `GetRouteInfoResponseHeader`: the route of `GET_ROUTEINFO_BY_TOPIC` is the body.

crate::command_header! {
    /// `REGISTER_BROKER` (103): a broker announces itself and its topic configs (in the body) to
    /// the name server; sent on start-up and then periodically.
    pub struct RegisterBrokerRequestHeader {
        pub broker_name: String => "brokerName",
        pub broker_addr: String => "brokerAddr",
        pub cluster_name: String => "clusterName",
        /// Address slaves replicate from (`ip:haPort`).
        pub ha_server_addr: String => "haServerAddr",
        /// 0 for the master, positive for slaves.
        pub broker_id: i64 => "brokerId",
        /// 5.x: how long the name server waits for a heartbeat before dropping the broker.
        pub heartbeat_timeout_millis: Option<i64> => "heartbeatTimeoutMillis",
        /// 5.x: whether the broker takes part in acting-master election.
        pub enable_acting_master: Option<bool> => "enableActingMaster",
        /// Whether the body is zlib-compressed.
        pub compressed: Option<bool> => "compressed",
        /// CRC32 of the body as sent, masked to 31 bits; 0 (Java's default) skips the check.
        pub body_crc32: Option<i32> => "bodyCrc32",
    }
}

crate::command_header! {
    /// Answer to `REGISTER_BROKER` (103): tells a slave where its master is.
    pub struct RegisterBrokerResponseHeader {
        pub ha_server_addr: Option<String> => "haServerAddr",
        pub master_addr: Option<String> => "masterAddr",
    }
}

crate::command_header! {
    /// `UNREGISTER_BROKER` (104): a broker leaves the name server on shutdown.
    pub struct UnRegisterBrokerRequestHeader {
        pub broker_name: String => "brokerName",
        pub broker_addr: String => "brokerAddr",
        pub cluster_name: String => "clusterName",
        pub broker_id: i64 => "brokerId",
    }
}

crate::command_header! {
    /// `GET_ROUTEINFO_BY_TOPIC` (105): a client asks which brokers and queues serve a topic.
    pub struct GetRouteInfoRequestHeader: TopicRequestHeader {
        pub topic: String => "topic",
        /// Asks for a standards-conforming JSON body (quoted numeric map keys).
        pub accept_standard_json_only: Option<bool> => "acceptStandardJsonOnly",
    }
}

crate::command_header! {
    /// `PUT_KV_CONFIG` (100): stores one value in the name server's KV config.
    pub struct PutKVConfigRequestHeader {
        pub namespace: String => "namespace",
        pub key: String => "key",
        pub value: String => "value",
    }
}

crate::command_header! {
    /// `GET_KV_CONFIG` (101): reads one value of the name server's KV config.
    pub struct GetKVConfigRequestHeader {
        pub namespace: String => "namespace",
        pub key: String => "key",
    }
}

crate::command_header! {
    /// Answer to `GET_KV_CONFIG` (101); `value` is absent when the key is unknown.
    pub struct GetKVConfigResponseHeader {
        pub value: Option<String> => "value",
    }
}

crate::command_header! {
    /// `DELETE_KV_CONFIG` (102): removes one value of the name server's KV config.
    pub struct DeleteKVConfigRequestHeader {
        pub namespace: String => "namespace",
        pub key: String => "key",
    }
}

crate::command_header! {
    /// `GET_KVLIST_BY_NAMESPACE` (219): reads every KV config value of a namespace (answered in the
    /// body).
    pub struct GetKVListByNamespaceRequestHeader {
        pub namespace: String => "namespace",
    }
}

crate::command_header! {
    /// `WIPE_WRITE_PERM_OF_BROKER` (205): removes write permission from every topic of a broker
    /// (used to drain a broker before taking it down).
    pub struct WipeWritePermOfBrokerRequestHeader {
        pub broker_name: String => "brokerName",
    }
}

crate::command_header! {
    /// Answer to `WIPE_WRITE_PERM_OF_BROKER` (205).
    pub struct WipeWritePermOfBrokerResponseHeader {
        /// How many topic entries lost write permission.
        pub wipe_topic_count: i32 => "wipeTopicCount",
    }
}

crate::command_header! {
    /// `ADD_WRITE_PERM_OF_BROKER` (327): gives write permission back to every topic of a broker.
    pub struct AddWritePermOfBrokerRequestHeader {
        pub broker_name: String => "brokerName",
    }
}

crate::command_header! {
    /// Answer to `ADD_WRITE_PERM_OF_BROKER` (327).
    pub struct AddWritePermOfBrokerResponseHeader {
        /// How many topic entries got write permission back.
        pub add_topic_count: i32 => "addTopicCount",
    }
}

crate::command_header! {
    /// `DELETE_TOPIC_IN_NAMESRV` (216): drops a topic's route, from one cluster or from all.
    pub struct DeleteTopicFromNamesrvRequestHeader: TopicRequestHeader {
        pub topic: String => "topic",
        /// Only this cluster's brokers; every broker when absent.
        pub cluster_name: Option<String> => "clusterName",
    }
}

crate::command_header! {
    /// `REGISTER_TOPIC_IN_NAMESRV` (217, 5.x): registers a topic's route (queue data in the body).
    pub struct RegisterTopicRequestHeader: TopicRequestHeader {
        pub topic: String => "topic",
    }
}

crate::command_header! {
    /// `GET_TOPICS_BY_CLUSTER` (224): lists the topics served by one cluster (answered in the
    /// body).
    pub struct GetTopicsByClusterRequestHeader {
        pub cluster: String => "cluster",
    }
}

crate::command_header! {
    /// `QUERY_DATA_VERSION` (322): a broker asks whether the name server holds an older topic
    /// config data version than its own (the broker's version is the body).
    pub struct QueryDataVersionRequestHeader {
        pub broker_name: String => "brokerName",
        pub broker_addr: String => "brokerAddr",
        pub cluster_name: String => "clusterName",
        pub broker_id: i64 => "brokerId",
    }
}

crate::command_header! {
    /// Answer to `QUERY_DATA_VERSION` (322).
    pub struct QueryDataVersionResponseHeader {
        /// True when the name server's copy differs, so the broker should register again.
        pub changed: bool => "changed",
    }
}

crate::command_header! {
    /// `BROKER_HEARTBEAT` (904, 5.x): a lightweight liveness ping from a broker between full
    /// registrations.
    pub struct BrokerHeartbeatRequestHeader {
        pub cluster_name: String => "clusterName",
        pub broker_addr: String => "brokerAddr",
        pub broker_name: String => "brokerName",
        pub broker_id: Option<i64> => "brokerId",
        /// Controller-mode master epoch.
        pub epoch: Option<i32> => "epoch",
        /// The broker's commit log max offset.
        pub max_offset: Option<i64> => "maxOffset",
        /// The broker's confirmed (replicated) commit log offset.
        pub confirm_offset: Option<i64> => "confirmOffset",
        /// Spelled `Mills` on the wire (unlike `REGISTER_BROKER`'s `heartbeatTimeoutMillis`).
        pub heartbeat_timeout_mills: Option<i64> => "heartbeatTimeoutMills",
        pub election_priority: Option<i32> => "electionPriority",
    }
}

crate::command_header! {
    /// `GET_BROKER_MEMBER_GROUP` (901, 5.x): asks for the addresses of every broker sharing a
    /// broker name (answered in the body).
    pub struct GetBrokerMemberGroupRequestHeader {
        pub cluster_name: String => "clusterName",
        pub broker_name: String => "brokerName",
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
            RegisterBrokerRequestHeader {
                broker_name: "broker-a".into(),
                broker_addr: "10.0.0.1:10911".into(),
                cluster_name: "DefaultCluster".into(),
                ha_server_addr: "10.0.0.1:10912".into(),
                broker_id: 1,
                heartbeat_timeout_millis: Some(120_000),
                enable_acting_master: Some(true),
                compressed: Some(true),
                body_crc32: Some(-12345),
            },
            9,
        );
        round_trip(
            RegisterBrokerResponseHeader {
                ha_server_addr: Some("10.0.0.1:10912".into()),
                master_addr: Some("10.0.0.1:10911".into()),
            },
            2,
        );
        round_trip(
            UnRegisterBrokerRequestHeader {
                broker_name: "broker-a".into(),
                broker_addr: "10.0.0.1:10911".into(),
                cluster_name: "c".into(),
                broker_id: 2,
            },
            4,
        );
        round_trip(
            GetRouteInfoRequestHeader {
                topic: "T".into(),
                accept_standard_json_only: Some(true),
                logical: Some(false),
                namespace: Some("ns1".into()),
                namespaced: Some(true),
                broker_name: Some("broker-a".into()),
                oneway: Some(false),
            },
            7,
        );
        round_trip(
            PutKVConfigRequestHeader {
                namespace: "ORDER_TOPIC_CONFIG".into(),
                key: "T".into(),
                value: "broker-a:4".into(),
            },
            3,
        );
        round_trip(
            GetKVConfigRequestHeader {
                namespace: "n".into(),
                key: "k".into(),
            },
            2,
        );
        round_trip(
            GetKVConfigResponseHeader {
                value: Some("v".into()),
            },
            1,
        );
        round_trip(
            DeleteKVConfigRequestHeader {
                namespace: "n".into(),
                key: "k".into(),
            },
            2,
        );
        round_trip(
            GetKVListByNamespaceRequestHeader {
                namespace: "n".into(),
            },
            1,
        );
        round_trip(
            WipeWritePermOfBrokerRequestHeader {
                broker_name: "broker-a".into(),
            },
            1,
        );
        round_trip(
            WipeWritePermOfBrokerResponseHeader {
                wipe_topic_count: 7,
            },
            1,
        );
        round_trip(
            AddWritePermOfBrokerRequestHeader {
                broker_name: "broker-a".into(),
            },
            1,
        );
        round_trip(AddWritePermOfBrokerResponseHeader { add_topic_count: 8 }, 1);
        round_trip(
            DeleteTopicFromNamesrvRequestHeader {
                topic: "T".into(),
                cluster_name: Some("c".into()),
                logical: Some(true),
                namespace: Some("ns".into()),
                namespaced: Some(false),
                broker_name: Some("b".into()),
                oneway: Some(true),
            },
            7,
        );
        round_trip(
            RegisterTopicRequestHeader {
                topic: "T".into(),
                logical: Some(true),
                namespace: Some("ns".into()),
                namespaced: Some(false),
                broker_name: Some("b".into()),
                oneway: Some(true),
            },
            6,
        );
        round_trip(
            GetTopicsByClusterRequestHeader {
                cluster: "c".into(),
            },
            1,
        );
        round_trip(
            QueryDataVersionRequestHeader {
                broker_name: "b".into(),
                broker_addr: "a:1".into(),
                cluster_name: "c".into(),
                broker_id: 0,
            },
            4,
        );
        round_trip(QueryDataVersionResponseHeader { changed: true }, 1);
        round_trip(
            BrokerHeartbeatRequestHeader {
                cluster_name: "c".into(),
                broker_addr: "a:1".into(),
                broker_name: "b".into(),
                broker_id: Some(3),
                epoch: Some(4),
                max_offset: Some(5),
                confirm_offset: Some(6),
                heartbeat_timeout_mills: Some(7),
                election_priority: Some(8),
            },
            9,
        );
        round_trip(
            GetBrokerMemberGroupRequestHeader {
                cluster_name: "c".into(),
                broker_name: "b".into(),
            },
            2,
        );
    }

    #[test]
    fn optional_fields_stay_out_when_absent() {
        let h = GetRouteInfoRequestHeader {
            topic: "T".into(),
            ..Default::default()
        };
        let mut f = ExtFields::new();
        h.encode(&mut f);
        assert_eq!(f, fields(&[("topic", "T")]));
        assert_eq!(
            GetKVConfigResponseHeader::decode(&ExtFields::new()).unwrap(),
            GetKVConfigResponseHeader { value: None }
        );
    }

    // Field values below are copied from /work/shared/wire-vectors (Java 4.9.7 captures).

    #[test]
    fn captured_register_broker() {
        let f = fields(&[
            ("brokerId", "0"),
            ("bodyCrc32", "1634595824"),
            ("clusterName", "DefaultCluster"),
            ("brokerAddr", "127.0.0.2:20921"),
            ("haServerAddr", "127.0.0.1:20922"),
            ("compressed", "false"),
            ("brokerName", "broker-a"),
        ]);
        let h = RegisterBrokerRequestHeader::decode(&f).unwrap();
        assert_eq!(
            h,
            RegisterBrokerRequestHeader {
                broker_name: "broker-a".into(),
                broker_addr: "127.0.0.2:20921".into(),
                cluster_name: "DefaultCluster".into(),
                ha_server_addr: "127.0.0.1:20922".into(),
                broker_id: 0,
                heartbeat_timeout_millis: None,
                enable_acting_master: None,
                compressed: Some(false),
                body_crc32: Some(1634595824),
            }
        );
        let mut out = ExtFields::new();
        h.encode(&mut out);
        let mut sorted_out: Vec<_> = out.iter().collect();
        let mut sorted_in: Vec<_> = f.iter().collect();
        sorted_out.sort();
        sorted_in.sort();
        assert_eq!(sorted_out, sorted_in);

        // The ROCKETMQ-serialized capture differs only in the checksum.
        let mut f = f;
        f.insert("bodyCrc32", "1208027177");
        assert_eq!(
            RegisterBrokerRequestHeader::decode(&f).unwrap().body_crc32,
            Some(1208027177)
        );
    }

    #[test]
    fn captured_register_broker_response_is_empty() {
        // 4.9.7 namesrv answers a master with an empty extFields map.
        let h = RegisterBrokerResponseHeader::decode(&ExtFields::new()).unwrap();
        assert_eq!(
            h,
            RegisterBrokerResponseHeader {
                ha_server_addr: None,
                master_addr: None
            }
        );
    }

    #[test]
    fn captured_unregister_broker() {
        let f = fields(&[
            ("brokerId", "0"),
            ("clusterName", "DefaultCluster"),
            ("brokerAddr", "127.0.0.2:20921"),
            ("brokerName", "broker-a"),
        ]);
        let h = UnRegisterBrokerRequestHeader::decode(&f).unwrap();
        assert_eq!(h.broker_id, 0);
        assert_eq!(h.cluster_name, "DefaultCluster");
        assert_eq!(h.broker_addr, "127.0.0.2:20921");
        assert_eq!(h.broker_name, "broker-a");
    }

    #[test]
    fn captured_get_route_info() {
        let h = GetRouteInfoRequestHeader::decode(&fields(&[("topic", "TBW102")])).unwrap();
        assert_eq!(
            h,
            GetRouteInfoRequestHeader {
                topic: "TBW102".into(),
                ..Default::default()
            }
        );
        let h = GetRouteInfoRequestHeader::decode(&fields(&[(
            "topic",
            "%RETRY%GID_async_c_256166t02asy",
        )]))
        .unwrap();
        assert_eq!(h.topic, "%RETRY%GID_async_c_256166t02asy");
        assert_eq!(h.accept_standard_json_only, None);
    }

    #[test]
    fn missing_required_field() {
        let f = fields(&[
            ("brokerId", "0"),
            ("clusterName", "c"),
            ("brokerAddr", "a:1"),
            ("brokerName", "b"),
        ]);
        assert_eq!(
            RegisterBrokerRequestHeader::decode(&f),
            Err(ProtocolError::MissingField("haServerAddr"))
        );
        assert_eq!(
            GetRouteInfoRequestHeader::decode(&ExtFields::new()),
            Err(ProtocolError::MissingField("topic"))
        );
    }
}
