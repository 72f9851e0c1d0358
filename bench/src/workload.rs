//! Producers: N connections x M tasks each, sending round-robin over every write queue, either
//! open-loop at a fixed rate or closed-loop as fast as responses come back.
//!
//! Open loop: message `i` has an intended send time `start + i / rate`, and its latency runs from
//! that time to the response. When the broker stalls and every task waits, later messages are sent
//! late and their latency includes the wait, so stalls show in the percentiles the way users feel
//! them instead of being hidden by a producer that slowed down (coordinated omission).
//! Closed loop: each task sends its next message when the previous answer arrives, and latency runs
//! from the actual send; this finds the maximum throughput.

use crate::clock::{micros_between, sleep_until, Clock, TIMESTAMP_PROPERTY};
use crate::error::BenchError;
use crate::metrics::{Failure, Recorder};
use crate::route::{BrokerTarget, QueueTarget, AUTO_CREATE_TOPIC};
use bytes::Bytes;
use ringmq_client::RemotingClient;
use ringmq_protocol::header::send::{SendMessageRequestHeaderV2, SendMessageResponseHeader};
use ringmq_protocol::message::properties::WAIT_STORE_MSG_OK;
use ringmq_protocol::{RemotingCommand, RequestCode, ResponseCode};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::{Duration, Instant};

/// How sends are paced.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Pace {
    /// Each task sends when its previous answer arrives.
    Closed,
    /// Messages at fixed intended times, `rate` per second in total.
    Open { rate: f64 },
}

/// When the measured part of a run ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// After this long past the warm-up.
    Duration(Duration),
    /// After this many measured messages.
    Messages(u64),
}

/// What the producers send and how.
#[derive(Debug, Clone)]
pub struct LoadSpec {
    /// Connections per broker (client instances).
    pub connections: usize,
    /// Concurrent requests per connection.
    pub inflight: usize,
    /// Message body size in bytes.
    pub size: usize,
    pub pace: Pace,
    /// `send_oneway` instead of waiting for answers (open loop only: nothing paces a closed loop).
    pub oneway: bool,
    pub call_timeout: Duration,
    pub producer_group: String,
    /// Queue count asked for when a broker auto-creates a topic from TBW102.
    pub auto_create_queues: i32,
}

impl LoadSpec {
    pub fn check(&self) -> Result<(), BenchError> {
        let bad = |m: &str| Err(BenchError::Settings(m.to_owned()));
        if self.connections == 0 || self.inflight == 0 {
            return bad("--connections and --inflight must be at least 1");
        }
        if let Pace::Open { rate } = self.pace {
            if !(rate.is_finite() && rate > 0.0) {
                return bad("--rate must be a positive number of messages per second");
            }
        } else if self.oneway {
            return bad("oneway sends need --rate: without answers nothing paces a closed loop");
        }
        Ok(())
    }
}

/// A claim on the next message: which one, when it should leave, whether it counts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ticket {
    pub index: u64,
    /// Open loop only.
    pub intended: Option<Instant>,
    pub measured: bool,
}

/// Hands out messages to the sending tasks, in order, until the limit.
pub struct Schedule {
    pub start: Instant,
    pub warm_end: Instant,
    limit: Limit,
    pace: Pace,
    next: Cell<u64>,
    measured: Cell<u64>,
    stopped: Cell<bool>,
}

impl Schedule {
    pub fn new(start: Instant, warmup: Duration, limit: Limit, pace: Pace) -> Self {
        Schedule {
            start,
            warm_end: start + warmup,
            limit,
            pace,
            next: Cell::new(0),
            measured: Cell::new(0),
            stopped: Cell::new(false),
        }
    }

    /// The next message, or `None` once the limit is reached or the run was stopped.
    pub fn claim(&self) -> Option<Ticket> {
        if self.stopped.get() {
            return None;
        }
        let index = self.next.get();
        let (intended, at) = match self.pace {
            Pace::Open { rate } => {
                let at = self.start + Duration::from_secs_f64(index as f64 / rate);
                (Some(at), at)
            }
            Pace::Closed => (None, Instant::now()),
        };
        let measured = at >= self.warm_end;
        if measured {
            let over = match self.limit {
                Limit::Duration(d) => at >= self.warm_end + d,
                Limit::Messages(n) => self.measured.get() >= n,
            };
            if over {
                return None;
            }
            self.measured.set(self.measured.get() + 1);
        }
        self.next.set(index + 1);
        Some(Ticket {
            index,
            intended,
            measured,
        })
    }

    /// Makes every later [`Schedule::claim`] return `None`.
    pub fn stop(&self) {
        self.stopped.set(true);
    }

    pub fn is_stopped(&self) -> bool {
        self.stopped.get()
    }

    /// Messages handed out so far, warm-up included.
    pub fn claimed(&self) -> u64 {
        self.next.get()
    }
}

/// Open connections: `connections` to each broker. `result[slot][broker]`.
pub async fn connect(
    brokers: &[BrokerTarget],
    connections: usize,
    timeout: Duration,
) -> Result<Vec<Vec<RemotingClient>>, BenchError> {
    let mut slots = Vec::with_capacity(connections);
    for _ in 0..connections {
        let mut slot = Vec::with_capacity(brokers.len());
        for b in brokers {
            let c = RemotingClient::connect(&b.addr, timeout)
                .await
                .map_err(|e| BenchError::BrokerUnreachable {
                    broker: b.name.clone(),
                    addr: b.addr.clone(),
                    reason: e.to_string(),
                })?;
            slot.push(c);
        }
        slots.push(slot);
    }
    Ok(slots)
}

/// Everything the sending tasks share.
pub struct Producer {
    pub spec: LoadSpec,
    pub brokers: Vec<BrokerTarget>,
    pub queues: Vec<QueueTarget>,
    pub conns: Vec<Vec<RemotingClient>>,
    pub body: Bytes,
    pub clock: Clock,
}

impl Producer {
    pub fn new(
        spec: LoadSpec,
        brokers: Vec<BrokerTarget>,
        queues: Vec<QueueTarget>,
        conns: Vec<Vec<RemotingClient>>,
        clock: Clock,
    ) -> Self {
        let body = Bytes::from(vec![b'x'; spec.size]);
        Producer {
            spec,
            brokers,
            queues,
            conns,
            body,
            clock,
        }
    }

    /// The SEND_MESSAGE_V2 request for `queue`, stamped with `timestamp_us`.
    pub fn request(&self, queue: &QueueTarget, timestamp_us: u64) -> RemotingCommand {
        send_request(
            &self.spec,
            &self.brokers[queue.broker].name,
            queue,
            timestamp_us,
            self.body.clone(),
        )
    }

    pub fn close(&self) {
        self.conns.iter().flatten().for_each(RemotingClient::close);
    }
}

/// A SEND_MESSAGE_V2 as a Java producer sends it, plus the timestamp property.
pub fn send_request(
    spec: &LoadSpec,
    broker_name: &str,
    queue: &QueueTarget,
    timestamp_us: u64,
    body: Bytes,
) -> RemotingCommand {
    let header = SendMessageRequestHeaderV2 {
        producer_group: spec.producer_group.clone(),
        topic: queue.topic.to_string(),
        default_topic: AUTO_CREATE_TOPIC.into(),
        default_topic_queue_nums: spec.auto_create_queues,
        queue_id: queue.queue_id,
        sys_flag: 0,
        born_timestamp: (timestamp_us / 1000) as i64,
        flag: 0,
        properties: Some(format!(
            "{TIMESTAMP_PROPERTY}\u{1}{timestamp_us}\u{2}{WAIT_STORE_MSG_OK}\u{1}true\u{2}"
        )),
        reconsume_times: Some(0),
        unit_mode: Some(false),
        max_reconsume_times: None,
        batch: Some(false),
        broker_name: Some(broker_name.to_owned()),
    };
    RemotingCommand::request_with(RequestCode::SEND_MESSAGE_V2, 0, &header).with_body(body)
}

/// One send request of `spec`'s size and the frame size of its typical answer: what the loopback
/// floor exchanges.
pub fn sample_exchange(spec: &LoadSpec) -> (RemotingCommand, usize) {
    let queue = QueueTarget {
        topic: Rc::from("BenchTopic"),
        broker: 0,
        queue_id: 0,
    };
    let now = Clock::new().now_us();
    let body = Bytes::from(vec![b'x'; spec.size]);
    let mut req = send_request(spec, "broker-a", &queue, now, body);
    req.opaque = 1000;
    let header = SendMessageResponseHeader {
        msg_id: "7F00000100002A9F0000000000123456".into(),
        queue_id: 0,
        queue_offset: 123_456,
        region_id: Some("DefaultRegion".into()),
        trace_on: Some(true),
        ..Default::default()
    };
    let resp = RemotingCommand::response_to(&req, ResponseCode::SUCCESS, None).with_header(&header);
    let resp_len = resp.to_bytes().len();
    (req, resp_len)
}

/// Runs the producers until the schedule ends. Fails when every send failed.
pub async fn produce(
    producer: Rc<Producer>,
    schedule: Rc<Schedule>,
    rec: Rc<RefCell<Recorder>>,
) -> Result<(), BenchError> {
    let mut tasks = Vec::new();
    for slot in 0..producer.spec.connections {
        for _ in 0..producer.spec.inflight {
            let (p, s, r) = (producer.clone(), schedule.clone(), rec.clone());
            tasks.push(glommio::spawn_local(sender(slot, p, s, r)));
        }
    }
    for t in tasks {
        t.await;
    }
    let rec = rec.borrow();
    if rec.all_failed() {
        let (failure, remark) = rec
            .first_error
            .clone()
            .unwrap_or((Failure::Closed, String::new()));
        return Err(BenchError::AllSendsFailed {
            failures: rec.total.failed,
            first: failure.label(),
            remark,
        });
    }
    Ok(())
}

/// One sending task: claims messages and sends them on connection `slot`.
async fn sender(slot: usize, p: Rc<Producer>, schedule: Rc<Schedule>, rec: Rc<RefCell<Recorder>>) {
    let size = p.spec.size;
    while let Some(t) = schedule.claim() {
        if let Some(at) = t.intended {
            sleep_until(at).await;
        }
        let queue = &p.queues[(t.index % p.queues.len() as u64) as usize];
        let client = &p.conns[slot][queue.broker];
        let sent_at = Instant::now();
        let base = t.intended.unwrap_or(sent_at);
        let cmd = p.request(queue, p.clock.wall_us(base));
        let lag = t.intended.map(|at| micros_between(at, sent_at));
        rec.borrow_mut().sent(t.measured, lag);
        let mut backoff = false;
        if p.spec.oneway {
            let result = client.send_oneway(cmd);
            let mut r = rec.borrow_mut();
            match result {
                Ok(()) => r.send_ok(t.measured, None, size, sent_at),
                Err(e) => {
                    backoff = true;
                    r.send_failed(t.measured, Failure::of(&e), e.to_string(), sent_at);
                }
            }
        } else {
            let result = client.call(cmd, p.spec.call_timeout).await;
            let done = Instant::now();
            let mut r = rec.borrow_mut();
            match result {
                Ok(resp) if resp.response_code() == ResponseCode::SUCCESS => {
                    r.send_ok(t.measured, Some(micros_between(base, done)), size, done);
                }
                Ok(resp) => {
                    let remark = resp.remark.unwrap_or_default();
                    r.send_failed(t.measured, Failure::Code(resp.code), remark, done);
                }
                Err(e) => {
                    backoff = client.is_closed();
                    r.send_failed(t.measured, Failure::of(&e), e.to_string(), done);
                }
            }
        }
        if rec.borrow().all_failed() {
            schedule.stop();
        }
        if backoff {
            // A closed connection fails every call at once; do not spin on it.
            glommio::timer::sleep(Duration::from_millis(100)).await;
        } else if p.spec.oneway {
            futures_lite::future::yield_now().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_loop_schedule_is_exact() {
        let start = Instant::now();
        let s = Schedule::new(
            start,
            Duration::from_millis(100),
            Limit::Messages(5),
            Pace::Open { rate: 100.0 },
        );
        let tickets: Vec<Ticket> = std::iter::from_fn(|| s.claim()).collect();
        // 10 warm-up messages (100 ms at 100/s), then exactly 5 measured.
        assert_eq!(tickets.len(), 15);
        assert_eq!(tickets.iter().filter(|t| t.measured).count(), 5);
        assert!(!tickets[9].measured && tickets[10].measured);
        assert_eq!(
            tickets[10].intended.unwrap() - start,
            Duration::from_millis(100)
        );

        let s = Schedule::new(
            start,
            Duration::ZERO,
            Limit::Duration(Duration::from_secs(1)),
            Pace::Open { rate: 1000.0 },
        );
        assert_eq!(std::iter::from_fn(|| s.claim()).count(), 1000);
    }

    #[test]
    fn closed_loop_counts_and_stops() {
        let s = Schedule::new(
            Instant::now(),
            Duration::ZERO,
            Limit::Messages(3),
            Pace::Closed,
        );
        assert!(s.claim().unwrap().measured);
        s.claim().unwrap();
        s.stop();
        assert_eq!(s.claim(), None);
        assert_eq!(s.claimed(), 2);
    }

    #[test]
    fn settings_are_checked() {
        let mut spec = LoadSpec {
            connections: 1,
            inflight: 1,
            size: 10,
            pace: Pace::Closed,
            oneway: true,
            call_timeout: Duration::from_secs(1),
            producer_group: "g".into(),
            auto_create_queues: 8,
        };
        assert!(spec.check().is_err());
        spec.pace = Pace::Open { rate: 10.0 };
        assert!(spec.check().is_ok());
        let (req, resp) = sample_exchange(&spec);
        assert!(req.to_bytes().len() > 10 && resp > 50, "{req:?} {resp}");
    }
}
