//! Finding brokers the way every RocketMQ client does: GET_ROUTEINFO_BY_TOPIC on the name server,
//! then the master address (`brokerAddrs[0]`) of each broker group serving the topic, with its
//! write queues (for producers) and read queues (for consumers).

use crate::error::BenchError;
use ringmq_client::RemotingClient;
use ringmq_protocol::body::{perm, TopicRouteData, MASTER_ID};
use ringmq_protocol::header::namesrv::GetRouteInfoRequestHeader;
use ringmq_protocol::{json, RemotingCommand, RequestCode, ResponseCode};
use std::rc::Rc;
use std::time::Duration;

/// The topic a Java producer falls back to when a topic has no route: a broker with
/// autoCreateTopicEnable registers it, and creates the topic on the first send naming it.
pub const AUTO_CREATE_TOPIC: &str = "TBW102";

/// One broker group's master.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerTarget {
    pub name: String,
    pub addr: String,
}

/// One queue of one topic on one broker (an index into [`Topology::brokers`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueTarget {
    pub topic: Rc<str>,
    pub broker: usize,
    pub queue_id: i32,
}

/// The brokers and queues of a set of topics.
#[derive(Debug, Clone, Default)]
pub struct Topology {
    pub brokers: Vec<BrokerTarget>,
    /// Queues producers send to, topic by topic, in broker and queue order.
    pub write_queues: Vec<QueueTarget>,
    /// Queues consumers pull from.
    pub read_queues: Vec<QueueTarget>,
}

/// What happens when a topic has no route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    /// Stop with [`BenchError::TopicNotExist`].
    Fail,
    /// Do what a Java producer does: send to TBW102's brokers, `queues` queues each, and let them
    /// auto-create the topic. Fails like `Fail` when TBW102 has no route either.
    AutoCreate { queues: i32 },
}

/// Connects to the name server, reporting an unreachable one as such.
pub async fn connect_namesrv(addr: &str, timeout: Duration) -> Result<RemotingClient, BenchError> {
    RemotingClient::connect(addr, timeout)
        .await
        .map_err(|e| BenchError::NamesrvUnreachable {
            addr: addr.to_owned(),
            reason: e.to_string(),
        })
}

/// The route of one topic, `None` when the name server answers TOPIC_NOT_EXIST.
pub async fn route(
    namesrv: &RemotingClient,
    topic: &str,
    timeout: Duration,
) -> Result<Result<TopicRouteData, String>, BenchError> {
    let header = GetRouteInfoRequestHeader {
        topic: topic.to_owned(),
        ..Default::default()
    };
    let req = RemotingCommand::request_with(RequestCode::GET_ROUTEINFO_BY_TOPIC, 0, &header);
    let resp = namesrv
        .call(req, timeout)
        .await
        .map_err(|e| BenchError::NamesrvUnreachable {
            addr: namesrv.addr().to_owned(),
            reason: e.to_string(),
        })?;
    // Java remarks end with a line pointing at the FAQ; keep errors on one line.
    let remark = resp
        .remark
        .clone()
        .unwrap_or_default()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    match resp.response_code() {
        ResponseCode::SUCCESS => {}
        ResponseCode::TOPIC_NOT_EXIST => return Ok(Err(remark)),
        code => {
            return Err(BenchError::NamesrvRefused {
                addr: namesrv.addr().to_owned(),
                what: "GET_ROUTEINFO_BY_TOPIC",
                code,
                remark,
            })
        }
    }
    json::from_slice::<TopicRouteData>(&resp.body)
        .map(Ok)
        .map_err(|e| BenchError::BadRoute {
            topic: topic.to_owned(),
            namesrv: namesrv.addr().to_owned(),
            reason: format!("cannot decode the route body: {e}"),
        })
}

/// Looks up every topic and merges their routes into one topology.
pub async fn resolve(
    namesrv_addr: &str,
    topics: &[String],
    missing: Missing,
    timeout: Duration,
) -> Result<Topology, BenchError> {
    let namesrv = connect_namesrv(namesrv_addr, timeout).await?;
    let mut topology = Topology::default();
    let mut fallback: Option<TopicRouteData> = None;
    for topic in topics {
        let (data, queue_cap) = match route(&namesrv, topic, timeout).await? {
            Ok(data) => (data, i32::MAX),
            Err(remark) => {
                let not_exist = || BenchError::TopicNotExist {
                    topic: topic.clone(),
                    namesrv: namesrv_addr.to_owned(),
                    remark: remark.clone(),
                };
                let Missing::AutoCreate { queues } = missing else {
                    return Err(not_exist());
                };
                if fallback.is_none() {
                    fallback = route(&namesrv, AUTO_CREATE_TOPIC, timeout).await?.ok();
                }
                let Some(data) = fallback.clone() else {
                    return Err(not_exist());
                };
                log::warn!(
                    "topic {topic} has no route; sending through {AUTO_CREATE_TOPIC}'s brokers so \
                     they auto-create it with {queues} queues"
                );
                (data, queues)
            }
        };
        add_topic(&mut topology, topic, &data, queue_cap).map_err(|reason| {
            BenchError::BadRoute {
                topic: topic.clone(),
                namesrv: namesrv_addr.to_owned(),
                reason,
            }
        })?;
    }
    namesrv.close();
    Ok(topology)
}

/// Adds one topic's queues; `queue_cap` bounds the queue count per broker.
fn add_topic(
    topology: &mut Topology,
    topic: &str,
    data: &TopicRouteData,
    queue_cap: i32,
) -> Result<(), String> {
    let name: Rc<str> = Rc::from(topic);
    let mut any_master = false;
    for q in &data.queue_datas {
        let Some(broker) = data
            .broker_datas
            .iter()
            .find(|b| b.broker_name == q.broker_name)
        else {
            log::warn!(
                "topic {topic}: queues on {} but no such broker in the route",
                q.broker_name
            );
            continue;
        };
        let Some(addr) = broker.broker_addrs.get(&MASTER_ID) else {
            log::warn!(
                "topic {topic}: broker {} has no master; skipped",
                q.broker_name
            );
            continue;
        };
        any_master = true;
        let target = BrokerTarget {
            name: broker.broker_name.clone(),
            addr: addr.clone(),
        };
        let index = match topology.brokers.iter().position(|b| *b == target) {
            Some(i) => i,
            None => {
                topology.brokers.push(target);
                topology.brokers.len() - 1
            }
        };
        let queue = |queue_id| QueueTarget {
            topic: name.clone(),
            broker: index,
            queue_id,
        };
        if perm::is_writeable(q.perm) {
            let n = q.write_queue_nums.min(queue_cap);
            topology.write_queues.extend((0..n).map(queue));
        }
        if perm::is_readable(q.perm) {
            topology
                .read_queues
                .extend((0..q.read_queue_nums).map(queue));
        }
    }
    if !any_master {
        return Err("no broker group of the route has a master (brokerAddrs[0])".into());
    }
    Ok(())
}

/// The topic names a run uses: `base` alone, or `base_000` .. for `count` > 1.
pub fn topic_names(base: &str, count: usize) -> Vec<String> {
    if count <= 1 {
        vec![base.to_owned()]
    } else {
        (0..count).map(|i| format!("{base}_{i:03}")).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ringmq_protocol::body::{BrokerData, QueueData};

    fn route_of(brokers: &[(&str, &str, i32, i32)]) -> TopicRouteData {
        TopicRouteData {
            queue_datas: brokers
                .iter()
                .map(|(name, _, queues, perm)| QueueData {
                    broker_name: (*name).into(),
                    read_queue_nums: *queues,
                    write_queue_nums: *queues,
                    perm: *perm,
                    topic_sys_flag: 0,
                })
                .collect(),
            broker_datas: brokers
                .iter()
                .map(|(name, addr, _, _)| BrokerData {
                    cluster: "c".into(),
                    broker_name: (*name).into(),
                    broker_addrs: [(MASTER_ID, (*addr).to_string())].into(),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn queues_follow_permissions_and_brokers_are_shared() {
        let mut t = Topology::default();
        let r = route_of(&[("a", "1.1.1.1:1", 4, 6), ("b", "2.2.2.2:2", 2, 4)]);
        add_topic(&mut t, "T1", &r, i32::MAX).unwrap();
        add_topic(
            &mut t,
            "T2",
            &route_of(&[("a", "1.1.1.1:1", 1, 6)]),
            i32::MAX,
        )
        .unwrap();
        assert_eq!(t.brokers.len(), 2);
        // b is read-only: no write queues there.
        assert_eq!(t.write_queues.len(), 4 + 1);
        assert_eq!(t.read_queues.len(), 4 + 2 + 1);
        assert_eq!(&*t.write_queues[4].topic, "T2");
        assert_eq!(t.write_queues[4].broker, 0);
        add_topic(&mut t, "T3", &r, 2).unwrap();
        assert_eq!(t.write_queues.len(), 5 + 2);
    }

    #[test]
    fn a_route_without_masters_is_refused() {
        let mut r = route_of(&[("a", "1.1.1.1:1", 4, 6)]);
        r.broker_datas[0].broker_addrs = [(1, "x:1".to_string())].into();
        assert!(add_topic(&mut Topology::default(), "T", &r, 8).is_err());
    }

    #[test]
    fn names() {
        assert_eq!(topic_names("T", 1), ["T"]);
        assert_eq!(topic_names("T", 3), ["T_000", "T_001", "T_002"]);
    }
}
