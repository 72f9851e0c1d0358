//! Transactional messages over the wire, as a Java `TransactionMQProducer` drives them: half
//! messages stay out of sight until END_TRANSACTION commits them; a rollback drops them; a half
//! left open is checked with CHECK_TRANSACTION_STATE (compared with the captured Java frame) and
//! the answer to the check commits it. What has ended stays ended across a restart.

mod common;

use common::{start_broker_with, start_namesrv, vector, Wire};
use ringmq_protocol::body::{HeartbeatData, ProducerData};
use ringmq_protocol::header::send::SendMessageRequestHeaderV2;
use ringmq_protocol::header::transaction::{
    EndTransactionRequestHeader, TRANSACTION_COMMIT_TYPE, TRANSACTION_NOT_TYPE,
    TRANSACTION_PREPARED_TYPE, TRANSACTION_ROLLBACK_TYPE,
};
use ringmq_protocol::json::{self, JsonStyle};
use ringmq_protocol::message::properties::Properties;
use ringmq_protocol::message::{sys_flag, MessageId, StoredMessage};
use ringmq_protocol::{RemotingCommand, RequestCode, ResponseCode};
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

const TOPIC: &str = "TxTopic";
const GROUP: &str = "tx_producer";

fn producer_heartbeat(wire: &mut Wire) {
    let hb = HeartbeatData {
        client_id: "tx-client".into(),
        producer_data_set: vec![ProducerData {
            group_name: GROUP.into(),
        }],
        ..Default::default()
    };
    let resp = wire.call(
        RemotingCommand::request(RequestCode::HEART_BEAT, 0)
            .with_body(json::to_vec(&hb, JsonStyle::Fastjson)),
    );
    assert_eq!(resp.code, 0, "{:?}", resp.remark);
}

/// A sent half message: what END_TRANSACTION needs to name it.
struct Half {
    unique: String,
    commit_log_offset: i64,
    queue_offset: i64,
}

fn send_half(wire: &mut Wire, queue: i32, unique: &str) -> Half {
    send_half_with(wire, queue, unique, "")
}

/// A half message with `extra` properties.
fn send_half_with(wire: &mut Wire, queue: i32, unique: &str, extra: &str) -> Half {
    let props = format!(
        "TRAN_MSG\u{1}true\u{2}PGROUP\u{1}{GROUP}\u{2}UNIQ_KEY\u{1}{unique}\u{2}TAGS\u{1}tx\u{2}{extra}"
    );
    // Born now: checks go by age since birth.
    let born = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let h = SendMessageRequestHeaderV2 {
        producer_group: GROUP.into(),
        topic: TOPIC.into(),
        default_topic: "TBW102".into(),
        default_topic_queue_nums: 4,
        queue_id: queue,
        sys_flag: TRANSACTION_PREPARED_TYPE,
        born_timestamp: born,
        properties: Some(props),
        ..Default::default()
    };
    let req = wire.call(
        RemotingCommand::request_with(RequestCode::SEND_MESSAGE_V2, 0, &h)
            .with_body(unique.as_bytes().to_vec()),
    );
    assert_eq!(req.code, 0, "half {unique}: {:?}", req.remark);
    let f = req.fields();
    // Java answers with the real queue and the half queue's offset.
    assert_eq!(f.get("queueId"), Some(queue.to_string().as_str()));
    let id: MessageId = f.get("msgId").unwrap().parse().unwrap();
    Half {
        unique: unique.to_owned(),
        commit_log_offset: id.commit_log_offset,
        queue_offset: f.get("queueOffset").unwrap().parse().unwrap(),
    }
}

fn end_request(half: &Half, state: i32, from_check: bool) -> RemotingCommand {
    let h = EndTransactionRequestHeader {
        producer_group: GROUP.into(),
        tran_state_table_offset: half.queue_offset,
        commit_log_offset: half.commit_log_offset,
        commit_or_rollback: state,
        from_transaction_check: Some(from_check),
        msg_id: half.unique.clone(),
        transaction_id: from_check.then(|| half.unique.clone()),
        ..Default::default()
    };
    RemotingCommand::request_with(RequestCode::END_TRANSACTION, 0, &h)
}

fn end(wire: &mut Wire, half: &Half, state: i32) -> RemotingCommand {
    wire.call(end_request(half, state, false))
}

/// The messages in `queue` of the topic, in order.
fn bodies(wire: &mut Wire, queue: i32) -> Vec<StoredMessage> {
    messages_in(wire, TOPIC, queue)
}

fn messages_in(wire: &mut Wire, topic: &str, queue: i32) -> Vec<StoredMessage> {
    let resp = common::pull_from(wire, "tx_reader", topic, queue, 0);
    if resp.code != 0 {
        return Vec::new();
    }
    StoredMessage::decode_all(&resp.body).unwrap()
}

fn texts(messages: &[StoredMessage]) -> Vec<String> {
    messages
        .iter()
        .map(|m| String::from_utf8_lossy(&m.body).into_owned())
        .collect()
}

/// The checks the broker sent on `wire` during `period` (or until the first, if `first`), while
/// keeping the connection busy.
fn checks_within(wire: &mut Wire, period: Duration, first: bool) -> Vec<RemotingCommand> {
    let until = Instant::now() + period;
    let mut checks = Vec::new();
    while Instant::now() < until && (!first || checks.is_empty()) {
        producer_heartbeat(wire);
        checks.extend(
            wire.from_broker
                .drain(..)
                .filter(|c| c.code == RequestCode::CHECK_TRANSACTION_STATE.0),
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    checks
}

/// The unique key of the message a check asks about (its body).
fn checked_key(check: &RemotingCommand) -> String {
    let (m, _) = StoredMessage::decode(&check.body).unwrap();
    Properties::parse(&m.properties)
        .unique_key()
        .unwrap()
        .to_owned()
}

/// A round a second, and halves open for half a second are checked: a check is answered well
/// before the next round asks again.
/// The half copy a check asks about, as the producer's END_TRANSACTION names it.
fn asked_in(check: &RemotingCommand) -> Half {
    let f = check.fields();
    Half {
        unique: checked_key(check),
        commit_log_offset: f.get("commitLogOffset").unwrap().parse().unwrap(),
        queue_offset: f.get("tranStateTableOffset").unwrap().parse().unwrap(),
    }
}

const QUICK_CHECKS: &str = "transactionCheckInterval=1000\ntransactionTimeOut=500";

#[test]
fn halves_are_committed_rolled_back_and_checked() {
    let namesrv = start_namesrv();
    let dir = common::fresh_dir("tx-wire");
    let broker = start_broker_with(&namesrv, "tx-wire", dir, "ASYNC_FLUSH", QUICK_CHECKS);
    let mut wire = Wire::connect(&broker.addr);
    producer_heartbeat(&mut wire);

    // A committed half reaches its real queue, as a committed message.
    let committed = send_half(&mut wire, 1, "K-commit");
    assert_eq!(
        texts(&bodies(&mut wire, 1)),
        Vec::<String>::new(),
        "half visible"
    );
    let resp = end(&mut wire, &committed, TRANSACTION_COMMIT_TYPE);
    assert_eq!(resp.code, 0, "{:?}", resp.remark);
    let stored = bodies(&mut wire, 1);
    assert_eq!(texts(&stored), ["K-commit"]);
    let real = stored.last().unwrap();
    assert_eq!((real.topic.as_str(), real.queue_id), (TOPIC, 1));
    assert_eq!(
        sys_flag::transaction_type(real.sys_flag),
        TRANSACTION_COMMIT_TYPE
    );
    assert_eq!(
        real.prepared_transaction_offset,
        committed.commit_log_offset
    );
    let props = Properties::parse(&real.properties);
    for gone in ["TRAN_MSG", "REAL_TOPIC", "REAL_QID"] {
        assert_eq!(
            props.get(gone),
            None,
            "{gone} left on the committed message"
        );
    }
    assert_eq!(props.get("PGROUP"), Some(GROUP));

    // Ending it again delivers nothing more.
    assert_eq!(end(&mut wire, &committed, TRANSACTION_COMMIT_TYPE).code, 0);
    assert_eq!(texts(&bodies(&mut wire, 1)), ["K-commit"]);

    // A rolled-back half never arrives; "unknown" leaves it open.
    let rolled_back = send_half(&mut wire, 2, "K-rollback");
    assert_eq!(
        end(&mut wire, &rolled_back, TRANSACTION_ROLLBACK_TYPE).code,
        0
    );
    let open = send_half(&mut wire, 3, "K-open");
    assert_eq!(end(&mut wire, &open, TRANSACTION_NOT_TYPE).code, 0);

    // Java's refusals, for callers that wait for an answer.
    let mut wrong_group = end_request(&open, TRANSACTION_COMMIT_TYPE, false);
    wrong_group
        .fields_mut()
        .insert("producerGroup", "someone_else");
    let resp = wire.call(wrong_group);
    assert_eq!(
        (resp.code, resp.remark.as_deref()),
        (
            ResponseCode::SYSTEM_ERROR.0,
            Some("The producer group wrong")
        )
    );
    let not_a_half = Half {
        unique: "x".into(),
        commit_log_offset: real.commit_log_offset,
        queue_offset: real.queue_offset,
    };
    let resp = end(&mut wire, &not_a_half, TRANSACTION_COMMIT_TYPE);
    assert_eq!(
        (resp.code, resp.remark.as_deref()),
        (
            ResponseCode::SYSTEM_ERROR.0,
            Some("Find prepared transaction message failed")
        )
    );

    // Only the open half is checked, with the fields the Java broker sends.
    let checks = checks_within(&mut wire, Duration::from_secs(5), true);
    assert!(!checks.is_empty(), "the open half was never checked");
    let keys: BTreeSet<String> = checks.iter().map(checked_key).collect();
    assert_eq!(keys, BTreeSet::from(["K-open".to_owned()]));
    let captured = vector("request-39-check_transaction_state-json");
    let names = |c: &RemotingCommand| -> BTreeSet<String> {
        c.fields().iter().map(|(k, _)| k.to_owned()).collect()
    };
    let check = checks.last().unwrap();
    assert_eq!(names(check), names(&captured));
    assert!(check.is_oneway());
    // The body shows the message in its real topic and queue.
    let (shown, _) = StoredMessage::decode(&check.body).unwrap();
    assert_eq!((shown.topic.as_str(), shown.queue_id), (TOPIC, 3));
    assert_eq!(&shown.body[..], b"K-open");

    // The producer's answer to the check commits the copy it names.
    let asked = asked_in(check);
    wire.send_oneway(&end_request(&asked, TRANSACTION_COMMIT_TYPE, true).mark_oneway());
    common::wait_until("the checked half's commit", Duration::from_secs(5), || {
        texts(&bodies(&mut wire, 3)) == ["K-open"]
    });
    // Answered: never checked again, and delivered once.
    let late = checks_within(&mut wire, Duration::from_millis(2500), false);
    assert!(late.is_empty(), "checked after its commit: {}", late.len());
    assert_eq!(texts(&bodies(&mut wire, 3)), ["K-open"]);
    assert_eq!(texts(&bodies(&mut wire, 2)), Vec::<String>::new());
    assert_eq!(texts(&bodies(&mut wire, 1)), ["K-commit"]);
}

#[test]
fn ended_halves_stay_ended_across_a_restart() {
    ends_survive("tx-restart", "ASYNC_FLUSH", libc::SIGTERM);
}

#[test]
fn acknowledged_halves_and_ends_survive_sigkill_under_sync_flush() {
    ends_survive("tx-sigkill", "SYNC_FLUSH", libc::SIGKILL);
}

/// Three halves, one committed, one rolled back, one left open; the broker stopped by `signal`
/// and started again. Only the open one is checked, and only the committed one is delivered.
fn ends_survive(name: &str, flush: &str, signal: i32) {
    let namesrv = start_namesrv();
    let dir = common::fresh_dir(name);
    // No check round before the restart: what the ledger knows then comes from the op queue.
    let slow = "transactionCheckInterval=60000\ntransactionTimeOut=500";
    let broker = start_broker_with(&namesrv, name, dir.clone(), flush, slow);
    let mut wire = Wire::connect(&broker.addr);
    producer_heartbeat(&mut wire);
    let committed = send_half(&mut wire, 0, "R-commit");
    let rolled_back = send_half(&mut wire, 0, "R-rollback");
    send_half(&mut wire, 0, "R-open");
    assert_eq!(end(&mut wire, &committed, TRANSACTION_COMMIT_TYPE).code, 0);
    assert_eq!(
        end(&mut wire, &rolled_back, TRANSACTION_ROLLBACK_TYPE).code,
        0
    );
    let (dir, status) = broker.stop(signal);
    if signal == libc::SIGTERM {
        assert!(status.success(), "graceful shutdown: {status:?}");
    }

    let broker = start_broker_with(&namesrv, name, dir, flush, QUICK_CHECKS);
    let mut wire = Wire::connect(&broker.addr);
    producer_heartbeat(&mut wire);
    let checks = checks_within(&mut wire, Duration::from_secs(3), false);
    let keys: BTreeSet<String> = checks.iter().map(checked_key).collect();
    assert_eq!(keys, BTreeSet::from(["R-open".to_owned()]));
    assert_eq!(texts(&bodies(&mut wire, 0)), ["R-commit"]);
}

#[test]
fn a_broker_that_rejects_transactions_says_so() {
    let namesrv = start_namesrv();
    let dir = common::fresh_dir("tx-reject");
    let broker = start_broker_with(
        &namesrv,
        "tx-reject",
        dir,
        "ASYNC_FLUSH",
        "rejectTransactionMessage=true",
    );
    let mut wire = Wire::connect(&broker.addr);
    let props = format!("TRAN_MSG\u{1}true\u{2}PGROUP\u{1}{GROUP}\u{2}");
    let resp = common::send_v2(&mut wire, TOPIC, 0, &props, b"no");
    assert_eq!(resp.code, ResponseCode::NO_PERMISSION.0);
    assert_eq!(
        resp.remark.as_deref(),
        Some("the broker[127.0.0.1] sending transaction message is forbidden")
    );
}

#[test]
fn a_half_checked_too_often_is_given_up_and_can_be_resumed() {
    let namesrv = start_namesrv();
    let dir = common::fresh_dir("tx-give-up");
    let conf = "transactionCheckInterval=300\ntransactionTimeOut=100\ntransactionCheckMax=2";
    let broker = start_broker_with(&namesrv, "tx-give-up", dir, "ASYNC_FLUSH", conf);
    // Nobody answers the checks (no producer is online): counted all the same, as in Java.
    let mut wire = Wire::connect(&broker.addr);
    send_half(&mut wire, 0, "G-open");
    let mut given_up = Vec::new();
    common::wait_until("the half to be given up", Duration::from_secs(10), || {
        given_up = messages_in(&mut wire, "TRANS_CHECK_MAX_TIME_TOPIC", 0);
        !given_up.is_empty()
    });
    assert_eq!(given_up.len(), 1);
    let aside = &given_up[0];
    assert_eq!(&aside.body[..], b"G-open");
    let props = Properties::parse(&aside.properties);
    assert_eq!(props.get("TRANSACTION_CHECK_TIMES"), Some("2"));
    assert_eq!(props.get("REAL_TOPIC"), Some(TOPIC));
    // Given up, it is asked about no more.
    producer_heartbeat(&mut wire);
    assert!(checks_within(&mut wire, Duration::from_millis(1200), false).is_empty());

    // An operator resumes it: its producer is asked again, and the answer commits it.
    let resume =
        |msg_id: &str| common::fields(RequestCode::RESUME_CHECK_HALF_MESSAGE, &[("msgId", msg_id)]);
    let id = MessageId {
        store_host: aside.store_host,
        commit_log_offset: aside.commit_log_offset,
    };
    let resp = wire.call(resume(&id.to_string()));
    assert_eq!(resp.code, 0, "{:?}", resp.remark);
    let checks = checks_within(&mut wire, Duration::from_secs(5), true);
    assert_eq!(
        checks.iter().map(checked_key).collect::<Vec<_>>(),
        ["G-open"]
    );
    let asked = asked_in(&checks[0]);
    assert_eq!(
        wire.call(end_request(&asked, TRANSACTION_COMMIT_TYPE, true))
            .code,
        0
    );
    assert_eq!(texts(&bodies(&mut wire, 0)), ["G-open"]);

    // An id that names nothing is refused with a reason.
    let resp = wire.call(resume("not-an-id"));
    assert_eq!(resp.code, ResponseCode::SYSTEM_ERROR.0);
    assert!(resp.remark.unwrap().contains("not-an-id"));
}

#[test]
fn a_half_that_asks_for_a_longer_wait_gets_it_without_holding_back_the_others() {
    let namesrv = start_namesrv();
    let dir = common::fresh_dir("tx-immunity");
    let conf = "transactionCheckInterval=300\ntransactionTimeOut=100";
    let broker = start_broker_with(&namesrv, "tx-immunity", dir, "ASYNC_FLUSH", conf);
    let mut wire = Wire::connect(&broker.addr);
    producer_heartbeat(&mut wire);
    let sent = Instant::now();
    // Sent first, with three seconds of immunity; the one after it has the broker's 100 ms.
    send_half_with(
        &mut wire,
        0,
        "I-patient",
        "CHECK_IMMUNITY_TIME_IN_SECONDS\u{1}3\u{2}",
    );
    send_half(&mut wire, 0, "I-plain");
    let mut first: Vec<(String, Duration)> = Vec::new();
    while first.len() < 2 && sent.elapsed() < Duration::from_secs(8) {
        for check in checks_within(&mut wire, Duration::from_secs(8), true) {
            let key = checked_key(&check);
            if !first.iter().any(|(k, _)| *k == key) {
                first.push((key, sent.elapsed()));
            }
            // Answered, as a producer would: each is asked about once.
            let asked = asked_in(&check);
            wire.send_oneway(&end_request(&asked, TRANSACTION_ROLLBACK_TYPE, true).mark_oneway());
        }
    }
    let keys: Vec<&str> = first.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, ["I-plain", "I-patient"], "{first:?}");
    assert!(first[0].1 < Duration::from_millis(2500), "{first:?}");
    assert!(first[1].1 >= Duration::from_secs(3), "{first:?}");
}

/// The third-party client's local transactions: the body says how each one ends, and a check
/// finds every open one committed.
struct LocalTransactions {
    checked: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl rocketmq_client_rust::TransactionListener for LocalTransactions {
    fn execute_local_transaction(
        &self,
        msg: &dyn rocketmq_model::common::message::MessageTrait,
        _: Option<&(dyn std::any::Any + Send + Sync)>,
    ) -> rocketmq_client_rust::LocalTransactionState {
        use rocketmq_client_rust::LocalTransactionState as State;
        match msg.get_body().map(|b| b.as_ref()) {
            Some(b"commit") => State::CommitMessage,
            Some(b"rollback") => State::RollbackMessage,
            _ => State::Unknown,
        }
    }

    fn check_local_transaction(
        &self,
        msg: &rocketmq_model::common::message::message_ext::MessageExt,
    ) -> rocketmq_client_rust::LocalTransactionState {
        let body = String::from_utf8_lossy(&common::body_of(msg)).into_owned();
        self.checked.lock().unwrap().push(body);
        rocketmq_client_rust::LocalTransactionState::CommitMessage
    }
}

#[test]
fn a_third_party_transactional_producer_commits_rolls_back_and_answers_checks() {
    use rocketmq_client_rust::MessageSelector;
    const TOPIC: &str = "TxClientTopic";
    let namesrv = start_namesrv();
    let dir = common::fresh_dir("tx-client");
    let broker = start_broker_with(&namesrv, "tx-client", dir, "ASYNC_FLUSH", QUICK_CHECKS);
    let mut wire = Wire::connect(&broker.addr);
    let created = common::send_v2(&mut wire, TOPIC, 0, "", b"created");
    assert_eq!(created.code, 0);
    common::wait_for_route(&namesrv, TOPIC);

    let (owner, runtime) = common::client_runtime("tx-client");
    let (mut consumer, received) = common::start_body_consumer(
        &owner,
        &runtime,
        &namesrv,
        "tx_client_consumer",
        TOPIC,
        MessageSelector::by_tag("*"),
    );
    let checked = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let listener = LocalTransactions {
        checked: checked.clone(),
    };
    let (rt, ns) = (runtime.clone(), namesrv.clone());
    let mut producer = owner.block_on(async move {
        let mut p = rocketmq_client_rust::TransactionMQProducer::builder(rt)
            .producer_group("tx_client_producer")
            .name_server_addr(ns.as_str())
            .transaction_listener(listener)
            .build();
        p.start().await.expect("transactional producer start");
        p
    });
    for body in ["commit", "rollback", "unknown"] {
        #[allow(deprecated)] // the builder needs more of the client crate; this is enough here
        let msg = rocketmq_model::common::message::message_single::Message::with_tags(
            TOPIC,
            "tx",
            body.as_bytes(),
        );
        let result = owner
            .block_on(producer.send_message_in_transaction::<(), _>(msg, None))
            .expect("transactional send");
        assert!(result.send_result.is_some(), "{body}: {result}");
    }
    // The committed one at once, the open one once the broker has checked it.
    common::wait_until(
        "the committed and the checked message",
        Duration::from_secs(20),
        || {
            let seen = received.lock().unwrap();
            seen.contains(&"commit".to_owned()) && seen.contains(&"unknown".to_owned())
        },
    );
    // Nothing more comes: the rollback stays out, and the answered check is not asked again.
    std::thread::sleep(Duration::from_secs(2));
    let mut seen = received.lock().unwrap().clone();
    seen.retain(|b| b != "created");
    seen.sort();
    assert_eq!(seen, ["commit", "unknown"]);
    assert_eq!(*checked.lock().unwrap(), ["unknown"]);

    owner.block_on(async {
        producer.shutdown().await;
        consumer.shutdown().await;
    });
}
