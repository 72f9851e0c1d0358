//! Pull consumers with long polling: one task per read queue, starting at the queue's current
//! maximum offset (GET_MAX_OFFSET) so messages already stored are not counted, each holding one
//! PULL_MESSAGE with the suspend flag at the broker until messages arrive.
//!
//! End-to-end latency is the arrival time minus the producer's timestamp property, decoded from
//! the pulled records; a message without one is counted but has no latency.

use crate::admin::BrokerCall;
use crate::clock::{Clock, TIMESTAMP_PROPERTY};
use crate::error::BenchError;
use crate::metrics::{Failure, Recorder};
use crate::route::{BrokerTarget, QueueTarget};
use ringmq_client::RemotingClient;
use ringmq_protocol::header::offset::{GetMaxOffsetRequestHeader, GetMaxOffsetResponseHeader};
use ringmq_protocol::header::pull::{
    pull_sys_flag, PullMessageRequestHeader, PullMessageResponseHeader,
};
use ringmq_protocol::message::StoredMessage;
use ringmq_protocol::{RemotingCommand, RequestCode, ResponseCode};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::{Duration, Instant};

/// How consumers pull.
#[derive(Debug, Clone)]
pub struct PullSpec {
    pub group: String,
    /// How long the broker may hold a pull that finds nothing (`suspendTimeoutMillis`).
    pub suspend: Duration,
    /// Messages per pull at most.
    pub batch: i32,
    /// Added to `suspend` for the call timeout.
    pub call_timeout: Duration,
}

/// Which arrivals are measured.
#[derive(Debug, Clone, Copy)]
pub enum Window {
    /// Messages this run produced in its measured window: timestamp at or after `from_us`.
    ProducedSince { from_us: u64 },
    /// Whatever arrives between these instants (consuming someone else's producer).
    ArrivedBetween { from: Instant, until: Instant },
}

/// The running pull tasks.
pub struct Consumers {
    stop: Rc<Cell<bool>>,
    clients: Vec<RemotingClient>,
    tasks: Vec<glommio::Task<()>>,
}

/// A read queue with the offset to pull from.
pub struct Start {
    queue: QueueTarget,
    offset: i64,
}

/// Connects one client per broker and reads each queue's current maximum offset.
pub async fn prepare(
    brokers: &[BrokerTarget],
    queues: &[QueueTarget],
    timeout: Duration,
) -> Result<(Vec<RemotingClient>, Vec<Start>), BenchError> {
    let clients = crate::workload::connect(brokers, 1, timeout)
        .await?
        .pop()
        .unwrap_or_default();
    let mut starts = Vec::with_capacity(queues.len());
    for q in queues {
        let b = &brokers[q.broker];
        let header = GetMaxOffsetRequestHeader {
            topic: q.topic.to_string(),
            queue_id: q.queue_id,
            broker_name: Some(b.name.clone()),
            ..Default::default()
        };
        let req = RemotingCommand::request_with(RequestCode::GET_MAX_OFFSET, 0, &header);
        let call = BrokerCall {
            broker: &b.name,
            addr: &b.addr,
            what: format!("GET_MAX_OFFSET {}:{}", q.topic, q.queue_id),
        };
        let resp = call.send(&clients[q.broker], req, timeout).await?;
        let offset = resp
            .header::<GetMaxOffsetResponseHeader>()
            .map_err(|e| call.refused(ResponseCode::SYSTEM_ERROR, e.to_string()))?
            .offset;
        starts.push(Start {
            queue: q.clone(),
            offset,
        });
    }
    Ok((clients, starts))
}

/// Starts one pull loop per queue.
pub fn start(
    brokers: &[BrokerTarget],
    clients: Vec<RemotingClient>,
    starts: Vec<Start>,
    spec: &PullSpec,
    window: Window,
    rec: Rc<RefCell<Recorder>>,
    clock: Clock,
) -> Consumers {
    let stop = Rc::new(Cell::new(false));
    let spec = Rc::new(spec.clone());
    let tasks = starts
        .into_iter()
        .map(|s| {
            let puller = Puller {
                client: clients[s.queue.broker].clone(),
                broker: brokers[s.queue.broker].name.clone(),
                queue: s.queue,
                spec: spec.clone(),
                window,
                rec: rec.clone(),
                clock,
                stop: stop.clone(),
            };
            glommio::spawn_local(puller.run(s.offset))
        })
        .collect();
    Consumers {
        stop,
        clients,
        tasks,
    }
}

impl Consumers {
    /// Stops every pull loop; held pulls are abandoned by closing the connections.
    pub async fn stop(self) {
        self.stop.set(true);
        self.clients.iter().for_each(RemotingClient::close);
        for t in self.tasks {
            t.await;
        }
    }
}

struct Puller {
    client: RemotingClient,
    broker: String,
    queue: QueueTarget,
    spec: Rc<PullSpec>,
    window: Window,
    rec: Rc<RefCell<Recorder>>,
    clock: Clock,
    stop: Rc<Cell<bool>>,
}

impl Puller {
    async fn run(self, mut offset: i64) {
        let timeout = self.spec.suspend + self.spec.call_timeout;
        while !self.stop.get() {
            let result = self.client.call(self.request(offset), timeout).await;
            if self.stop.get() {
                return;
            }
            let resp = match result {
                Ok(r) => r,
                Err(e) => {
                    self.rec.borrow_mut().pull_failed(Failure::of(&e));
                    glommio::timer::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            let code = resp.response_code();
            let next = resp
                .header::<PullMessageResponseHeader>()
                .map(|h| h.next_begin_offset)
                .ok();
            match (code, next) {
                (ResponseCode::SUCCESS, Some(next)) => {
                    self.record(&resp);
                    offset = next;
                }
                (
                    ResponseCode::PULL_NOT_FOUND | ResponseCode::PULL_RETRY_IMMEDIATELY,
                    Some(next),
                ) => {
                    offset = next;
                }
                (ResponseCode::PULL_OFFSET_MOVED, Some(next)) => {
                    self.rec.borrow_mut().offset_moved += 1;
                    offset = next;
                }
                (code, _) => {
                    let failure = match next {
                        None if code == ResponseCode::SUCCESS => Failure::Protocol,
                        _ => Failure::Code(code.0),
                    };
                    self.rec.borrow_mut().pull_failed(failure);
                    glommio::timer::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    }

    fn request(&self, offset: i64) -> RemotingCommand {
        let header = PullMessageRequestHeader {
            consumer_group: self.spec.group.clone(),
            topic: self.queue.topic.to_string(),
            queue_id: self.queue.queue_id,
            queue_offset: offset,
            max_msg_nums: self.spec.batch,
            sys_flag: pull_sys_flag::FLAG_SUSPEND | pull_sys_flag::FLAG_SUBSCRIPTION,
            commit_offset: 0,
            suspend_timeout_millis: self.spec.suspend.as_millis() as i64,
            subscription: Some("*".into()),
            sub_version: (self.clock.now_us() / 1000) as i64,
            expression_type: Some("TAG".into()),
            broker_name: Some(self.broker.clone()),
            ..Default::default()
        };
        RemotingCommand::request_with(RequestCode::PULL_MESSAGE, 0, &header)
    }

    fn record(&self, resp: &RemotingCommand) {
        let now = Instant::now();
        let now_us = self.clock.wall_us(now);
        let messages = match StoredMessage::decode_all(&resp.body) {
            Ok(m) => m,
            Err(e) => {
                log::warn!("undecodable pull body from {}: {e}", self.broker);
                self.rec.borrow_mut().pull_failed(Failure::Protocol);
                return;
            }
        };
        let mut rec = self.rec.borrow_mut();
        for m in &messages {
            let ts = timestamp_of(&m.properties);
            let measured = match self.window {
                Window::ProducedSince { from_us } => ts.is_some_and(|t| t >= from_us),
                Window::ArrivedBetween { from, until } => now >= from && now < until,
            };
            let e2e = ts.map(|t| now_us.saturating_sub(t));
            rec.consumed(measured, e2e, m.body.len(), now);
        }
    }
}

/// The producer timestamp in a raw property string, without parsing every property.
pub fn timestamp_of(properties: &str) -> Option<u64> {
    let key = properties.find(TIMESTAMP_PROPERTY)?;
    let rest = properties[key + TIMESTAMP_PROPERTY.len()..].strip_prefix('\u{1}')?;
    let end = rest.find('\u{2}').unwrap_or(rest.len());
    rest[..end].parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_timestamp_property() {
        assert_eq!(
            timestamp_of("__BENCH_TS\u{1}123\u{2}WAIT\u{1}true\u{2}"),
            Some(123)
        );
        assert_eq!(timestamp_of("KEYS\u{1}k\u{2}__BENCH_TS\u{1}77"), Some(77));
        assert_eq!(timestamp_of("KEYS\u{1}k\u{2}"), None);
        assert_eq!(timestamp_of("__BENCH_TS\u{1}x\u{2}"), None);
    }
}
