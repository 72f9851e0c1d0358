//! Subscription groups: created, read, changed and deleted through the third-party client's
//! DefaultMQAdminExt (what `mqadmin updateSubGroup` / `deleteSubGroup` do), and what their
//! settings change for consumers: pulls refused, retries counted, offsets removed, and all of it
//! kept across a restart.

mod common;

use common::{
    consumer_heartbeat, consumer_heartbeat_with, fields, fresh_dir, start_broker_with,
    start_namesrv, wait_for_route, Wire,
};
use ringmq_protocol::body::SubscriptionData;
use ringmq_protocol::header::pull::{pull_sys_flag, PullMessageRequestHeader};
use ringmq_protocol::header::send::SendMessageRequestHeaderV2;
use ringmq_protocol::{RemotingCommand, RequestCode, ResponseCode};
use rocketmq_client_rust::ConsumerAdmin;
use rocketmq_protocol::protocol::subscription::subscription_group_config::SubscriptionGroupConfig;

const GROUP: &str = "admin_group";
/// No auto-created groups; offsets written to disk every 100 ms, so a deleted group's offsets
/// are on disk before it is deleted.
const GROUP_CONF: &str = "autoCreateSubscriptionGroup=false\nflushConsumerOffsetInterval=100";

fn pull(group: &str) -> RemotingCommand {
    let h = PullMessageRequestHeader {
        consumer_group: group.into(),
        topic: "TBW102".into(),
        queue_id: 0,
        max_msg_nums: 1,
        ..Default::default()
    };
    RemotingCommand::request_with(RequestCode::PULL_MESSAGE, 0, &h)
}

/// What a consumer sends when CONSUMER_SEND_MSG_BACK failed: the message to its retry topic.
fn send_to_retry(wire: &mut Wire, reconsume_times: i32) -> RemotingCommand {
    let h = SendMessageRequestHeaderV2 {
        producer_group: GROUP.into(),
        topic: format!("%RETRY%{GROUP}"),
        default_topic: "TBW102".into(),
        default_topic_queue_nums: 1,
        queue_id: 0,
        born_timestamp: 1,
        reconsume_times: Some(reconsume_times),
        ..Default::default()
    };
    wire.call(
        RemotingCommand::request_with(RequestCode::SEND_MESSAGE_V2, 0, &h)
            .with_body(b"again".to_vec()),
    )
}

fn max_offset(wire: &mut Wire, topic: &str) -> String {
    let r = wire.call(fields(
        RequestCode::GET_MAX_OFFSET,
        &[("topic", topic), ("queueId", "0")],
    ));
    r.fields().get("offset").unwrap_or("none").to_owned()
}

/// Pulls (queue 0 of TBW102, no subscription of its own) until the answer has `code`: what a
/// heartbeat announced reaches the queue's core a moment after the heartbeat's answer.
fn pull_until(wire: &mut Wire, group: &str, code: ResponseCode) -> RemotingCommand {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
    loop {
        let r = wire.call(pull(group));
        if r.code == code.0 || std::time::Instant::now() > deadline {
            return r;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[test]
fn a_group_without_consume_broadcast_enable_refuses_broadcasting_consumers() {
    let namesrv = start_namesrv();
    let broker = start_broker_with(
        &namesrv,
        "broker-broadcast",
        fresh_dir("broker-broadcast"),
        "ASYNC_FLUSH",
        GROUP_CONF,
    );
    wait_for_route(&namesrv, "TBW102");
    let (owner, runtime) = common::client_runtime("broadcast");
    let admin = common::start_admin(&owner, &runtime, &namesrv);
    let set_broadcast = |enabled: bool| {
        let mut g = SubscriptionGroupConfig::new(GROUP.into());
        g.set_consume_broadcast_enable(enabled);
        owner
            .block_on(
                admin.create_and_update_subscription_group_config(broker.addr.as_str().into(), g),
            )
            .expect("create the group");
    };
    set_broadcast(false);
    let mut wire = Wire::connect(&broker.addr);

    // Clustering members of the group pull as usual.
    consumer_heartbeat(&mut wire, GROUP, "CLUSTERING", "TBW102", "*");
    assert_eq!(wire.call(pull(GROUP)).code, ResponseCode::PULL_NOT_FOUND.0);

    // Once the group says it broadcasts, its pulls are refused with Java's remark...
    consumer_heartbeat(&mut wire, GROUP, "BROADCASTING", "TBW102", "*");
    let refused = pull_until(&mut wire, GROUP, ResponseCode::NO_PERMISSION);
    assert_eq!(refused.code, ResponseCode::NO_PERMISSION.0);
    assert_eq!(
        refused.remark.as_deref(),
        Some("the consumer group[admin_group] can not consume by broadcast way")
    );
    // ...except a pull that brings its own subscription, which Java does not check either.
    let mut with_subscription = pull(GROUP);
    with_subscription
        .fields_mut()
        .insert("sysFlag", pull_sys_flag::FLAG_SUBSCRIPTION.to_string());
    with_subscription.fields_mut().insert("subscription", "*");
    assert_eq!(
        wire.call(with_subscription).code,
        ResponseCode::PULL_NOT_FOUND.0
    );

    // Allowing broadcast lets the same consumers in.
    set_broadcast(true);
    let allowed = pull_until(&mut wire, GROUP, ResponseCode::PULL_NOT_FOUND);
    assert_eq!(
        allowed.code,
        ResponseCode::PULL_NOT_FOUND.0,
        "{:?}",
        allowed.remark
    );
    owner.block_on(async move {
        runtime.shutdown().await;
    });
    owner.shutdown_runtime_blocking().unwrap();
}

#[test]
fn a_pull_right_after_its_heartbeat_is_judged_by_that_heartbeat() {
    // A Java consumer renews its subscription version on a rebalance, heartbeats, then pulls
    // with the new version at once. Whichever core serves a queue must already know the new
    // version, or the pull is refused (SUBSCRIPTION_NOT_LATEST) and the client waits seconds.
    let namesrv = start_namesrv();
    let broker = start_broker_with(
        &namesrv,
        "broker-versions",
        fresh_dir("broker-versions"),
        "ASYNC_FLUSH",
        "",
    );
    let mut wire = Wire::connect(&broker.addr);
    for version in 1..=100 {
        let subscription = SubscriptionData {
            topic: "TBW102".into(),
            sub_string: "*".into(),
            expression_type: Some("TAG".into()),
            sub_version: version,
            ..Default::default()
        };
        consumer_heartbeat_with(&mut wire, "versions_group", "CLUSTERING", subscription);
        // TBW102's eight queues lie on both cores: every one knows this version at once,
        // serving a pull of it and refusing one of the next.
        for queue in 0..8 {
            for (asked, want) in [
                (version, ResponseCode::PULL_NOT_FOUND),
                (version + 1, ResponseCode::SUBSCRIPTION_NOT_LATEST),
            ] {
                let mut p = pull("versions_group");
                p.fields_mut().insert("queueId", queue.to_string());
                p.fields_mut().insert("subVersion", asked.to_string());
                let r = wire.call(p);
                assert_eq!(
                    r.code, want.0,
                    "heartbeat version {version}, pull version {asked}, queue {queue}: {:?}",
                    r.remark
                );
            }
        }
    }
}

#[test]
fn groups_are_managed_by_admins_shape_consumers_and_survive_a_restart() {
    let namesrv = start_namesrv();
    // Without auto-creation a group exists only once an admin makes it, as on a Java broker
    // with autoCreateSubscriptionGroup=false.
    let broker = start_broker_with(
        &namesrv,
        "broker-groups",
        fresh_dir("broker-groups"),
        "ASYNC_FLUSH",
        GROUP_CONF,
    );
    wait_for_route(&namesrv, "TBW102");
    let (owner, runtime) = common::client_runtime("groups");
    let admin = common::start_admin(&owner, &runtime, &namesrv);
    let addr = broker.addr.clone();
    let create = |enabled: bool| {
        let mut g = SubscriptionGroupConfig::new(GROUP.into());
        g.set_retry_max_times(3);
        g.set_retry_queue_nums(2);
        g.set_consume_enable(enabled);
        owner
            .block_on(admin.create_and_update_subscription_group_config(addr.as_str().into(), g))
            .expect("create the group");
    };

    let mut wire = Wire::connect(&broker.addr);
    let unknown = wire.call(pull(GROUP));
    assert_eq!(unknown.code, ResponseCode::SUBSCRIPTION_GROUP_NOT_EXIST.0);
    assert!(
        unknown
            .remark
            .as_deref()
            .unwrap_or("")
            .starts_with("subscription group [admin_group] does not exist"),
        "{:?}",
        unknown.remark
    );

    create(true);
    let read = owner
        .block_on(
            admin.examine_subscription_group_config(broker.addr.as_str().into(), GROUP.into()),
        )
        .expect("examine the group");
    assert_eq!((read.retry_max_times(), read.retry_queue_nums()), (3, 2));
    assert!(read.consume_enable() && read.notify_consumer_ids_changed_enable());
    let all = owner
        .block_on(admin.get_all_subscription_group(broker.addr.as_str().into(), 5000))
        .expect("list the groups");
    let names: Vec<String> = all
        .subscription_group_table
        .keys()
        .map(|k| k.to_string())
        .collect();
    assert!(names.contains(&GROUP.to_owned()), "{names:?}");
    assert!(names.contains(&"TOOLS_CONSUMER".to_owned()), "{names:?}");
    assert_eq!(wire.call(pull(GROUP)).code, ResponseCode::PULL_NOT_FOUND.0);

    // retryMaxTimes=3: a retry sent back for the third time goes to the dead-letter queue.
    assert_eq!(send_to_retry(&mut wire, 1).code, 0);
    assert_eq!(send_to_retry(&mut wire, 3).code, 0);
    assert_eq!(max_offset(&mut wire, &format!("%DLQ%{GROUP}")), "1");

    // Disabling consumption refuses the group's pulls.
    create(false);
    let refused = wire.call(pull(GROUP));
    assert_eq!(refused.code, ResponseCode::NO_PERMISSION.0);
    assert_eq!(
        refused.remark.as_deref(),
        Some("subscription group no permission, admin_group")
    );

    // A second group with offsets, deleted with them.
    let mut doomed = SubscriptionGroupConfig::new("doomed_group".into());
    doomed.set_retry_max_times(5);
    owner
        .block_on(
            admin.create_and_update_subscription_group_config(broker.addr.as_str().into(), doomed),
        )
        .expect("create the second group");
    let commit = wire.call(fields(
        RequestCode::UPDATE_CONSUMER_OFFSET,
        &[
            ("consumerGroup", "doomed_group"),
            ("topic", "TBW102"),
            ("queueId", "1"),
            ("commitOffset", "9"),
        ],
    ));
    assert_eq!(commit.code, 0);
    // With no committed offset the broker answers from the queue itself (offset 0 for a
    // queue that never had messages, as Java does); the deleted 9 must not come back.
    let offset = |wire: &mut Wire| {
        let r = wire.call(fields(
            RequestCode::QUERY_CONSUMER_OFFSET,
            &[
                ("consumerGroup", "doomed_group"),
                ("topic", "TBW102"),
                ("queueId", "1"),
            ],
        ));
        r.fields().get("offset").map(str::to_owned)
    };
    assert_eq!(offset(&mut wire).as_deref(), Some("9"));
    std::thread::sleep(std::time::Duration::from_millis(400));
    owner
        .block_on(admin.delete_subscription_group(
            broker.addr.as_str().into(),
            "doomed_group".into(),
            Some(true),
        ))
        .expect("delete the group");
    assert_eq!(offset(&mut wire).as_deref(), Some("0"));
    assert!(owner
        .block_on(
            admin.examine_subscription_group_config(
                broker.addr.as_str().into(),
                "doomed_group".into()
            )
        )
        .is_err());
    owner.block_on(async move {
        runtime.shutdown().await;
    });
    owner.shutdown_runtime_blocking().unwrap();

    // A restart keeps the groups as they were left, and the deleted offsets stay deleted.
    drop(wire);
    let (dir, status) = broker.stop(libc::SIGTERM);
    assert!(status.success());
    let broker = start_broker_with(&namesrv, "broker-groups", dir, "ASYNC_FLUSH", GROUP_CONF);
    let mut wire = Wire::connect(&broker.addr);
    assert_eq!(wire.call(pull(GROUP)).code, ResponseCode::NO_PERMISSION.0);
    assert_eq!(
        wire.call(pull("doomed_group")).code,
        ResponseCode::SUBSCRIPTION_GROUP_NOT_EXIST.0
    );
    assert_eq!(offset(&mut wire).as_deref(), Some("0"));
    let all = wire.call(RemotingCommand::request(
        RequestCode::GET_ALL_SUBSCRIPTIONGROUP_CONFIG,
        0,
    ));
    let text = String::from_utf8_lossy(&all.body);
    assert!(text.contains(r#""retryMaxTimes":3"#), "{text}");
}
