//! Who is connected: producer and consumer groups, their clients and subscriptions.
//!
//! Java's `ProducerManager` and `ConsumerManager`: heartbeats (re)register a client's groups and
//! subscriptions; a client leaves when it unregisters, when its connection closes, or after
//! 120 s without a heartbeat. When a consumer group's membership changes its members are told
//! (NOTIFY_CONSUMER_IDS_CHANGED) so they rebalance queues among themselves.

use ringmq_protocol::body::{ConsumerData, SubscriptionData};
use ringmq_remoting::Connection;
use std::collections::{BTreeMap, HashMap};
use std::rc::{Rc, Weak};
use std::time::{Duration, Instant};

/// Java's `channelExpiredTimeout`.
pub const CLIENT_EXPIRY: Duration = Duration::from_secs(120);

struct Member {
    connection: Weak<Connection>,
    connection_id: u64,
    last_heartbeat: Instant,
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

#[derive(Default)]
pub struct ClientRegistry {
    consumers: HashMap<String, ConsumerGroup>,
    producers: HashMap<String, BTreeMap<String, Member>>,
}

impl ClientRegistry {
    /// Records a consumer group's heartbeat; returns whether the group's membership changed.
    pub fn consumer_heartbeat(
        &mut self,
        client_id: &str,
        conn: &Rc<Connection>,
        data: &ConsumerData,
        now: Instant,
    ) -> bool {
        let group = self.consumers.entry(data.group_name.clone()).or_default();
        group.consume_type = data.consume_type.clone();
        group.message_model = data.message_model.clone();
        group.consume_from_where = data.consume_from_where.clone();
        for sub in &data.subscription_data_set {
            group.subscriptions.insert(sub.topic.clone(), sub.clone());
        }
        let member = Member {
            connection: Rc::downgrade(conn),
            connection_id: conn.id(),
            last_heartbeat: now,
        };
        group.members.insert(client_id.to_owned(), member).is_none()
    }

    pub fn producer_heartbeat(
        &mut self,
        client_id: &str,
        conn: &Rc<Connection>,
        group: &str,
        now: Instant,
    ) {
        let member = Member {
            connection: Rc::downgrade(conn),
            connection_id: conn.id(),
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

    /// Drops every registration made over `connection_id`; returns the consumer groups that
    /// lost a member.
    pub fn connection_closed(&mut self, connection_id: u64) -> Vec<String> {
        self.remove_members(|m| m.connection_id == connection_id)
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

    /// Live connections of a consumer group's members, to notify them.
    pub fn consumer_connections(&self, group: &str) -> Vec<Rc<Connection>> {
        self.consumers
            .get(group)
            .map(|g| {
                g.members
                    .values()
                    .filter_map(|m| m.connection.upgrade())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The subscription a consumer group announced for `topic`.
    pub fn subscription(&self, group: &str, topic: &str) -> Option<&SubscriptionData> {
        self.consumers.get(group)?.subscriptions.get(topic)
    }

    pub fn is_broadcasting(&self, group: &str) -> bool {
        self.consumers
            .get(group)
            .is_some_and(|g| g.message_model == "BROADCASTING")
    }
}
