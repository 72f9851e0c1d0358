//! Setting the broker up and looking at it: UPDATE_AND_CREATE_TOPIC(_LIST), GET_ALL_TOPIC_CONFIG,
//! DELETE_TOPIC_IN_BROKER, the subscription-group requests (UPDATE_AND_CREATE_SUBSCRIPTIONGROUP(_LIST),
//! GET_ALL_SUBSCRIPTIONGROUP_CONFIG, GET_SUBSCRIPTIONGROUP_CONFIG, DELETE_SUBSCRIPTIONGROUP),
//! GET_TOPIC_STATS_INFO, GET_CONSUME_STATS, GET_BROKER_CONSUME_STATS,
//! QUERY_TOPIC_CONSUME_BY_WHO, CLONE_GROUP_OFFSET, VIEW_BROKER_STATS_DATA, and the cleanups of
//! [`crate::cleanup`]: CLEAN_UNUSED_TOPIC, CLEAN_EXPIRED_CONSUMEQUEUE, DELETE_EXPIRED_COMMITLOG.

use super::{ok, Handled, Refusal};
use crate::cleanup::Cleanup;
use crate::core::BrokerCore;
use crate::hops::{Answer, Ask};
use crate::offsets::ForgottenOffsets;
use crate::stats::Window;
use ringmq_protocol::body::{
    BrokerStatsData, BrokerStatsItem, ConsumeStats, ConsumeStatsList, CreateTopicListRequestBody,
    GroupList, SubscriptionGroupConfig, SubscriptionGroupList,
};
use ringmq_protocol::header::admin::*;
use ringmq_protocol::json::{self, JsonStyle};
use ringmq_protocol::{RemotingCommand, RequestCode, ResponseCode};
use std::collections::BTreeMap;
use std::collections::BTreeSet;

/// What Java would store but we refuse in a subscription group config: no name (the group could
/// never be used or deleted), or a retry topic of more queues than a topic may have.
fn check_group(group: &SubscriptionGroupConfig) -> Result<(), Refusal> {
    if group.group_name.trim().is_empty() {
        return Err(Refusal::new(
            ResponseCode::SYSTEM_ERROR,
            "a subscription group config has no groupName",
        ));
    }
    if !crate::topics::valid_queue_nums(group.retry_queue_nums) {
        return Err(Refusal::new(
            ResponseCode::SYSTEM_ERROR,
            format!(
                "subscription group {} asks for {} retry queues; retryQueueNums must be between \
                 0 and {}",
                group.group_name,
                group.retry_queue_nums,
                crate::topics::MAX_QUEUE_NUMS
            ),
        ));
    }
    Ok(())
}

pub async fn handle(core: &BrokerCore, req: &RemotingCommand) -> Handled {
    match req.request_code() {
        RequestCode::UPDATE_AND_CREATE_TOPIC => {
            let h: CreateTopicRequestHeader = req.header()?;
            let mut config = crate::topics::topic_config(&h.topic, h.write_queue_nums, h.perm);
            config.read_queue_nums = h.read_queue_nums;
            config.topic_filter_type = h.topic_filter_type.clone();
            config.topic_sys_flag = h.topic_sys_flag.unwrap_or(0);
            config.order = h.order;
            // Java refuses system topics (TBW102, SCHEDULE_TOPIC_XXXX, the transaction topics,
            // this broker's cluster and name, `rmq_sys_*`): the broker writes them itself.
            core.change_topics(|t| {
                t.validate_admin_topic(&config.topic_name)?;
                t.create_or_update(config)
            })
            .await?
            .map_err(|e| Refusal::new(e.response_code(), e.to_string()))?;
            // Java answers SUCCESS with its placeholder remark still set; the admin tool shows it.
            Ok(ok(req).with_remark("not set any response code"))
        }
        RequestCode::UPDATE_AND_CREATE_TOPIC_LIST => {
            let list: CreateTopicListRequestBody = json::from_slice(&req.body).map_err(|e| {
                Refusal::new(
                    ResponseCode::SYSTEM_ERROR,
                    format!("the body is not a topic config list: {e}"),
                )
            })?;
            // All or none: every name is checked before any topic is written. Java answers
            // INVALID_PARAMETER here (5.x only has this request), and stops at the first topic
            // whose config is unchanged, leaving the rest uncreated; we skip that one instead.
            core.change_topics(|t| {
                for config in &list.topic_config_list {
                    t.validate_admin_topic(&config.topic_name)?;
                }
                for config in list.topic_config_list {
                    if t.get(&config.topic_name) != Some(&config) {
                        t.create_or_update(config)?;
                    }
                }
                Ok(())
            })
            .await?
            .map_err(|e: crate::topics::TopicError| {
                Refusal::new(ResponseCode::INVALID_PARAMETER, e.to_string())
            })?;
            Ok(ok(req))
        }
        RequestCode::GET_ALL_TOPIC_CONFIG => {
            let wrapper = core.topics.borrow().wrapper();
            Ok(ok(req).with_body(json::to_vec(&wrapper, JsonStyle::Fastjson)))
        }
        RequestCode::DELETE_TOPIC_IN_BROKER => {
            let h: DeleteTopicRequestHeader = req.header()?;
            core.change_topics(|t| {
                t.validate_admin_topic(&h.topic)?;
                Ok(t.delete(&h.topic))
            })
            .await?
            .map_err(|e: crate::topics::TopicError| {
                Refusal::new(e.response_code(), e.to_string())
            })?;
            // Whether or not the config existed, as Java: queues can outlive a lost config.
            core.clean(Cleanup::Topic(h.topic.clone())).await?;
            Ok(ok(req))
        }
        RequestCode::UPDATE_AND_CREATE_SUBSCRIPTIONGROUP => {
            let group: SubscriptionGroupConfig = json::from_slice(&req.body).map_err(|e| {
                Refusal::new(
                    ResponseCode::SYSTEM_ERROR,
                    format!("the body is not a subscription group config: {e}"),
                )
            })?;
            check_group(&group)?;
            core.change_groups(|t| t.upsert(group)).await?;
            Ok(ok(req))
        }
        RequestCode::UPDATE_AND_CREATE_SUBSCRIPTIONGROUP_LIST => {
            let list: SubscriptionGroupList = json::from_slice(&req.body).map_err(|e| {
                Refusal::new(
                    ResponseCode::SYSTEM_ERROR,
                    format!("the body is not a subscription group config list: {e}"),
                )
            })?;
            for group in &list.group_config_list {
                check_group(group)?;
            }
            core.change_groups(|t| {
                for group in list.group_config_list {
                    t.upsert(group);
                }
            })
            .await?;
            Ok(ok(req))
        }
        RequestCode::GET_ALL_SUBSCRIPTIONGROUP_CONFIG => {
            let wrapper = core.groups.borrow().wrapper();
            Ok(ok(req).with_body(json::to_vec(&wrapper, JsonStyle::Fastjson)))
        }
        RequestCode::GET_SUBSCRIPTIONGROUP_CONFIG => {
            let h: GetSubscriptionGroupConfigRequestHeader = req.header()?;
            match core.find_group(&h.group).await? {
                Some(group) => Ok(ok(req).with_body(json::to_vec(&group, JsonStyle::Fastjson))),
                None => Err(Refusal::new(
                    ResponseCode::SUBSCRIPTION_GROUP_NOT_EXIST,
                    "No group in this broker",
                )),
            }
        }
        RequestCode::DELETE_SUBSCRIPTIONGROUP => {
            let h: DeleteSubscriptionGroupRequestHeader = req.header()?;
            if !core.change_groups(|t| t.delete(&h.group_name)).await? {
                log::info!("DELETE_SUBSCRIPTIONGROUP: no group {}", h.group_name);
            }
            if h.remove_offset.or(h.clean_offset).unwrap_or(false) {
                core.forget_offsets(ForgottenOffsets::OfGroup(h.group_name.clone()))
                    .await?;
            }
            Ok(ok(req))
        }
        RequestCode::GET_TOPIC_STATS_INFO => {
            let h: GetTopicStatsInfoRequestHeader = req.header()?;
            if core.topics.borrow().get(&h.topic).is_none() {
                return Err(Refusal::new(
                    ResponseCode::TOPIC_NOT_EXIST,
                    format!("topic[{}] not exist", h.topic),
                ));
            }
            let table = core.topic_stats(&h.topic).await?;
            Ok(ok(req).with_body(json::to_vec(&table, JsonStyle::Fastjson)))
        }
        RequestCode::GET_BROKER_CONSUME_STATS => {
            let h: GetConsumeStatsInBrokerHeader = req.header()?;
            let list = broker_consume_stats(core, h.is_order).await?;
            Ok(ok(req).with_body(json::to_vec(&list, JsonStyle::Fastjson)))
        }
        RequestCode::VIEW_BROKER_STATS_DATA => {
            let h: ViewBrokerStatsDataRequestHeader = req.header()?;
            let data = stats_data(core, &h.stats_name, &h.stats_key).await?;
            Ok(ok(req).with_body(json::to_vec(&data, JsonStyle::Fastjson)))
        }
        RequestCode::CLEAN_UNUSED_TOPIC => {
            core.clean(Cleanup::UnusedTopics).await?;
            Ok(ok(req))
        }
        RequestCode::CLEAN_EXPIRED_CONSUMEQUEUE => {
            core.clean(Cleanup::ExpiredQueues).await?;
            Ok(ok(req))
        }
        RequestCode::DELETE_EXPIRED_COMMITLOG => {
            core.clean(Cleanup::ExpiredSegments).await?;
            Ok(ok(req))
        }
        RequestCode::QUERY_TOPIC_CONSUME_BY_WHO => {
            let h: QueryTopicConsumeByWhoRequestHeader = req.header()?;
            let list = GroupList {
                group_list: groups_consuming(core, &h.topic)
                    .await?
                    .into_iter()
                    .collect(),
            };
            Ok(ok(req).with_body(json::to_vec(&list, JsonStyle::Fastjson)))
        }
        RequestCode::CLONE_GROUP_OFFSET => {
            let h: CloneGroupOffsetRequestHeader = req.header()?;
            clone_group_offsets(core, &h).await?;
            Ok(ok(req))
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
        other => Err(Refusal::not_supported(other)),
    }
}

/// Java's `queryTopicConsumeByWho`: the groups online and subscribed to `topic`, and those with
/// committed offsets on it (on any core). Control core.
async fn groups_consuming(core: &BrokerCore, topic: &str) -> Result<BTreeSet<String>, Refusal> {
    let mut groups = core.control()?.clients.borrow().groups_subscribed_to(topic);
    groups.extend(core.groups_of_topic(topic).await);
    Ok(groups)
}

/// Java's `cloneGroupOffset`: the source group's offsets on `topic` (or on every topic it has
/// offsets on) become the destination group's, on every core. Topics that do not exist are
/// skipped, and unless the source is said to be offline, so are topics an online source group is
/// not subscribed to. Java clones nothing at all when no topic is named (it passes the absent
/// topic on); we clone each of the source group's topics, which is what the request asks for.
async fn clone_group_offsets(
    core: &BrokerCore,
    h: &CloneGroupOffsetRequestHeader,
) -> Result<(), Refusal> {
    let control = core.control()?;
    let named = h.topic.as_deref().filter(|t| !t.trim().is_empty());
    let candidates: Vec<String> = match named {
        Some(t) => vec![t.to_owned()],
        None => core
            .topics_of_group(&h.src_group)
            .await
            .into_iter()
            .collect(),
    };
    let topics: Vec<String> = candidates
        .into_iter()
        .filter(|t| core.topics.borrow().get(t).is_some())
        .filter(|t| {
            h.offline == Some(true)
                || control.clients.borrow().subscribes(&h.src_group, t) != Some(false)
        })
        .collect();
    {
        let mut offsets = core.offsets.borrow_mut();
        for topic in &topics {
            offsets.clone_offsets(&h.src_group, &h.dest_group, topic);
        }
    }
    let ask = || Ask::CloneOffsets {
        src: h.src_group.clone(),
        dest: h.dest_group.clone(),
        topics: topics.clone(),
    };
    for (other, answer) in core.mesh.ask_all(ask).await {
        answer.map_err(|e| {
            Refusal::new(
                ResponseCode::SYSTEM_ERROR,
                format!("the offsets on core {other} were not cloned: {e}"),
            )
        })?;
    }
    Ok(())
}

/// Java's `fetchAllConsumeStatsInBroker`: for every subscription group, the consume stats of
/// each topic it has offsets on (only ordered topics if `only_ordered`; not the topics an online
/// group is not subscribed to), and the total lag. One round of asks per group. Control core.
async fn broker_consume_stats(
    core: &BrokerCore,
    only_ordered: bool,
) -> Result<ConsumeStatsList, Refusal> {
    let control = core.control()?;
    let mut list = Vec::new();
    let mut total_diff = 0;
    let groups = core.groups.borrow().names();
    for group in groups {
        let topics: Vec<String> = core
            .topics_of_group(&group)
            .await
            .into_iter()
            .filter(|t| {
                core.topics
                    .borrow()
                    .get(t)
                    .is_some_and(|c| c.order || !only_ordered)
            })
            .filter(|t| control.clients.borrow().subscribes(&group, t) != Some(false))
            .collect();
        let mut by_topic: BTreeMap<String, ConsumeStats> = BTreeMap::new();
        for (queue, offsets) in core.consume_stats(&group, &topics).await? {
            total_diff += offsets.broker_offset - offsets.consumer_offset;
            by_topic
                .entry(queue.topic.clone())
                .or_default()
                .offset_table
                .insert(queue, offsets);
        }
        list.push(BTreeMap::from([(group, by_topic.into_values().collect())]));
    }
    Ok(ConsumeStatsList {
        consume_stats_list: list,
        broker_addr: core.config().broker_addr(),
        total_diff,
        total_inflight_diff: 0,
    })
}

/// Java's `ViewBrokerStatsData`: one stats item's minute, hour and day windows, added up over
/// every core; SYSTEM_ERROR with Java's remark when no core has the item.
async fn stats_data(core: &BrokerCore, name: &str, key: &str) -> Result<BrokerStatsData, Refusal> {
    let mut windows = core.traffic.stats.view(name, key);
    let ask = || Ask::StatsView {
        name: name.to_owned(),
        key: key.to_owned(),
    };
    for (_, answer) in core.mesh.ask_all(ask).await {
        if let Ok(Answer::StatsView(Some(theirs))) = answer {
            let mine = windows.get_or_insert([Window::default(); 3]);
            for (m, t) in mine.iter_mut().zip(theirs) {
                m.merge(t);
            }
        }
    }
    let Some([minute, hour, day]) = windows else {
        return Err(Refusal::new(
            ResponseCode::SYSTEM_ERROR,
            format!("The stats <{name}> <{key}> not exist"),
        ));
    };
    let item = |w: Window| BrokerStatsItem {
        sum: w.sum as i64,
        tps: w.tps,
        avgpt: w.average(),
    };
    Ok(BrokerStatsData {
        stats_minute: item(minute),
        stats_hour: item(hour),
        stats_day: item(day),
    })
}
