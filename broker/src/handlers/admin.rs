//! Setting the broker up and looking at it: UPDATE_AND_CREATE_TOPIC, GET_ALL_TOPIC_CONFIG,
//! DELETE_TOPIC_IN_BROKER, GET_BROKER_CONFIG, GET_TOPIC_STATS_INFO, GET_CONSUME_STATS.

use super::{ok, Handled, Refusal};
use crate::core::BrokerCore;
use ringmq_protocol::body::{
    ConsumeStats, MessageQueue, OffsetWrapper, TopicOffset, TopicStatsTable,
};
use ringmq_protocol::header::admin::*;
use ringmq_protocol::json::{self, JsonStyle};
use ringmq_protocol::{RemotingCommand, RequestCode, ResponseCode};
use ringmq_storage::QueueOffset;

pub async fn handle(core: &BrokerCore, req: &RemotingCommand) -> Handled {
    match req.request_code() {
        RequestCode::UPDATE_AND_CREATE_TOPIC => {
            let h: CreateTopicRequestHeader = req.header()?;
            let mut config = crate::topics::topic_config(&h.topic, h.write_queue_nums, h.perm);
            config.read_queue_nums = h.read_queue_nums;
            config.topic_filter_type = h.topic_filter_type.clone();
            config.topic_sys_flag = h.topic_sys_flag.unwrap_or(0);
            config.order = h.order;
            core.update_topics(|t| t.create_or_update(config))
                .map_err(|e| Refusal::new(e.response_code(), e.to_string()))?;
            // Java answers SUCCESS with its placeholder remark still set; the admin tool shows it.
            Ok(ok(req).with_remark("not set any response code"))
        }
        RequestCode::GET_ALL_TOPIC_CONFIG => {
            let wrapper = core.topics.borrow().wrapper();
            Ok(ok(req).with_body(json::to_vec(&wrapper, JsonStyle::Fastjson)))
        }
        RequestCode::DELETE_TOPIC_IN_BROKER => {
            let h: DeleteTopicRequestHeader = req.header()?;
            core.update_topics(|t| t.delete(&h.topic));
            Ok(ok(req))
        }
        RequestCode::GET_BROKER_CONFIG => {
            Ok(ok(req).with_body(core.config.to_properties().into_bytes()))
        }
        RequestCode::GET_TOPIC_STATS_INFO => {
            let h: GetTopicStatsInfoRequestHeader = req.header()?;
            let Some(write_queues) = core
                .topics
                .borrow()
                .get(&h.topic)
                .map(|t| t.write_queue_nums)
            else {
                return Err(Refusal::new(
                    ResponseCode::TOPIC_NOT_EXIST,
                    format!("topic[{}] not exist", h.topic),
                ));
            };
            let mut table = TopicStatsTable::default();
            for queue_id in 0..write_queues {
                let shard = core.shard_for(&h.topic, queue_id);
                let (min, max) = (
                    shard.min_offset(&h.topic, queue_id),
                    shard.max_offset(&h.topic, queue_id),
                );
                let last_update_timestamp = match max.0 {
                    0 => 0,
                    m => shard
                        .store_time_at(&h.topic, queue_id, QueueOffset(m - 1))
                        .await?
                        .unwrap_or(0),
                };
                table.offset_table.insert(
                    queue(core, &h.topic, queue_id),
                    TopicOffset {
                        min_offset: min.0,
                        max_offset: max.0,
                        last_update_timestamp,
                    },
                );
            }
            Ok(ok(req).with_body(json::to_vec(&table, JsonStyle::Fastjson)))
        }
        RequestCode::GET_CONSUME_STATS => {
            let h: GetConsumeStatsRequestHeader = req.header()?;
            let group = &h.consumer_group;
            let topics = match h.topic.as_deref().filter(|t| !t.trim().is_empty()) {
                Some(t) => vec![t.to_owned()],
                None => core
                    .offsets
                    .borrow()
                    .topics_of_group(group)
                    .into_iter()
                    .collect(),
            };
            let mut stats = ConsumeStats::default();
            for topic in topics {
                let Some(read_queues) = core.topics.borrow().get(&topic).map(|t| t.read_queue_nums)
                else {
                    continue;
                };
                for queue_id in 0..read_queues {
                    let shard = core.shard_for(&topic, queue_id);
                    let broker_offset = shard.max_offset(&topic, queue_id).0.max(0);
                    let consumer_offset = core
                        .offsets
                        .borrow()
                        .query(group, &topic, queue_id)
                        .unwrap_or(0)
                        .max(0);
                    // Java reports when the last consumed message was stored.
                    let last_timestamp = match consumer_offset {
                        0 => 0,
                        c => shard
                            .store_time_at(&topic, queue_id, QueueOffset(c - 1))
                            .await?
                            .unwrap_or(0),
                    };
                    stats.offset_table.insert(
                        queue(core, &topic, queue_id),
                        OffsetWrapper {
                            broker_offset,
                            consumer_offset,
                            last_timestamp,
                        },
                    );
                }
            }
            Ok(ok(req).with_body(json::to_vec(&stats, JsonStyle::Fastjson)))
        }
        other => Err(Refusal::new(
            ResponseCode::REQUEST_CODE_NOT_SUPPORTED,
            format!(" request type {} not supported", other.0),
        )),
    }
}

fn queue(core: &BrokerCore, topic: &str, queue_id: i32) -> MessageQueue {
    MessageQueue {
        topic: topic.to_owned(),
        broker_name: core.config.broker_name.clone(),
        queue_id,
    }
}
