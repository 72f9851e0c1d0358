use super::*;
use crate::json::{from_slice, to_vec, JsonStyle};
use crate::wire_vectors::frame;

#[test]
fn register_broker_body_from_java_decodes() {
    let req = frame("request-103-register_broker-json");
    let body: RegisterBrokerBody = from_slice(&req.body).unwrap();
    let table = &body.topic_config_serialize_wrapper.topic_config_table;
    assert_eq!(table.len(), 8);
    let tbw = &table["TBW102"];
    assert_eq!(
        (tbw.read_queue_nums, tbw.write_queue_nums, tbw.perm),
        (8, 8, 7)
    );
    assert_eq!(tbw.topic_filter_type, "SINGLE_TAG");
    assert_eq!(
        body.topic_config_serialize_wrapper.data_version.timestamp,
        1_795_256_160_542
    );
    // What we write reads back the same.
    let again: RegisterBrokerBody = from_slice(&to_vec(&body, JsonStyle::Fastjson)).unwrap();
    assert_eq!(again, body);
}

#[test]
fn route_data_reencodes_to_the_captured_standard_json() {
    let resp = frame("response-105-get_routeinfo_by_topic.ok-json");
    let route: TopicRouteData = from_slice(&resp.body).unwrap();
    assert_eq!(route.broker_datas[0].broker_addrs[&0], "127.0.0.2:20921");
    assert_eq!(route.queue_datas[0].write_queue_nums, 8);
    assert_eq!(to_vec(&route, JsonStyle::Standard), resp.body.to_vec());
    // The fastjson shape differs only in the bare numeric key.
    let fast = String::from_utf8(to_vec(&route, JsonStyle::Fastjson)).unwrap();
    assert!(
        fast.contains(r#""brokerAddrs":{0:"127.0.0.2:20921"}"#),
        "{fast}"
    );
}

#[test]
fn cluster_info_reencodes_to_the_captured_fastjson() {
    for name in [
        "response-106-get_broker_cluster_info-json",
        "response-106-get_broker_cluster_info-rocketmq",
    ] {
        let resp = frame(name);
        let info: ClusterInfo = from_slice(&resp.body).unwrap();
        assert_eq!(info.cluster_addr_table["DefaultCluster"], ["broker-a"]);
        assert_eq!(
            to_vec(&info, JsonStyle::Fastjson),
            resp.body.to_vec(),
            "{name}"
        );
    }
}

#[test]
fn heartbeat_lock_and_consumer_list_bodies_from_java() {
    let hb: HeartbeatData =
        from_slice(&frame("request-34-heart_beat.consumer_sql92-json").body).unwrap();
    let c = &hb.consumer_data_set[0];
    assert_eq!(c.message_model, "CLUSTERING");
    let sql = c
        .subscription_data_set
        .iter()
        .find(|s| s.expression_type.as_deref() == Some("SQL92"))
        .unwrap();
    assert_eq!(
        sql.sub_string,
        "(a BETWEEN 3 AND 6 AND color = 'red') OR TAGS = 'vip'"
    );
    assert_eq!(
        to_vec(&hb, JsonStyle::Fastjson),
        frame("request-34-heart_beat.consumer_sql92-json")
            .body
            .to_vec()
    );

    let lock: LockBatchRequestBody =
        from_slice(&frame("request-41-lock_batch_mq-json").body).unwrap();
    assert_eq!(lock.mq_set[0].queue_id, 1);
    let ok: LockBatchResponseBody =
        from_slice(&frame("response-41-lock_batch_mq-json").body).unwrap();
    assert_eq!(ok.lock_ok_mq_set, lock.mq_set);
    assert_eq!(
        to_vec(&ok, JsonStyle::Fastjson),
        frame("response-41-lock_batch_mq-json").body.to_vec()
    );

    let ids: ConsumerIdList =
        from_slice(&frame("response-38-get_consumer_list_by_group-json").body).unwrap();
    assert_eq!(ids.consumer_id_list.len(), 1);
}

#[test]
fn consume_stats_from_java_decode_with_object_keys() {
    for name in [
        "response-208-get_consume_stats-json",
        "response-208-get_consume_stats-rocketmq",
    ] {
        let body = frame(name).body;
        let stats: ConsumeStats = from_slice(&body).unwrap();
        assert_eq!(stats.offset_table.len(), 4, "{name}");
        let q2 = stats
            .offset_table
            .iter()
            .find(|(mq, _)| mq.queue_id == 2)
            .unwrap()
            .1;
        assert_eq!(q2.broker_offset, 6);
        assert!(q2.consumer_offset <= 6);
        // What we write reads back the same, in fastjson's object-key shape.
        let ours = to_vec(&stats, JsonStyle::Fastjson);
        assert_eq!(from_slice::<ConsumeStats>(&ours).unwrap(), stats);
        assert!(String::from_utf8_lossy(&ours).contains(r#"{"brokerName":"broker-a","queueId":0,"#));
    }
}

#[test]
fn reset_offset_bodies_from_java_round_trip_to_the_same_bytes() {
    for name in [
        "response-222-invoke_broker_to_reset_offset-json",
        "request-220-reset_consumer_client_offset-json",
    ] {
        let body = frame(name).body;
        let reset: ResetOffsetBody = from_slice(&body).unwrap();
        assert_eq!(reset.offset_table.len(), 4, "{name}");
        assert!(reset.offset_table.values().all(|&o| o == 3), "{name}");
        // Java's HashMap order is not ours; the entries are the same.
        let ours = to_vec(&reset, JsonStyle::Fastjson);
        assert_eq!(ours.len(), body.len(), "{name}");
        assert_eq!(from_slice::<ResetOffsetBody>(&ours).unwrap(), reset);
    }
}

#[test]
fn a_subscription_group_body_missing_fields_gets_javas_initial_values() {
    // What an admin tool sends when it sets only the retries.
    let g: SubscriptionGroupConfig =
        from_slice(br#"{"groupName":"g1","retryMaxTimes":3,"consumeEnable":false}"#).unwrap();
    assert_eq!(g.group_name, "g1");
    assert_eq!(g.retry_max_times, 3);
    assert!(!g.consume_enable);
    assert!(g.consume_broadcast_enable && g.notify_consumer_ids_changed_enable);
    assert_eq!(
        (g.retry_queue_nums, g.which_broker_when_consume_slowly),
        (1, 1)
    );
    assert_eq!(
        g,
        SubscriptionGroupConfig {
            group_name: "g1".into(),
            retry_max_times: 3,
            consume_enable: false,
            ..Default::default()
        }
    );
    // Written back with every field, `false` included, as fastjson writes a bean.
    let text = String::from_utf8(to_vec(&g, JsonStyle::Fastjson)).unwrap();
    assert!(text.contains(r#""consumeEnable":false"#), "{text}");
    assert!(text.contains(r#""retryQueueNums":1"#), "{text}");
}
