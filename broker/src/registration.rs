//! Keeping the broker registered with every name server.
//!
//! Like Java's `registerBrokerAll`: a REGISTER_BROKER with the whole topic table goes to each name
//! server at start, every `registerNameServerPeriod` (30 s) and promptly when topics change, over
//! a connection kept open (the name server drops a broker whose connection closes). On shutdown,
//! UNREGISTER_BROKER goes to each. A name server that is down is retried next round; it never
//! blocks the others.

use bytes::Bytes;
use ringmq_client::{ClientError, RemotingClient};
use ringmq_protocol::body::{RegisterBrokerBody, TopicConfigSerializeWrapper};
use ringmq_protocol::header::namesrv::{
    RegisterBrokerRequestHeader, UnRegisterBrokerRequestHeader,
};
use ringmq_protocol::json::{self, JsonStyle};
use ringmq_protocol::message::body_crc;
use ringmq_protocol::{RemotingCommand, RequestCode};
use std::cell::RefCell;
use std::collections::HashMap;
use std::time::Duration;

/// Java's `registerBrokerTimeoutMills`.
const CALL_TIMEOUT: Duration = Duration::from_secs(6);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// Who this broker is, as the name server sees it.
#[derive(Debug, Clone)]
pub struct BrokerIdentity {
    pub cluster: String,
    pub broker_name: String,
    pub broker_id: i64,
    /// `brokerIP1:listenPort`, what clients connect to.
    pub broker_addr: String,
    pub ha_server_addr: String,
}

#[derive(Debug, thiserror::Error)]
pub enum RegistrationError {
    #[error("name server {addr}: {source}")]
    Transport { addr: String, source: ClientError },
    #[error("name server {addr} refused the registration: code {code}, {remark}")]
    Refused {
        addr: String,
        code: i32,
        remark: String,
    },
}

/// Connections to the name servers, reused across rounds.
pub struct NameServers {
    addrs: Vec<String>,
    identity: BrokerIdentity,
    connections: RefCell<HashMap<String, RemotingClient>>,
}

impl NameServers {
    pub fn new(addrs: Vec<String>, identity: BrokerIdentity) -> Self {
        Self {
            addrs,
            identity,
            connections: RefCell::new(HashMap::new()),
        }
    }

    pub fn addrs(&self) -> &[String] {
        &self.addrs
    }

    async fn connection(&self, addr: &str) -> Result<RemotingClient, RegistrationError> {
        if let Some(c) = self
            .connections
            .borrow()
            .get(addr)
            .filter(|c| !c.is_closed())
        {
            return Ok(c.clone());
        }
        let c = RemotingClient::connect(addr, CONNECT_TIMEOUT)
            .await
            .map_err(|source| RegistrationError::Transport {
                addr: addr.to_owned(),
                source,
            })?;
        self.connections
            .borrow_mut()
            .insert(addr.to_owned(), c.clone());
        Ok(c)
    }

    fn register_command(&self, topics: &TopicConfigSerializeWrapper) -> RemotingCommand {
        let body: Bytes = json::to_vec(
            &RegisterBrokerBody {
                topic_config_serialize_wrapper: topics.clone(),
                filter_server_list: Vec::new(),
            },
            JsonStyle::Fastjson,
        )
        .into();
        let id = &self.identity;
        let header = RegisterBrokerRequestHeader {
            broker_name: id.broker_name.clone(),
            broker_addr: id.broker_addr.clone(),
            cluster_name: id.cluster.clone(),
            ha_server_addr: id.ha_server_addr.clone(),
            broker_id: id.broker_id,
            compressed: Some(false),
            body_crc32: Some(body_crc(&body) as i32),
            ..Default::default()
        };
        RemotingCommand::request_with(RequestCode::REGISTER_BROKER, 0, &header).with_body(body)
    }

    /// One registration round: every name server, concurrently. Returns one result per server.
    pub async fn register_all(
        &self,
        topics: &TopicConfigSerializeWrapper,
    ) -> Vec<Result<(), RegistrationError>> {
        let cmd = self.register_command(topics);
        let rounds = self.addrs.iter().map(|addr| {
            let cmd = cmd.clone();
            async move {
                let conn = self.connection(addr).await?;
                let resp = conn.call(cmd, CALL_TIMEOUT).await.map_err(|source| {
                    RegistrationError::Transport {
                        addr: addr.clone(),
                        source,
                    }
                })?;
                if resp.code != 0 {
                    return Err(RegistrationError::Refused {
                        addr: addr.clone(),
                        code: resp.code,
                        remark: resp.remark.unwrap_or_default(),
                    });
                }
                Ok(())
            }
        });
        join_all(rounds).await
    }

    /// Tells every name server this broker is leaving (graceful shutdown).
    pub async fn unregister_all(&self) {
        let id = &self.identity;
        let header = UnRegisterBrokerRequestHeader {
            broker_name: id.broker_name.clone(),
            broker_addr: id.broker_addr.clone(),
            cluster_name: id.cluster.clone(),
            broker_id: id.broker_id,
        };
        let cmd = RemotingCommand::request_with(RequestCode::UNREGISTER_BROKER, 0, &header);
        for addr in &self.addrs {
            if let Ok(conn) = self.connection(addr).await {
                if let Err(e) = conn.call(cmd.clone(), CALL_TIMEOUT).await {
                    log::warn!("unregistering from name server {addr}: {e}");
                }
            }
        }
    }
}

/// Polls `futures` together (they borrow the caller, so they cannot be spawned) and returns
/// their outputs in order.
async fn join_all<F: std::future::Future>(futures: impl Iterator<Item = F>) -> Vec<F::Output> {
    let mut futures: Vec<std::pin::Pin<Box<F>>> = futures.map(Box::pin).collect();
    let mut results: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut done = true;
        for (f, r) in futures.iter_mut().zip(results.iter_mut()) {
            if r.is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => *r = Some(v),
                    std::task::Poll::Pending => done = false,
                }
            }
        }
        if done {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await;
    results
        .into_iter()
        .map(|r| r.expect("every future completed"))
        .collect()
}
