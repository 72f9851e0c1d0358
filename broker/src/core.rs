//! The broker's state, as one executor owns it.
//!
//! For now every shard lives on the executor that serves the network (one core); the shard a
//! queue belongs to is still computed from the store's fixed shard count, so the move to one
//! executor per core changes who owns a shard, not where a queue's data lives.

use crate::clients::ClientRegistry;
use crate::config::BrokerConfig;
use crate::locks::QueueLocks;
use crate::offsets::ConsumerOffsets;
use crate::schedule::DelayOffsets;
use crate::topics::TopicTable;
use ringmq_storage::shard::Shard;
use ringmq_storage::signal::Signal;
use ringmq_storage::store::StoreMeta;
use ringmq_storage::CommitLogOffset;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::time::{Duration, Instant};

pub struct BrokerCore {
    pub config: BrokerConfig,
    pub meta: StoreMeta,
    /// Indexed by shard id.
    pub shards: Vec<Rc<Shard>>,
    pub topics: RefCell<TopicTable>,
    pub offsets: RefCell<ConsumerOffsets>,
    pub clients: RefCell<ClientRegistry>,
    pub locks: RefCell<QueueLocks>,
    /// How far each delay level has delivered.
    pub delay_offsets: RefCell<DelayOffsets>,
    /// Set once shutdown begins: background tasks stop starting new work.
    closing: std::cell::Cell<bool>,
    /// Held pulls wait here for a message to arrive in their queue.
    arrivals: RefCell<HashMap<(String, i32), Rc<Signal>>>,
    /// Wakes the registration task when topics change.
    pub topics_changed: Signal,
}

impl BrokerCore {
    pub fn new(
        config: BrokerConfig,
        meta: StoreMeta,
        shards: Vec<Rc<Shard>>,
        topics: TopicTable,
        offsets: ConsumerOffsets,
        delay_offsets: DelayOffsets,
    ) -> Self {
        Self {
            config,
            meta,
            shards,
            topics: RefCell::new(topics),
            offsets: RefCell::new(offsets),
            clients: RefCell::new(ClientRegistry::default()),
            locks: RefCell::new(QueueLocks::default()),
            delay_offsets: RefCell::new(delay_offsets),
            closing: std::cell::Cell::new(false),
            arrivals: RefCell::new(HashMap::new()),
            topics_changed: Signal::default(),
        }
    }

    /// The shard that owns (topic, queue).
    pub fn shard_for(&self, topic: &str, queue_id: i32) -> &Rc<Shard> {
        &self.shards[self.meta.shard_of(topic, queue_id) as usize]
    }

    /// Changes the topic table. The registration task wakes and re-registers if the change made
    /// a new data version (its wait checks the version, so an update that changed nothing costs
    /// a wake-up, not a registration).
    pub fn update_topics<R>(&self, change: impl FnOnce(&mut TopicTable) -> R) -> R {
        let result = change(&mut self.topics.borrow_mut());
        self.topics_changed.notify();
        result
    }

    pub fn is_closing(&self) -> bool {
        self.closing.get()
    }

    pub fn begin_closing(&self) {
        self.closing.set(true);
    }

    /// The whole stored record at a commit-log offset (an offset message id), if one starts
    /// there. Offsets come from clients: anything else is `None`, never a panic.
    pub async fn record_at(&self, offset: CommitLogOffset) -> Option<bytes::Bytes> {
        let shard = self.shards.get(offset.shard() as usize)?;
        shard.commit_log().record_at(offset).await.ok()
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
        let woken = std::cell::Cell::new(false);
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
