//! INVOKE_BROKER_TO_GET_CONSUMER_STATUS (`mqadmin getConsumerStatus`): where each online member
//! of a consumer group stands on a topic's queues, in its own words.
//!
//! As Java's `Broker2Client.getConsumeStatus`: the broker asks the members one after the other
//! with GET_CONSUMER_STATUS_FROM_CLIENT (only the one whose client id is `clientAddr`, when
//! given) and gathers their `messageQueueTable`s by client id. A member that does not answer in
//! time, or answers with an error, is left out rather than failing the whole request.

use super::{ok, Handled, Refusal};
use crate::core::BrokerCore;
use ringmq_protocol::body::GetConsumerStatusBody;
use ringmq_protocol::header::offset::GetConsumerStatusRequestHeader;
use ringmq_protocol::json::{self, JsonStyle};
use ringmq_protocol::{RemotingCommand, RequestCode, ResponseCode};
use std::collections::BTreeMap;
use std::time::Duration;

/// Java's `MQVersion.Version.V3_0_7_SNAPSHOT`: older clients cannot answer the question.
const VERSION_REPORTING_STATUS: i32 = 28;
/// How long each member gets to answer (Java's).
const MEMBER_TIMEOUT: Duration = Duration::from_secs(5);

pub async fn handle(core: &BrokerCore, req: &RemotingCommand) -> Handled {
    let control = core.control()?;
    let h: GetConsumerStatusRequestHeader = req.header()?;
    let members = control.clients.borrow().consumer_members(&h.group);
    if members.is_empty() {
        return Err(Refusal::new(
            ResponseCode::SYSTEM_ERROR,
            format!(
                "No Any Consumer online in the consumer group: [{}]",
                h.group
            ),
        ));
    }
    let only = h.client_addr.as_deref().filter(|c| !c.trim().is_empty());
    let question = GetConsumerStatusRequestHeader {
        topic: h.topic.clone(),
        group: h.group.clone(),
        client_addr: None,
        ..Default::default()
    };
    let mut consumer_table = BTreeMap::new();
    for (client_id, addr, version) in members {
        if version < VERSION_REPORTING_STATUS {
            return Err(Refusal::new(
                ResponseCode::SYSTEM_ERROR,
                format!("the client does not support this feature. version={version}"),
            ));
        }
        if only.is_some_and(|c| c != client_id) {
            continue;
        }
        let call = RemotingCommand::request_with(
            RequestCode::GET_CONSUMER_STATUS_FROM_CLIENT,
            0,
            &question,
        );
        match core.call_client(addr, call, MEMBER_TIMEOUT).await {
            Some(answer) if answer.code == ResponseCode::SUCCESS.0 && !answer.body.is_empty() => {
                match json::from_slice::<GetConsumerStatusBody>(&answer.body) {
                    Ok(status) => {
                        consumer_table.insert(client_id, status.message_queue_table);
                    }
                    Err(e) => log::warn!(
                        "consumer status of {client_id} in {}: unreadable answer: {e}",
                        h.group
                    ),
                }
            }
            Some(answer) => log::warn!(
                "consumer status of {client_id} in {}: answered {} {:?}",
                h.group,
                answer.code,
                answer.remark
            ),
            None => log::warn!(
                "consumer status of {client_id} in {}: no answer within {:?}",
                h.group,
                MEMBER_TIMEOUT
            ),
        }
        if only.is_some() {
            break;
        }
    }
    let body = GetConsumerStatusBody {
        consumer_table,
        ..Default::default()
    };
    Ok(ok(req).with_body(json::to_vec(&body, JsonStyle::Fastjson)))
}
