//! Who is connected: producer and consumer groups, their clients and subscriptions, and how any
//! core reaches a client (a tell, a call awaiting the client's answer, finding a producer).
//!
//! Java's `ProducerManager` and `ConsumerManager`: heartbeats (re)register a client's groups and
//! subscriptions; a client leaves when it unregisters, when its connection closes, or after
//! 120 s without a heartbeat. When a consumer group's membership changes its members are told
//! (NOTIFY_CONSUMER_IDS_CHANGED) so they rebalance queues among themselves.

use crate::core::BrokerCore;
use crate::filter::Subscription;
use crate::hops::{Answer, Ask, Tell};
use crate::mesh::{CoreId, CONTROL_CORE};
use ringmq_protocol::body::{
    ClientConnection, ConsumerConnection, ConsumerData, ProducerConnection, ProducerInfo,
    ProducerTableInfo, SubscriptionData,
};
use ringmq_protocol::{LanguageCode, RemotingCommand};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// Java's `channelExpiredTimeout`.
pub const CLIENT_EXPIRY: Duration = Duration::from_secs(120);

/// Where a client is connected: the core that owns its connection and the connection's id
/// there. It can cross cores, unlike the connection itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientAddr {
    pub core: CoreId,
    pub connection: u64,
    pub peer: SocketAddr,
}

/// What a client says about itself in its heartbeat's header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientVersion {
    pub language: LanguageCode,
    pub version: i32,
}

struct Member {
    addr: ClientAddr,
    version: ClientVersion,
    last_heartbeat: Instant,
}

impl Member {
    fn connection(&self, client_id: &str) -> ClientConnection {
        ClientConnection {
            client_id: client_id.to_owned(),
            client_addr: self.addr.peer.to_string(),
            language: self.version.language.to_string(),
            version: self.version.version,
        }
    }
}

/// What a consumer heartbeat changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HeartbeatOutcome {
    /// A new member: the group must rebalance.
    pub joined: bool,
    /// The group's subscriptions or message model differ from what it announced before.
    pub subscriptions_changed: bool,
}

#[derive(Default)]
struct ConsumerGroup {
    members: BTreeMap<String, Member>,
    /// topic -> the subscription most recently announced for it.
    subscriptions: HashMap<String, SubscriptionData>,
    consume_type: String,
    message_model: String,
    consume_from_where: String,
}

/// Java's `MessageModel.BROADCASTING`, as heartbeats name it.
pub const BROADCASTING: &str = "BROADCASTING";

/// What a consumer group's heartbeats said that the cores serving its pulls need.
#[derive(Debug, Clone, Default)]
pub struct Announced {
    /// Every member receives every message (checked against `consumeBroadcastEnable`).
    pub broadcasting: bool,
    /// topic -> subscription.
    pub subscriptions: HashMap<String, Subscription>,
}

#[derive(Default)]
pub struct ClientRegistry {
    consumers: HashMap<String, ConsumerGroup>,
    producers: HashMap<String, BTreeMap<String, Member>>,
}

impl ClientRegistry {
    /// Records a consumer group's heartbeat.
    pub fn consumer_heartbeat(
        &mut self,
        client_id: &str,
        addr: ClientAddr,
        version: ClientVersion,
        data: &ConsumerData,
        now: Instant,
    ) -> HeartbeatOutcome {
        let group = self.consumers.entry(data.group_name.clone()).or_default();
        group.consume_type = data.consume_type.clone();
        let mut subscriptions_changed = group.message_model != data.message_model;
        group.message_model = data.message_model.clone();
        group.consume_from_where = data.consume_from_where.clone();
        for sub in &data.subscription_data_set {
            if group.subscriptions.get(&sub.topic) != Some(sub) {
                group.subscriptions.insert(sub.topic.clone(), sub.clone());
                subscriptions_changed = true;
            }
        }
        let member = Member {
            addr,
            version,
            last_heartbeat: now,
        };
        let joined = group.members.insert(client_id.to_owned(), member).is_none();
        HeartbeatOutcome {
            joined,
            subscriptions_changed,
        }
    }

    pub fn producer_heartbeat(
        &mut self,
        client_id: &str,
        addr: ClientAddr,
        version: ClientVersion,
        group: &str,
        now: Instant,
    ) {
        let member = Member {
            addr,
            version,
            last_heartbeat: now,
        };
        self.producers
            .entry(group.to_owned())
            .or_default()
            .insert(client_id.to_owned(), member);
    }

    /// Removes a consumer from a group; returns whether it was there.
    pub fn unregister_consumer(&mut self, group: &str, client_id: &str) -> bool {
        self.consumers
            .get_mut(group)
            .is_some_and(|g| g.members.remove(client_id).is_some())
    }

    pub fn unregister_producer(&mut self, group: &str, client_id: &str) {
        if let Some(g) = self.producers.get_mut(group) {
            g.remove(client_id);
        }
    }

    /// Drops every registration made over the connection at `addr`; returns the consumer groups
    /// that lost a member.
    pub fn connection_closed(&mut self, addr: ClientAddr) -> Vec<String> {
        self.remove_members(|m| m.addr.core == addr.core && m.addr.connection == addr.connection)
    }

    /// Drops clients silent for longer than [`CLIENT_EXPIRY`]; returns the consumer groups that
    /// lost a member.
    pub fn expire(&mut self, now: Instant) -> Vec<String> {
        self.remove_members(|m| now.saturating_duration_since(m.last_heartbeat) > CLIENT_EXPIRY)
    }

    fn remove_members(&mut self, gone: impl Fn(&Member) -> bool) -> Vec<String> {
        let mut changed = Vec::new();
        for (name, group) in &mut self.consumers {
            let before = group.members.len();
            group.members.retain(|_, m| !gone(m));
            if group.members.len() != before {
                changed.push(name.clone());
            }
        }
        for group in self.producers.values_mut() {
            group.retain(|_, m| !gone(m));
        }
        changed
    }

    /// Client ids of a consumer group, sorted (every member must see the same order to agree
    /// on who gets which queue).
    pub fn consumer_ids(&self, group: &str) -> Vec<String> {
        self.consumers
            .get(group)
            .map(|g| g.members.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// Where a consumer group's members are connected, to notify them.
    pub fn consumer_addrs(&self, group: &str) -> Vec<ClientAddr> {
        self.consumers
            .get(group)
            .map(|g| g.members.values().map(|m| m.addr).collect())
            .unwrap_or_default()
    }

    /// The groups with an online member subscribed to `topic`.
    pub fn groups_subscribed_to(&self, topic: &str) -> BTreeSet<String> {
        self.consumers
            .iter()
            .filter(|(_, g)| !g.members.is_empty() && g.subscriptions.contains_key(topic))
            .map(|(name, _)| name.clone())
            .collect()
    }

    /// Whether `group` has online members, and if so whether one subscribed to `topic`:
    /// `None` when the group is offline.
    pub fn subscribes(&self, group: &str, topic: &str) -> Option<bool> {
        let g = self
            .consumers
            .get(group)
            .filter(|g| !g.members.is_empty())?;
        Some(g.subscriptions.contains_key(topic))
    }

    /// Every member of a consumer group: its client id, where it is connected, its client version.
    pub fn consumer_members(&self, group: &str) -> Vec<(String, ClientAddr, i32)> {
        self.consumers
            .get(group)
            .map(|g| {
                g.members
                    .iter()
                    .map(|(id, m)| (id.clone(), m.addr, m.version.version))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Where member `client_id` of consumer group `group` is connected, and its client version.
    pub fn consumer_member(&self, group: &str, client_id: &str) -> Option<(ClientAddr, i32)> {
        let m = self.consumers.get(group)?.members.get(client_id)?;
        Some((m.addr, m.version.version))
    }

    /// The producer of `group` heard from most recently, to check a transaction with.
    pub fn producer_addr(&self, group: &str) -> Option<ClientAddr> {
        self.producers
            .get(group)?
            .values()
            .max_by_key(|m| m.last_heartbeat)
            .map(|m| m.addr)
    }

    /// Where the producer client `client_id` is connected, in whichever group.
    pub fn producer_by_client_id(&self, client_id: &str) -> Option<ClientAddr> {
        self.producers
            .values()
            .find_map(|g| g.get(client_id))
            .map(|m| m.addr)
    }

    /// GET_CONSUMER_CONNECTION_LIST's answer; `None` while the group has no member (Java's
    /// "not online").
    pub fn consumer_connection(&self, group: &str) -> Option<ConsumerConnection> {
        let g = self
            .consumers
            .get(group)
            .filter(|g| !g.members.is_empty())?;
        Some(ConsumerConnection {
            connection_set: g.members.iter().map(|(id, m)| m.connection(id)).collect(),
            subscription_table: g
                .subscriptions
                .iter()
                .map(|(topic, s)| (topic.clone(), s.clone()))
                .collect(),
            consume_type: g.consume_type.clone(),
            message_model: g.message_model.clone(),
            consume_from_where: g.consume_from_where.clone(),
        })
    }

    /// GET_PRODUCER_CONNECTION_LIST's answer; `None` while the group has no member.
    pub fn producer_connection(&self, group: &str) -> Option<ProducerConnection> {
        let g = self.producers.get(group).filter(|g| !g.is_empty())?;
        Some(ProducerConnection {
            connection_set: g.iter().map(|(id, m)| m.connection(id)).collect(),
        })
    }

    /// The subscription to `topic` that `group`'s online members announced last
    /// (QUERY_SUBSCRIPTION_BY_CONSUMER).
    pub fn subscription(&self, group: &str, topic: &str) -> Option<SubscriptionData> {
        let g = self
            .consumers
            .get(group)
            .filter(|g| !g.members.is_empty())?;
        g.subscriptions.get(topic).cloned()
    }

    /// GET_ALL_PRODUCER_INFO's answer: every producer group with a connected client. `now` and
    /// `now_millis` are the same moment, to turn heartbeat instants into wall-clock times.
    pub fn producer_table(&self, now: Instant, now_millis: i64) -> ProducerTableInfo {
        let data = self
            .producers
            .iter()
            .filter(|(_, members)| !members.is_empty())
            .map(|(group, members)| {
                let infos = members
                    .iter()
                    .map(|(id, m)| ProducerInfo {
                        client_id: id.clone(),
                        remote_ip: m.addr.peer.to_string(),
                        language: m.version.language.to_string(),
                        version: m.version.version,
                        last_update_timestamp: now_millis
                            - now.saturating_duration_since(m.last_heartbeat).as_millis() as i64,
                    })
                    .collect();
                (group.clone(), infos)
            })
            .collect();
        ProducerTableInfo { data }
    }

    /// A consumer group's subscriptions and message model, as last announced.
    pub fn announced(&self, group: &str) -> Announced {
        self.consumers
            .get(group)
            .map(|g| Announced {
                broadcasting: g.message_model == BROADCASTING,
                subscriptions: g
                    .subscriptions
                    .iter()
                    .map(|(topic, s)| {
                        let kind = s.expression_type.as_deref();
                        let compiled = Subscription::compile(&s.sub_string, kind, s.sub_version);
                        (topic.clone(), compiled)
                    })
                    .collect(),
            })
            .unwrap_or_default()
    }
}

/// Which producer a core looks for.
#[derive(Debug, Clone)]
pub enum ProducerWanted {
    /// Any producer of the group, the one heard from last.
    OfGroup(String),
    /// The producer client with this id (`REPLY_TO_CLIENT` of a request message).
    WithClientId(String),
}

// Reaching clients from any core: their connections live on the core that accepted them, the
// registry on the control core.
impl BrokerCore {
    /// The subscription to `topic` that `group`'s online members announced, from the control
    /// core's registry wherever this runs.
    pub async fn subscription_of(&self, group: &str, topic: &str) -> Option<SubscriptionData> {
        if let Some(control) = &self.control {
            return control.clients.borrow().subscription(group, topic);
        }
        let ask = Ask::SubscriptionOf {
            group: group.to_owned(),
            topic: topic.to_owned(),
        };
        match self.mesh.ask(CONTROL_CORE, ask).await {
            Ok(Answer::Subscription(found)) => found,
            _ => None,
        }
    }

    /// Sends `command` to a client, wherever its connection is, and waits for the client's
    /// answer, at most `timeout` (Java's `Broker2Client.callClient`). `None`: no answer in time,
    /// or the client is gone.
    pub async fn call_client(
        &self,
        addr: ClientAddr,
        command: RemotingCommand,
        timeout: Duration,
    ) -> Option<RemotingCommand> {
        if addr.core == self.id() {
            return self
                .call_client_here(addr.connection, command, timeout)
                .await;
        }
        let ask = Ask::CallClient {
            connection: addr.connection,
            command,
            timeout,
        };
        match self.mesh.ask(addr.core, ask).await {
            Ok(Answer::ClientAnswered(answer)) => answer,
            _ => None,
        }
    }

    pub(crate) async fn call_client_here(
        &self,
        connection: u64,
        command: RemotingCommand,
        timeout: Duration,
    ) -> Option<RemotingCommand> {
        let conn = self.connection(connection)?;
        conn.call(command, timeout).await
    }

    /// A connected producer, as `wanted` describes it (the control core keeps the registry).
    pub async fn find_producer(&self, wanted: ProducerWanted) -> Option<ClientAddr> {
        if self.control.is_some() {
            return self.find_producer_here(&wanted);
        }
        match self.mesh.ask(CONTROL_CORE, Ask::FindProducer(wanted)).await {
            Ok(Answer::Producer(addr)) => addr,
            _ => None,
        }
    }

    pub(crate) fn find_producer_here(&self, wanted: &ProducerWanted) -> Option<ClientAddr> {
        let clients = self.control.as_ref()?.clients.borrow();
        match wanted {
            ProducerWanted::OfGroup(group) => clients.producer_addr(group),
            ProducerWanted::WithClientId(id) => clients.producer_by_client_id(id),
        }
    }

    /// Writes `command` to a client, wherever its connection is.
    pub async fn tell_client(&self, addr: ClientAddr, command: RemotingCommand) {
        if addr.core == self.id() {
            if let Some(conn) = self.connection(addr.connection) {
                conn.send(&command);
            }
            return;
        }
        let tell = Tell::Deliver {
            connection: addr.connection,
            command,
        };
        if let Err(e) = self.mesh.tell(addr.core, tell).await {
            log::debug!("cannot reach client {}: {e}", addr.peer);
        }
    }

    /// Copies what a consumer group announced (control core) to every core, and returns once
    /// every core holds it: the heartbeat's answer then means a pull that follows it is judged
    /// by what the heartbeat said, on whichever core it lands (as on Java's broker).
    pub async fn publish_subscriptions(&self, group: &str) {
        let Some(control) = &self.control else {
            return;
        };
        let announced = control.clients.borrow().announced(group);
        self.subscriptions
            .borrow_mut()
            .insert(group.to_owned(), announced.clone());
        self.update_copies("subscriptions", || Ask::ApplySubscriptions {
            group: group.to_owned(),
            announced: announced.clone(),
        })
        .await;
    }

    /// A client connection closed (on any core): drop its registrations and tell the groups
    /// that lost a member.
    pub async fn client_gone(&self, addr: ClientAddr) {
        if self.control.is_none() {
            if let Err(e) = self
                .mesh
                .tell(CONTROL_CORE, Tell::ConnectionClosed(addr))
                .await
            {
                log::debug!("connection close not reported: {e}");
            }
            return;
        }
        let changed = match &self.control {
            Some(c) => c.clients.borrow_mut().connection_closed(addr),
            None => Vec::new(),
        };
        for group in changed {
            crate::handlers::client::notify_group_changed(self, &group).await;
        }
    }
}
