//! Consumer offsets and queue offsets: QUERY/UPDATE_CONSUMER_OFFSET, GET_MAX_OFFSET,
//! GET_MIN_OFFSET, GET_EARLIEST_MSG_STORETIME, SEARCH_OFFSET_BY_TIMESTAMP.

use super::{ok, Handled, Refusal};
use crate::core::BrokerCore;
use ringmq_protocol::header::offset::*;
use ringmq_protocol::{RemotingCommand, RequestCode, ResponseCode};
use ringmq_storage::QueueOffset;

/// The requests of this family that only look at memory: they need no task of their own
/// (see `Service::answer_at_once`).
pub const FROM_MEMORY: [RequestCode; 4] = [
    RequestCode::QUERY_CONSUMER_OFFSET,
    RequestCode::UPDATE_CONSUMER_OFFSET,
    RequestCode::GET_MAX_OFFSET,
    RequestCode::GET_MIN_OFFSET,
];

/// Serves one of [`FROM_MEMORY`] (anything else is refused as not supported).
pub fn from_memory(core: &BrokerCore, req: &RemotingCommand) -> Handled {
    match req.request_code() {
        RequestCode::QUERY_CONSUMER_OFFSET => {
            let h: QueryConsumerOffsetRequestHeader = req.header()?;
            let committed = core
                .offsets
                .borrow()
                .query(&h.consumer_group, &h.topic, h.queue_id);
            match committed {
                Some(offset) => {
                    Ok(ok(req).with_header(&QueryConsumerOffsetResponseHeader { offset }))
                }
                // A new group on a queue whose first message is still stored starts at 0 (Java
                // answers the same while the queue's data is all there).
                None if core
                    .shard_for(&h.topic, h.queue_id)?
                    .min_offset(&h.topic, h.queue_id)
                    .0
                    <= 0
                    || h.set_zero_if_not_found == Some(true) =>
                {
                    Ok(ok(req).with_header(&QueryConsumerOffsetResponseHeader { offset: 0 }))
                }
                None => Err(Refusal::new(
                    ResponseCode::QUERY_NOT_FOUND,
                    "Not found, V3_0_6_SNAPSHOT maybe this group consumer boot first",
                )),
            }
        }
        RequestCode::UPDATE_CONSUMER_OFFSET => {
            let h: UpdateConsumerOffsetRequestHeader = req.header()?;
            core.offsets.borrow_mut().commit(
                &h.consumer_group,
                &h.topic,
                h.queue_id,
                h.commit_offset,
            );
            Ok(ok(req).with_header(&UpdateConsumerOffsetResponseHeader {}))
        }
        RequestCode::GET_MAX_OFFSET => {
            let h: GetMaxOffsetRequestHeader = req.header()?;
            let offset = core
                .shard_for(&h.topic, h.queue_id)?
                .max_offset(&h.topic, h.queue_id)
                .0;
            Ok(ok(req).with_header(&GetMaxOffsetResponseHeader { offset }))
        }
        RequestCode::GET_MIN_OFFSET => {
            let h: GetMinOffsetRequestHeader = req.header()?;
            let offset = core
                .shard_for(&h.topic, h.queue_id)?
                .min_offset(&h.topic, h.queue_id)
                .0;
            Ok(ok(req).with_header(&GetMinOffsetResponseHeader { offset }))
        }
        other => Err(Refusal::not_supported(other)),
    }
}

pub async fn handle(core: &BrokerCore, req: &RemotingCommand) -> Handled {
    if FROM_MEMORY.contains(&req.request_code()) {
        return from_memory(core, req);
    }
    match req.request_code() {
        RequestCode::GET_EARLIEST_MSG_STORETIME => {
            let h: GetEarliestMsgStoretimeRequestHeader = req.header()?;
            let shard = core.shard_for(&h.topic, h.queue_id)?;
            let min = shard.min_offset(&h.topic, h.queue_id);
            let timestamp = shard
                .store_time_at(&h.topic, h.queue_id, min)
                .await?
                .unwrap_or(-1);
            Ok(ok(req).with_header(&GetEarliestMsgStoretimeResponseHeader { timestamp }))
        }
        RequestCode::SEARCH_OFFSET_BY_TIMESTAMP => {
            let h: SearchOffsetRequestHeader = req.header()?;
            let shard = core.shard_for(&h.topic, h.queue_id)?;
            let QueueOffset(offset) = shard
                .search_offset_by_timestamp(&h.topic, h.queue_id, h.timestamp)
                .await?;
            Ok(ok(req).with_header(&SearchOffsetResponseHeader { offset }))
        }
        other => Err(Refusal::not_supported(other)),
    }
}
