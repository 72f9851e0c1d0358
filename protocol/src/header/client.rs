//! Client-management headers: client unregistration, group membership and connection lookups,
//! consumer running info and direct consumption.

crate::command_header! {
    /// `UNREGISTER_CLIENT` (35): a producer or consumer leaves its group on shutdown.
    pub struct UnregisterClientRequestHeader: RpcRequestHeader {
        pub client_id: String => "clientID",
        pub producer_group: Option<String> => "producerGroup",
        pub consumer_group: Option<String> => "consumerGroup",
    }
}

crate::command_header! {
    /// Answer to `UNREGISTER_CLIENT` (35); it has no fields.
    pub struct UnregisterClientResponseHeader {}
}

crate::command_header! {
    /// `HEART_BEAT` (34): the 5.x client sends this field-less header (4.9.7 sends none); the
    /// heartbeat data is the body.
    pub struct HeartbeatRequestHeader: RpcRequestHeader {

    }
}

crate::command_header! {
    /// `GET_CONSUMER_LIST_BY_GROUP` (38): a consumer asks for the client ids of its group to
    /// rebalance queues (the list is the answer's body).
    pub struct GetConsumerListByGroupRequestHeader: RpcRequestHeader {
        pub consumer_group: String => "consumerGroup",
    }
}

crate::command_header! {
    /// Answer to `GET_CONSUMER_LIST_BY_GROUP` (38); it has no fields.
    pub struct GetConsumerListByGroupResponseHeader {}
}

crate::command_header! {
    /// `NOTIFY_CONSUMER_IDS_CHANGED` (40, broker to consumer, oneway): the group's membership
    /// changed, so its consumers should rebalance.
    pub struct NotifyConsumerIdsChangedRequestHeader: RpcRequestHeader {
        pub consumer_group: String => "consumerGroup",
    }
}

crate::command_header! {
    /// `LOCK_BATCH_MQ` (41): the 5.x client sends this field-less header (4.9.7 sends none); the
    /// queues to lock are the body.
    pub struct LockBatchMqRequestHeader: RpcRequestHeader {

    }
}

crate::command_header! {
    /// `UNLOCK_BATCH_MQ` (42): the 5.x client sends this field-less header (4.9.7 sends none); the
    /// queues to unlock are the body.
    pub struct UnlockBatchMqRequestHeader: RpcRequestHeader {

    }
}

crate::command_header! {
    /// `GET_CONSUMER_CONNECTION_LIST` (203): an admin asks which clients of a consumer group are
    /// connected, and their subscriptions (answered in the body).
    pub struct GetConsumerConnectionListRequestHeader: RpcRequestHeader {
        pub consumer_group: String => "consumerGroup",
    }
}

crate::command_header! {
    /// `GET_PRODUCER_CONNECTION_LIST` (204): an admin asks which clients of a producer group are
    /// connected (answered in the body).
    pub struct GetProducerConnectionListRequestHeader: RpcRequestHeader {
        pub producer_group: String => "producerGroup",
    }
}

crate::command_header! {
    /// `GET_CONSUMER_RUNNING_INFO` (307): an admin asks (via the broker, which forwards the same
    /// header to the client) for a consumer's internal state.
    pub struct GetConsumerRunningInfoRequestHeader: RpcRequestHeader {
        pub consumer_group: String => "consumerGroup",
        pub client_id: String => "clientId",
        /// Include a thread dump of the client.
        pub jstack_enable: Option<bool> => "jstackEnable",
    }
}

crate::command_header! {
    /// `CONSUME_MESSAGE_DIRECTLY` (309): an admin asks (via the broker, which forwards it with the
    /// message as body) one consumer to consume a given message right away.
    pub struct ConsumeMessageDirectlyResultRequestHeader {
        pub consumer_group: String => "consumerGroup",
        /// The consumer that should consume it.
        pub client_id: Option<String> => "clientId",
        /// Offset message id of the message.
        pub msg_id: Option<String> => "msgId",
        /// Broker holding the message.
        pub broker_name: Option<String> => "brokerName",
        /// 5.x: the message's topic.
        pub topic: Option<String> => "topic",
        /// 5.x: the topic's `topicSysFlag`.
        pub topic_sys_flag: Option<i32> => "topicSysFlag",
        /// 5.x: the group's system flag.
        pub group_sys_flag: Option<i32> => "groupSysFlag",
        /// 5.x: the inherited broker-name field; Java's getter returns `brokerName` instead.
        pub bname: Option<String> => "bname",
        /// 5.x: namespace of the group and topic.
        pub namespace: Option<String> => "ns",
        /// 5.x: whether the names already carry the namespace.
        pub namespaced: Option<bool> => "nsd",
        /// 5.x: set when the request is sent oneway.
        pub oneway: Option<bool> => "oway",
        /// 5.x: the topic is a logical (static-topic) one.
        pub logical: Option<bool> => "lo",
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
            UnregisterClientRequestHeader {
                client_id: "127.0.0.1@1".into(),
                producer_group: Some("PG".into()),
                consumer_group: Some("CG".into()),
                broker_name: Some("b".into()),
                namespace: Some("ns".into()),
                namespaced: Some(true),
                oneway: Some(false),
            },
            7,
        );
        round_trip(UnregisterClientResponseHeader {}, 0);
        round_trip(
            HeartbeatRequestHeader {
                broker_name: Some("b".into()),
                namespace: Some("ns".into()),
                namespaced: Some(false),
                oneway: Some(true),
            },
            4,
        );
        round_trip(
            GetConsumerListByGroupRequestHeader {
                consumer_group: "CG".into(),
                broker_name: Some("b".into()),
                namespace: Some("ns".into()),
                namespaced: Some(true),
                oneway: Some(true),
            },
            5,
        );
        round_trip(GetConsumerListByGroupResponseHeader {}, 0);
        round_trip(
            NotifyConsumerIdsChangedRequestHeader {
                consumer_group: "CG".into(),
                broker_name: Some("b".into()),
                namespace: Some("ns".into()),
                namespaced: Some(false),
                oneway: Some(true),
            },
            5,
        );
        round_trip(
            LockBatchMqRequestHeader {
                broker_name: Some("b".into()),
                namespace: Some("ns".into()),
                namespaced: Some(true),
                oneway: Some(false),
            },
            4,
        );
        round_trip(
            UnlockBatchMqRequestHeader {
                broker_name: Some("b".into()),
                namespace: Some("ns".into()),
                namespaced: Some(false),
                oneway: Some(false),
            },
            4,
        );
        round_trip(
            GetConsumerConnectionListRequestHeader {
                consumer_group: "CG".into(),
                broker_name: Some("b".into()),
                namespace: Some("ns".into()),
                namespaced: Some(true),
                oneway: Some(false),
            },
            5,
        );
        round_trip(
            GetProducerConnectionListRequestHeader {
                producer_group: "PG".into(),
                broker_name: Some("b".into()),
                namespace: Some("ns".into()),
                namespaced: Some(true),
                oneway: Some(false),
            },
            5,
        );
        round_trip(
            GetConsumerRunningInfoRequestHeader {
                consumer_group: "CG".into(),
                client_id: "127.0.0.1@1".into(),
                jstack_enable: Some(true),
                broker_name: Some("b".into()),
                namespace: Some("ns".into()),
                namespaced: Some(true),
                oneway: Some(false),
            },
            7,
        );
        round_trip(
            ConsumeMessageDirectlyResultRequestHeader {
                consumer_group: "CG".into(),
                client_id: Some("127.0.0.1@1".into()),
                msg_id: Some("7F000002000051B90000000000000000".into()),
                broker_name: Some("broker-a".into()),
                topic: Some("T".into()),
                topic_sys_flag: Some(1),
                group_sys_flag: Some(2),
                bname: Some("broker-b".into()),
                namespace: Some("ns".into()),
                namespaced: Some(true),
                oneway: Some(false),
                logical: Some(false),
            },
            12,
        );
    }

    // Field values below are copied from /work/shared/wire-vectors (Java 4.9.7 captures).

    #[test]
    fn captured_unregister_client() {
        let f = fields(&[
            ("producerGroup", "GID_sync_p_256166t01syn"),
            ("clientID", "192.0.2.2@p-GID_sync_p_256166t01syn"),
        ]);
        let h = UnregisterClientRequestHeader::decode(&f).unwrap();
        assert_eq!(
            h,
            UnregisterClientRequestHeader {
                client_id: "192.0.2.2@p-GID_sync_p_256166t01syn".into(),
                producer_group: Some("GID_sync_p_256166t01syn".into()),
                ..Default::default()
            }
        );
        let mut out = ExtFields::new();
        h.encode(&mut out);
        assert_eq!(out.len(), 2);
        assert_eq!(
            out.get("clientID"),
            Some("192.0.2.2@p-GID_sync_p_256166t01syn")
        );
    }

    #[test]
    fn captured_group_lookups() {
        let f = fields(&[("consumerGroup", "GID_async_c_256166t02asy")]);
        let h = GetConsumerListByGroupRequestHeader::decode(&f).unwrap();
        assert_eq!(h.consumer_group, "GID_async_c_256166t02asy");
        assert_eq!(h.broker_name, None);
        // NOTIFY_CONSUMER_IDS_CHANGED (broker -> consumer) carries the same single field.
        let n = NotifyConsumerIdsChangedRequestHeader::decode(&f).unwrap();
        assert_eq!(n.consumer_group, "GID_async_c_256166t02asy");
        let mut out = ExtFields::new();
        n.encode(&mut out);
        assert_eq!(out, f);
    }

    #[test]
    fn captured_heartbeat_and_lock_have_no_fields() {
        // 4.9.7 HEART_BEAT / LOCK_BATCH_MQ / UNLOCK_BATCH_MQ frames carry no (or empty) extFields.
        assert_eq!(
            HeartbeatRequestHeader::decode(&ExtFields::new()).unwrap(),
            HeartbeatRequestHeader::default()
        );
        assert_eq!(
            LockBatchMqRequestHeader::decode(&ExtFields::new()).unwrap(),
            LockBatchMqRequestHeader::default()
        );
        assert_eq!(
            UnlockBatchMqRequestHeader::decode(&ExtFields::new()).unwrap(),
            UnlockBatchMqRequestHeader::default()
        );
    }

    #[test]
    fn missing_required_field() {
        let f = fields(&[("producerGroup", "PG")]);
        assert_eq!(
            UnregisterClientRequestHeader::decode(&f),
            Err(ProtocolError::MissingField("clientID"))
        );
        let f = fields(&[("consumerGroup", "CG")]);
        assert_eq!(
            GetConsumerRunningInfoRequestHeader::decode(&f),
            Err(ProtocolError::MissingField("clientId"))
        );
    }
}
