//! Client membership: HEART_BEAT, UNREGISTER_CLIENT, GET_CONSUMER_LIST_BY_GROUP, and the queue
//! locks of orderly consumers: LOCK_BATCH_MQ, UNLOCK_BATCH_MQ.

use super::{ok, Handled, Refusal};
use crate::core::BrokerCore;
use crate::topics::retry_topic;
use ringmq_protocol::body::{
    ConsumerIdList, HeartbeatData, LockBatchRequestBody, LockBatchResponseBody,
};
use ringmq_protocol::header::client::*;
use ringmq_protocol::json::{self, JsonStyle};
use ringmq_protocol::{ProtocolError, RemotingCommand, RequestCode, ResponseCode};
use ringmq_remoting::Connection;
use std::rc::Rc;
use std::time::Instant;

pub async fn handle(core: &BrokerCore, conn: &Rc<Connection>, req: &RemotingCommand) -> Handled {
    match req.request_code() {
        RequestCode::HEART_BEAT => {
            let hb: HeartbeatData = json::from_slice(&req.body).map_err(ProtocolError::Body)?;
            let now = Instant::now();
            for p in &hb.producer_data_set {
                core.clients.borrow_mut().producer_heartbeat(
                    &hb.client_id,
                    conn,
                    &p.group_name,
                    now,
                );
            }
            for c in &hb.consumer_data_set {
                // Consumers of a clustering group send failed messages back to the group's retry
                // topic, so it exists from their first heartbeat (as in Java).
                let has_retry_topic = core
                    .topics
                    .borrow()
                    .get(&retry_topic(&c.group_name))
                    .is_some();
                if c.message_model != "BROADCASTING" && !has_retry_topic {
                    core.update_topics(|t| t.create_retry_topic(&c.group_name, 1, 0));
                }
                let joined =
                    core.clients
                        .borrow_mut()
                        .consumer_heartbeat(&hb.client_id, conn, c, now);
                if joined {
                    notify_group_changed(core, &c.group_name);
                }
            }
            Ok(ok(req))
        }
        RequestCode::UNREGISTER_CLIENT => {
            let h: UnregisterClientRequestHeader = req.header()?;
            if let Some(group) = &h.producer_group {
                core.clients
                    .borrow_mut()
                    .unregister_producer(group, &h.client_id);
            }
            if let Some(group) = &h.consumer_group {
                if core
                    .clients
                    .borrow_mut()
                    .unregister_consumer(group, &h.client_id)
                {
                    notify_group_changed(core, group);
                }
            }
            Ok(ok(req).with_header(&UnregisterClientResponseHeader {}))
        }
        RequestCode::GET_CONSUMER_LIST_BY_GROUP => {
            let h: GetConsumerListByGroupRequestHeader = req.header()?;
            let ids = core.clients.borrow().consumer_ids(&h.consumer_group);
            if ids.is_empty() {
                return Err(Refusal::new(
                    ResponseCode::SYSTEM_ERROR,
                    format!("no consumer for this group, {}", h.consumer_group),
                ));
            }
            let body = json::to_vec(
                &ConsumerIdList {
                    consumer_id_list: ids,
                },
                JsonStyle::Fastjson,
            );
            Ok(ok(req)
                .with_header(&GetConsumerListByGroupResponseHeader {})
                .with_body(body))
        }
        RequestCode::LOCK_BATCH_MQ => {
            let body: LockBatchRequestBody =
                json::from_slice(&req.body).map_err(ProtocolError::Body)?;
            let locked = core.locks.borrow_mut().try_lock_batch(
                &body.consumer_group,
                &body.mq_set,
                &body.client_id,
                Instant::now(),
            );
            let body = json::to_vec(
                &LockBatchResponseBody {
                    lock_ok_mq_set: locked,
                },
                JsonStyle::Fastjson,
            );
            Ok(ok(req).with_body(body))
        }
        RequestCode::UNLOCK_BATCH_MQ => {
            let body: LockBatchRequestBody =
                json::from_slice(&req.body).map_err(ProtocolError::Body)?;
            core.locks.borrow_mut().unlock_batch(
                &body.consumer_group,
                &body.mq_set,
                &body.client_id,
            );
            Ok(ok(req))
        }
        other => Err(Refusal::new(
            ResponseCode::REQUEST_CODE_NOT_SUPPORTED,
            format!(" request type {} not supported", other.0),
        )),
    }
}

/// Tells every member of `group` to rebalance (oneway, as Java does).
pub fn notify_group_changed(core: &BrokerCore, group: &str) {
    let header = NotifyConsumerIdsChangedRequestHeader {
        consumer_group: group.to_owned(),
        ..Default::default()
    };
    for conn in core.clients.borrow().consumer_connections(group) {
        conn.send(
            &RemotingCommand::request_with(RequestCode::NOTIFY_CONSUMER_IDS_CHANGED, 0, &header)
                .mark_oneway(),
        );
    }
}
