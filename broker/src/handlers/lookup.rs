//! Finding messages: VIEW_MESSAGE_BY_ID (offset message ids) and QUERY_MESSAGE (by key or
//! unique key within a time range), answered from every shard's index.

use super::{ok, Handled, Refusal};
use crate::core::BrokerCore;
use crate::hops::KeyQuery;
use bytes::BytesMut;
use ringmq_protocol::header::offset::{
    QueryMessageRequestHeader, QueryMessageResponseHeader, ViewMessageRequestHeader,
};
use ringmq_protocol::{RemotingCommand, RequestCode, ResponseCode};
use ringmq_storage::CommitLogOffset;

pub async fn handle(core: &BrokerCore, req: &RemotingCommand) -> Handled {
    match req.request_code() {
        RequestCode::VIEW_MESSAGE_BY_ID => {
            let h: ViewMessageRequestHeader = req.header()?;
            let offset = CommitLogOffset(h.offset);
            let not_found = || {
                Refusal::new(
                    ResponseCode::SYSTEM_ERROR,
                    format!("can not find message by the offset, {}", h.offset),
                )
            };
            let bytes = core.record_at(offset).await.ok_or_else(not_found)?;
            Ok(ok(req).with_body(bytes))
        }
        RequestCode::QUERY_MESSAGE => {
            let h: QueryMessageRequestHeader = req.header()?;
            let unique = h.unique_key_query == Some(true);
            let max = if unique {
                1
            } else {
                h.max_num.clamp(1, 64) as usize
            };
            let found = core
                .query(&KeyQuery {
                    topic: h.topic.clone(),
                    key: h.key.clone(),
                    max,
                    begin: h.begin_timestamp,
                    end: h.end_timestamp,
                })
                .await?;
            let mut body = BytesMut::new();
            for msg in &found {
                body.extend_from_slice(msg);
            }
            if found.is_empty() {
                return Err(Refusal::new(
                    ResponseCode::QUERY_NOT_FOUND,
                    "can not find message, maybe time range not correct",
                ));
            }
            let header = QueryMessageResponseHeader {
                index_last_update_timestamp: 0,
                index_last_update_phyoffset: 0,
            };
            Ok(ok(req).with_header(&header).with_body(body.freeze()))
        }
        other => Err(Refusal::not_supported(other)),
    }
}
