//! The state one core of the broker owns.
//!
//! Every core has a [`BrokerCore`]: the shards it owns (shard `s` lives on core `s % cores`), the
//! committed offsets and held pulls of those shards' queues, the delay levels whose schedule
//! queue it owns, its client connections, and copies of the two tables every request reads (the
//! topic table, the subscription groups and the consumer groups' subscriptions). The control core
//! (core 0) also has the [`Control`] state: the client registry and the queue locks, and its
//! topic and group tables are the ones that count.
//! Which core a request runs on is decided in [`crate::service`]; how cores ask each other is in
//! [`crate::hops`].

use crate::clients::Announced;
use crate::clients::ClientRegistry;
use crate::config::BrokerConfig;
use crate::groups::GroupTable;
use crate::handlers::Refusal;
use crate::locks::QueueLocks;
use crate::mesh::{CoreId, Mesh, CONTROL_CORE};
use crate::offsets::ConsumerOffsets;
use crate::offsets::ForgottenOffsets;
use crate::persist::TableWrite;
use crate::schedule::DelayOffsets;
use crate::topics::TopicTable;
use crate::traffic::Traffic;
use crate::transaction::TransactionLedger;
use glommio::sync::Semaphore;
use ringmq_protocol::ResponseCode;
use ringmq_remoting::Connection;
use ringmq_storage::shard::Shard;
use ringmq_storage::signal::Signal;
use ringmq_storage::store::StoreMeta;
use ringmq_storage::CommitLogOffset;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::{Rc, Weak};
use std::time::{Duration, Instant};

pub struct BrokerCore {
    /// The settings in force on this core: replaced whole, on every core, by UPDATE_BROKER_CONFIG
    /// (see [`crate::config::live`]). Read through [`BrokerCore::config`].
    config: RefCell<Rc<BrokerConfig>>,
    pub meta: StoreMeta,
    pub mesh: Rc<Mesh>,
    /// Indexed by shard id; `None` where another core owns the shard.
    shards: Vec<Option<Rc<Shard>>>,
    /// On the control core the table that counts; elsewhere a copy the control core keeps
    /// current (see [`crate::hops`]).
    pub topics: RefCell<TopicTable>,
    /// Subscription groups: like `topics`, the table on the control core, copies elsewhere.
    pub groups: RefCell<GroupTable>,
    /// group -> what its heartbeats announced, copied from the control core's client registry:
    /// a pull without its own subscription filters by the group's, and a broadcasting group is
    /// refused where its `consumeBroadcastEnable` is off.
    pub subscriptions: RefCell<HashMap<String, Announced>>,
    /// Committed offsets of this core's queues.
    pub offsets: RefCell<ConsumerOffsets>,
    /// How far each delay level delivered on this core has got.
    pub delay_offsets: RefCell<DelayOffsets>,
    /// Open transactions; used on the core that owns the half queue.
    pub transactions: TransactionLedger,
    /// Only on the control core.
    pub control: Option<Control>,
    /// This core's client connections, by id, so other cores can write to them.
    connections: RefCell<HashMap<u64, Weak<Connection>>>,
    /// Set once shutdown begins: background tasks stop starting new work.
    closing: Cell<bool>,
    /// Notified when shutdown begins, and when this core has finished.
    pub stopping: Signal,
    stopped: Cell<bool>,
    /// What this core stored and served (GET_BROKER_RUNTIME_INFO).
    pub traffic: Traffic,
    /// Held pulls wait here for a message to arrive in their queue.
    arrivals: RefCell<HashMap<(String, i32), Rc<Signal>>>,
}

/// The tables every core reads: the ones that count on the control core, copies elsewhere.
pub struct Tables {
    pub topics: TopicTable,
    pub groups: GroupTable,
}

/// State that is not per queue, owned by the control core.
pub struct Control {
    pub clients: RefCell<ClientRegistry>,
    pub locks: RefCell<QueueLocks>,
    /// Wakes the registration task when topics change.
    pub topics_changed: Signal,
    /// Offsets deleted (of a group or a topic) since the offsets file was last written: it drops
    /// them after taking in the cores' progress.
    pub forgotten_offsets: RefCell<Vec<ForgottenOffsets>>,
    /// Start-up: how many other cores reported their shards open, and the first failure.
    pub opened: RefCell<(usize, Option<String>)>,
    pub opened_changed: Signal,
    /// One write of `topics.json` or `subscriptionGroup.json` at a time.
    table_turn: Semaphore,
    /// One UPDATE_BROKER_CONFIG at a time, from its check to every core having it.
    pub config_turn: Semaphore,
}

impl Control {
    pub fn new() -> Self {
        Self {
            clients: RefCell::new(ClientRegistry::default()),
            locks: RefCell::new(QueueLocks::default()),
            topics_changed: Signal::default(),
            forgotten_offsets: RefCell::new(Vec::new()),
            opened: RefCell::new((0, None)),
            opened_changed: Signal::default(),
            table_turn: Semaphore::new(1),
            config_turn: Semaphore::new(1),
        }
    }

    /// Writes a changed table's file on a blocking thread, one at a time, and returns once it
    /// is on disk: the change's request is answered after that, as Java's is, while the rest of
    /// the core goes on serving (the write fsyncs twice). The contents are taken when this
    /// write's turn comes, so the file ends with the newest table whichever write runs last. A
    /// failure is logged and leaves the table dirty: the next change writes it again, and so
    /// does shutdown.
    pub async fn write_table(
        &self,
        what: &str,
        take: impl FnOnce() -> Option<TableWrite>,
        mark_dirty: impl FnOnce(),
    ) {
        // The semaphore is never closed: the permit always comes, and is held to the end.
        let _turn = self.table_turn.acquire_permit(1).await;
        let Some(write) = take() else { return };
        if let Err(e) = write.run_off_core().await {
            log::error!("{e}; {what} is kept in memory and written again later");
            mark_dirty();
        }
    }
}

impl Default for Control {
    fn default() -> Self {
        Self::new()
    }
}

impl BrokerCore {
    pub fn new(
        config: BrokerConfig,
        meta: StoreMeta,
        mesh: Rc<Mesh>,
        shards: Vec<Option<Rc<Shard>>>,
        tables: Tables,
        offsets: ConsumerOffsets,
        delay_offsets: DelayOffsets,
    ) -> Self {
        let control = (mesh.id() == CONTROL_CORE).then(Control::new);
        Self {
            config: RefCell::new(Rc::new(config)),
            meta,
            mesh,
            shards,
            topics: RefCell::new(tables.topics),
            groups: RefCell::new(tables.groups),
            subscriptions: RefCell::new(HashMap::new()),
            offsets: RefCell::new(offsets),
            delay_offsets: RefCell::new(delay_offsets),
            transactions: TransactionLedger::new(),
            control,
            connections: RefCell::new(HashMap::new()),
            closing: Cell::new(false),
            stopping: Signal::default(),
            stopped: Cell::new(false),
            traffic: Traffic::new(),
            arrivals: RefCell::new(HashMap::new()),
        }
    }

    /// The settings in force now (a reference count, not a copy). What holds on to it keeps the
    /// version it got while an update replaces the core's.
    pub fn config(&self) -> Rc<BrokerConfig> {
        self.config.borrow().clone()
    }

    /// Puts new settings in force on this core (UPDATE_BROKER_CONFIG, on every core).
    pub fn replace_config(&self, config: BrokerConfig) {
        *self.config.borrow_mut() = Rc::new(config);
    }

    pub fn id(&self) -> CoreId {
        self.mesh.id()
    }

    /// The control state, or a refusal if a control request was routed elsewhere (a bug, never
    /// a client's mistake; it must not panic either).
    pub fn control(&self) -> Result<&Control, Refusal> {
        self.control.as_ref().ok_or_else(|| {
            Refusal::new(
                ResponseCode::SYSTEM_ERROR,
                format!("internal: control request reached core {}", self.id()),
            )
        })
    }

    /// The core that owns (topic, queue).
    pub fn owner_of_queue(&self, topic: &str, queue_id: i32) -> CoreId {
        self.meta.shard_of(topic, queue_id) as usize % self.mesh.cores()
    }

    /// The core that owns the shard a commit-log offset points into.
    pub fn owner_of_offset(&self, offset: CommitLogOffset) -> CoreId {
        offset.shard() as usize % self.mesh.cores()
    }

    /// The shard of (topic, queue) if this core owns it.
    pub fn local_shard(&self, topic: &str, queue_id: i32) -> Option<&Rc<Shard>> {
        self.shards
            .get(self.meta.shard_of(topic, queue_id) as usize)?
            .as_ref()
    }

    /// Like [`local_shard`](Self::local_shard), for handlers that run where the queue lives: a
    /// miss means a routing bug, answered as an internal error.
    pub fn shard_for(&self, topic: &str, queue_id: i32) -> Result<&Rc<Shard>, Refusal> {
        self.local_shard(topic, queue_id).ok_or_else(|| {
            Refusal::new(
                ResponseCode::SYSTEM_ERROR,
                format!(
                    "internal: queue {topic}:{queue_id} is not on core {}",
                    self.id()
                ),
            )
        })
    }

    /// The shards this core owns.
    pub fn owned_shards(&self) -> impl Iterator<Item = &Rc<Shard>> {
        self.shards.iter().flatten()
    }

    /// The shard owning a commit-log offset, if it is on this core.
    pub fn local_shard_of_offset(&self, offset: CommitLogOffset) -> Option<&Rc<Shard>> {
        self.shards.get(offset.shard() as usize)?.as_ref()
    }

    /// Runs `round` on this core every `interval` of its settings until the core closes or is
    /// gone. The interval is read again before each wait, so UPDATE_BROKER_CONFIG changes it.
    pub async fn every<F: std::future::Future<Output = ()>>(
        core: Weak<BrokerCore>,
        interval: impl Fn(&BrokerConfig) -> Duration,
        mut round: impl FnMut(Rc<BrokerCore>) -> F,
    ) {
        loop {
            let Some(wait) = core.upgrade().map(|c| interval(&c.config())) else {
                return;
            };
            glommio::timer::sleep(wait).await;
            let Some(c) = core.upgrade() else { return };
            if c.is_closing() {
                return;
            }
            round(c).await;
        }
    }

    pub fn is_closing(&self) -> bool {
        self.closing.get()
    }

    pub fn begin_closing(&self) {
        self.closing.set(true);
        self.stopping.notify();
    }

    /// Marks this core finished: its executor may end.
    pub fn mark_stopped(&self) {
        self.closing.set(true);
        self.stopped.set(true);
        self.stopping.notify();
    }

    pub async fn wait_closing(&self) {
        self.stopping.wait_until(|| self.closing.get()).await;
    }

    pub async fn wait_stopped(&self) {
        self.stopping.wait_until(|| self.stopped.get()).await;
    }

    pub fn connection_opened(&self, conn: &Rc<Connection>) {
        self.connections
            .borrow_mut()
            .insert(conn.id(), Rc::downgrade(conn));
    }

    pub fn connection_closed(&self, id: u64) {
        self.connections.borrow_mut().remove(&id);
    }

    /// One of this core's connections, if still open.
    pub fn connection(&self, id: u64) -> Option<Rc<Connection>> {
        self.connections.borrow().get(&id)?.upgrade()
    }

    /// Wakes pulls held on (topic, queue).
    pub fn message_arrived(&self, topic: &str, queue_id: i32) {
        if let Some(signal) = self.arrivals.borrow().get(&(topic.to_owned(), queue_id)) {
            signal.notify();
        }
    }

    /// Waits until a message may have arrived in (topic, queue) or `deadline` passes.
    pub async fn wait_for_arrival(&self, topic: &str, queue_id: i32, deadline: Instant) {
        let signal = self
            .arrivals
            .borrow_mut()
            .entry((topic.to_owned(), queue_id))
            .or_default()
            .clone();
        let remaining = deadline.saturating_duration_since(Instant::now());
        let woken = Cell::new(false);
        let notified = async {
            // The first poll registers; the next wake-up (or the timeout) ends the wait.
            signal
                .wait_until(|| {
                    let first = !woken.get();
                    woken.set(true);
                    !first
                })
                .await;
        };
        futures_lite::future::or(
            notified,
            glommio::timer::sleep(remaining.max(Duration::from_millis(1))),
        )
        .await;
    }
}
