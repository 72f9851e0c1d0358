//! Client membership: HEART_BEAT, UNREGISTER_CLIENT, GET_CONSUMER_LIST_BY_GROUP, the admin views
//! GET_CONSUMER_CONNECTION_LIST and GET_PRODUCER_CONNECTION_LIST, and the queue locks of orderly
//! consumers: LOCK_BATCH_MQ, UNLOCK_BATCH_MQ. CHECK_CLIENT_CONFIG ([`check_client_config`]) is
//! answered wherever it arrives. GET_CONSUMER_RUNNING_INFO and CONSUME_MESSAGE_DIRECTLY
//! ([`call_consumer`]) are an admin's questions to one consumer, which the broker passes on over
//! that consumer's own connection.

use super::{ok, Handled, Refusal};
use crate::clients::{ClientAddr, ClientVersion};
use crate::core::BrokerCore;
use crate::filter::{Subscription, Unservable};
use crate::hops::TopicWanted;
use ringmq_protocol::body::{
    CheckClientRequestBody, ConsumerIdList, HeartbeatData, LockBatchRequestBody,
    LockBatchResponseBody,
};
use ringmq_protocol::header::client::*;
use ringmq_protocol::json::{self, JsonStyle};
use ringmq_protocol::message::MessageId;
use ringmq_protocol::{ProtocolError, RemotingCommand, RequestCode, ResponseCode};
use ringmq_storage::CommitLogOffset;
use std::time::Instant;

pub async fn handle(core: &BrokerCore, client: ClientAddr, req: &RemotingCommand) -> Handled {
    let control = core.control()?;
    match req.request_code() {
        RequestCode::HEART_BEAT => {
            let hb: HeartbeatData = json::from_slice(&req.body).map_err(ProtocolError::Body)?;
            let now = Instant::now();
            let version = ClientVersion {
                language: req.language,
                version: req.version,
            };
            for p in &hb.producer_data_set {
                control.clients.borrow_mut().producer_heartbeat(
                    &hb.client_id,
                    client,
                    version,
                    &p.group_name,
                    now,
                );
            }
            for c in &hb.consumer_data_set {
                // The group is made on its first heartbeat (with autoCreateSubscriptionGroup), and
                // so is its retry topic, with the group's retry queues, as in Java. Existing ones
                // are found without a hop.
                if let Some(group) = core.find_group(&c.group_name).await? {
                    core.ensure_topic(TopicWanted::Retry {
                        group: c.group_name.clone(),
                        queue_nums: group.retry_queue_nums,
                    })
                    .await?;
                }
                let outcome = control.clients.borrow_mut().consumer_heartbeat(
                    &hb.client_id,
                    client,
                    version,
                    c,
                    now,
                );
                if outcome.subscriptions_changed {
                    core.publish_subscriptions(&c.group_name).await;
                }
                if outcome.joined {
                    notify_group_changed(core, &c.group_name).await;
                }
            }
            Ok(ok(req))
        }
        RequestCode::UNREGISTER_CLIENT => {
            let h: UnregisterClientRequestHeader = req.header()?;
            if let Some(group) = &h.producer_group {
                control
                    .clients
                    .borrow_mut()
                    .unregister_producer(group, &h.client_id);
            }
            if let Some(group) = &h.consumer_group {
                let left = control
                    .clients
                    .borrow_mut()
                    .unregister_consumer(group, &h.client_id);
                if left {
                    notify_group_changed(core, group).await;
                }
            }
            Ok(ok(req).with_header(&UnregisterClientResponseHeader {}))
        }
        RequestCode::GET_CONSUMER_LIST_BY_GROUP => {
            let h: GetConsumerListByGroupRequestHeader = req.header()?;
            let ids = control.clients.borrow().consumer_ids(&h.consumer_group);
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
        RequestCode::GET_CONSUMER_CONNECTION_LIST => {
            let h: GetConsumerConnectionListRequestHeader = req.header()?;
            let Some(connection) = control
                .clients
                .borrow()
                .consumer_connection(&h.consumer_group)
            else {
                return Err(Refusal::new(
                    ResponseCode::CONSUMER_NOT_ONLINE,
                    format!("the consumer group[{}] not online", h.consumer_group),
                ));
            };
            Ok(ok(req).with_body(json::to_vec(&connection, JsonStyle::Fastjson)))
        }
        RequestCode::GET_PRODUCER_CONNECTION_LIST => {
            let h: GetProducerConnectionListRequestHeader = req.header()?;
            let Some(connection) = control
                .clients
                .borrow()
                .producer_connection(&h.producer_group)
            else {
                return Err(Refusal::new(
                    ResponseCode::SYSTEM_ERROR,
                    format!("the producer group[{}] not exist", h.producer_group),
                ));
            };
            Ok(ok(req).with_body(json::to_vec(&connection, JsonStyle::Fastjson)))
        }
        RequestCode::LOCK_BATCH_MQ => {
            let body: LockBatchRequestBody =
                json::from_slice(&req.body).map_err(ProtocolError::Body)?;
            let locked = control.locks.borrow_mut().try_lock_batch(
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
            control.locks.borrow_mut().unlock_batch(
                &body.consumer_group,
                &body.mq_set,
                &body.client_id,
            );
            Ok(ok(req))
        }
        other => Err(Refusal::not_supported(other)),
    }
}

/// Tells every member of `group` to rebalance (oneway, as Java does), unless the group's
/// `notifyConsumerIdsChangedEnable` is off. Control core only.
/// CHECK_CLIENT_CONFIG: whether this broker can serve a subscription. Java clients ask before a
/// consumer with an SQL92 subscription starts, and do not start on a refusal.
pub fn check_client_config(core: &BrokerCore, req: &RemotingCommand) -> Handled {
    let body: Option<CheckClientRequestBody> = if req.body.is_empty() {
        None
    } else {
        Some(json::from_slice(&req.body).map_err(ProtocolError::Body)?)
    };
    let Some(sub) = body.and_then(|b| b.subscription_data) else {
        return Ok(ok(req));
    };
    let subscription = Subscription::compile(
        &sub.sub_string,
        sub.expression_type.as_deref(),
        sub.sub_version,
    );
    match subscription.filter(core.config().enable_property_filter) {
        Ok(_) => Ok(ok(req)),
        // Java answers with the parser's message alone here.
        Err(Unservable::DoesNotParse(why)) => {
            Err(Refusal::new(ResponseCode::SUBSCRIPTION_PARSE_FAILED, why))
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn notify_group_changed(core: &BrokerCore, group: &str) {
    let Some(control) = &core.control else {
        return;
    };
    let quiet = core
        .groups
        .borrow()
        .get(group)
        .is_some_and(|g| !g.notify_consumer_ids_changed_enable);
    if quiet {
        return;
    }
    let header = NotifyConsumerIdsChangedRequestHeader {
        consumer_group: group.to_owned(),
        ..Default::default()
    };
    let members = control.clients.borrow().consumer_addrs(group);
    for addr in members {
        let notice =
            RemotingCommand::request_with(RequestCode::NOTIFY_CONSUMER_IDS_CHANGED, 0, &header)
                .mark_oneway();
        core.tell_client(addr, notice).await;
    }
}

/// Java's `MQVersion.Version.V3_1_8_SNAPSHOT`: older consumers cannot answer forwarded calls.
const VERSION_ANSWERING_CALLS: i32 = 62;
/// How long a consumer gets to answer a forwarded call (Java's `callClient`).
const CALL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// GET_CONSUMER_RUNNING_INFO and CONSUME_MESSAGE_DIRECTLY (Java's `AdminBrokerProcessor.
/// callConsumer`): the admin's request goes on, fields and body as they came, to the consumer
/// named by `consumerGroup` and `clientId`, and the consumer's answer comes back as the answer.
/// For CONSUME_MESSAGE_DIRECTLY the body is the stored message the offset `msgId` names.
pub async fn call_consumer(core: &BrokerCore, req: &RemotingCommand) -> Handled {
    let control = core.control()?;
    let code = req.request_code();
    let (group, client_id) = match code {
        RequestCode::CONSUME_MESSAGE_DIRECTLY => {
            let h: ConsumeMessageDirectlyResultRequestHeader = req.header()?;
            (h.consumer_group, h.client_id.unwrap_or_default())
        }
        _ => {
            let h: GetConsumerRunningInfoRequestHeader = req.header()?;
            (h.consumer_group, h.client_id)
        }
    };
    let refuse = |code: ResponseCode, why: String| Err(Refusal::new(code, why));
    let Some((addr, version)) = control.clients.borrow().consumer_member(&group, &client_id) else {
        return refuse(
            ResponseCode::SYSTEM_ERROR,
            format!("The Consumer <{group}> <{client_id}> not online"),
        );
    };
    if version < VERSION_ANSWERING_CALLS {
        return refuse(
            ResponseCode::SYSTEM_ERROR,
            format!(
                "The Consumer <{client_id}> Version <{version}> too low to finish, please upgrade it to V3_1_8_SNAPSHOT"
            ),
        );
    }
    let mut call = RemotingCommand::request(code, 0).with_body(req.body.clone());
    for (k, v) in req.fields().iter() {
        call.fields_mut().insert(k.to_owned(), v.to_owned());
    }
    if code == RequestCode::CONSUME_MESSAGE_DIRECTLY {
        call.fields_mut()
            .insert("brokerName", core.config().broker_name.clone());
        let record = match req.fields().get("msgId").map(str::parse::<MessageId>) {
            Some(Ok(id)) => core.record_at(CommitLogOffset(id.commit_log_offset)).await,
            _ => None,
        };
        // Java passes the call on without a body when the id names nothing.
        if let Some(record) = record {
            call = call.with_body(record);
        }
    }
    let Some(answer) = core.call_client(addr, call, CALL_TIMEOUT).await else {
        return refuse(
            ResponseCode::CONSUME_MSG_TIMEOUT,
            format!(
                "consumer <{group}> <{client_id}> Timeout: no answer within {} s",
                CALL_TIMEOUT.as_secs()
            ),
        );
    };
    // The consumer's answer, as the answer to the admin's request.
    let mut response =
        RemotingCommand::response_to(req, ResponseCode(answer.code), answer.remark.clone())
            .with_body(answer.body.clone());
    for (k, v) in answer.fields().iter() {
        response.fields_mut().insert(k.to_owned(), v.to_owned());
    }
    Ok(response)
}
