//! The broker as a remoting [`Service`]: each request code to its handler family.

use crate::core::BrokerCore;
use crate::handlers::{admin, client, lookup, offsets, pull, send, send_back, Refusal};
use ringmq_protocol::{RemotingCommand, RequestCode, ResponseCode};
use ringmq_remoting::{Connection, Service};
use std::rc::Rc;

pub struct BrokerService {
    pub core: Rc<BrokerCore>,
}

impl Service for BrokerService {
    async fn handle(&self, conn: &Rc<Connection>, req: RemotingCommand) -> Option<RemotingCommand> {
        let core = &self.core;
        let handled = match req.request_code() {
            RequestCode::SEND_MESSAGE
            | RequestCode::SEND_MESSAGE_V2
            | RequestCode::SEND_BATCH_MESSAGE => send::handle(core, conn, &req).await,
            RequestCode::CONSUMER_SEND_MSG_BACK => send_back::handle(core, &req).await,
            RequestCode::PULL_MESSAGE => pull::handle(core, &req).await,
            RequestCode::QUERY_CONSUMER_OFFSET
            | RequestCode::UPDATE_CONSUMER_OFFSET
            | RequestCode::GET_MAX_OFFSET
            | RequestCode::GET_MIN_OFFSET
            | RequestCode::GET_EARLIEST_MSG_STORETIME
            | RequestCode::SEARCH_OFFSET_BY_TIMESTAMP => offsets::handle(core, &req).await,
            RequestCode::HEART_BEAT
            | RequestCode::UNREGISTER_CLIENT
            | RequestCode::GET_CONSUMER_LIST_BY_GROUP
            | RequestCode::LOCK_BATCH_MQ
            | RequestCode::UNLOCK_BATCH_MQ => client::handle(core, conn, &req).await,
            RequestCode::UPDATE_AND_CREATE_TOPIC
            | RequestCode::GET_ALL_TOPIC_CONFIG
            | RequestCode::DELETE_TOPIC_IN_BROKER
            | RequestCode::GET_BROKER_CONFIG
            | RequestCode::GET_TOPIC_STATS_INFO
            | RequestCode::GET_CONSUME_STATS => admin::handle(core, &req).await,
            RequestCode::VIEW_MESSAGE_BY_ID | RequestCode::QUERY_MESSAGE => {
                lookup::handle(core, &req).await
            }
            other => Err(Refusal::new(
                ResponseCode::REQUEST_CODE_NOT_SUPPORTED,
                // Java's wording, leading space included.
                format!(" request type {} not supported", other.0),
            )),
        };
        Some(handled.unwrap_or_else(|refusal| {
            log::debug!(
                "{} from {}: {} {}",
                req.request_code(),
                conn.peer(),
                refusal.code,
                refusal.remark
            );
            refusal.into_response(&req)
        }))
    }

    fn connection_closed(&self, conn: &Rc<Connection>) {
        let changed = self.core.clients.borrow_mut().connection_closed(conn.id());
        for group in changed {
            client::notify_group_changed(&self.core, &group);
        }
    }
}
