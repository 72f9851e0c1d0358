//! A fake name server + broker on one port, for testing the harness: it routes every known topic
//! to itself, stores sends in memory, serves GET_MAX_OFFSET and long-polling pulls, and can be told
//! to stall (every send waits while a stall lasts) or to refuse every n-th send with SYSTEM_BUSY.

use bytes::{Bytes, BytesMut};
use glommio::net::TcpListener;
use ringmq_protocol::body::{BrokerData, QueueData, TopicRouteData, MASTER_ID};
use ringmq_protocol::header::namesrv::GetRouteInfoRequestHeader;
use ringmq_protocol::header::offset::{GetMaxOffsetRequestHeader, GetMaxOffsetResponseHeader};
use ringmq_protocol::header::pull::{PullMessageRequestHeader, PullMessageResponseHeader};
use ringmq_protocol::header::send::{SendMessageRequestHeaderV2, SendMessageResponseHeader};
use ringmq_protocol::json::{self, JsonStyle};
use ringmq_protocol::message::{body_crc, StoredMessage};
use ringmq_protocol::{RemotingCommand, RequestCode, ResponseCode};
use ringmq_remoting::{serve, Connection, Reply, ServerOptions, Service};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::time::{Duration, Instant};

/// How the fake behaves.
#[derive(Debug, Clone)]
pub struct Behaviour {
    /// Topics with a route; anything else is TOPIC_NOT_EXIST.
    pub topics: Vec<String>,
    pub queues: i32,
    /// Every n-th send (1-based, counted over all connections) gets SYSTEM_BUSY; 0 = never.
    pub busy_every: u64,
    /// When send number `.0` arrives, every send stalls until `.1` has passed.
    pub stall: Option<(u64, Duration)>,
}

impl Behaviour {
    pub fn topic(name: &str) -> Self {
        Behaviour {
            topics: vec![name.to_owned()],
            queues: 4,
            busy_every: 0,
            stall: None,
        }
    }
}

struct Fake {
    addr: String,
    behaviour: Behaviour,
    sends: Cell<u64>,
    stall_until: Cell<Option<Instant>>,
    /// Stored records per (topic, queue).
    queues: RefCell<HashMap<(String, i32), Vec<Bytes>>>,
    arrivals: Cell<u64>,
}

/// Starts a fake on its own executor thread and returns its address.
pub fn start(behaviour: Behaviour) -> String {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        glommio::LocalExecutorBuilder::new(glommio::Placement::Unbound)
            .name("fake-broker")
            .spawn(move || async move {
                let listener = TcpListener::bind("127.0.0.1:0").unwrap();
                let addr = listener.local_addr().unwrap().to_string();
                let fake = Rc::new(Fake {
                    addr: addr.clone(),
                    behaviour,
                    sends: Cell::new(0),
                    stall_until: Cell::new(None),
                    queues: RefCell::new(HashMap::new()),
                    arrivals: Cell::new(0),
                });
                tx.send(addr).unwrap();
                serve(listener, fake, ServerOptions::default()).await;
            })
            .unwrap()
            .join()
            .unwrap();
    });
    rx.recv_timeout(Duration::from_secs(5))
        .expect("fake broker started")
}

impl Service for Fake {
    async fn handle(&self, _conn: &Rc<Connection>, req: RemotingCommand) -> Option<Reply> {
        Some(Reply::from(match req.request_code() {
            RequestCode::GET_ROUTEINFO_BY_TOPIC => self.route(&req),
            RequestCode::SEND_MESSAGE_V2 => self.send(&req).await,
            RequestCode::GET_MAX_OFFSET => self.max_offset(&req),
            RequestCode::PULL_MESSAGE => self.pull(&req).await,
            _ => RemotingCommand::response_to(&req, ResponseCode::REQUEST_CODE_NOT_SUPPORTED, None),
        }))
    }
}

impl Fake {
    fn route(&self, req: &RemotingCommand) -> RemotingCommand {
        let h: GetRouteInfoRequestHeader = req.header().unwrap();
        if !self.behaviour.topics.contains(&h.topic) {
            let remark = format!(
                "No topic route info in name server for the topic: {}",
                h.topic
            );
            return RemotingCommand::response_to(req, ResponseCode::TOPIC_NOT_EXIST, Some(remark));
        }
        let route = TopicRouteData {
            queue_datas: vec![QueueData {
                broker_name: "fake-broker".into(),
                read_queue_nums: self.behaviour.queues,
                write_queue_nums: self.behaviour.queues,
                perm: 6,
                topic_sys_flag: 0,
            }],
            broker_datas: vec![BrokerData {
                cluster: "FakeCluster".into(),
                broker_name: "fake-broker".into(),
                broker_addrs: [(MASTER_ID, self.addr.clone())].into(),
                ..Default::default()
            }],
            ..Default::default()
        };
        RemotingCommand::response_to(req, ResponseCode::SUCCESS, None)
            .with_body(json::to_vec(&route, JsonStyle::Standard))
    }

    async fn send(&self, req: &RemotingCommand) -> RemotingCommand {
        let n = self.sends.get() + 1;
        self.sends.set(n);
        if let Some((at, length)) = self.behaviour.stall {
            if n == at {
                self.stall_until.set(Some(Instant::now() + length));
            }
        }
        if let Some(until) = self.stall_until.get() {
            let now = Instant::now();
            if until > now {
                glommio::timer::sleep(until - now).await;
            }
        }
        let every = self.behaviour.busy_every;
        if every > 0 && n.is_multiple_of(every) {
            let remark = "[TIMEOUT_CLEAN_QUEUE]broker busy, fake refusal".to_string();
            return RemotingCommand::response_to(req, ResponseCode::SYSTEM_BUSY, Some(remark));
        }
        let h: SendMessageRequestHeaderV2 = req.header().unwrap();
        let mut queues = self.queues.borrow_mut();
        let queue = queues.entry((h.topic.clone(), h.queue_id)).or_default();
        let msg = StoredMessage {
            body_crc: body_crc(&req.body),
            queue_id: h.queue_id,
            flag: h.flag,
            queue_offset: queue.len() as i64,
            commit_log_offset: 0,
            sys_flag: 0,
            born_timestamp: h.born_timestamp,
            born_host: "127.0.0.1:1".parse().unwrap(),
            store_timestamp: h.born_timestamp,
            store_host: "127.0.0.1:2".parse().unwrap(),
            reconsume_times: 0,
            prepared_transaction_offset: 0,
            body: req.body.clone(),
            topic: h.topic.clone(),
            properties: h.properties.clone().unwrap_or_default(),
        };
        let mut out = BytesMut::new();
        msg.encode(&mut out).unwrap();
        queue.push(out.freeze());
        self.arrivals.set(self.arrivals.get() + 1);
        let header = SendMessageResponseHeader {
            msg_id: "7F0000010000000000000000".into(),
            queue_id: h.queue_id,
            queue_offset: msg.queue_offset,
            ..Default::default()
        };
        RemotingCommand::response_to(req, ResponseCode::SUCCESS, None).with_header(&header)
    }

    fn len(&self, topic: &str, queue: i32) -> i64 {
        self.queues
            .borrow()
            .get(&(topic.to_owned(), queue))
            .map_or(0, Vec::len) as i64
    }

    fn max_offset(&self, req: &RemotingCommand) -> RemotingCommand {
        let h: GetMaxOffsetRequestHeader = req.header().unwrap();
        let offset = self.len(&h.topic, h.queue_id);
        RemotingCommand::response_to(req, ResponseCode::SUCCESS, None)
            .with_header(&GetMaxOffsetResponseHeader { offset })
    }

    /// Long polling by checking every millisecond: good enough for a fake.
    async fn pull(&self, req: &RemotingCommand) -> RemotingCommand {
        let h: PullMessageRequestHeader = req.header().unwrap();
        let deadline = Instant::now() + Duration::from_millis(h.suspend_timeout_millis as u64);
        while self.len(&h.topic, h.queue_id) <= h.queue_offset && Instant::now() < deadline {
            glommio::timer::sleep(Duration::from_millis(1)).await;
        }
        let queues = self.queues.borrow();
        let records = queues
            .get(&(h.topic.clone(), h.queue_id))
            .map_or(&[][..], Vec::as_slice);
        let from = (h.queue_offset.max(0) as usize).min(records.len());
        let to = (from + h.max_msg_nums as usize).min(records.len());
        let mut body = BytesMut::new();
        records[from..to]
            .iter()
            .for_each(|r| body.extend_from_slice(r));
        let code = if to > from {
            ResponseCode::SUCCESS
        } else {
            ResponseCode::PULL_NOT_FOUND
        };
        let header = PullMessageResponseHeader {
            suggest_which_broker_id: 0,
            next_begin_offset: to as i64,
            min_offset: 0,
            max_offset: records.len() as i64,
            ..Default::default()
        };
        RemotingCommand::response_to(req, code, None)
            .with_header(&header)
            .with_body(body.freeze())
    }
}
