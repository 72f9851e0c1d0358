//! CONSUMER_SEND_MSG_BACK (Java's `SendMessageProcessor.asyncConsumerSendMsgBack`): a clustering
//! consumer that failed to process a message hands it back for a later retry.
//!
//! The message is copied from the log into the group's retry topic `%RETRY%<group>` through the
//! schedule topic (delay level `3 + reconsumeTimes` unless the consumer chose one), or into the
//! dead-letter topic `%DLQ%<group>` once it has been retried `maxReconsumeTimes` times or the
//! consumer asked for that (negative delay level). The consumer's subscription to its retry topic
//! brings it back.

use super::{Handled, Refusal, FAQ_SUFFIX};
use crate::core::BrokerCore;
use crate::hops::TopicWanted;
use crate::schedule;
use crate::topics::PERM_WRITE;
use ringmq_protocol::header::send::ConsumerSendMsgBackRequestHeader;
use ringmq_protocol::message::properties::{self, Properties};
use ringmq_protocol::message::{MessageId, StoredMessage};
use ringmq_protocol::{RemotingCommand, ResponseCode};
use ringmq_storage::CommitLogOffset;

/// From this client version on, the consumer's own `maxReconsumeTimes` counts (Java's V3_4_9).
pub const VERSION_WITH_MAX_RECONSUME_TIMES: i32 = 121;

pub async fn handle(core: &BrokerCore, req: &RemotingCommand) -> Handled {
    let h: ConsumerSendMsgBackRequestHeader = req.header()?;
    if h.group.is_empty() {
        return Err(Refusal::new(
            ResponseCode::SUBSCRIPTION_GROUP_NOT_EXIST,
            format!("subscription group not exist, {} {FAQ_SUFFIX}", h.group),
        ));
    }
    super::broker_permits(&core.config(), PERM_WRITE, "sending")?;
    let Some(group) = core.find_group(&h.group).await? else {
        return Err(Refusal::new(
            ResponseCode::SUBSCRIPTION_GROUP_NOT_EXIST,
            format!("subscription group not exist, {} {FAQ_SUFFIX}", h.group),
        ));
    };
    let retry = core
        .ensure_topic(TopicWanted::Retry {
            group: h.group.clone(),
            queue_nums: group.retry_queue_nums,
        })
        .await?;
    if retry.perm & PERM_WRITE == 0 {
        return Err(Refusal::new(
            ResponseCode::NO_PERMISSION,
            format!(
                "the topic[{}] sending message is forbidden",
                retry.topic_name
            ),
        ));
    }
    let offset = CommitLogOffset(h.offset);
    let lookup_failed = || {
        Refusal::new(
            ResponseCode::SYSTEM_ERROR,
            format!("look message by offset failed, {}", h.offset),
        )
    };
    let record = core.record_at(offset).await.ok_or_else(lookup_failed)?;
    let (msg, _) = StoredMessage::decode(&record).map_err(|_| lookup_failed())?;

    let mut props = Properties::parse(&msg.properties);
    if props.get(properties::RETRY_TOPIC).is_none() {
        props.insert(properties::RETRY_TOPIC, msg.topic.as_str());
    }
    if props.get(properties::ORIGIN_MESSAGE_ID).is_none() {
        let id = MessageId {
            store_host: msg.store_host,
            commit_log_offset: msg.commit_log_offset,
        };
        props.insert(properties::ORIGIN_MESSAGE_ID, id.to_string());
    }
    let max_reconsume_times = match h.max_reconsume_times {
        Some(times) if req.version >= VERSION_WITH_MAX_RECONSUME_TIMES => times,
        _ => group.retry_max_times,
    };
    let (topic, queue_id) = if msg.reconsume_times >= max_reconsume_times || h.delay_level < 0 {
        let dlq = core
            .ensure_topic(TopicWanted::Dlq {
                group: h.group.clone(),
            })
            .await?;
        props.remove(properties::DELAY_TIME_LEVEL);
        (dlq.topic_name, 0)
    } else {
        let level = match h.delay_level {
            0 => 3 + msg.reconsume_times,
            chosen => chosen,
        };
        schedule::redirect_to_schedule(
            &core.config().message_delay_level,
            level,
            &retry.topic_name,
            retry_queue(h.offset, retry.write_queue_nums),
            &mut props,
        )
    };
    let reconsume_times = msg.reconsume_times + 1;
    let again = schedule::stored_again(msg, &topic, queue_id, &props, reconsume_times);
    core.store(vec![again], None).await?;
    Ok(super::ok(req))
}

/// The retry queue a message goes back to. Java picks one at random; spreading by the message's
/// own offset does the same job and sends a message back to the same queue every time.
fn retry_queue(offset: i64, queues: i32) -> i32 {
    if queues <= 1 {
        return 0;
    }
    // Fibonacci hashing: nearby offsets land far apart.
    let spread = (offset as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 33;
    (spread % queues as u64) as i32
}
