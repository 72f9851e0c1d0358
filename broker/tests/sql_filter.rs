//! SQL92 subscriptions (`MessageSelector.bySql`): a third-party push consumer subscribed with a
//! selector receives exactly the messages whose properties it selects, as from a Java broker
//! with `enablePropertyFilter=true`; without it, or with a selector that does not parse, pulls are
//! refused with Java's codes.

mod common;

use common::{fresh_dir, start_broker_with, start_namesrv, wait_for_route, Wire};
use ringmq_protocol::header::pull::{pull_sys_flag, PullMessageRequestHeader};
use ringmq_protocol::message::StoredMessage;
use ringmq_protocol::{RemotingCommand, RequestCode, ResponseCode};
use rocketmq_client_rust::MessageSelector;
use rocketmq_model::common::message::message_single::Message;
use rocketmq_model::common::message::MessageTrait;
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

const TOPIC: &str = "SqlTopic";
const GROUP: &str = "sql_group";
/// The selector of the Java SQL92 consumer in the wire captures.
const SELECTOR: &str = "(a BETWEEN 3 AND 6 AND color = 'red') OR TAGS = 'vip'";

/// One message the test sends.
struct Sent {
    body: String,
    tag: &'static str,
    /// The `a` and `color` properties, when set.
    a: Option<String>,
    color: Option<&'static str>,
    /// Whether [`SELECTOR`] selects it.
    selected: bool,
}

fn messages() -> Vec<Sent> {
    let sent = |body: &str, tag, a: Option<&str>, color, selected| Sent {
        body: body.to_owned(),
        tag,
        a: a.map(str::to_owned),
        color,
        selected,
    };
    let mut all = Vec::new();
    for a in 0..9 {
        for color in ["red", "blue"] {
            let selected = (3..=6).contains(&a) && color == "red";
            let (body, a) = (format!("a={a} {color}"), a.to_string());
            all.push(sent(&body, "plain", Some(&a), Some(color), selected));
        }
    }
    all.push(sent("vip without properties", "vip", None, None, true));
    all.push(sent("no properties", "plain", None, None, false));
    // `Long.valueOf("4.5")` fails in Java: an error, not selected.
    all.push(sent("a=4.5 red", "plain", Some("4.5"), Some("red"), false));
    all
}

#[allow(deprecated)] // the builder needs more of the client crate; this is enough here
fn message(tag: &str, body: &str) -> Message {
    Message::with_tags(TOPIC, tag, body.as_bytes())
}

#[test]
fn a_push_consumer_with_an_sql92_selector_receives_exactly_what_it_selects() {
    let namesrv = start_namesrv();
    let broker = start_broker_with(
        &namesrv,
        "broker-sql",
        fresh_dir("broker-sql"),
        "ASYNC_FLUSH",
        "enablePropertyFilter=true",
    );
    let (owner, runtime) = common::client_runtime("sql");
    let producer = common::start_producer(&owner, &runtime, &namesrv, "sql_producer");
    owner
        .block_on(producer.send(message("warm-up", "warm-up")))
        .expect("warm-up send");
    wait_for_route(&namesrv, TOPIC);

    let (mut consumer, seen) = common::start_body_consumer(
        &owner,
        &runtime,
        &namesrv,
        GROUP,
        TOPIC,
        MessageSelector::by_sql(SELECTOR),
    );

    let all = messages();
    for m in &all {
        let mut msg = message(m.tag, &m.body);
        if let Some(a) = &m.a {
            msg.put_property("a".into(), a.as_str().into());
        }
        if let Some(color) = m.color {
            msg.put_property("color".into(), color.into());
        }
        owner.block_on(producer.send(msg)).expect("send");
    }
    let wanted: BTreeSet<String> = all
        .iter()
        .filter(|m| m.selected)
        .map(|m| m.body.clone())
        .collect();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let got: BTreeSet<String> = seen.lock().unwrap().iter().cloned().collect();
        if wanted.is_subset(&got) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "missing {:?}",
            wanted.difference(&got).collect::<Vec<_>>()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // Every message was stored before the last selected one arrived; give any unselected one
    // that slipped through a moment to show up.
    std::thread::sleep(Duration::from_millis(500));
    let got: BTreeSet<String> = seen.lock().unwrap().iter().cloned().collect();
    assert_eq!(got, wanted, "the consumer received unselected messages");

    owner.block_on(async move {
        consumer.shutdown().await;
        let mut producer = producer;
        producer.shutdown().await;
        runtime.shutdown().await;
    });
    owner.shutdown_runtime_blocking().unwrap();

    // A selector that does not parse is refused, naming what is wrong.
    let mut wire = Wire::connect(&broker.addr);
    let refused = wire.call(sql_pull("a >> 1"));
    assert_eq!(refused.code, ResponseCode::SUBSCRIPTION_PARSE_FAILED.0);
    let remark = refused.remark.unwrap_or_default();
    assert!(
        remark.starts_with("parse the consumer's subscription failed") && remark.contains("a >> 1"),
        "{remark}"
    );
    // The same pull with the captured selector is served: its queue's selected messages, or
    // "retry at once from further on" when the scanned ones had none.
    let served = wire.call(sql_pull(SELECTOR));
    assert!(
        [
            ResponseCode::SUCCESS.0,
            ResponseCode::PULL_RETRY_IMMEDIATELY.0
        ]
        .contains(&served.code),
        "{served:?}"
    );
}

#[test]
fn without_enable_property_filter_sql92_pulls_are_refused_like_java() {
    let namesrv = start_namesrv();
    let broker = start_broker_with(
        &namesrv,
        "broker-nosql",
        fresh_dir("broker-nosql"),
        "ASYNC_FLUSH",
        "",
    );
    let mut wire = Wire::connect(&broker.addr);
    let sent = common::send_v2(&mut wire, TOPIC, 0, "a\u{1}4\u{2}", b"x");
    assert_eq!(sent.code, 0);
    let refused = wire.call(sql_pull(SELECTOR));
    assert_eq!(refused.code, ResponseCode::SYSTEM_ERROR.0);
    assert_eq!(
        refused.remark.as_deref(),
        Some("The broker does not support consumer to filter message by SQL92")
    );
    // Tag subscriptions are served as ever.
    let mut by_tag = sql_pull("*");
    by_tag.fields_mut().insert("expressionType", "TAG");
    assert_eq!(wire.call(by_tag).code, 0);
}

/// A pull of queue 0 carrying its own SQL92 subscription.
fn sql_pull(selector: &str) -> RemotingCommand {
    let h = PullMessageRequestHeader {
        consumer_group: "sql_wire_group".into(),
        topic: TOPIC.into(),
        queue_id: 0,
        max_msg_nums: 32,
        sys_flag: pull_sys_flag::FLAG_SUBSCRIPTION,
        subscription: Some(selector.into()),
        expression_type: Some("SQL92".into()),
        ..Default::default()
    };
    RemotingCommand::request_with(RequestCode::PULL_MESSAGE, 0, &h)
}

#[test]
fn records_only_on_disk_are_selected_by_their_properties_too() {
    // No tail cache: every record is read back from its segment to be judged.
    let namesrv = start_namesrv();
    let broker = start_broker_with(
        &namesrv,
        "broker-sql-cold",
        fresh_dir("broker-sql-cold"),
        "SYNC_FLUSH",
        "enablePropertyFilter=true\ntailCacheBytes=0",
    );
    let mut wire = Wire::connect(&broker.addr);
    for a in 0..20 {
        let color = if a % 2 == 0 { "red" } else { "blue" };
        let props = format!("a\u{1}{a}\u{2}color\u{1}{color}\u{2}");
        let sent = common::send_v2(
            &mut wire,
            "SqlCold",
            0,
            &props,
            format!("cold {a}").as_bytes(),
        );
        assert_eq!(sent.code, 0, "{:?}", sent.remark);
    }
    let mut got = Vec::new();
    let mut offset = 0;
    while offset < 20 {
        let h = PullMessageRequestHeader {
            consumer_group: "sql_cold_group".into(),
            topic: "SqlCold".into(),
            queue_id: 0,
            queue_offset: offset,
            max_msg_nums: 4,
            sys_flag: pull_sys_flag::FLAG_SUBSCRIPTION,
            subscription: Some("color = 'red' AND a >= 4".into()),
            expression_type: Some("SQL92".into()),
            ..Default::default()
        };
        let r = wire.call(RemotingCommand::request_with(
            RequestCode::PULL_MESSAGE,
            0,
            &h,
        ));
        assert!(
            [
                ResponseCode::SUCCESS.0,
                ResponseCode::PULL_RETRY_IMMEDIATELY.0
            ]
            .contains(&r.code),
            "{r:?}"
        );
        for m in StoredMessage::decode_all(&r.body).unwrap() {
            got.push(String::from_utf8_lossy(&m.body).into_owned());
        }
        let next: i64 = r.fields().get("nextBeginOffset").unwrap().parse().unwrap();
        assert!(next > offset, "no progress at {offset}");
        offset = next;
    }
    let want: Vec<String> = (4..20).step_by(2).map(|a| format!("cold {a}")).collect();
    assert_eq!(got, want);
}

#[test]
fn a_selective_expression_still_fills_a_pull() {
    // Java scans on through the consume queue until a pull is full; a consumer whose expression
    // selects few messages must not need a round trip per batch of candidates.
    let namesrv = start_namesrv();
    let broker = start_broker_with(
        &namesrv,
        "broker-sql-sparse",
        fresh_dir("broker-sql-sparse"),
        "ASYNC_FLUSH",
        "enablePropertyFilter=true",
    );
    let mut wire = Wire::connect(&broker.addr);
    for a in 0..100 {
        let props = format!("a\u{1}{a}\u{2}");
        let sent = common::send_v2(&mut wire, TOPIC, 0, &props, format!("m{a}").as_bytes());
        assert_eq!(sent.code, 0, "{:?}", sent.remark);
    }
    let r = wire.call(sql_pull("a >= 60 AND a < 65"));
    assert_eq!(r.code, ResponseCode::SUCCESS.0, "{:?}", r.remark);
    let bodies: Vec<String> = StoredMessage::decode_all(&r.body)
        .unwrap()
        .iter()
        .map(|m| String::from_utf8_lossy(&m.body).into_owned())
        .collect();
    assert_eq!(bodies, ["m60", "m61", "m62", "m63", "m64"]);
    // Everything up to the end was looked at: the next pull starts there.
    assert_eq!(r.fields().get("nextBeginOffset"), Some("100"));
}
