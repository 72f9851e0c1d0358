//! An admin's questions to one consumer, which the broker passes on over that consumer's own
//! connection (Java's `callConsumer`): GET_CONSUMER_RUNNING_INFO (`mqadmin consumerStatus`) and
//! CONSUME_MESSAGE_DIRECTLY (`mqadmin consumeMessage`), with the third-party admin asking and the
//! third-party push consumer answering.

mod common;

use common::{start_broker, start_namesrv, wait_for_route, Wire};
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
