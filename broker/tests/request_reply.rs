//! The request-reply pattern (`DefaultMQProducer.request`, RocketMQ 4.6+) with the third-party
//! client on both sides: a requester waits for the answer to its message; a responder consumes
//! the request and sends a reply (`MessageUtil.createReplyMessage`, SEND_REPLY_MESSAGE_V2); the
//! broker pushes the reply to the requester's connection (PUSH_REPLY_MESSAGE_TO_CLIENT) and stores
//! it in the reply topic.

mod common;

use common::{start_broker, start_namesrv, wait_for_route, Wire};
use ringmq_protocol::header::send::SendMessageRequestHeaderV2;
use ringmq_protocol::message::MessageId;
use ringmq_protocol::{RemotingCommand, RequestCode, ResponseCode};
use rocketmq_client_rust::MQPushConsumer;
use rocketmq_model::common::message::message_ext::MessageExt;
use rocketmq_model::common::message::message_single::Message;
use std::sync::mpsc;
use std::sync::Mutex;
use std::time::Duration;

const TOPIC: &str = "RequestTopic";

/// Hands every request message to the thread that answers it.
struct Forward(Mutex<mpsc::Sender<MessageExt>>);

impl rocketmq_client_rust::MessageListenerConcurrently for Forward {
    fn consume_message(
        &self,
        msgs: &[&MessageExt],
        _: &rocketmq_client_rust::ConsumeConcurrentlyContext,
    ) -> rocketmq_client_rust::ClientResult<rocketmq_client_rust::ConsumeConcurrentlyStatus> {
        let tx = self.0.lock().unwrap();
        for m in msgs {
            let _ = tx.send((*m).clone());
        }
        Ok(rocketmq_client_rust::ConsumeConcurrentlyStatus::ConsumeSuccess)
    }
}

#[test]
fn a_request_gets_the_reply_its_responder_sends() {
    let namesrv = start_namesrv();
    let broker = start_broker(&namesrv, "broker-request-reply");
    let mut wire = Wire::connect(&broker.addr);
    assert_eq!(common::send_v2(&mut wire, TOPIC, 0, "", b"created").code, 0);
    wait_for_route(&namesrv, TOPIC);
    wait_for_route(&namesrv, "DefaultCluster_REPLY_TOPIC");

    // The responder, in a client runtime of its own.
    let (resp_owner, resp_rt) = common::client_runtime("responder");
    let (tx, rx) = mpsc::channel();
    let (rt, ns) = (resp_rt.clone(), namesrv.clone());
    let mut consumer = resp_owner.block_on(async move {
        let mut c = rocketmq_client_rust::DefaultMQPushConsumer::builder(rt)
            .consumer_group("request_responder")
            .name_server_addr(ns)
            .build();
        c.subscribe(TOPIC, "*").await.expect("subscribe");
        c.register_message_listener_concurrently(Forward(Mutex::new(tx)));
        c.start().await.expect("consumer start");
        c
    });
    let mut replier = common::start_producer(&resp_owner, &resp_rt, &namesrv, "reply_producer");
    let answering = std::thread::spawn(move || {
        let mut answered = 0;
        while let Ok(request) = rx.recv_timeout(Duration::from_secs(20)) {
            let body = common::body_of(&request);
            if body == b"created" {
                continue;
            }
            let text = format!("re: {}", String::from_utf8_lossy(&body));
            let reply = rocketmq_client_rust::MessageUtil::create_reply_message(
                &request.message,
                text.as_bytes(),
            )
            .expect("a request carries what a reply needs");
            resp_owner
                .block_on(replier.send(reply))
                .expect("reply sent");
            answered += 1;
            if answered == 3 {
                break;
            }
        }
        resp_owner.block_on(async {
            replier.shutdown().await;
            consumer.shutdown().await;
        });
        answered
    });

    // The requester waits for each answer in turn.
    let (req_owner, req_rt) = common::client_runtime("requester");
    let mut requester = common::start_producer(&req_owner, &req_rt, &namesrv, "request_producer");
    for question in ["one", "two", "three"] {
        #[allow(deprecated)] // the builder needs more of the client crate; this is enough here
        let msg = Message::with_tags(TOPIC, "ask", question.as_bytes());
        let reply = req_owner
            .block_on(requester.request(msg, 15_000))
            .unwrap_or_else(|e| panic!("no reply to {question}: {e}"));
        let body = reply.get_body().map(|b| b.to_vec()).unwrap_or_default();
        assert_eq!(String::from_utf8_lossy(&body), format!("re: {question}"));
    }
    assert_eq!(answering.join().unwrap(), 3);
    req_owner.block_on(requester.shutdown());

    // The replies were stored in the reply topic too.
    let max = wire.call(common::fields(
        RequestCode::GET_MAX_OFFSET,
        &[("topic", "DefaultCluster_REPLY_TOPIC"), ("queueId", "0")],
    ));
    assert_eq!(max.fields().get("offset"), Some("3"));
}

#[test]
fn a_reply_without_a_reachable_requester_is_refused_with_a_reason() {
    let namesrv = start_namesrv();
    let broker = start_broker(&namesrv, "broker-reply-refused");
    let mut wire = Wire::connect(&broker.addr);
    let reply = |props: &str| {
        let h = SendMessageRequestHeaderV2 {
            producer_group: "reply_producer".into(),
            topic: "DefaultCluster_REPLY_TOPIC".into(),
            default_topic: "TBW102".into(),
            default_topic_queue_nums: 4,
            queue_id: 0,
            born_timestamp: 1,
            properties: Some(props.into()),
            ..Default::default()
        };
        RemotingCommand::request_with(RequestCode::SEND_REPLY_MESSAGE_V2, 0, &h)
            .with_body(b"re: nobody".to_vec())
    };
    let r = wire.call(reply("MSG_TYPE\u{1}reply\u{2}"));
    assert_eq!(
        (r.code, r.remark.as_deref()),
        (
            ResponseCode::SYSTEM_ERROR.0,
            Some("reply message properties[REPLY_TO_CLIENT] is null")
        )
    );
    let r = wire.call(reply(
        "MSG_TYPE\u{1}reply\u{2}REPLY_TO_CLIENT\u{1}gone@1\u{2}",
    ));
    assert_eq!(
        (r.code, r.remark.as_deref()),
        (
            ResponseCode::SYSTEM_ERROR.0,
            Some("push reply message fail, channel of <gone@1> not found.")
        )
    );
    // Stored all the same, as Java does: the answer names where.
    let id: MessageId = r.fields().get("msgId").unwrap().parse().unwrap();
    assert!(id.commit_log_offset >= 0);
    assert_eq!(r.fields().get("queueOffset"), Some("1"));
    // A reply over maxMessageSize is refused before it is passed on.
    let mut huge = reply("MSG_TYPE\u{1}reply\u{2}REPLY_TO_CLIENT\u{1}gone@1\u{2}");
    huge.body = vec![b'x'; (4 << 20) + 1].into();
    let r = wire.call(huge);
    assert_eq!(r.code, ResponseCode::MESSAGE_ILLEGAL.0, "{:?}", r.remark);
}
