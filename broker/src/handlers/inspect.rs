//! The admin's read-only questions about one topic, group or the producers (5.x
//! `DefaultMQAdminExt` and the dashboard ask them): GET_TOPIC_CONFIG, QUERY_TOPICS_BY_CONSUMER,
//! QUERY_SUBSCRIPTION_BY_CONSUMER, QUERY_CONSUME_TIME_SPAN, GET_ALL_PRODUCER_INFO,
//! GET_SYSTEM_TOPIC_LIST_FROM_BROKER, and QUERY_CONSUME_QUEUE (`mqadmin queryCq`).
//!
//! The ones that read the client registry run on the control core (see [`crate::service`]),
//! QUERY_CONSUME_QUEUE on its queue's core; the others gather what they need from every core
//! ([`crate::survey`]).

use super::{ok, Handled, Refusal};
use crate::core::BrokerCore;
use ringmq_protocol::body::{
    ConsumeQueueData, QueryConsumeQueueResponseBody, QueryConsumeTimeSpanBody,
    QuerySubscriptionResponseBody, TopicList,
};
use ringmq_protocol::header::admin::*;
use ringmq_protocol::json::{self, JsonStyle};
use ringmq_protocol::{RemotingCommand, RequestCode, ResponseCode};
use ringmq_storage::QueueOffset;
use std::time::Instant;

pub async fn handle(core: &BrokerCore, req: &RemotingCommand) -> Handled {
    match req.request_code() {
        RequestCode::GET_TOPIC_CONFIG => {
            let h: GetTopicConfigRequestHeader = req.header()?;
            let Some(mut config) = core.topics.borrow().get(&h.topic).cloned() else {
                return Err(Refusal::new(
                    ResponseCode::TOPIC_NOT_EXIST,
                    format!("No topic in this broker. topic: {}", h.topic),
                ));
            };
            // Java's `TopicConfigAndQueueMapping`: the config, and a static topic's queue
            // mapping, which we do not have (an absent field). This is a 5.x request, and 5.x
            // always writes `attributes`, empty or not; its clients expect the field.
            config.attributes.get_or_insert_with(Default::default);
            Ok(ok(req).with_body(json::to_vec(&config, JsonStyle::Fastjson)))
        }
        RequestCode::QUERY_TOPICS_BY_CONSUMER => {
            let h: QueryTopicsByConsumerRequestHeader = req.header()?;
            let list = TopicList {
                topic_list: core.topics_of_group(&h.group).await.into_iter().collect(),
                broker_addr: Some(core.config().broker_addr()),
            };
            Ok(ok(req).with_body(json::to_vec(&list, JsonStyle::Fastjson)))
        }
        RequestCode::GET_SYSTEM_TOPIC_LIST_FROM_BROKER => {
            let list = TopicList {
                topic_list: core.topics.borrow().system_topics(),
                broker_addr: None,
            };
            Ok(ok(req).with_body(json::to_vec(&list, JsonStyle::Fastjson)))
        }
        RequestCode::QUERY_SUBSCRIPTION_BY_CONSUMER => {
            let h: QuerySubscriptionByConsumerRequestHeader = req.header()?;
            let topic = h.topic.unwrap_or_default();
            let subscription_data = core
                .control()?
                .clients
                .borrow()
                .subscription(&h.group, &topic);
            let body = QuerySubscriptionResponseBody {
                subscription_data,
                group: h.group,
                topic,
            };
            Ok(ok(req).with_body(json::to_vec(&body, JsonStyle::Fastjson)))
        }
        RequestCode::QUERY_CONSUME_TIME_SPAN => {
            let h: QueryConsumeTimeSpanRequestHeader = req.header()?;
            if core.topics.borrow().get(&h.topic).is_none() {
                return Err(Refusal::new(
                    ResponseCode::TOPIC_NOT_EXIST,
                    format!("topic[{}] not exist", h.topic),
                ));
            }
            let body = QueryConsumeTimeSpanBody {
                consume_time_span_set: core.consume_time_spans(&h.group, &h.topic).await?,
            };
            Ok(ok(req).with_body(json::to_vec(&body, JsonStyle::Fastjson)))
        }
        RequestCode::GET_ALL_PRODUCER_INFO => {
            let table = core
                .control()?
                .clients
                .borrow()
                .producer_table(Instant::now(), crate::persist::now_millis());
            Ok(ok(req).with_body(json::to_vec(&table, JsonStyle::Fastjson)))
        }
        RequestCode::QUERY_CONSUME_QUEUE => {
            let h: QueryConsumeQueueRequestHeader = req.header()?;
            query_consume_queue(core, req, h).await
        }
        other => Err(Refusal::not_supported(other)),
    }
}

/// Entries read per QUERY_CONSUME_QUEUE at most, whatever `count` asks (Java stops at the end of
/// the index file, 300,000 entries): the answer is built in memory.
const MAX_QUEUE_ENTRIES: usize = 1024;

/// Java's `queryConsumeQueue`: the queue's extent, the asked group's subscription, and `count`
/// entries from `index`. Java answers SUCCESS without a body, and says why in the remark, when
/// the index is outside the queue.
async fn query_consume_queue(
    core: &BrokerCore,
    req: &RemotingCommand,
    h: QueryConsumeQueueRequestHeader,
) -> Handled {
    let missing = || {
        Refusal::new(
            ResponseCode::SYSTEM_ERROR,
            format!("{}@{} is not exist!", h.queue_id, h.topic),
        )
    };
    let shard = core
        .local_shard(&h.topic, h.queue_id)
        .cloned()
        .ok_or_else(missing)?;
    let (min, max) = (
        shard.min_offset(&h.topic, h.queue_id).0,
        shard.max_offset(&h.topic, h.queue_id).0,
    );
    // Nothing is read for an index outside the queue (a read would start at its minimum).
    let in_queue = (min..max).contains(&h.index);
    let count = if in_queue {
        usize::try_from(h.count).unwrap_or(0).min(MAX_QUEUE_ENTRIES)
    } else {
        0
    };
    let entries = shard
        .queue_entries(&h.topic, h.queue_id, QueueOffset(h.index), count)?
        .ok_or_else(missing)?;
    if !in_queue {
        return Ok(ok(req).with_remark(format!(
            "Index {} of {}@{} is not exist!",
            h.index, h.queue_id, h.topic
        )));
    }
    let mut body = QueryConsumeQueueResponseBody {
        max_queue_index: max,
        min_queue_index: min,
        queue_data: entries
            .into_iter()
            .map(|(_, e)| ConsumeQueueData {
                physic_offset: e.commit_log_offset.0,
                physic_size: e.size as i32,
                tags_code: e.tag_code,
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    };
    if let Some(group) = &h.consumer_group {
        body.subscription_data = core.subscription_of(group, &h.topic).await;
        // Java writes the group's SQL92 filter data here; for a tag subscription it has none.
        body.filter_data = Some(match body.subscription_data {
            Some(_) => "null".to_owned(),
            None => format!("{group}@{} is not online!", h.topic),
        });
    }
    Ok(ok(req).with_body(json::to_vec(&body, JsonStyle::Fastjson)))
}
