//! The route registry: which brokers are alive, which topics they serve, in which clusters.
//!
//! Plain single-owner state with no I/O and an explicit clock, so every rule is testable: the
//! server's one executor owns the table and calls it from request handlers, from connection-close
//! callbacks and from the expiry timer. The rules follow Java's `RouteInfoManager`, with live
//! brokers keyed by (cluster, address) as in RocketMQ 5.

use ringmq_protocol::body::{
    perm, BrokerData, ClusterInfo, DataVersion, QueueData, TopicConfigSerializeWrapper,
    TopicRouteData, MASTER_ID,
};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Duration, Instant};

/// How long a broker stays routable without re-registering (Java's BROKER_CHANNEL_EXPIRED_TIME).
pub const DEFAULT_BROKER_TIMEOUT: Duration = Duration::from_secs(120);

/// Topic flag bits relevant to the unit topic lists (Java's `TopicSysFlag`).
const FLAG_UNIT: i32 = 1;
const FLAG_UNIT_SUB: i32 = 1 << 1;

/// A live broker is identified by its cluster and address.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BrokerKey {
    pub cluster: String,
    pub addr: String,
}

/// One REGISTER_BROKER, decoded.
#[derive(Debug, Clone)]
pub struct Registration {
    pub cluster: String,
    pub broker_name: String,
    pub broker_addr: String,
    pub broker_id: i64,
    pub ha_server_addr: String,
    pub topics: TopicConfigSerializeWrapper,
    /// `None` leaves the filter-server list as it was (old brokers send none).
    pub filter_servers: Option<Vec<String>>,
    /// Connection the registration came over; closing it drops the broker.
    pub connection: u64,
    pub timeout: Option<Duration>,
    pub enable_acting_master: Option<bool>,
    pub zone_name: Option<String>,
}

/// What a registering slave learns about its master.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegisterOutcome {
    pub ha_server_addr: Option<String>,
    pub master_addr: Option<String>,
}

#[derive(Debug, Clone)]
struct LiveBroker {
    last_update: Instant,
    timeout: Duration,
    data_version: DataVersion,
    ha_server_addr: String,
    connection: u64,
}

/// The registry. See the module docs.
#[derive(Debug, Default)]
pub struct RouteTable {
    /// topic -> broker name -> queues of the topic on that broker.
    topics: BTreeMap<String, BTreeMap<String, QueueData>>,
    /// broker name -> members of that broker group.
    brokers: BTreeMap<String, BrokerData>,
    /// cluster -> broker names.
    clusters: BTreeMap<String, BTreeSet<String>>,
    live: HashMap<BrokerKey, LiveBroker>,
    filter_servers: HashMap<BrokerKey, Vec<String>>,
}

impl RouteTable {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn register(&mut self, reg: Registration, now: Instant) -> RegisterOutcome {
        self.clusters
            .entry(reg.cluster.clone())
            .or_default()
            .insert(reg.broker_name.clone());

        let mut first = false;
        let group = self
            .brokers
            .entry(reg.broker_name.clone())
            .or_insert_with(|| {
                first = true;
                BrokerData {
                    cluster: reg.cluster.clone(),
                    broker_name: reg.broker_name.clone(),
                    ..Default::default()
                }
            });
        group.enable_acting_master = Some(reg.enable_acting_master.unwrap_or(false));
        group.zone_name = reg.zone_name.clone();
        // One address holds one role: a slave promoted to master (or back) drops its old id.
        group
            .broker_addrs
            .retain(|&id, addr| *addr != reg.broker_addr || id == reg.broker_id);
        first |= group
            .broker_addrs
            .insert(reg.broker_id, reg.broker_addr.clone())
            .is_none();

        let key = BrokerKey {
            cluster: reg.cluster.clone(),
            addr: reg.broker_addr.clone(),
        };
        let version_changed = self
            .live
            .get(&key)
            .is_none_or(|l| !same_version(&l.data_version, &reg.topics.data_version));
        if reg.broker_id == MASTER_ID {
            for (topic, config) in &reg.topics.topic_config_table {
                let queues = self.topics.entry(topic.clone()).or_default();
                if first || version_changed || !queues.contains_key(&reg.broker_name) {
                    queues.insert(
                        reg.broker_name.clone(),
                        QueueData {
                            broker_name: reg.broker_name.clone(),
                            read_queue_nums: config.read_queue_nums,
                            write_queue_nums: config.write_queue_nums,
                            perm: config.perm,
                            topic_sys_flag: config.topic_sys_flag,
                        },
                    );
                }
            }
        }

        self.live.insert(
            key.clone(),
            LiveBroker {
                last_update: now,
                timeout: reg.timeout.unwrap_or(DEFAULT_BROKER_TIMEOUT),
                data_version: reg.topics.data_version.clone(),
                ha_server_addr: reg.ha_server_addr.clone(),
                connection: reg.connection,
            },
        );
        match reg.filter_servers {
            Some(list) if list.is_empty() => {
                self.filter_servers.remove(&key);
            }
            Some(list) => {
                self.filter_servers.insert(key, list);
            }
            None => {}
        }

        let mut outcome = RegisterOutcome::default();
        if reg.broker_id != MASTER_ID {
            let master = self
                .brokers
                .get(&reg.broker_name)
                .and_then(|g| g.broker_addrs.get(&MASTER_ID))
                .cloned();
            if let Some(master_addr) = master {
                let master_key = BrokerKey {
                    cluster: reg.cluster,
                    addr: master_addr.clone(),
                };
                if let Some(live) = self.live.get(&master_key) {
                    outcome.ha_server_addr = Some(live.ha_server_addr.clone());
                    outcome.master_addr = Some(master_addr);
                }
            }
        }
        outcome
    }

    /// UNREGISTER_BROKER: the broker at `addr` leaves its group; a group left empty disappears with
    /// its queues.
    pub fn unregister(&mut self, cluster: &str, addr: &str, broker_name: &str) {
        let key = BrokerKey {
            cluster: cluster.to_owned(),
            addr: addr.to_owned(),
        };
        self.live.remove(&key);
        self.filter_servers.remove(&key);
        let now_empty = match self.brokers.get_mut(broker_name) {
            Some(group) => {
                group.broker_addrs.retain(|_, a| a != addr);
                group.broker_addrs.is_empty()
            }
            None => false,
        };
        if now_empty {
            self.remove_group(broker_name);
        }
    }

    fn remove_group(&mut self, broker_name: &str) {
        if let Some(group) = self.brokers.remove(broker_name) {
            if let Some(names) = self.clusters.get_mut(&group.cluster) {
                names.remove(broker_name);
                if names.is_empty() {
                    self.clusters.remove(&group.cluster);
                }
            }
        }
        self.topics.retain(|_, queues| {
            queues.remove(broker_name);
            !queues.is_empty()
        });
    }

    /// Drops every broker that registered over `connection`.
    pub fn connection_closed(&mut self, connection: u64) -> Vec<BrokerKey> {
        let gone: Vec<BrokerKey> = self
            .live
            .iter()
            .filter(|(_, l)| l.connection == connection)
            .map(|(k, _)| k.clone())
            .collect();
        for key in &gone {
            self.drop_broker(key);
        }
        gone
    }

    /// Drops brokers silent for longer than their timeout; returns their connections, to close.
    pub fn expire(&mut self, now: Instant) -> Vec<(BrokerKey, u64)> {
        let expired: Vec<(BrokerKey, u64)> = self
            .live
            .iter()
            .filter(|(_, l)| now.saturating_duration_since(l.last_update) > l.timeout)
            .map(|(k, l)| (k.clone(), l.connection))
            .collect();
        for (key, _) in &expired {
            self.drop_broker(key);
        }
        expired
    }

    fn drop_broker(&mut self, key: &BrokerKey) {
        let name = self
            .brokers
            .values()
            .find(|g| g.cluster == key.cluster && g.broker_addrs.values().any(|a| *a == key.addr))
            .map(|g| g.broker_name.clone());
        match name {
            Some(name) => self.unregister(&key.cluster, &key.addr, &name),
            None => {
                self.live.remove(key);
                self.filter_servers.remove(key);
            }
        }
    }

    /// Keeps a live broker alive (BROKER_HEARTBEAT, QUERY_DATA_VERSION).
    pub fn touch(&mut self, key: &BrokerKey, now: Instant) {
        if let Some(live) = self.live.get_mut(key) {
            live.last_update = live.last_update.max(now);
        }
    }

    /// QUERY_DATA_VERSION: whether `version` differs from what the broker last registered, and
    /// the registered version if the broker is live.
    pub fn query_data_version(
        &mut self,
        key: &BrokerKey,
        version: &DataVersion,
        now: Instant,
    ) -> (bool, Option<DataVersion>) {
        self.touch(key, now);
        match self.live.get(key) {
            Some(live) => (
                !same_version(&live.data_version, version),
                Some(live.data_version.clone()),
            ),
            None => (true, None),
        }
    }

    /// The route of `topic`, or `None` if no live broker group serves it.
    pub fn route(&self, topic: &str) -> Option<TopicRouteData> {
        let queues = self.topics.get(topic)?;
        let broker_datas: Vec<BrokerData> = queues
            .keys()
            .filter_map(|name| self.brokers.get(name).cloned())
            .collect();
        if broker_datas.is_empty() {
            return None;
        }
        let mut filter_server_table = BTreeMap::new();
        for group in &broker_datas {
            for addr in group.broker_addrs.values() {
                let key = BrokerKey {
                    cluster: group.cluster.clone(),
                    addr: addr.clone(),
                };
                if let Some(list) = self.filter_servers.get(&key) {
                    filter_server_table.insert(addr.clone(), list.clone());
                }
            }
        }
        Some(TopicRouteData {
            order_topic_conf: None,
            queue_datas: queues.values().cloned().collect(),
            broker_datas,
            filter_server_table,
        })
    }

    pub fn cluster_info(&self) -> ClusterInfo {
        ClusterInfo {
            broker_addr_table: self.brokers.clone(),
            cluster_addr_table: self
                .clusters
                .iter()
                .map(|(c, names)| (c.clone(), names.iter().cloned().collect()))
                .collect(),
        }
    }

    pub fn all_topics(&self) -> Vec<String> {
        self.topics.keys().cloned().collect()
    }

    /// Topics with queues on any broker group of `cluster`.
    pub fn topics_of_cluster(&self, cluster: &str) -> Vec<String> {
        let Some(names) = self.clusters.get(cluster) else {
            return Vec::new();
        };
        self.topics
            .iter()
            .filter(|(_, q)| q.keys().any(|b| names.contains(b)))
            .map(|(t, _)| t.clone())
            .collect()
    }

    /// GET_SYSTEM_TOPIC_LIST_FROM_NS: every cluster and broker name (each is a system topic), and
    /// one broker address to reach them.
    pub fn system_topics(&self) -> (Vec<String>, Option<String>) {
        let mut names = Vec::new();
        for (cluster, brokers) in &self.clusters {
            names.push(cluster.clone());
            names.extend(brokers.iter().cloned());
        }
        let addr = self
            .brokers
            .values()
            .find_map(|g| g.broker_addrs.values().next().cloned());
        (names, addr)
    }

    /// Topics whose queue flags match `want` (the unit topic lists).
    pub fn topics_with_flags(&self, want: impl Fn(i32) -> bool) -> Vec<String> {
        self.topics
            .iter()
            .filter(|(_, q)| q.values().next().is_some_and(|qd| want(qd.topic_sys_flag)))
            .map(|(t, _)| t.clone())
            .collect()
    }

    pub fn unit_flag(flag: i32) -> bool {
        flag & FLAG_UNIT != 0
    }

    pub fn unit_sub_flag(flag: i32) -> bool {
        flag & FLAG_UNIT_SUB != 0
    }

    /// DELETE_TOPIC_IN_NAMESRV: the whole topic, or only its queues on `cluster`'s brokers.
    pub fn delete_topic(&mut self, topic: &str, cluster: Option<&str>) {
        match cluster.filter(|c| !c.is_empty()) {
            None => {
                self.topics.remove(topic);
            }
            Some(cluster) => {
                let Some(names) = self.clusters.get(cluster) else {
                    return;
                };
                if let Some(queues) = self.topics.get_mut(topic) {
                    queues.retain(|b, _| !names.contains(b));
                    if queues.is_empty() {
                        self.topics.remove(topic);
                    }
                }
            }
        }
    }

    /// WIPE_WRITE_PERM_OF_BROKER: stop writes to `broker_name` (e.g. before taking it down).
    /// Returns how many topics it serves.
    pub fn wipe_write_perm(&mut self, broker_name: &str) -> i32 {
        self.update_perm(broker_name, |p| p & !perm::WRITE)
    }

    /// ADD_WRITE_PERM_OF_BROKER: make `broker_name` readable and writable again.
    pub fn add_write_perm(&mut self, broker_name: &str) -> i32 {
        self.update_perm(broker_name, |_| perm::READ | perm::WRITE)
    }

    fn update_perm(&mut self, broker_name: &str, f: impl Fn(i32) -> i32) -> i32 {
        let mut count = 0;
        for queues in self.topics.values_mut() {
            if let Some(q) = queues.get_mut(broker_name) {
                q.perm = f(q.perm);
                count += 1;
            }
        }
        count
    }

    pub fn live_brokers(&self) -> usize {
        self.live.len()
    }
}

/// Java compares data versions by timestamp, counter and (5.x) state version.
fn same_version(a: &DataVersion, b: &DataVersion) -> bool {
    a.timestamp == b.timestamp
        && a.counter == b.counter
        && a.state_version.unwrap_or(0) == b.state_version.unwrap_or(0)
}

#[cfg(test)]
mod tests;
