//! SEND_REPLY_MESSAGE and SEND_REPLY_MESSAGE_V2 (Java's `ReplyMessageProcessor`): the answer in
//! the request-reply pattern of `DefaultMQProducer.request`.
//!
//! A requester sends an ordinary message carrying its client id (`REPLY_TO_CLIENT`) and a
//! correlation id. The consumer that handles it answers with a reply message to
//! `<cluster>_REPLY_TOPIC`, which its producer sends with these codes. The broker pushes the
//! reply at once to the requester, on the requester's own connection (PUSH_REPLY_MESSAGE_TO_CLIENT,
//! awaiting its answer as Java does), and also stores it in the reply topic unless
//! `storeReplyMessageEnable` is off. The replier hears SUCCESS only if the push arrived.

use super::send::{check_body_size, queue_for_send, send_header, topic_for_send};
use super::Handled;
use crate::clients::{ClientAddr, ProducerWanted};
use crate::core::BrokerCore;
use crate::topics::PERM_WRITE;
use ringmq_protocol::header::send::{
    ReplyMessageRequestHeader, SendMessageRequestHeader, SendMessageResponseHeader,
};
use ringmq_protocol::message::properties::{self, Properties};
use ringmq_protocol::message::MessageId;
use ringmq_protocol::{RemotingCommand, RequestCode, ResponseCode};
use ringmq_storage::shard::MessageToStore;
use std::net::SocketAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How long the requester gets to take a pushed reply (Java's `callClient`).
const PUSH_TIMEOUT: Duration = Duration::from_secs(10);

pub async fn handle(core: &BrokerCore, client: ClientAddr, req: &RemotingCommand) -> Handled {
    let h = send_header(req)?;
    let config = core.config();
    super::broker_permits(&config, PERM_WRITE, "sending")?;
    let topic = topic_for_send(core, &h).await?;
    let queue_id = queue_for_send(&topic, h.queue_id, client.peer)?;
    // Java finds out only when storing, after the push; we refuse before passing it on.
    check_body_size(&config, &req.body)?;
    let pushed = push_to_requester(core, &h, &req.body, client.peer).await;
    let mut header = SendMessageResponseHeader {
        msg_id: "0".into(),
        queue_id,
        queue_offset: 0,
        region_id: Some("DefaultRegion".into()),
        trace_on: Some(true),
        ..Default::default()
    };
    if config.store_reply_message_enable {
        // Java stores the reply whether or not the push worked, and logs a failed store.
        let msg = MessageToStore {
            topic: topic.topic_name.clone(),
            queue_id,
            body: req.body.clone(),
            properties: h.properties.clone().unwrap_or_default(),
            flag: h.flag,
            sys_flag: h.sys_flag,
            born_timestamp: h.born_timestamp,
            born_host: client.peer,
            reconsume_times: h.reconsume_times.unwrap_or(0),
            prepared_transaction_offset: 0,
        };
        match core.store(vec![msg], None).await {
            Ok(stored) => {
                if let Some(put) = stored.first() {
                    header.msg_id = MessageId {
                        store_host: config.store_host(),
                        commit_log_offset: put.offset.0,
                    }
                    .to_string();
                    header.queue_offset = put.queue_offset.0;
                }
            }
            Err(e) => log::warn!("reply message to {} not stored: {e}", topic.topic_name),
        }
    }
    match pushed {
        Ok(()) => {
            Ok(RemotingCommand::response_to(req, ResponseCode::SUCCESS, None).with_header(&header))
        }
        Err(why) => Ok(
            RemotingCommand::response_to(req, ResponseCode::SYSTEM_ERROR, Some(why))
                .with_header(&header),
        ),
    }
}

/// Pushes the reply to the producer that asked for it; the error is Java's remark.
async fn push_to_requester(
    core: &BrokerCore,
    h: &SendMessageRequestHeader,
    body: &bytes::Bytes,
    replier: SocketAddr,
) -> Result<(), String> {
    let mut props = Properties::parse(h.properties.as_deref().unwrap_or(""));
    let Some(requester) = props
        .get(properties::MESSAGE_REPLY_TO_CLIENT)
        .map(str::to_owned)
    else {
        return Err(format!(
            "reply message properties[{}] is null",
            properties::MESSAGE_REPLY_TO_CLIENT
        ));
    };
    let wanted = ProducerWanted::WithClientId(requester.clone());
    let Some(addr) = core.find_producer(wanted).await else {
        return Err(format!(
            "push reply message fail, channel of <{requester}> not found."
        ));
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    props.insert(properties::PUSH_REPLY_TIME, now.to_string());
    let push = ReplyMessageRequestHeader {
        producer_group: h.producer_group.clone(),
        topic: h.topic.clone(),
        default_topic: h.default_topic.clone(),
        default_topic_queue_nums: h.default_topic_queue_nums,
        queue_id: h.queue_id,
        sys_flag: h.sys_flag,
        born_timestamp: h.born_timestamp,
        flag: h.flag,
        properties: Some(props.encode()),
        reconsume_times: h.reconsume_times,
        unit_mode: h.unit_mode,
        born_host: replier.to_string(),
        store_host: core.config().store_host().to_string(),
        store_timestamp: now,
        ..Default::default()
    };
    let command =
        RemotingCommand::request_with(RequestCode::PUSH_REPLY_MESSAGE_TO_CLIENT, 0, &push)
            .with_body(body.clone());
    match core.call_client(addr, command, PUSH_TIMEOUT).await {
        Some(answer) if answer.code == ResponseCode::SUCCESS.0 => Ok(()),
        Some(answer) => {
            log::warn!(
                "push of a reply to {requester} refused: {:?}",
                answer.remark
            );
            Err(format!("push reply message to {requester}fail."))
        }
        None => Err(format!("push reply message to {requester}fail.")),
    }
}
