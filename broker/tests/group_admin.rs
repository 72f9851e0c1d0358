//! Admin views and changes of consumer groups across cores, with the third-party admin:
//! QUERY_TOPIC_CONSUME_BY_WHO (who consumes a topic: online subscribers and groups with offsets),
//! CLONE_GROUP_OFFSET (a group's offsets copied to another, on every core) and
//! GET_BROKER_CONSUME_STATS (every group's lag, `mqadmin brokerConsumeStats`) and
//! VIEW_BROKER_STATS_DATA (windows of what was stored and pulled, `mqadmin statsAll`).

mod common;

use common::{fields, start_broker, start_namesrv, wait_for_route, Wire};
use ringmq_protocol::RequestCode;
use rocketmq_client_rust::{BrokerAdmin, ConsumerAdmin, MessageSelector, OffsetAdmin, TopicAdmin};
use std::time::Duration;

const TOPIC: &str = "GroupAdminTopic";

fn commit(wire: &mut Wire, group: &str, queue: i32, offset: i64) {
    let r = wire.call(fields(
        RequestCode::UPDATE_CONSUMER_OFFSET,
        &[
            ("consumerGroup", group),
            ("topic", TOPIC),
            ("queueId", &queue.to_string()),
            ("commitOffset", &offset.to_string()),
        ],
    ));
    assert_eq!(r.code, 0, "{:?}", r.remark);
}

fn committed(wire: &mut Wire, group: &str, queue: i32) -> Option<String> {
    let r = wire.call(fields(
        RequestCode::QUERY_CONSUMER_OFFSET,
        &[
            ("consumerGroup", group),
            ("topic", TOPIC),
            ("queueId", &queue.to_string()),
        ],
    ));
    (r.code == 0).then(|| r.fields().get("offset").unwrap().to_owned())
}

#[test]
fn who_consumes_a_topic_and_cloning_a_groups_offsets() {
    let namesrv = start_namesrv();
    let broker = start_broker(&namesrv, "broker-group-admin");
    let mut wire = Wire::connect(&broker.addr);
    for q in 0..4 {
        for _ in 0..2 {
            assert_eq!(common::send_v2(&mut wire, TOPIC, q, "", b"m").code, 0);
        }
        // Offsets on every queue: the queues are spread over both cores.
        commit(&mut wire, "source_group", q, 1);
    }
    wait_for_route(&namesrv, TOPIC);
    // The admin finds a group's brokers by its retry topic, made by its first heartbeat.
    common::consumer_heartbeat(&mut wire, "source_group", "CLUSTERING", TOPIC, "*");
    wait_for_route(&namesrv, "%RETRY%source_group");
    let (owner, runtime) = common::client_runtime("group-admin");
    let (mut consumer, _) = common::start_body_consumer(
        &owner,
        &runtime,
        &namesrv,
        "online_group",
        TOPIC,
        MessageSelector::by_tag("*"),
    );
    let admin = common::start_admin(&owner, &runtime, &namesrv);

    let mut who = Vec::new();
    common::wait_until("both groups named", Duration::from_secs(10), || {
        let list = owner
            .block_on(admin.query_topic_consume_by_who(TOPIC.into()))
            .expect("who consumes");
        who = list.group_list.iter().map(|g| g.to_string()).collect();
        who.contains(&"online_group".to_owned())
    });
    assert!(who.contains(&"source_group".to_owned()), "{who:?}");

    owner
        .block_on(admin.clone_group_offset(
            "source_group".into(),
            "copied_group".into(),
            TOPIC.into(),
            true,
        ))
        .expect("clone");
    for q in 0..4 {
        assert_eq!(
            committed(&mut wire, "copied_group", q).as_deref(),
            Some("1"),
            "queue {q}"
        );
    }
    // A topic the source group has no offsets on copies nothing.
    let r = wire.call(fields(
        RequestCode::CLONE_GROUP_OFFSET,
        &[
            ("srcGroup", "nobody_group"),
            ("destGroup", "empty_copy"),
            ("offline", "true"),
        ],
    ));
    assert_eq!(r.code, 0);
    let list = owner
        .block_on(admin.query_topic_consume_by_who(TOPIC.into()))
        .expect("who consumes");
    let who: Vec<String> = list.group_list.iter().map(|g| g.to_string()).collect();
    assert!(who.contains(&"copied_group".to_owned()), "{who:?}");
    assert!(!who.contains(&"empty_copy".to_owned()), "{who:?}");

    // Every group's lag: the source group is one message behind on each of the four queues.
    let stats = owner
        .block_on(admin.fetch_consume_stats_in_broker(broker.addr.as_str().into(), false, 5000))
        .expect("broker consume stats");
    let mut lag_of = std::collections::BTreeMap::new();
    let mut total = 0;
    for entry in &stats.consume_stats_list {
        for (group, per_topic) in entry {
            let mut lag = 0;
            for s in per_topic {
                for w in s.offset_table.values() {
                    lag += w.get_broker_offset() - w.get_consumer_offset();
                }
            }
            total += lag;
            lag_of.insert(group.to_string(), lag);
        }
    }
    assert_eq!(lag_of.get("source_group"), Some(&4), "{lag_of:?}");
    // Java lists subscription groups: one known only by its (cloned) offsets is not among them.
    assert_eq!(lag_of.get("copied_group"), None, "{lag_of:?}");
    assert_eq!(stats.total_diff, total);

    // Windows of what was stored and pulled (`mqadmin statsAll`, the exporter), added up over
    // both cores once they have sampled (every 10 s).
    let view = |name: &str, key: &str| {
        owner.block_on(admin.view_broker_stats_data(
            broker.addr.as_str().into(),
            name.into(),
            key.into(),
        ))
    };
    let pulled_key = format!("{TOPIC}@online_group");
    common::wait_until(
        "a minute window with the traffic",
        Duration::from_secs(25),
        || {
            let put = view("TOPIC_PUT_NUMS", TOPIC).map(|d| d.get_stats_minute().get_sum());
            let got = view("GROUP_GET_NUMS", &pulled_key).map(|d| d.get_stats_minute().get_sum());
            matches!((put, got), (Ok(8), Ok(8)))
        },
    );
    let day = view("TOPIC_PUT_SIZE", TOPIC).expect("put size");
    assert!(day.get_stats_day().get_sum() >= 8, "{day:?}");
    assert!(view("TOPIC_PUT_NUMS", "NoSuchTopic").is_err());
    // Deleting the topic drops what was counted for it, on both cores.
    let r = wire.call(fields(
        RequestCode::DELETE_TOPIC_IN_BROKER,
        &[("topic", TOPIC)],
    ));
    assert_eq!(r.code, 0);
    assert!(view("TOPIC_PUT_NUMS", TOPIC).is_err());
    assert!(view("GROUP_GET_NUMS", &pulled_key).is_err());
    owner.block_on(consumer.shutdown());
}
