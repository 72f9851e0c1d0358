//! The broker as a remoting [`Service`]: which core serves a request, and which handler.
//!
//! A request runs on the core that owns what it touches, so its handler finds that state local:
//! sends, pulls and offset requests on the core of their (topic, queue); VIEW_MESSAGE_BY_ID and
//! CONSUMER_SEND_MSG_BACK on the core of their commit-log offset; END_TRANSACTION on the core of
//! the transaction half queue; client membership, locks, topic and subscription-group
//! administration on the control core. Everything else runs where it arrived and asks other
//! cores for what it needs ([`crate::hops`]). A request that arrived elsewhere crosses once each
//! way: the request to its core, the response back to the connection's core.
//!
//! Offset lookups and commits for a queue of the connection's own core only touch memory, so
//! they are answered in the read loop itself ([`Service::answer_at_once`]), without a task.

use crate::clients::ClientAddr;
use crate::core::BrokerCore;
use crate::handlers::{
    admin, broker_config, client, consumer_status, inspect, lookup, offsets, pull, reply,
    reset_offset, runtime_info, send, send_back, transaction, Refusal,
};
use crate::hops::{Answer, Ask};
use crate::mesh::{CoreId, CONTROL_CORE};
use crate::topics::TRANS_HALF_TOPIC;
use crate::transaction::HALF_QUEUE;
use ringmq_protocol::{RemotingCommand, RequestCode};
use ringmq_remoting::{AtOnce, Connection, Reply, Service};
use ringmq_storage::CommitLogOffset;
use std::net::SocketAddr;
use std::rc::Rc;

pub struct BrokerService {
    pub core: Rc<BrokerCore>,
}

impl Service for BrokerService {
    async fn handle(&self, conn: &Rc<Connection>, req: RemotingCommand) -> Option<Reply> {
        let core = &self.core;
        let client = ClientAddr {
            core: core.id(),
            connection: conn.id(),
            peer: conn.peer(),
        };
        let owner = route(core, &req);
        if owner == core.id() {
            return handle_here(core, client, req).await;
        }
        // Enough of the request to answer it if its core cannot.
        let (code, opaque, serialize_type) = (req.request_code(), req.opaque, req.serialize_type);
        let forwarded = Ask::Request {
            request: req,
            client,
        };
        let refusal = match core.mesh.ask(owner, forwarded).await {
            Ok(Answer::Response(response)) => return response,
            Ok(_) => Refusal::from(crate::mesh::MeshError::WrongAnswer(owner)),
            Err(e) => Refusal::from(e),
        };
        let stub = RemotingCommand::request(code, opaque).with_serialize_type(serialize_type);
        Some(refusal.into_response(&stub).into())
    }

    fn answer_at_once(&self, conn: &Rc<Connection>, req: RemotingCommand) -> AtOnce {
        let core = &self.core;
        if offsets::FROM_MEMORY.contains(&req.request_code()) && route(core, &req) == core.id() {
            let handled = offsets::from_memory(core, &req).map(Reply::from);
            return AtOnce::Answered(Some(reply(handled, &req, conn.peer())));
        }
        AtOnce::Later(req)
    }

    fn connection_opened(&self, conn: &Rc<Connection>) {
        self.core.connection_opened(conn);
    }

    fn connection_closed(&self, conn: &Rc<Connection>) {
        self.core.connection_closed(conn.id());
        let addr = ClientAddr {
            core: self.core.id(),
            connection: conn.id(),
            peer: conn.peer(),
        };
        let core = self.core.clone();
        glommio::spawn_local(async move { core.client_gone(addr).await }).detach();
    }
}

/// The core that should serve `req`.
fn route(core: &BrokerCore, req: &RemotingCommand) -> CoreId {
    if core.mesh.cores() == 1 {
        return core.id();
    }
    let fields = req.fields();
    let queue = |topic: &str, queue_id: &str| {
        let topic = fields.get(topic)?;
        let queue_id: i32 = fields.get(queue_id)?.parse().ok()?;
        // A send to queue -1 picks its queue here.
        (queue_id >= 0).then(|| core.owner_of_queue(topic, queue_id))
    };
    let owner = match req.request_code() {
        RequestCode::SEND_MESSAGE => queue("topic", "queueId"),
        RequestCode::SEND_MESSAGE_V2
        | RequestCode::SEND_BATCH_MESSAGE
        | RequestCode::SEND_REPLY_MESSAGE_V2 => queue("b", "e"),
        RequestCode::SEND_REPLY_MESSAGE => queue("topic", "queueId"),
        RequestCode::PULL_MESSAGE
        | RequestCode::LITE_PULL_MESSAGE
        | RequestCode::QUERY_CONSUME_QUEUE
        | RequestCode::QUERY_CONSUMER_OFFSET
        | RequestCode::UPDATE_CONSUMER_OFFSET
        | RequestCode::GET_MAX_OFFSET
        | RequestCode::GET_MIN_OFFSET
        | RequestCode::GET_EARLIEST_MSG_STORETIME
        | RequestCode::SEARCH_OFFSET_BY_TIMESTAMP => queue("topic", "queueId"),
        RequestCode::VIEW_MESSAGE_BY_ID | RequestCode::CONSUMER_SEND_MSG_BACK => fields
            .get("offset")
            .and_then(|o| o.parse().ok())
            .map(|o| core.owner_of_offset(CommitLogOffset(o))),
        RequestCode::HEART_BEAT
        | RequestCode::UNREGISTER_CLIENT
        | RequestCode::GET_CONSUMER_LIST_BY_GROUP
        | RequestCode::GET_CONSUMER_CONNECTION_LIST
        | RequestCode::GET_PRODUCER_CONNECTION_LIST
        | RequestCode::LOCK_BATCH_MQ
        | RequestCode::UNLOCK_BATCH_MQ
        | RequestCode::UPDATE_AND_CREATE_TOPIC
        | RequestCode::GET_ALL_TOPIC_CONFIG
        | RequestCode::UPDATE_AND_CREATE_TOPIC_LIST
        | RequestCode::UPDATE_AND_CREATE_SUBSCRIPTIONGROUP_LIST
        | RequestCode::DELETE_TOPIC_IN_BROKER
        | RequestCode::CLEAN_UNUSED_TOPIC
        | RequestCode::CLEAN_EXPIRED_CONSUMEQUEUE
        | RequestCode::DELETE_EXPIRED_COMMITLOG
        | RequestCode::UPDATE_AND_CREATE_SUBSCRIPTIONGROUP
        | RequestCode::GET_ALL_SUBSCRIPTIONGROUP_CONFIG
        | RequestCode::GET_SUBSCRIPTIONGROUP_CONFIG
        | RequestCode::DELETE_SUBSCRIPTIONGROUP
        | RequestCode::INVOKE_BROKER_TO_RESET_OFFSET
        | RequestCode::QUERY_TOPIC_CONSUME_BY_WHO
        | RequestCode::CLONE_GROUP_OFFSET
        | RequestCode::GET_BROKER_CONSUME_STATS
        | RequestCode::UPDATE_BROKER_CONFIG
        | RequestCode::GET_CONSUMER_RUNNING_INFO
        | RequestCode::CONSUME_MESSAGE_DIRECTLY
        | RequestCode::QUERY_SUBSCRIPTION_BY_CONSUMER
        | RequestCode::GET_ALL_PRODUCER_INFO
        | RequestCode::GET_SYSTEM_TOPIC_LIST_FROM_BROKER
        | RequestCode::INVOKE_BROKER_TO_GET_CONSUMER_STATUS => Some(CONTROL_CORE),
        // The half queue's core keeps the transaction ledger.
        RequestCode::END_TRANSACTION => Some(core.owner_of_queue(TRANS_HALF_TOPIC, HALF_QUEUE)),
        _ => None,
    };
    owner.unwrap_or(core.id())
}

/// Serves `req` on this core: each request code to its handler family.
pub async fn handle_here(
    core: &BrokerCore,
    client: ClientAddr,
    req: RemotingCommand,
) -> Option<Reply> {
    let handled = match req.request_code() {
        // The one reply whose body is not copied: stored records, by reference.
        RequestCode::PULL_MESSAGE | RequestCode::LITE_PULL_MESSAGE => {
            pull::handle(core, &req).await
        }
        RequestCode::SEND_MESSAGE
        | RequestCode::SEND_MESSAGE_V2
        | RequestCode::SEND_BATCH_MESSAGE => {
            send::handle(core, client, &req).await.map(Reply::from)
        }
        RequestCode::SEND_REPLY_MESSAGE | RequestCode::SEND_REPLY_MESSAGE_V2 => {
            reply::handle(core, client, &req).await.map(Reply::from)
        }
        RequestCode::CONSUMER_SEND_MSG_BACK => send_back::handle(core, &req).await.map(Reply::from),
        RequestCode::QUERY_CONSUMER_OFFSET
        | RequestCode::UPDATE_CONSUMER_OFFSET
        | RequestCode::GET_MAX_OFFSET
        | RequestCode::GET_MIN_OFFSET
        | RequestCode::GET_EARLIEST_MSG_STORETIME
        | RequestCode::SEARCH_OFFSET_BY_TIMESTAMP => {
            offsets::handle(core, &req).await.map(Reply::from)
        }
        RequestCode::HEART_BEAT
        | RequestCode::UNREGISTER_CLIENT
        | RequestCode::GET_CONSUMER_LIST_BY_GROUP
        | RequestCode::GET_CONSUMER_CONNECTION_LIST
        | RequestCode::GET_PRODUCER_CONNECTION_LIST
        | RequestCode::LOCK_BATCH_MQ
        | RequestCode::UNLOCK_BATCH_MQ => client::handle(core, client, &req).await.map(Reply::from),
        RequestCode::UPDATE_AND_CREATE_TOPIC
        | RequestCode::GET_ALL_TOPIC_CONFIG
        | RequestCode::UPDATE_AND_CREATE_TOPIC_LIST
        | RequestCode::UPDATE_AND_CREATE_SUBSCRIPTIONGROUP_LIST
        | RequestCode::DELETE_TOPIC_IN_BROKER
        | RequestCode::CLEAN_UNUSED_TOPIC
        | RequestCode::CLEAN_EXPIRED_CONSUMEQUEUE
        | RequestCode::DELETE_EXPIRED_COMMITLOG
        | RequestCode::UPDATE_AND_CREATE_SUBSCRIPTIONGROUP
        | RequestCode::GET_ALL_SUBSCRIPTIONGROUP_CONFIG
        | RequestCode::GET_SUBSCRIPTIONGROUP_CONFIG
        | RequestCode::DELETE_SUBSCRIPTIONGROUP
        | RequestCode::GET_TOPIC_STATS_INFO
        | RequestCode::GET_CONSUME_STATS
        | RequestCode::GET_BROKER_CONSUME_STATS
        | RequestCode::QUERY_TOPIC_CONSUME_BY_WHO
        | RequestCode::CLONE_GROUP_OFFSET
        | RequestCode::VIEW_BROKER_STATS_DATA => admin::handle(core, &req).await.map(Reply::from),
        RequestCode::GET_TOPIC_CONFIG
        | RequestCode::QUERY_TOPICS_BY_CONSUMER
        | RequestCode::QUERY_SUBSCRIPTION_BY_CONSUMER
        | RequestCode::QUERY_CONSUME_TIME_SPAN
        | RequestCode::GET_ALL_PRODUCER_INFO
        | RequestCode::GET_SYSTEM_TOPIC_LIST_FROM_BROKER
        | RequestCode::QUERY_CONSUME_QUEUE => inspect::handle(core, &req).await.map(Reply::from),
        RequestCode::GET_BROKER_CONFIG => broker_config::get(core, &req).map(Reply::from),
        RequestCode::UPDATE_BROKER_CONFIG => broker_config::update(core, &client, &req)
            .await
            .map(Reply::from),
        RequestCode::GET_BROKER_RUNTIME_INFO => {
            runtime_info::handle(core, &req).await.map(Reply::from)
        }
        RequestCode::GET_CONSUMER_RUNNING_INFO | RequestCode::CONSUME_MESSAGE_DIRECTLY => {
            client::call_consumer(core, &req).await.map(Reply::from)
        }
        RequestCode::INVOKE_BROKER_TO_GET_CONSUMER_STATUS => {
            consumer_status::handle(core, &req).await.map(Reply::from)
        }
        RequestCode::CHECK_CLIENT_CONFIG => {
            client::check_client_config(core, &req).map(Reply::from)
        }
        RequestCode::INVOKE_BROKER_TO_RESET_OFFSET => {
            reset_offset::handle(core, &req).await.map(Reply::from)
        }
        RequestCode::END_TRANSACTION => transaction::end(core, &req).await.map(Reply::from),
        RequestCode::RESUME_CHECK_HALF_MESSAGE => {
            transaction::resume_check(core, &req).await.map(Reply::from)
        }
        RequestCode::VIEW_MESSAGE_BY_ID | RequestCode::QUERY_MESSAGE => {
            lookup::handle(core, &req).await.map(Reply::from)
        }
        other => Err(Refusal::not_supported(other)),
    };
    Some(reply(handled, &req, client.peer))
}

/// What a handler's outcome sends back: its reply, or the refusal as Java words it.
fn reply(handled: Result<Reply, Refusal>, req: &RemotingCommand, peer: SocketAddr) -> Reply {
    handled.unwrap_or_else(|refusal| {
        log::debug!(
            "{} from {peer}: {} {}",
            req.request_code(),
            refusal.code,
            refusal.remark
        );
        refusal.into_response(req).into()
    })
}
