//! INVOKE_BROKER_TO_RESET_OFFSET: moves a consumer group's offsets on a topic to a point in time
//! (what `mqadmin resetOffsetByTime` and `DefaultMQAdminExt.resetOffsetByTimestamp` send).
//!
//! As the Java 4.9.7 broker does it (`Broker2Client.resetOffset`, and what the captured frames
//! show): the broker works out each queue's new offset and tells every online member of the
//! group with a oneway RESET_CONSUMER_CLIENT_OFFSET; the members drop what they hold, move to
//! those offsets and commit them as usual. The broker's own committed offsets change only through
//! those commits, and a group with no member online is refused (CONSUMER_NOT_ONLINE, on which
//! admin tools fall back to setting offsets one by one with UPDATE_CONSUMER_OFFSET). 5.x's
//! server-side reset (`useServerSideResetOffset`) is not done.

use super::{Handled, Refusal};
use crate::core::BrokerCore;
use crate::hops::{Answer, Ask, HopError};
use ringmq_protocol::body::ResetOffsetBody;
use ringmq_protocol::header::offset::ResetOffsetRequestHeader;
use ringmq_protocol::json::{self, JsonStyle};
use ringmq_protocol::{RemotingCommand, RequestCode, ResponseCode};
use ringmq_storage::QueueOffset;
use std::collections::BTreeMap;

/// What the queue cores are asked for a reset.
#[derive(Debug, Clone)]
pub struct ResetQuery {
    pub group: String,
    pub topic: String,
    /// Queues `0..queues` of the topic (its write queues, as in Java).
    pub queues: i32,
    /// Milliseconds since the epoch; -1 for the end of each queue.
    pub timestamp: i64,
}

/// One queue, as its core sees it.
#[derive(Debug, Clone)]
pub struct ResetPosition {
    pub queue_id: i32,
    /// The group's committed offset, if it has one.
    pub committed: Option<i64>,
    /// The first offset stored at or after the time (the queue's end when none was).
    pub target: i64,
}

pub async fn handle(core: &BrokerCore, req: &RemotingCommand) -> Handled {
    let h: ResetOffsetRequestHeader = req.header()?;
    let control = core.control()?;
    let queues = core
        .topics
        .borrow()
        .get(&h.topic)
        .map(|t| t.write_queue_nums);
    let Some(queues) = queues else {
        return Err(Refusal::new(
            ResponseCode::SYSTEM_ERROR,
            format!(
                "[reset-offset] reset offset failed, no topic in this broker. topic={}",
                h.topic
            ),
        ));
    };
    let query = ResetQuery {
        group: h.group.clone(),
        topic: h.topic.clone(),
        queues,
        timestamp: h.timestamp,
    };
    let here = positions_here(core, &query).await;
    let positions = core
        .everywhere(
            here,
            || Ask::ResetPositions(query.clone()),
            |a| match a {
                Answer::ResetPositions(r) => Some(r),
                _ => None,
            },
        )
        .await?;
    let mut offset_table = BTreeMap::new();
    for p in positions {
        let Some(committed) = p.committed else {
            // Java's wording, capital H included.
            return Err(Refusal::new(
                ResponseCode::SYSTEM_ERROR,
                format!("THe consumer group <{}> not exist", h.group),
            ));
        };
        // Without force, offsets only move back.
        let offset = if h.is_force || p.target < committed {
            p.target
        } else {
            committed
        };
        offset_table.insert(core.message_queue(&h.topic, p.queue_id), offset);
    }
    let members = control.clients.borrow().consumer_addrs(&h.group);
    if members.is_empty() {
        return Err(Refusal::new(
            ResponseCode::CONSUMER_NOT_ONLINE,
            format!(
                "Consumer not online, so can not reset offset, Group: {} Topic: {} Timestamp: {}",
                h.group, h.topic, h.timestamp
            ),
        ));
    }
    let body = json::to_vec(&ResetOffsetBody { offset_table }, JsonStyle::Fastjson);
    // Java builds the members' header afresh, so `isForce` reaches them as false.
    let header = ResetOffsetRequestHeader {
        topic: h.topic.clone(),
        group: h.group.clone(),
        timestamp: h.timestamp,
        ..Default::default()
    };
    for addr in members {
        let notice =
            RemotingCommand::request_with(RequestCode::RESET_CONSUMER_CLIENT_OFFSET, 0, &header)
                .with_body(body.clone())
                .mark_oneway();
        core.tell_client(addr, notice).await;
    }
    // Java answers SUCCESS with the remark its response started with.
    Ok(RemotingCommand::response_to(
        req,
        ResponseCode::SUCCESS,
        Some("not set any response code".into()),
    )
    .with_body(body))
}

/// The positions of this core's queues among `q.queues`.
pub async fn positions_here(
    core: &BrokerCore,
    q: &ResetQuery,
) -> Result<Vec<ResetPosition>, HopError> {
    let mut positions = Vec::new();
    for queue_id in 0..q.queues {
        let Some(shard) = core.local_shard(&q.topic, queue_id) else {
            continue;
        };
        let target = if q.timestamp == -1 {
            shard.max_offset(&q.topic, queue_id)
        } else {
            shard
                .search_offset_by_timestamp(&q.topic, queue_id, q.timestamp)
                .await?
        };
        let QueueOffset(target) = target;
        positions.push(ResetPosition {
            queue_id,
            committed: core.offsets.borrow().query(&q.group, &q.topic, queue_id),
            target: target.max(0),
        });
    }
    Ok(positions)
}
