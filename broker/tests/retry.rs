//! Consumer retries and delayed messages, driven by the third-party rocketmq-client-rust: a push
//! consumer answering RECONSUME_LATER gets the message again after the retry delay (through
//! CONSUMER_SEND_MSG_BACK, the schedule topic and the group's retry topic), then the dead-letter
//! queue takes it; a producer's delayed message reaches the consumer only after its delay.

mod common;

use common::{
    fields, fresh_dir, start_broker_with, start_namesrv, wait_for_route, wait_until, Wire,
};
use ringmq_protocol::message::StoredMessage;
use ringmq_protocol::RequestCode;
use rocketmq_client_rust::{
    ClientResult, ConsumeConcurrentlyContext, ConsumeConcurrentlyStatus, DefaultMQPushConsumer,
    MQPushConsumer, MessageListenerConcurrently,
};
use rocketmq_model::common::message::message_ext::MessageExt;
use rocketmq_model::common::message::message_single::Message;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const TOPIC: &str = "RetryTopic";
const GROUP: &str = "retry_group";
/// Level 2 (the producer's delayed message) waits 2 s; retries (levels 3 and up) wait 1 s.
const LEVELS: &str = "1s 2s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s";
/// The consumer's retry budget: the third failure goes to the dead-letter queue.
const MAX_RECONSUME: i32 = 2;

#[derive(Debug, Clone)]
struct Delivery {
    body: String,
    reconsume_times: i32,
    topic: String,
    at: Instant,
}

struct Listener {
    seen: Arc<Mutex<Vec<Delivery>>>,
}

impl MessageListenerConcurrently for Listener {
    fn consume_message(
        &self,
        msgs: &[&MessageExt],
        _: &ConsumeConcurrentlyContext,
    ) -> ClientResult<ConsumeConcurrentlyStatus> {
        let mut later = false;
        for m in msgs {
            let body = String::from_utf8_lossy(&common::body_of(m)).into_owned();
            later |= body == "always fails" || (body == "fails once" && m.reconsume_times() == 0);
            self.seen.lock().unwrap().push(Delivery {
                body,
                reconsume_times: m.reconsume_times(),
                topic: m.topic().to_string(),
                at: Instant::now(),
            });
        }
        Ok(if later {
            ConsumeConcurrentlyStatus::ReconsumeLater
        } else {
            ConsumeConcurrentlyStatus::ConsumeSuccess
        })
    }
}

#[test]
fn rejected_messages_come_back_after_the_retry_delay_then_go_to_the_dlq() {
    let namesrv = start_namesrv();
    let broker = start_broker_with(
        &namesrv,
        "broker-retry",
        fresh_dir("broker-retry"),
        "ASYNC_FLUSH",
        &format!("messageDelayLevel={LEVELS}"),
    );
    let (owner, runtime) = common::client_runtime("retry-test");
    let mut producer = common::start_producer(&owner, &runtime, &namesrv, "retry_producer");
    let send = |producer: &mut rocketmq_client_rust::DefaultMQProducer, body: &str, level: i32| {
        #[allow(deprecated)] // the builder needs more of the client crate; this is enough here
        let mut msg = Message::with_tags(TOPIC, "TagA", body.as_bytes());
        msg.set_delay_time_level(level);
        owner.block_on(async move {
            producer
                .send(msg)
                .await
                .expect("send")
                .expect("a send result")
        })
    };
    // Creates the topic, so the consumer finds its route.
    send(&mut producer, "warm-up", 0);
    wait_for_route(&namesrv, TOPIC);

    let seen = Arc::new(Mutex::new(Vec::<Delivery>::new()));
    let (rt, ns, s) = (runtime.clone(), namesrv.clone(), seen.clone());
    let mut consumer = owner.block_on(async move {
        let mut c = DefaultMQPushConsumer::builder(rt)
            .consumer_group(GROUP.to_string())
            .name_server_addr(ns)
            .max_reconsume_times(MAX_RECONSUME)
            .build();
        c.subscribe(TOPIC, "*").await.expect("subscribe");
        c.register_message_listener_concurrently(Listener { seen: s });
        c.start().await.expect("consumer start");
        c
    });
    let mut wire = Wire::connect(&broker.addr);
    let got = |body: &str| -> Vec<Delivery> {
        let all = seen.lock().unwrap().clone();
        all.into_iter().filter(|d| d.body == body).collect()
    };
    wait_until("the warm-up message", Duration::from_secs(20), || {
        !got("warm-up").is_empty()
    });

    let sent_at = Instant::now();
    send(&mut producer, "fails once", 0);
    send(&mut producer, "always fails", 0);
    send(&mut producer, "delayed", 2);
    send(&mut producer, "plain", 0);

    wait_until("the delayed message", Duration::from_secs(20), || {
        !got("delayed").is_empty()
    });
    let delayed = &got("delayed")[0];
    let waited = delayed.at - sent_at;
    assert!(
        waited >= Duration::from_millis(1900),
        "the level-2 message (2 s) arrived after {waited:?}"
    );
    assert_eq!(delayed.topic, TOPIC, "delivered in its own topic");
    let plain = &got("plain")[0];
    assert!(
        plain.at < delayed.at,
        "the plain message waited for the delayed one"
    );

    // Failed once, then redelivered (through the retry topic) with its retry count.
    wait_until("the retried message", Duration::from_secs(20), || {
        got("fails once").len() >= 2
    });
    let once = got("fails once");
    assert_eq!(once[0].reconsume_times, 0);
    assert_eq!(once[1].reconsume_times, 1);
    let gap = once[1].at - once[0].at;
    assert!(
        gap >= Duration::from_millis(900),
        "retried after {gap:?}, before its 1 s retry delay"
    );
    assert_eq!(
        once[1].topic, TOPIC,
        "the client shows a retried message under its original topic"
    );

    // Always failing: the first delivery and MAX_RECONSUME retries, then the dead-letter queue.
    let dlq = format!("%DLQ%{GROUP}");
    wait_until("the dead-letter queue", Duration::from_secs(30), || {
        wire.call(fields(
            RequestCode::GET_MAX_OFFSET,
            &[("topic", &dlq), ("queueId", "0")],
        ))
        .fields()
        .get("offset")
            == Some("1")
    });
    let always = got("always fails");
    let counts: Vec<i32> = always.iter().map(|d| d.reconsume_times).collect();
    assert_eq!(counts, vec![0, 1, 2], "deliveries before the DLQ");
    let pulled = wire.call(fields(
        RequestCode::PULL_MESSAGE,
        &[
            ("consumerGroup", "dlq_reader"),
            ("topic", &dlq),
            ("queueId", "0"),
            ("queueOffset", "0"),
            ("maxMsgNums", "4"),
            ("sysFlag", "0"),
            ("commitOffset", "0"),
            ("suspendTimeoutMillis", "0"),
            ("subVersion", "0"),
        ],
    ));
    assert_eq!(pulled.code, 0, "{:?}", pulled.remark);
    let dead = StoredMessage::decode_all(&pulled.body).unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(&dead[0].body[..], b"always fails");
    assert_eq!(dead[0].reconsume_times, MAX_RECONSUME + 1);
    assert!(
        dead[0].properties.contains("RETRY_TOPIC\u{1}RetryTopic"),
        "{:?}",
        dead[0].properties
    );
    // Nothing else was retried: the successes stayed consumed.
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(got("fails once").len(), 2);
    assert_eq!(got("plain").len(), 1);
    assert_eq!(got("delayed").len(), 1);

    owner.block_on(async move {
        consumer.shutdown().await;
        producer.shutdown().await;
        runtime.shutdown().await;
    });
    owner.shutdown_runtime_blocking().unwrap();
}
