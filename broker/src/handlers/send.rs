//! SEND_MESSAGE, SEND_MESSAGE_V2 and SEND_BATCH_MESSAGE (Java's `SendMessageProcessor`).

use super::{Handled, Refusal, FAQ_SUFFIX};
use crate::clients::ClientAddr;
use crate::config::BrokerConfig;
use crate::core::BrokerCore;
use crate::hops::TopicWanted;
use crate::schedule;
use crate::topics::PERM_WRITE;
use crate::transaction;
use bytes::Bytes;
use ringmq_protocol::body::TopicConfig;
use ringmq_protocol::header::send::{
    SendMessageRequestHeader, SendMessageRequestHeaderV2, SendMessageResponseHeader,
};
use ringmq_protocol::message::properties::{self, Properties};
use ringmq_protocol::message::{decode_batch, sys_flag, MessageId};
use ringmq_protocol::{RemotingCommand, RequestCode, ResponseCode};
use ringmq_storage::shard::MessageToStore;
use std::net::SocketAddr;

pub async fn handle(core: &BrokerCore, client: ClientAddr, req: &RemotingCommand) -> Handled {
    let h = send_header(req)?;
    // One version of the settings for the whole request (UPDATE_BROKER_CONFIG may replace them).
    let config = core.config();
    super::broker_permits(&config, PERM_WRITE, "sending")?;
    let mut topic = topic_for_send(core, &h).await?;
    let mut queue_id = queue_for_send(&topic, h.queue_id, client.peer)?;
    let mut props = Properties::parse(h.properties.as_deref().unwrap_or(""));
    if let Some(dlq) = dead_letter_instead(core, &h, req.version).await? {
        topic = dlq;
        queue_id = 0;
        props.remove(properties::DELAY_TIME_LEVEL);
    }
    let delay_level = schedule::requested_level(&props)
        .map_err(|why| Refusal::new(ResponseCode::MESSAGE_ILLEGAL, why))?;
    let batch = req.request_code() == RequestCode::SEND_BATCH_MESSAGE;
    let half = !batch && transaction::is_half(&props, h.reconsume_times.unwrap_or(0), delay_level);
    if half && config.transactions.reject {
        return Err(Refusal::new(
            ResponseCode::NO_PERMISSION,
            format!(
                "the broker[{}] sending transaction message is forbidden",
                config.broker_ip1
            ),
        ));
    }
    let mut sys_flag = h.sys_flag & !sys_flag::MULTI_TAGS;
    // Where the message is stored: the half of a transaction waits in the half queue (a delay
    // it asks for starts at its commit), a delayed one in the schedule topic.
    let (store_topic, store_queue) = if half {
        transaction::ensure_topic(core, crate::topics::TRANS_HALF_TOPIC).await?;
        let (topic, queue, flag) =
            transaction::redirect_to_half(&topic.topic_name, queue_id, sys_flag, &mut props);
        sys_flag = flag;
        (topic, queue)
    } else if delay_level > 0 {
        if batch {
            // Java's store refuses delayed batches too.
            return Err(Refusal::new(
                ResponseCode::MESSAGE_ILLEGAL,
                "a batch of messages cannot be delayed: send them one by one",
            ));
        }
        schedule::redirect_to_schedule(
            &config.message_delay_level,
            delay_level,
            &topic.topic_name,
            queue_id,
            &mut props,
        )
    } else {
        (topic.topic_name.clone(), queue_id)
    };
    let stored_props = store_properties(props, &config.broker_cluster_name);
    let items: Vec<(Bytes, String, i32)> = if batch {
        decode_batch(&req.body)?
            .into_iter()
            .map(|m| {
                (
                    m.body,
                    store_properties(
                        Properties::parse(&m.properties),
                        &config.broker_cluster_name,
                    ),
                    m.flag,
                )
            })
            .collect()
    } else {
        vec![(req.body.clone(), stored_props, h.flag)]
    };
    for (body, _, _) in &items {
        check_body_size(&config, body)?;
    }
    let messages = items
        .into_iter()
        .map(|(body, properties, flag)| MessageToStore {
            topic: store_topic.clone(),
            queue_id: store_queue,
            body,
            properties,
            flag,
            sys_flag,
            born_timestamp: h.born_timestamp,
            born_host: client.peer,
            reconsume_times: h.reconsume_times.unwrap_or(0),
            prepared_transaction_offset: 0,
        })
        .collect();
    let stored = core
        .store(messages, Some(config.wait_time_mills_in_send_queue))
        .await?;
    let msg_ids: Vec<String> = stored
        .iter()
        .map(|put| {
            MessageId {
                store_host: config.store_host(),
                commit_log_offset: put.offset.0,
            }
            .to_string()
        })
        .collect();
    let first = stored
        .first()
        .ok_or_else(|| Refusal::new(ResponseCode::MESSAGE_ILLEGAL, "the batch holds no message"))?;
    let header = SendMessageResponseHeader {
        msg_id: msg_ids.join(","),
        queue_id,
        queue_offset: first.queue_offset.0,
        region_id: Some("DefaultRegion".into()),
        trace_on: Some(true),
        ..Default::default()
    };
    // Stored but not yet durable in time: Java answers FLUSH_DISK_TIMEOUT with the full header,
    // and the producer reports that status instead of SEND_OK.
    let code = if stored.iter().any(|put| put.flush_timed_out) {
        ResponseCode::FLUSH_DISK_TIMEOUT
    } else {
        ResponseCode::SUCCESS
    };
    Ok(RemotingCommand::response_to(req, code, None).with_header(&header))
}

/// MESSAGE_ILLEGAL for a body over `maxMessageSize`.
pub(super) fn check_body_size(config: &BrokerConfig, body: &Bytes) -> Result<(), Refusal> {
    let max = config.max_message_size;
    if body.len() > max {
        return Err(Refusal::new(
            ResponseCode::MESSAGE_ILLEGAL,
            format!(
                "the message body size over max value, MAX: {max}, got {}",
                body.len()
            ),
        ));
    }
    Ok(())
}

/// The send header, from its short-named V2 form where the request code says so.
pub(super) fn send_header(req: &RemotingCommand) -> Result<SendMessageRequestHeader, Refusal> {
    Ok(match req.request_code() {
        RequestCode::SEND_MESSAGE_V2
        | RequestCode::SEND_BATCH_MESSAGE
        | RequestCode::SEND_REPLY_MESSAGE_V2 => req.header::<SendMessageRequestHeaderV2>()?.into(),
        _ => req.header()?,
    })
}

/// The topic's config, auto-creating it the way the Java producer expects (from the default
/// topic TBW102, or a consumer group's retry topic).
pub(super) async fn topic_for_send(
    core: &BrokerCore,
    h: &SendMessageRequestHeader,
) -> Result<TopicConfig, Refusal> {
    crate::topics::validate_send_topic(&h.topic)
        .map_err(|e| Refusal::new(e.response_code(), e.to_string()))?;
    // Every send comes here: a known topic costs one lookup and no allocation beyond the copy.
    if let Some(config) = core.topics.borrow().get(&h.topic) {
        return Ok(config.clone());
    }
    core.ensure_topic(TopicWanted::ForSend {
        topic: h.topic.clone(),
        default_topic: h.default_topic.clone(),
        queue_nums: h.default_topic_queue_nums,
    })
    .await
}

/// A consumer whose CONSUMER_SEND_MSG_BACK failed sends the message to its `%RETRY%` topic
/// itself. Once it has been retried as often as allowed (the header's `maxReconsumeTimes`, or
/// the group's `retryMaxTimes` for older clients) it goes to the group's dead-letter topic
/// instead, as Java's `handleRetryAndDLQ` does.
async fn dead_letter_instead(
    core: &BrokerCore,
    h: &SendMessageRequestHeader,
    version: i32,
) -> Result<Option<TopicConfig>, Refusal> {
    let Some(group) = h
        .topic
        .strip_prefix(crate::topics::RETRY_GROUP_TOPIC_PREFIX)
    else {
        return Ok(None);
    };
    let Some(config) = core.find_group(group).await? else {
        return Err(Refusal::new(
            ResponseCode::SUBSCRIPTION_GROUP_NOT_EXIST,
            format!("subscription group not exist, {group} {FAQ_SUFFIX}"),
        ));
    };
    let max = match h.max_reconsume_times {
        Some(max) if version >= super::send_back::VERSION_WITH_MAX_RECONSUME_TIMES => max,
        _ => config.retry_max_times,
    };
    if h.reconsume_times.unwrap_or(0) < max {
        return Ok(None);
    }
    let dlq = core
        .ensure_topic(TopicWanted::Dlq {
            group: group.to_owned(),
        })
        .await?;
    Ok(Some(dlq))
}

pub(super) fn queue_for_send(
    topic: &TopicConfig,
    requested: i32,
    producer: SocketAddr,
) -> Result<i32, Refusal> {
    let valid = topic.write_queue_nums.max(topic.read_queue_nums);
    if requested < 0 {
        // Java picks a random writable queue.
        let n = topic.write_queue_nums.max(1) as u32;
        let pick = (std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos()))
            % n;
        return Ok(pick as i32);
    }
    if requested >= valid {
        return Err(Refusal::new(
            ResponseCode::SYSTEM_ERROR,
            format!(
                "request queueId[{requested}] is illegal, topic {} has {valid} queues Producer: {}",
                topic.topic_name, producer
            ),
        ));
    }
    Ok(requested)
}

/// What the broker stores of a producer's properties: without the flush hint, with the cluster
/// (Java does the same; consumers see `CLUSTER`).
fn store_properties(mut props: Properties, cluster: &str) -> String {
    props.remove(properties::WAIT_STORE_MSG_OK);
    props.insert(properties::CLUSTER, cluster);
    props.encode()
}
