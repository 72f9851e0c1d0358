//! The admin views of who is connected (GET_CONSUMER_CONNECTION_LIST and
//! GET_PRODUCER_CONNECTION_LIST), read through the third-party client's DefaultMQAdminExt the way
//! `mqadmin consumerConnection` / `producerConnection` read them from a Java broker.

mod common;

use common::{start_broker, start_namesrv, wait_for_route, wait_until};
use rocketmq_client_rust::{
    ClientResult, ConsumeConcurrentlyContext, ConsumeConcurrentlyStatus, ConsumerAdmin,
    DefaultMQPushConsumer, MQPushConsumer, MessageListenerConcurrently,
};
use rocketmq_model::common::message::message_ext::MessageExt;
use std::time::Duration;

const TOPIC: &str = "Watched";

struct Ignore;

impl MessageListenerConcurrently for Ignore {
    fn consume_message(
        &self,
        _: &[&MessageExt],
        _: &ConsumeConcurrentlyContext,
    ) -> ClientResult<ConsumeConcurrentlyStatus> {
        Ok(ConsumeConcurrentlyStatus::ConsumeSuccess)
    }
}

#[test]
fn an_admin_sees_each_groups_clients_and_subscriptions() {
    let namesrv = start_namesrv();
    let broker = start_broker(&namesrv, "broker-connections");
    wait_for_route(&namesrv, "TBW102");
    let (owner, runtime) = common::client_runtime("connections");
    let mut producer = common::start_producer(&owner, &runtime, &namesrv, "watched_producer");
    #[allow(deprecated)] // the builder needs more of the client crate; this is enough here
    let msg =
        rocketmq_model::common::message::message_single::Message::with_tags(TOPIC, "TagA", b"x");
    owner
        .block_on(producer.send(msg))
        .expect("send")
        .expect("a send result");
    wait_for_route(&namesrv, TOPIC);

    let (rt, ns) = (runtime.clone(), namesrv.clone());
    let mut consumer = owner.block_on(async move {
        let mut c = DefaultMQPushConsumer::builder(rt)
            .consumer_group("watched_consumer".to_string())
            .name_server_addr(ns)
            .build();
        c.subscribe(TOPIC, "TagA || TagB").await.expect("subscribe");
        c.register_message_listener_concurrently(Ignore);
        c.start().await.expect("consumer start");
        c
    });
    let admin = common::start_admin(&owner, &runtime, &namesrv);

    // The consumer's heartbeat made it a member (and its retry topic routable).
    wait_for_route(&namesrv, "%RETRY%watched_consumer");
    let mut consumers = None;
    wait_until("the consumer's connection", Duration::from_secs(20), || {
        consumers = owner
            .block_on(admin.examine_consumer_connection_info("watched_consumer".into(), None))
            .ok();
        consumers.is_some()
    });
    let consumers = consumers.unwrap();
    assert_eq!(consumers.get_connection_set().len(), 1);
    let member = consumers.get_connection_set().iter().next().unwrap();
    assert!(
        member.get_client_addr().starts_with("127.0.0.1:"),
        "{:?}",
        member.get_client_addr()
    );
    assert!(!member.get_client_id().is_empty());
    assert!(member.get_version() > 0, "the version from its heartbeat");
    let sub = consumers
        .get_subscription_table()
        .get(TOPIC)
        .expect("the topic's subscription");
    assert_eq!(sub.sub_string.as_str(), "TagA || TagB");
    assert_eq!(
        consumers.get_message_model().map(|m| format!("{m:?}")),
        Some("Clustering".to_string())
    );

    let producers = owner
        .block_on(admin.examine_producer_connection_info("watched_producer".into(), TOPIC.into()))
        .expect("the producer's connection");
    assert_eq!(producers.connection_set().len(), 1);
    // A group nobody is in: Java's refusal, which the client reports as an error.
    assert!(owner
        .block_on(admin.examine_producer_connection_info("nobody".into(), TOPIC.into()))
        .is_err());

    // A consumer that leaves is no longer listed (CONSUMER_NOT_ONLINE).
    owner.block_on(consumer.shutdown());
    wait_until("the consumer gone", Duration::from_secs(20), || {
        owner
            .block_on(admin.examine_consumer_connection_info("watched_consumer".into(), None))
            .is_err()
    });
    drop(broker);
    owner.block_on(async move {
        producer.shutdown().await;
        runtime.shutdown().await;
    });
    owner.shutdown_runtime_blocking().unwrap();
}
