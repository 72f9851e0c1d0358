//! Setting the broker up and looking at it: UPDATE_AND_CREATE_TOPIC, GET_ALL_TOPIC_CONFIG,
//! DELETE_TOPIC_IN_BROKER, GET_BROKER_CONFIG, GET_TOPIC_STATS_INFO, GET_CONSUME_STATS.

use super::{ok, Handled, Refusal};
use crate::core::BrokerCore;
use ringmq_protocol::body::{ConsumeStats, TopicStatsTable};
use ringmq_protocol::header::admin::*;
use ringmq_protocol::json::{self, JsonStyle};
use ringmq_protocol::{RemotingCommand, RequestCode, ResponseCode};

pub async fn handle(core: &BrokerCore, req: &RemotingCommand) -> Handled {
    match req.request_code() {
        RequestCode::UPDATE_AND_CREATE_TOPIC => {
            let h: CreateTopicRequestHeader = req.header()?;
            let mut config = crate::topics::topic_config(&h.topic, h.write_queue_nums, h.perm);
            config.read_queue_nums = h.read_queue_nums;
            config.topic_filter_type = h.topic_filter_type.clone();
            config.topic_sys_flag = h.topic_sys_flag.unwrap_or(0);
            config.order = h.order;
            core.change_topics(|t| t.create_or_update(config))
                .await?
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
            core.change_topics(|t| t.delete(&h.topic)).await?;
            Ok(ok(req))
        }
        RequestCode::GET_BROKER_CONFIG => {
            Ok(ok(req).with_body(core.config.to_properties().into_bytes()))
        }
        RequestCode::GET_TOPIC_STATS_INFO => {
            let h: GetTopicStatsInfoRequestHeader = req.header()?;
            if core.topics.borrow().get(&h.topic).is_none() {
                return Err(Refusal::new(
                    ResponseCode::TOPIC_NOT_EXIST,
                    format!("topic[{}] not exist", h.topic),
                ));
            }
            let mut table = TopicStatsTable::default();
            table.offset_table.extend(core.topic_stats(&h.topic).await?);
            Ok(ok(req).with_body(json::to_vec(&table, JsonStyle::Fastjson)))
        }
        RequestCode::GET_CONSUME_STATS => {
            let h: GetConsumeStatsRequestHeader = req.header()?;
            let group = &h.consumer_group;
            let topics: Vec<String> = match h.topic.as_deref().filter(|t| !t.trim().is_empty()) {
                Some(t) => vec![t.to_owned()],
                None => core.topics_of_group(group).await.into_iter().collect(),
            };
            let mut stats = ConsumeStats::default();
            stats
                .offset_table
                .extend(core.consume_stats(group, &topics).await?);
            Ok(ok(req).with_body(json::to_vec(&stats, JsonStyle::Fastjson)))
        }
        other => Err(Refusal::new(
            ResponseCode::REQUEST_CODE_NOT_SUPPORTED,
            format!(" request type {} not supported", other.0),
        )),
    }
}
