//! An admin's questions to one consumer, which the broker passes on over that consumer's own
//! connection (Java's `callConsumer`): GET_CONSUMER_RUNNING_INFO (`mqadmin consumerStatus`) and
//! CONSUME_MESSAGE_DIRECTLY (`mqadmin consumeMessage`), with the third-party admin asking and the
//! third-party push consumer answering; and INVOKE_BROKER_TO_GET_CONSUMER_STATUS
//! (`mqadmin getConsumerStatus`), which the broker puts to every member of the group.

mod common;

use common::{start_broker, start_namesrv, wait_for_route, Wire};
use ringmq_protocol::body::GetConsumerStatusBody;
use ringmq_protocol::json;
use ringmq_protocol::{RequestCode, ResponseCode};
use rocketmq_client_rust::{ConsumerAdmin, MessageSelector};
use std::time::Duration;

const TOPIC: &str = "AdminCallTopic";
const GROUP: &str = "admin_call_group";

#[test]
fn an_admin_reaches_a_consumer_through_the_broker() {
    let namesrv = start_namesrv();
    let broker = start_broker(&namesrv, "broker-admin-calls");
    let mut wire = Wire::connect(&broker.addr);
    let sent = common::send_v2(&mut wire, TOPIC, 0, "TAGS\u{1}t\u{2}", b"direct");
    assert_eq!(sent.code, 0);
    let msg_id = sent.fields().get("msgId").unwrap().to_owned();
    wait_for_route(&namesrv, TOPIC);

    let (owner, runtime) = common::client_runtime("admin-calls");
    let (mut consumer, received) = common::start_body_consumer(
        &owner,
        &runtime,
        &namesrv,
        GROUP,
        TOPIC,
        MessageSelector::by_tag("*"),
    );
    common::wait_until("the message consumed", Duration::from_secs(20), || {
        received.lock().unwrap().len() == 1
    });
    let admin = common::start_admin(&owner, &runtime, &namesrv);
    let connections = owner
        .block_on(admin.examine_consumer_connection_info(GROUP.into(), None))
        .expect("the group's connections");
    let client_id = connections
        .get_connection_set()
        .iter()
        .next()
        .expect("one member")
        .get_client_id();

    // The consumer's own account of itself, through the broker.
    let info = owner
        .block_on(admin.get_consumer_running_info(GROUP.into(), client_id.clone(), false, None))
        .expect("running info");
    assert!(
        info.subscription_set.iter().any(|s| s.topic == TOPIC),
        "{:?}",
        info.subscription_set
    );

    // The consumer consumes the stored message again, on the admin's word.
    let result = owner
        .block_on(admin.consume_message_directly(
            GROUP.into(),
            client_id.clone(),
            TOPIC.into(),
            msg_id.as_str().into(),
        ))
        .expect("direct consumption");
    assert_eq!(
        result.consume_result(),
        Some(&rocketmq_protocol::protocol::body::cm_result::CMResult::CRSuccess)
    );
    assert_eq!(*received.lock().unwrap(), ["direct", "direct"]);

    // getConsumerStatus: the member's own offsets on the topic (the third-party consumer answers
    // GET_CONSUMER_STATUS_FROM_CLIENT), gathered by the broker per client id. It consumed the one
    // message of queue 0, so it stands at 1 there. Asked over the wire: the third-party admin
    // cannot read the answer. Its `GetConsumerStatusBody::decode` gives up on `consumerTable`'s
    // message-queue object keys, which Java's fastjson writes (and its own encoder writes too),
    // and it then reports an empty map, against the Java broker as well.
    let status_of = |wire: &mut Wire, client: &str| {
        let r = wire.call(common::fields(
            RequestCode::INVOKE_BROKER_TO_GET_CONSUMER_STATUS,
            &[("topic", TOPIC), ("group", GROUP), ("clientAddr", client)],
        ));
        assert_eq!(r.code, 0, "{:?}", r.remark);
        let body: GetConsumerStatusBody = json::from_slice(&r.body).expect("Java's body");
        body.consumer_table
            .into_iter()
            .map(|(id, queues)| {
                let at_0 = queues
                    .iter()
                    .find(|(mq, _)| mq.topic == TOPIC && mq.queue_id == 0)
                    .map(|(_, offset)| *offset);
                (id, at_0)
            })
            .collect::<Vec<_>>()
    };
    let member = client_id.to_string();
    common::wait_until("the member's offset moved", Duration::from_secs(10), || {
        status_of(&mut wire, "") == [(member.clone(), Some(1))]
    });
    assert_eq!(status_of(&mut wire, &member), [(member.clone(), Some(1))]);
    assert_eq!(status_of(&mut wire, "nobody@1"), []);
    let nobody = wire.call(common::fields(
        RequestCode::INVOKE_BROKER_TO_GET_CONSUMER_STATUS,
        &[("topic", TOPIC), ("group", "offline_group")],
    ));
    assert_eq!(
        (nobody.code, nobody.remark.as_deref()),
        (
            ResponseCode::SYSTEM_ERROR.0,
            Some("No Any Consumer online in the consumer group: [offline_group]")
        )
    );

    // A member that is not there: Java's refusal.
    let gone = wire.call(common::fields(
        RequestCode::GET_CONSUMER_RUNNING_INFO,
        &[("consumerGroup", GROUP), ("clientId", "nobody@1")],
    ));
    assert_eq!(
        (gone.code, gone.remark.as_deref()),
        (
            ResponseCode::SYSTEM_ERROR.0,
            Some("The Consumer <admin_call_group> <nobody@1> not online")
        )
    );
    owner.block_on(consumer.shutdown());
}
