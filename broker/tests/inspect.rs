//! The admin's read-only questions about a topic, a consumer group and the producers, asked by
//! the third-party admin (Java's `DefaultMQAdminExt`) of a two-core broker whose queues are
//! spread over both cores: GET_TOPIC_CONFIG, QUERY_TOPICS_BY_CONSUMER,
//! QUERY_SUBSCRIPTION_BY_CONSUMER, QUERY_CONSUME_TIME_SPAN, GET_ALL_PRODUCER_INFO and
//! QUERY_CONSUME_QUEUE.

mod common;

use common::{start_broker_with, start_namesrv, wait_for_route, wait_until, Wire};
use ringmq_protocol::body::{ProducerTableInfo, QueryConsumeTimeSpanBody};
use ringmq_protocol::{json, RequestCode};
use rocketmq_client_rust::{ConsumerAdmin, MessageSelector, TopicAdmin};
use std::time::Duration;

const TOPIC: &str = "InspectTopic";
const GROUP: &str = "inspect_group";
const PRODUCER_GROUP: &str = "inspect_producer";

#[allow(deprecated)] // the builder needs more of the client crate; this is enough here
fn message(body: &str) -> rocketmq_model::common::message::message_single::Message {
    rocketmq_model::common::message::message_single::Message::with_tags(TOPIC, "T", body.as_bytes())
}

#[test]
fn an_admin_sees_topic_config_subscriptions_time_spans_and_producers() {
    let namesrv = start_namesrv();
    let broker = start_broker_with(
        &namesrv,
        "broker-inspect",
        common::fresh_dir("broker-inspect"),
        "ASYNC_FLUSH",
        "defaultTopicQueueNums=4",
    );
    let (owner, runtime) = common::client_runtime("inspect-test");
    let producer = common::start_producer(&owner, &runtime, &namesrv, PRODUCER_GROUP);
    owner.block_on(producer.send(message("m-0"))).expect("send");
    wait_for_route(&namesrv, TOPIC);
    for i in 1..20 {
        owner
            .block_on(producer.send(message(&format!("m-{i}"))))
            .expect("send");
    }
    let (mut consumer, received) = common::start_body_consumer(
        &owner,
        &runtime,
        &namesrv,
        GROUP,
        TOPIC,
        MessageSelector::by_tag("*"),
    );
    wait_until("every message consumed", Duration::from_secs(20), || {
        received.lock().unwrap().len() >= 20
    });
    // The push consumer commits its offsets every few seconds.
    wait_until("the offsets committed", Duration::from_secs(20), || {
        common::committed_total(&broker.addr, GROUP, TOPIC, 4) == 20
    });
    let admin = common::start_admin(&owner, &runtime, &namesrv);

    // GET_TOPIC_CONFIG: one topic's config, and Java's refusal of an unknown one.
    let config = owner
        .block_on(admin.examine_topic_config(broker.addr.clone().into(), TOPIC.into()))
        .expect("topic config");
    assert_eq!(config.topic_name.as_deref(), Some(TOPIC));
    assert_eq!((config.read_queue_nums, config.write_queue_nums), (4, 4));
    assert_eq!(config.perm, 6);
    assert!(owner
        .block_on(admin.examine_topic_config(broker.addr.clone().into(), "NoSuchTopic".into()))
        .is_err());

    // GET_SYSTEM_TOPIC_LIST_FROM_BROKER: Java's fixed set, and this broker's own names.
    let system = owner
        .block_on(admin.get_system_topic_list_from_broker(broker.addr.clone().into()))
        .expect("system topics");
    let system: Vec<String> = system.topic_list.iter().map(|t| t.to_string()).collect();
    for topic in [
        "TBW102",
        "SCHEDULE_TOPIC_XXXX",
        "RMQ_SYS_TRANS_HALF_TOPIC",
        "DefaultCluster",
        "broker-inspect",
    ] {
        assert!(system.iter().any(|t| t == topic), "{topic} in {system:?}");
    }
    assert!(!system.iter().any(|t| t == TOPIC), "{system:?}");

    // QUERY_TOPICS_BY_CONSUMER: the topics the group has offsets on.
    let topics = owner
        .block_on(admin.query_topics_by_consumer(GROUP.into()))
        .expect("topics by consumer");
    assert!(
        topics.topic_list.iter().any(|t| t.as_str() == TOPIC),
        "{:?}",
        topics.topic_list
    );

    // QUERY_SUBSCRIPTION_BY_CONSUMER: what the online member subscribed with.
    let subscription = owner
        .block_on(admin.query_subscription(GROUP.into(), TOPIC.into()))
        .expect("subscription");
    assert_eq!(subscription.topic.as_str(), TOPIC);
    assert_eq!(subscription.sub_string.as_str(), "*");

    // QUERY_CONSUME_TIME_SPAN: every queue, on either core, caught up. Asked over the wire:
    // the third-party admin cannot read Java's answer (its `QueueTimeSpan` expects snake_case
    // names, `min_time_stamp`, where Java's fastjson writes `minTimeStamp`), so its
    // `query_consume_time_span` fails against the Java broker too.
    let answer = Wire::connect(&broker.addr).call(common::fields(
        RequestCode::QUERY_CONSUME_TIME_SPAN,
        &[("topic", TOPIC), ("group", GROUP)],
    ));
    assert_eq!(answer.code, 0, "{:?}", answer.remark);
    let text = String::from_utf8_lossy(&answer.body).into_owned();
    for name in [
        "consumeTimeSpanSet",
        "messageQueue",
        "minTimeStamp",
        "maxTimeStamp",
        "consumeTimeStamp",
        "delayTime",
    ] {
        assert!(text.contains(&format!("\"{name}\"")), "{name} in {text}");
    }
    let spans: QueryConsumeTimeSpanBody = json::from_slice(&answer.body).expect("a time span body");
    let spans = spans.consume_time_span_set;
    let queues: Vec<i32> = spans.iter().map(|s| s.message_queue.queue_id).collect();
    assert_eq!(queues, vec![0, 1, 2, 3], "{spans:?}");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    for span in &spans {
        assert!(
            span.min_time_stamp > now - 120_000 && span.min_time_stamp <= span.max_time_stamp,
            "{span:?}"
        );
        assert!(span.max_time_stamp <= now, "{span:?}");
        assert_eq!(
            (span.consume_time_stamp, span.delay_time),
            (span.max_time_stamp, 0),
            "a caught-up queue: {span:?}"
        );
    }
    // QUERY_CONSUME_QUEUE (`mqadmin queryCq`): queue 0's entries, and the group's subscription.
    let cq = owner
        .block_on(admin.query_consume_queue(
            broker.addr.clone().into(),
            TOPIC.into(),
            0,
            0,
            32,
            GROUP.into(),
        ))
        .expect("consume queue");
    let entries = cq.queue_data.unwrap_or_default();
    assert_eq!(cq.min_queue_index, 0);
    assert!(cq.max_queue_index > 0);
    assert_eq!(entries.len() as i64, cq.max_queue_index, "{entries:?}");
    // Java's String.hashCode of the tag "T".
    assert!(entries.iter().all(|e| e.tags_code == 84), "{entries:?}");
    assert!(
        entries
            .windows(2)
            .all(|w| w[0].physic_offset < w[1].physic_offset),
        "{entries:?}"
    );
    assert!(entries
        .iter()
        .all(|e| e.physic_size > 100 && e.physic_size < 1024));
    let sub = cq
        .subscription_data
        .expect("the online group's subscription");
    assert_eq!(sub.sub_string.as_str(), "*");
    // Java's answers for an index past the queue (SUCCESS, no body) and an unknown queue.
    let mut wire = Wire::connect(&broker.addr);
    let past = wire.call(common::fields(
        RequestCode::QUERY_CONSUME_QUEUE,
        &[
            ("topic", TOPIC),
            ("queueId", "0"),
            ("index", "1000"),
            ("count", "5"),
        ],
    ));
    assert_eq!(
        (past.code, past.remark.as_deref(), past.body.len()),
        (0, Some("Index 1000 of 0@InspectTopic is not exist!"), 0)
    );
    let unknown = wire.call(common::fields(
        RequestCode::QUERY_CONSUME_QUEUE,
        &[
            ("topic", TOPIC),
            ("queueId", "99"),
            ("index", "0"),
            ("count", "5"),
        ],
    ));
    assert_eq!(
        (unknown.code, unknown.remark.as_deref()),
        (1, Some("99@InspectTopic is not exist!"))
    );

    // A message nobody consumes: its queue lags by about the message's age.
    owner.block_on(consumer.shutdown());
    let sent = owner
        .block_on(producer.send(message("late")))
        .expect("send")
        .expect("a send result");
    let late_queue = sent.message_queue.as_ref().expect("the queue").queue_id();
    std::thread::sleep(Duration::from_millis(300));
    let answer = Wire::connect(&broker.addr).call(common::fields(
        RequestCode::QUERY_CONSUME_TIME_SPAN,
        &[("topic", TOPIC), ("group", GROUP)],
    ));
    let spans: QueryConsumeTimeSpanBody = json::from_slice(&answer.body).expect("a time span body");
    let lagging = spans
        .consume_time_span_set
        .iter()
        .find(|s| s.message_queue.queue_id == late_queue)
        .expect("the late message's queue");
    assert!(
        lagging.delay_time >= 300 && lagging.delay_time < 60_000,
        "{lagging:?}"
    );
    assert!(
        lagging.max_time_stamp > lagging.consume_time_stamp,
        "{lagging:?}"
    );

    // GET_ALL_PRODUCER_INFO: the producer group and its client. Over the wire too: the
    // third-party `ProducerInfo` also expects snake_case names (`client_id`, `remote_ip`) where
    // Java writes `clientId`, `remoteIP`.
    let answer =
        Wire::connect(&broker.addr).call(common::fields(RequestCode::GET_ALL_PRODUCER_INFO, &[]));
    assert_eq!(answer.code, 0, "{:?}", answer.remark);
    let text = String::from_utf8_lossy(&answer.body).into_owned();
    for name in [
        "data",
        "clientId",
        "remoteIP",
        "language",
        "version",
        "lastUpdateTimestamp",
    ] {
        assert!(text.contains(&format!("\"{name}\"")), "{name} in {text}");
    }
    let producers: ProducerTableInfo = json::from_slice(&answer.body).expect("a producer table");
    let infos = producers
        .data
        .get(PRODUCER_GROUP)
        .unwrap_or_else(|| panic!("{producers:?}"));
    assert_eq!(infos.len(), 1, "{infos:?}");
    assert!(
        infos[0].last_update_timestamp > now - 120_000
            && infos[0].last_update_timestamp <= now + 1000,
        "{infos:?}"
    );
    assert!(infos[0].remote_ip.starts_with("127.0.0.1:"), "{infos:?}");
}
