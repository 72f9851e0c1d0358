//! The 5.x admin's list requests, which create several topics or subscription groups in one
//! call: UPDATE_AND_CREATE_TOPIC_LIST and UPDATE_AND_CREATE_SUBSCRIPTIONGROUP_LIST. The bodies
//! are written in the shape Java's fastjson sends (the third-party admin only sends these one
//! by one); what they made is read back through the third-party admin.

mod common;

use common::{start_broker, start_namesrv, wait_for_route, Wire};
use ringmq_protocol::{RemotingCommand, RequestCode, ResponseCode};
use rocketmq_client_rust::{ConsumerAdmin, TopicAdmin};

fn topic_json(name: &str, queues: i32, perm: i32) -> String {
    format!(
        r#"{{"attributes":{{}},"order":false,"perm":{perm},"readQueueNums":{queues},"topicFilterType":"SINGLE_TAG","topicName":"{name}","topicSysFlag":0,"writeQueueNums":{queues}}}"#
    )
}

fn call(wire: &mut Wire, code: RequestCode, body: String) -> RemotingCommand {
    wire.call(RemotingCommand::request(code, 0).with_body(body.into_bytes()))
}

#[test]
fn topics_and_groups_are_created_by_the_list() {
    let namesrv = start_namesrv();
    let broker = start_broker(&namesrv, "broker-list-admin");
    let mut wire = Wire::connect(&broker.addr);
    let (owner, runtime) = common::client_runtime("list-admin");
    let admin = common::start_admin(&owner, &runtime, &namesrv);
    let topic_of = |name: &str| {
        owner.block_on(admin.examine_topic_config(broker.addr.as_str().into(), name.into()))
    };

    let created = call(
        &mut wire,
        RequestCode::UPDATE_AND_CREATE_TOPIC_LIST,
        format!(
            r#"{{"topicConfigList":[{},{}]}}"#,
            topic_json("ListedA", 2, 6),
            topic_json("ListedB", 8, 4)
        ),
    );
    assert_eq!(created.code, 0, "{:?}", created.remark);
    let a = topic_of("ListedA").expect("ListedA made");
    assert_eq!((a.read_queue_nums, a.write_queue_nums, a.perm), (2, 2, 6));
    let b = topic_of("ListedB").expect("ListedB made");
    assert_eq!((b.read_queue_nums, b.write_queue_nums, b.perm), (8, 8, 4));
    // Registered with the name server, as a single create is.
    wait_for_route(&namesrv, "ListedA");

    // One system topic in the list: nothing of it is created.
    let refused = call(
        &mut wire,
        RequestCode::UPDATE_AND_CREATE_TOPIC_LIST,
        format!(
            r#"{{"topicConfigList":[{},{}]}}"#,
            topic_json("ListedC", 4, 6),
            topic_json("TBW102", 4, 7)
        ),
    );
    assert_eq!(
        (refused.code, refused.remark.as_deref()),
        (
            ResponseCode::INVALID_PARAMETER.0,
            Some("The topic[TBW102] is conflict with system topic.")
        )
    );
    assert!(topic_of("ListedC").is_err(), "ListedC was not created");
    let unreadable = call(
        &mut wire,
        RequestCode::UPDATE_AND_CREATE_TOPIC_LIST,
        "not json".into(),
    );
    assert_eq!(unreadable.code, ResponseCode::SYSTEM_ERROR.0);
    assert!(unreadable
        .remark
        .unwrap()
        .starts_with("the body is not a topic config list"));

    // Groups: a partial config takes Java's initial values for the rest.
    let groups = call(
        &mut wire,
        RequestCode::UPDATE_AND_CREATE_SUBSCRIPTIONGROUP_LIST,
        r#"{"groupConfigList":[{"groupName":"listed_one","retryMaxTimes":3},{"groupName":"listed_two","consumeEnable":false,"retryQueueNums":2}]}"#.into(),
    );
    assert_eq!(groups.code, 0, "{:?}", groups.remark);
    let group_of = |name: &str| {
        owner
            .block_on(
                admin.examine_subscription_group_config(broker.addr.as_str().into(), name.into()),
            )
            .expect("the group exists")
    };
    let one = group_of("listed_one");
    assert_eq!((one.retry_max_times(), one.retry_queue_nums()), (3, 1));
    assert!(one.consume_enable());
    let two = group_of("listed_two");
    assert_eq!((two.retry_max_times(), two.retry_queue_nums()), (16, 2));
    assert!(!two.consume_enable());
    let nameless = call(
        &mut wire,
        RequestCode::UPDATE_AND_CREATE_SUBSCRIPTIONGROUP_LIST,
        r#"{"groupConfigList":[{"groupName":"listed_three"},{"retryMaxTimes":1}]}"#.into(),
    );
    assert_eq!(nameless.code, ResponseCode::SYSTEM_ERROR.0);
    // Read from the whole table: asking for one group would make it (autoCreateSubscriptionGroup).
    let all = owner
        .block_on(admin.get_all_subscription_group(broker.addr.as_str().into(), 5000))
        .expect("the groups");
    let names: Vec<String> = all
        .subscription_group_table
        .keys()
        .map(|k| k.to_string())
        .collect();
    assert!(names.contains(&"listed_two".to_owned()), "{names:?}");
    assert!(!names.contains(&"listed_three".to_owned()), "{names:?}");
}
