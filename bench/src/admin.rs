//! Creating the topics a run needs, the way `mqadmin updateTopic -c CLUSTER` does: every master
//! the name server knows gets UPDATE_AND_CREATE_TOPIC, then we wait until the name server routes
//! the topic (brokers register the change on their own).

use crate::error::BenchError;
use crate::route::{connect_namesrv, route};
use ringmq_client::RemotingClient;
use ringmq_protocol::body::{perm, ClusterInfo, MASTER_ID};
use ringmq_protocol::header::admin::CreateTopicRequestHeader;
use ringmq_protocol::{json, RemotingCommand, RequestCode, ResponseCode};
use std::time::{Duration, Instant};

/// How long a created topic may take to appear in the name server's routes.
const ROUTE_WAIT: Duration = Duration::from_secs(15);

/// Creates (or updates) `topics` with `queues` read and write queues on every master broker
/// registered with the name server, and waits until each has a route.
pub async fn create_topics(
    namesrv_addr: &str,
    topics: &[String],
    queues: i32,
    timeout: Duration,
) -> Result<(), BenchError> {
    let namesrv = connect_namesrv(namesrv_addr, timeout).await?;
    let info_req = RemotingCommand::request(RequestCode::GET_BROKER_CLUSTER_INFO, 0);
    let resp =
        namesrv
            .call(info_req, timeout)
            .await
            .map_err(|e| BenchError::NamesrvUnreachable {
                addr: namesrv_addr.to_owned(),
                reason: e.to_string(),
            })?;
    if resp.response_code() != ResponseCode::SUCCESS {
        return Err(BenchError::NamesrvRefused {
            addr: namesrv_addr.to_owned(),
            what: "GET_BROKER_CLUSTER_INFO",
            code: resp.response_code(),
            remark: resp.remark.unwrap_or_default(),
        });
    }
    let info: ClusterInfo = json::from_slice(&resp.body).map_err(|e| BenchError::BadRoute {
        topic: topics.first().cloned().unwrap_or_default(),
        namesrv: namesrv_addr.to_owned(),
        reason: format!("cannot decode the cluster info: {e}"),
    })?;
    let masters: Vec<(String, String)> = info
        .broker_addr_table
        .values()
        .filter_map(|b| {
            let addr = b.broker_addrs.get(&MASTER_ID)?;
            Some((b.broker_name.clone(), addr.clone()))
        })
        .collect();
    if masters.is_empty() {
        return Err(BenchError::Settings(format!(
            "the name server at {namesrv_addr} knows no master broker to create topics on"
        )));
    }
    for (name, addr) in &masters {
        let broker = RemotingClient::connect(addr, timeout).await.map_err(|e| {
            BenchError::BrokerUnreachable {
                broker: name.clone(),
                addr: addr.clone(),
                reason: e.to_string(),
            }
        })?;
        for topic in topics {
            create_on(&broker, name, topic, queues, timeout).await?;
        }
        broker.close();
    }
    let deadline = Instant::now() + ROUTE_WAIT;
    for topic in topics {
        while route(&namesrv, topic, timeout).await?.is_err() {
            if Instant::now() > deadline {
                return Err(BenchError::Settings(format!(
                    "topic {topic} was created but the name server at {namesrv_addr} still has no \
                     route for it after {ROUTE_WAIT:?}"
                )));
            }
            glommio::timer::sleep(Duration::from_millis(50)).await;
        }
    }
    namesrv.close();
    Ok(())
}

async fn create_on(
    broker: &RemotingClient,
    name: &str,
    topic: &str,
    queues: i32,
    timeout: Duration,
) -> Result<(), BenchError> {
    let header = CreateTopicRequestHeader {
        topic: topic.to_owned(),
        default_topic: crate::route::AUTO_CREATE_TOPIC.into(),
        read_queue_nums: queues,
        write_queue_nums: queues,
        perm: perm::READ | perm::WRITE,
        topic_filter_type: "SINGLE_TAG".into(),
        order: false,
        ..Default::default()
    };
    let req = RemotingCommand::request_with(RequestCode::UPDATE_AND_CREATE_TOPIC, 0, &header);
    let call = BrokerCall {
        broker: name,
        addr: broker.addr(),
        what: format!("UPDATE_AND_CREATE_TOPIC {topic}"),
    };
    call.send(broker, req, timeout).await.map(drop)
}

/// One request to a broker whose failure names the broker and the request.
pub(crate) struct BrokerCall<'a> {
    pub broker: &'a str,
    pub addr: &'a str,
    /// The request, as the error shows it (`GET_MAX_OFFSET T:3`).
    pub what: String,
}

impl BrokerCall<'_> {
    pub fn refused(&self, code: ResponseCode, remark: String) -> BenchError {
        BenchError::BrokerRefused {
            broker: self.broker.to_owned(),
            addr: self.addr.to_owned(),
            what: self.what.clone(),
            code,
            remark,
        }
    }

    /// Sends `req` and returns the broker's SUCCESS answer; no answer or any other code is
    /// [`BenchError::BrokerRefused`].
    pub async fn send(
        &self,
        client: &RemotingClient,
        req: RemotingCommand,
        timeout: Duration,
    ) -> Result<RemotingCommand, BenchError> {
        let resp = client
            .call(req, timeout)
            .await
            .map_err(|e| self.refused(ResponseCode::SYSTEM_ERROR, e.to_string()))?;
        if resp.response_code() != ResponseCode::SUCCESS {
            return Err(self.refused(resp.response_code(), resp.remark.unwrap_or_default()));
        }
        Ok(resp)
    }
}
