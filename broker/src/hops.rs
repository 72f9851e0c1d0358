//! What the broker's cores ask of each other, and how a core serves it.
//!
//! Who owns what (see [`crate::core`]): a queue's data, committed offsets and held pulls live on
//! the core that owns its shard; the topic table, client registry and queue locks live on the
//! control core, which keeps a copy of the topic table and of the groups' subscriptions on every
//! core. A request runs where its state is ([`crate::service`] routes it); when it needs
//! something owned elsewhere it asks for it here. The methods at the bottom are those asks,
//! written so callers need not know where the state is: each serves locally when it can.
//! The admin's views of the whole broker, gathered from every core, are in [`crate::survey`].
//!
//! Every message is a plain value (`Send`), never a closure or a reference into a core.

use crate::clients::{Announced, ClientAddr, ProducerWanted};
use crate::config::BrokerConfig;
use crate::core::BrokerCore;
use crate::groups::GroupChange;
use crate::handlers::reset_offset::{self, ResetPosition, ResetQuery};
use crate::handlers::Refusal;
use crate::mesh::{CoreId, Envelope, MeshError, CONTROL_CORE};
use crate::topics::{TopicChange, TopicTable, RETRY_GROUP_TOPIC_PREFIX};
use crate::traffic::TrafficReport;
use crate::transaction::{self, QueueRecords};
use bytes::Bytes;
use ringmq_protocol::body::{
    MessageQueue, OffsetWrapper, QueueTimeSpan, SubscriptionData, SubscriptionGroupConfig,
    TopicConfig, TopicStatsTable,
};
use ringmq_protocol::{RemotingCommand, ResponseCode};
use ringmq_remoting::Reply;
use ringmq_storage::shard::{MessageToStore, PutResult};
use ringmq_storage::{CommitLogOffset, QueueOffset, StorageError};
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;
use std::time::{Duration, Instant};

/// A request to another core, answered with an [`Answer`].
pub enum Ask {
    /// Serve a whole client request here: its queue or commit-log offset lives on this core,
    /// or it is control work. Answered with [`Answer::Response`].
    Request {
        request: RemotingCommand,
        client: ClientAddr,
    },
    /// Store messages in one queue of this core, in order. [`Answer::Stored`].
    Store {
        messages: Vec<MessageToStore>,
        max_wait: Option<Duration>,
    },
    /// The whole record at a commit-log offset of this core's shards. [`Answer::Record`].
    RecordAt(CommitLogOffset),
    /// To the control core: a topic a request needs, created if the rules allow.
    /// [`Answer::Topic`].
    EnsureTopic(TopicWanted),
    /// From the control core: apply these changes to your copy of the topic table.
    /// [`Answer::Done`] once applied.
    ApplyTopics(Vec<TopicChange>),
    /// To the control core: a subscription group a request needs, made with defaults if the
    /// rules allow ([`BrokerCore::find_group`]). [`Answer::Group`].
    EnsureGroup(String),
    /// From the control core: apply these changes to your copy of the subscription groups.
    /// [`Answer::Done`] once applied.
    ApplyGroups(Vec<GroupChange>),
    /// From the control core: a consumer group's subscriptions and model, as last announced.
    /// [`Answer::Done`] once applied.
    ApplySubscriptions { group: String, announced: Announced },
    /// From the control core: put these settings in force here (UPDATE_BROKER_CONFIG).
    /// [`Answer::Done`] once in force.
    ReplaceConfig(Box<BrokerConfig>),
    /// From the control core: forget every committed offset of a group (DELETE_SUBSCRIPTIONGROUP
    /// with `removeOffset`) or a topic (DELETE_TOPIC_IN_BROKER). [`Answer::Done`].
    ForgetOffsets(crate::offsets::ForgottenOffsets),
    /// From the control core: delete stored data on this core's shards (DELETE_TOPIC_IN_BROKER
    /// and the cleanups of [`crate::cleanup`]). [`Answer::Cleaned`].
    Clean(crate::cleanup::Cleanup),
    /// From the control core at start-up: your copies of the topic and group tables, and the
    /// port every core listens on. [`Answer::Started`] once listening.
    Start {
        topics: Vec<TopicChange>,
        groups: Vec<GroupChange>,
        port: u16,
    },
    /// Extent of this core's queues of a topic and its put rate here (GET_TOPIC_STATS_INFO).
    /// [`Answer::TopicStats`].
    TopicStats(String),
    /// Topics this core has committed offsets of a group on. [`Answer::Names`].
    TopicsOfGroup(String),
    /// This core's windows of one stats item (VIEW_BROKER_STATS_DATA).
    StatsView { name: String, key: String },
    /// Groups this core has committed offsets of on a topic. [`Answer::Names`].
    GroupsOfTopic(String),
    /// Copies a group's offsets on these topics to another group (CLONE_GROUP_OFFSET).
    CloneOffsets {
        src: String,
        dest: String,
        topics: Vec<String>,
    },
    /// A group's progress on this core's queues of some topics (GET_CONSUME_STATS).
    /// [`Answer::ConsumeStats`].
    ConsumeStats { group: String, topics: Vec<String> },
    /// To the control core: the subscription a consumer group's online members announced for
    /// a topic. [`Answer::Subscription`].
    SubscriptionOf { group: String, topic: String },
    /// How far in time a group has consumed this core's queues of a topic
    /// (QUERY_CONSUME_TIME_SPAN). [`Answer::TimeSpans`].
    ConsumeTimeSpans { group: String, topic: String },
    /// Where a group stands on this core's queues of a topic, and where a time is
    /// (INVOKE_BROKER_TO_RESET_OFFSET). [`Answer::ResetPositions`].
    ResetPositions(ResetQuery),
    /// Messages with a key, from this core's shards (QUERY_MESSAGE). [`Answer::Found`].
    Query(KeyQuery),
    /// Records of a queue from an offset (the transaction ledger reading its op queue).
    ReadQueue {
        topic: String,
        queue_id: i32,
        from: QueueOffset,
        max: usize,
    },
    /// A connected producer (control core): of a group, to check a transaction with, or by
    /// client id, to push a reply to.
    FindProducer(ProducerWanted),
    /// Sends a request to a client connected to the asked core and waits for its answer.
    CallClient {
        connection: u64,
        command: RemotingCommand,
        timeout: Duration,
    },
    /// This core's traffic counts (GET_BROKER_RUNTIME_INFO). [`Answer::Traffic`].
    Traffic,
    /// Committed offsets and delay progress held here, for the control core to write.
    /// [`Answer::Progress`].
    Progress,
    /// Shutdown: stop serving, make this core's shards durable, hand over the final progress.
    /// [`Answer::Closed`]; the core's executor ends after answering.
    Close,
}

pub enum Answer {
    Response(Option<Reply>),
    Stored(Result<Vec<PutResult>, HopError>),
    Record(Option<Bytes>),
    Topic(Result<TopicConfig, Refusal>),
    Group(Result<Option<SubscriptionGroupConfig>, Refusal>),
    Done,
    Started(Result<(), String>),
    TopicStats(Result<TopicStatsTable, HopError>),
    /// Topic or group names.
    Names(BTreeSet<String>),
    StatsView(Option<[crate::stats::Window; 3]>),
    ConsumeStats(Result<Vec<(MessageQueue, OffsetWrapper)>, HopError>),
    TimeSpans(Result<Vec<QueueTimeSpan>, HopError>),
    Subscription(Option<SubscriptionData>),
    ResetPositions(Result<Vec<ResetPosition>, HopError>),
    Found(Result<Vec<Bytes>, HopError>),
    Records(Result<QueueRecords, HopError>),
    Producer(Option<ClientAddr>),
    ClientAnswered(Option<RemotingCommand>),
    Progress(Progress),
    Traffic(TrafficReport),
    Closed(Result<Progress, String>),
    /// How many queues (or segments) were deleted.
    Cleaned(Result<usize, HopError>),
}

/// A message that needs no answer.
pub enum Tell {
    /// To a connection's core: write `command` on connection `connection` (a notification to a
    /// client registered on the control core).
    Deliver {
        connection: u64,
        command: RemotingCommand,
    },
    /// To the control core: a client connection is gone.
    ConnectionClosed(ClientAddr),
    /// To the control core at start-up: this core opened its shards, or why it could not.
    Opened(Result<(), String>),
}

/// What a request needs from the topic table, for [`BrokerCore::ensure_topic`].
#[derive(Debug, Clone)]
pub enum TopicWanted {
    /// The send path: the topic, or one auto-created from `default_topic` the way the Java
    /// producer expects (a `%RETRY%` topic is made as a retry topic).
    ForSend {
        topic: String,
        default_topic: String,
        queue_nums: i32,
    },
    /// A consumer group's retry topic.
    Retry { group: String, queue_nums: i32 },
    /// A consumer group's dead-letter topic.
    Dlq { group: String },
    /// A topic the broker writes itself (the transaction topics), one queue, readable and
    /// writable, made on first use as Java makes it.
    Internal(String),
}

/// QUERY_MESSAGE's search, run on every core.
#[derive(Debug, Clone)]
pub struct KeyQuery {
    pub topic: String,
    pub key: String,
    pub max: usize,
    pub begin: i64,
    pub end: i64,
}

/// Progress a core holds that the control core writes to disk.
#[derive(Debug, Default)]
pub struct Progress {
    /// `topic@group` -> queue -> committed offset.
    pub offsets: BTreeMap<String, BTreeMap<i32, i64>>,
    /// Delay level -> next schedule-queue offset.
    pub delays: BTreeMap<i32, i64>,
}

#[derive(Debug, thiserror::Error)]
pub enum HopError {
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error(transparent)]
    Mesh(#[from] MeshError),
    /// A routing bug: the state asked for is not on the core that was asked.
    #[error("internal: {0} is not on core {1}")]
    NotHere(String, CoreId),
}

impl From<HopError> for Refusal {
    fn from(e: HopError) -> Self {
        match e {
            HopError::Storage(e) => e.into(),
            other => Refusal::new(ResponseCode::SYSTEM_ERROR, other.to_string()),
        }
    }
}

impl From<MeshError> for Refusal {
    fn from(e: MeshError) -> Self {
        Refusal::new(ResponseCode::SYSTEM_ERROR, e.to_string())
    }
}

/// Serves what arrived from core `from`. Tells and topic changes are applied at once, in
/// arrival order; anything that waits runs as its own task and answers when done.
pub fn serve(core: &Rc<BrokerCore>, from: CoreId, envelope: Envelope) {
    match envelope {
        Envelope::Answer { .. } => {} // the mesh completes answers itself
        Envelope::Tell(tell) => serve_tell(core, tell),
        Envelope::Ask { token, ask } => {
            // Changes to the copy of the topic table must land before anything read after them.
            let ask = match ask {
                Ask::ApplyTopics(changes) => {
                    apply_topics(core, changes);
                    reply(core, from, token, async { Answer::Done });
                    return;
                }
                Ask::ApplyGroups(changes) => {
                    core.apply_groups(changes);
                    reply(core, from, token, async { Answer::Done });
                    return;
                }
                Ask::ApplySubscriptions { group, announced } => {
                    core.subscriptions.borrow_mut().insert(group, announced);
                    reply(core, from, token, async { Answer::Done });
                    return;
                }
                Ask::ReplaceConfig(config) => {
                    core.replace_config(*config);
                    reply(core, from, token, async { Answer::Done });
                    return;
                }
                Ask::Start {
                    topics,
                    groups,
                    port,
                } => {
                    apply_topics(core, topics);
                    core.apply_groups(groups);
                    let c = core.clone();
                    reply(core, from, token, async move {
                        Answer::Started(
                            crate::server::start_serving(&c, port)
                                .map(|_| ())
                                .map_err(|e| e.to_string()),
                        )
                    });
                    return;
                }
                other => other,
            };
            let c = core.clone();
            reply(core, from, token, async move { serve_ask(&c, ask).await });
        }
    }
}

fn reply(
    core: &Rc<BrokerCore>,
    to: CoreId,
    token: u64,
    answer: impl std::future::Future<Output = Answer> + 'static,
) {
    let mesh = core.mesh.clone();
    glommio::spawn_local(async move {
        let answer = answer.await;
        mesh.answer(to, token, answer).await;
    })
    .detach();
}

fn apply_topics(core: &BrokerCore, changes: Vec<TopicChange>) {
    core.traffic.stats.forget_deleted_topics(&changes);
    let mut topics = core.topics.borrow_mut();
    for change in changes {
        topics.apply(change);
    }
}

async fn serve_ask(core: &Rc<BrokerCore>, ask: Ask) -> Answer {
    match ask {
        Ask::Request { request, client } => {
            Answer::Response(crate::service::handle_here(core, client, request).await)
        }
        Ask::Store { messages, max_wait } => {
            Answer::Stored(core.store_here(messages, max_wait).await)
        }
        Ask::RecordAt(offset) => Answer::Record(core.record_here(offset).await),
        Ask::EnsureTopic(wanted) => Answer::Topic(core.ensure_topic(wanted).await),
        Ask::EnsureGroup(group) => Answer::Group(core.find_group(&group).await),
        Ask::ForgetOffsets(what) => {
            core.offsets.borrow_mut().forget(&what);
            Answer::Done
        }
        Ask::Clean(what) => Answer::Cleaned(core.clean_here(&what).await),
        Ask::TopicStats(topic) => Answer::TopicStats(core.topic_stats_here(&topic).await),
        Ask::TopicsOfGroup(group) => Answer::Names(core.offsets.borrow().topics_of_group(&group)),
        Ask::StatsView { name, key } => Answer::StatsView(core.traffic.stats.view(&name, &key)),
        Ask::GroupsOfTopic(topic) => Answer::Names(core.offsets.borrow().groups_of_topic(&topic)),
        Ask::CloneOffsets { src, dest, topics } => {
            let mut offsets = core.offsets.borrow_mut();
            for topic in &topics {
                offsets.clone_offsets(&src, &dest, topic);
            }
            Answer::Done
        }
        Ask::ConsumeStats { group, topics } => {
            Answer::ConsumeStats(core.consume_stats_here(&group, &topics).await)
        }
        Ask::SubscriptionOf { group, topic } => {
            Answer::Subscription(core.subscription_of(&group, &topic).await)
        }
        Ask::ConsumeTimeSpans { group, topic } => {
            Answer::TimeSpans(core.consume_time_spans_here(&group, &topic).await)
        }
        Ask::ResetPositions(q) => {
            Answer::ResetPositions(reset_offset::positions_here(core, &q).await)
        }
        Ask::Query(q) => Answer::Found(core.query_here(&q).await),
        Ask::ReadQueue {
            topic,
            queue_id,
            from,
            max,
        } => Answer::Records(transaction::read_queue_here(core, &topic, queue_id, from, max).await),
        Ask::FindProducer(wanted) => Answer::Producer(core.find_producer_here(&wanted)),
        Ask::CallClient {
            connection,
            command,
            timeout,
        } => Answer::ClientAnswered(core.call_client_here(connection, command, timeout).await),
        Ask::Progress => Answer::Progress(core.progress()),
        Ask::Traffic => Answer::Traffic(core.traffic_here().await),
        Ask::Close => {
            let closed = crate::server::close_core(core).await;
            // Answer first; the executor ends once this core is marked stopped.
            let c = core.clone();
            glommio::spawn_local(async move {
                glommio::timer::sleep(Duration::from_millis(10)).await;
                c.mark_stopped();
            })
            .detach();
            Answer::Closed(closed.map_err(|e| e.to_string()))
        }
        // Served in `serve`, before anything that arrives after them.
        Ask::ApplyTopics(_)
        | Ask::ApplyGroups(_)
        | Ask::ApplySubscriptions { .. }
        | Ask::ReplaceConfig(_)
        | Ask::Start { .. } => Answer::Done,
    }
}

fn serve_tell(core: &Rc<BrokerCore>, tell: Tell) {
    match tell {
        Tell::Deliver {
            connection,
            command,
        } => {
            if let Some(conn) = core.connection(connection) {
                conn.send(&command);
            }
        }
        Tell::ConnectionClosed(addr) => {
            let c = core.clone();
            glommio::spawn_local(async move { c.client_gone(addr).await }).detach();
        }
        Tell::Opened(result) => {
            if let Some(control) = &core.control {
                let mut opened = control.opened.borrow_mut();
                opened.0 += 1;
                if let Err(why) = result {
                    opened.1.get_or_insert(why);
                }
                drop(opened);
                control.opened_changed.notify();
            }
        }
    }
}

/// Asks whose answer is not of the kind expected.
pub(crate) fn wrong(core: CoreId) -> MeshError {
    MeshError::WrongAnswer(core)
}

// Owner-aware operations: local when this core owns the state, an ask otherwise.
impl BrokerCore {
    /// Stores messages in one queue (all of `messages` name the same one), wherever it lives,
    /// and wakes the pulls held on it.
    pub async fn store(
        &self,
        messages: Vec<MessageToStore>,
        max_wait: Option<Duration>,
    ) -> Result<Vec<PutResult>, HopError> {
        let Some(first) = messages.first() else {
            return Ok(Vec::new());
        };
        let owner = self.owner_of_queue(&first.topic, first.queue_id);
        if owner == self.id() {
            return self.store_here(messages, max_wait).await;
        }
        match self
            .mesh
            .ask(owner, Ask::Store { messages, max_wait })
            .await?
        {
            Answer::Stored(stored) => stored,
            _ => Err(wrong(owner).into()),
        }
    }

    async fn store_here(
        &self,
        messages: Vec<MessageToStore>,
        max_wait: Option<Duration>,
    ) -> Result<Vec<PutResult>, HopError> {
        let Some(first) = messages.first() else {
            return Ok(Vec::new());
        };
        let (topic, queue_id) = (first.topic.clone(), first.queue_id);
        let shard = self
            .local_shard(&topic, queue_id)
            .cloned()
            .ok_or_else(|| HopError::NotHere(format!("queue {topic}:{queue_id}"), self.id()))?;
        let began = Instant::now();
        let mut stored = Vec::with_capacity(messages.len());
        let mut failed = None;
        for msg in messages {
            match shard.put_within(msg, max_wait).await {
                Ok(put) => stored.push(put),
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            }
        }
        if !stored.is_empty() {
            self.message_arrived(&topic, queue_id);
            let bytes = stored.iter().map(|p| u64::from(p.size)).sum();
            self.traffic
                .stored(&topic, stored.len() as u64, bytes, began.elapsed());
            let cluster = &self.config().broker_cluster_name;
            self.traffic
                .stats
                .put(cluster, &topic, stored.len() as u64, bytes);
        }
        if failed.is_some() {
            self.traffic.store_failed();
        }
        match failed {
            Some(e) => Err(e.into()),
            None => Ok(stored),
        }
    }

    /// The whole stored record at a commit-log offset (an offset message id), if one starts
    /// there. Offsets come from clients: anything else is `None`, never a panic.
    pub async fn record_at(&self, offset: CommitLogOffset) -> Option<Bytes> {
        let owner = self.owner_of_offset(offset);
        if owner == self.id() {
            return self.record_here(offset).await;
        }
        match self.mesh.ask(owner, Ask::RecordAt(offset)).await {
            Ok(Answer::Record(record)) => record,
            _ => None,
        }
    }

    async fn record_here(&self, offset: CommitLogOffset) -> Option<Bytes> {
        let shard = self.local_shard_of_offset(offset)?;
        shard.commit_log().record_at(offset).await.ok()
    }

    /// The topic a request needs, made by the control core if it is missing and the rules
    /// allow. Once this returns, every core's copy of the table has the topic.
    pub async fn ensure_topic(&self, wanted: TopicWanted) -> Result<TopicConfig, Refusal> {
        let name = match &wanted {
            TopicWanted::ForSend { topic, .. } => topic.clone(),
            TopicWanted::Retry { group, .. } => crate::topics::retry_topic(group),
            TopicWanted::Dlq { group } => crate::topics::dlq_topic(group),
            TopicWanted::Internal(topic) => topic.clone(),
        };
        if let Some(config) = self.topics.borrow().get(&name) {
            return Ok(config.clone());
        }
        if self.control.is_none() {
            return match self
                .mesh
                .ask(CONTROL_CORE, Ask::EnsureTopic(wanted))
                .await?
            {
                Answer::Topic(result) => result,
                _ => Err(wrong(CONTROL_CORE).into()),
            };
        }
        let topic_error =
            |e: crate::topics::TopicError| Refusal::new(e.response_code(), e.to_string());
        self.change_topics(|t| match wanted {
            TopicWanted::ForSend {
                topic,
                default_topic,
                queue_nums,
            } => match topic.strip_prefix(RETRY_GROUP_TOPIC_PREFIX) {
                Some(group) => Ok(t.create_retry_topic(group, 1, 0).config().clone()),
                None => t
                    .auto_create_for_send(&topic, &default_topic, queue_nums, 0)
                    .map(|e| e.config().clone())
                    .map_err(topic_error),
            },
            TopicWanted::Retry { group, queue_nums } => {
                Ok(t.create_retry_topic(&group, queue_nums, 0).config().clone())
            }
            TopicWanted::Dlq { group } => Ok(t.create_dlq_topic(&group).config().clone()),
            TopicWanted::Internal(topic) => Ok(t.create_internal_topic(&topic).config().clone()),
        })
        .await?
    }

    /// Changes the topic table (control core only), then brings every core's copy up to date,
    /// wakes the registration task, and writes `topics.json` before returning.
    pub async fn change_topics<R>(
        &self,
        change: impl FnOnce(&mut TopicTable) -> R,
    ) -> Result<R, Refusal> {
        let control = self.control()?;
        let (result, changes) = {
            let mut topics = self.topics.borrow_mut();
            let result = change(&mut topics);
            (result, topics.take_changes())
        };
        if !changes.is_empty() {
            self.traffic.stats.forget_deleted_topics(&changes);
            self.update_copies("topic", || Ask::ApplyTopics(changes.clone()))
                .await;
            control.topics_changed.notify();
            control
                .write_table(
                    "the topic table",
                    || self.topics.borrow_mut().take_write(),
                    || self.topics.borrow_mut().mark_dirty(),
                )
                .await;
        }
        Ok(result)
    }

    /// Hands a change of a replicated table to every other core and waits until each applied
    /// it (or is gone: a failure is logged, the change stands on the control core).
    pub async fn update_copies(&self, table: &str, ask: impl Fn() -> Ask) {
        for (core, answer) in self.mesh.ask_all(ask).await {
            if let Err(e) = answer {
                log::warn!("{table} change not applied on core {core}: {e}");
            }
        }
    }

    /// The progress this core holds, for the control core to write.
    pub fn progress(&self) -> Progress {
        Progress {
            offsets: self.offsets.borrow().table().clone(),
            delays: self.delay_offsets.borrow().table().clone(),
        }
    }

    /// Every core's progress; a core that cannot answer is skipped (its last written progress
    /// stays on disk).
    pub async fn all_progress(&self) -> Vec<Progress> {
        let mut all = vec![self.progress()];
        for (core, answer) in self.mesh.ask_all(|| Ask::Progress).await {
            match answer {
                Ok(Answer::Progress(p)) => all.push(p),
                Ok(_) => log::warn!("{}", wrong(core)),
                Err(e) => log::warn!("no progress from core {core}: {e}"),
            }
        }
        all
    }

    pub fn message_queue(&self, topic: &str, queue_id: i32) -> MessageQueue {
        MessageQueue {
            topic: topic.to_owned(),
            broker_name: self.config().broker_name.clone(),
            queue_id,
        }
    }
}
