//! PULL_MESSAGE and LITE_PULL_MESSAGE (Java's `PullMessageProcessor`), with long polling.
//!
//! The lite pull consumer (Java 5.x `DefaultLitePullConsumer`) sends the same header under its
//! own code, so that a broker can switch it off (`litePullMessageEnable`); it is served alike.
//!
//! A pull that finds nothing new is held on its queue until a message arrives there (answered at
//! once) or its suspend timeout passes, so tailing consumers neither poll in a loop nor wait for
//! a timer. Filtering by tag happens on the consume queue's tag codes; the client checks the
//! exact tag, as with the Java broker.
//!
//! The body is the stored records as they are: records still in the tail cache go out by
//! reference to that memory, older ones as ranges of their segment file with `sendfile`, so no
//! message byte is copied in user space on the way to the consumer.

use super::{Refusal, FAQ_SUFFIX};
use crate::core::BrokerCore;
use crate::filter::{self, sql92::Selector, PullFilter, Subscription};
use crate::topics::PERM_READ;
use ringmq_protocol::header::pull::{
    forbidden_type, pull_sys_flag, PullMessageRequestHeader, PullMessageResponseHeader,
};
use ringmq_protocol::{RemotingCommand, RequestCode, ResponseCode};
use ringmq_remoting::{BodyPart, FileRegion, Reply};
use ringmq_storage::shard::{ReadResult, ReadStatus, RecordRef};
use ringmq_storage::QueueOffset;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Bytes one pull returns at most (Java's `maxTransferBytesOnMessageInMemory`, 256 KiB).
const MAX_PULL_BYTES: usize = 256 * 1024;
/// Consume-queue entries an SQL92 pull may look at per message it asks for: as many as a tag
/// read scans (the storage's bound), so the two kinds of filter cost alike.
const SQL_SCAN_PER_MESSAGE: usize = 16;
/// The response header field that says which permission refused a pull (5.x).
const FORBIDDEN_TYPE: &str = "forbiddenType";

/// NO_PERMISSION for a pull, saying which permission (`kind`, a [`forbidden_type`]) refused it.
fn forbidden(kind: i32, remark: String) -> Refusal {
    Refusal::new(ResponseCode::NO_PERMISSION, remark).with_field(FORBIDDEN_TYPE, kind)
}

pub async fn handle(core: &BrokerCore, req: &RemotingCommand) -> Result<Reply, Refusal> {
    let h: PullMessageRequestHeader = req.header()?;
    // One version of the settings for the whole request (UPDATE_BROKER_CONFIG may replace them).
    let config = core.config();
    super::broker_permits(&config, PERM_READ, "pulling")
        .map_err(|r| r.with_field(FORBIDDEN_TYPE, forbidden_type::BROKER))?;
    if req.request_code() == RequestCode::LITE_PULL_MESSAGE && !config.lite_pull_message_enable {
        return Err(forbidden(
            forbidden_type::BROKER,
            format!(
                "the broker[{}] for lite pull consumer is forbidden",
                config.broker_ip1
            ),
        ));
    }
    let known = core
        .groups
        .borrow()
        .get(&h.consumer_group)
        .map(|g| (g.consume_enable, g.consume_broadcast_enable));
    let (consume_enable, broadcast_enable) = match known {
        Some(flags) => flags,
        None => core
            .find_group(&h.consumer_group)
            .await?
            .map(|g| (g.consume_enable, g.consume_broadcast_enable))
            .ok_or_else(|| {
                Refusal::new(
                    ResponseCode::SUBSCRIPTION_GROUP_NOT_EXIST,
                    format!(
                        "subscription group [{}] does not exist, {FAQ_SUFFIX}",
                        h.consumer_group
                    ),
                )
            })?,
    };
    if !consume_enable {
        return Err(forbidden(
            forbidden_type::GROUP,
            format!("subscription group no permission, {}", h.consumer_group),
        ));
    }
    // As Java, judged by the group's heartbeats, which a pull without its own subscription
    // relies on (push consumers send none unless `postSubscriptionWhenPull`).
    let broadcasting = || {
        core.subscriptions
            .borrow()
            .get(&h.consumer_group)
            .is_some_and(|g| g.broadcasting)
    };
    if !broadcast_enable && !pull_sys_flag::has_subscription(h.sys_flag) && broadcasting() {
        return Err(forbidden(
            forbidden_type::BROADCASTING_DISABLED,
            format!(
                "the consumer group[{}] can not consume by broadcast way",
                h.consumer_group
            ),
        ));
    }
    let (read_queues, topic_perm) = match core.topics.borrow().get(&h.topic) {
        Some(t) => (t.read_queue_nums, t.perm),
        None => {
            return Err(Refusal::new(
                ResponseCode::TOPIC_NOT_EXIST,
                format!(
                    "topic[{}] not exist, apply first please!{FAQ_SUFFIX}",
                    h.topic
                ),
            ))
        }
    };
    if topic_perm & PERM_READ == 0 {
        return Err(forbidden(
            forbidden_type::TOPIC,
            format!("the topic[{}] pulling message is forbidden", h.topic),
        ));
    }
    if h.queue_id < 0 || h.queue_id >= read_queues {
        return Err(Refusal::new(
            ResponseCode::SYSTEM_ERROR,
            format!(
                "queueId[{}] is illegal, topic:[{}] topicConfig.readQueueNums:[{read_queues}] consumer:[{}]",
                h.queue_id, h.topic, h.consumer_group
            ),
        ));
    }
    let filter = pull_filter(core, &h, config.enable_property_filter)?;
    // Push consumers piggyback their consumed offset on the next pull.
    if pull_sys_flag::has_commit_offset(h.sys_flag) && h.commit_offset >= 0 {
        core.offsets
            .borrow_mut()
            .commit(&h.consumer_group, &h.topic, h.queue_id, h.commit_offset);
    }
    let max_msgs = h.max_msg_nums.clamp(1, 1024) as usize;
    let hold = if pull_sys_flag::has_suspend(h.sys_flag) {
        if config.long_polling_enable {
            Duration::from_millis(h.suspend_timeout_millis.clamp(0, 60_000) as u64)
        } else {
            config.short_polling_time_mills
        }
    } else {
        Duration::ZERO
    };
    let deadline = Instant::now() + hold;
    let shard = core.shard_for(&h.topic, h.queue_id)?.clone();
    loop {
        let from = QueueOffset(h.queue_offset);
        let read = |from, max_msgs, max_bytes| {
            shard.read(&h.topic, h.queue_id, from, max_msgs, max_bytes, |code| {
                filter.passes_tag_code(code)
            })
        };
        let mut r = read(from, max_msgs, MAX_PULL_BYTES)?;
        if let Some(selector) = filter.selector() {
            fill_with_selected(&mut r, from, max_msgs, selector, read).await?;
        }
        let (code, next) = match r.status {
            ReadStatus::Found => (ResponseCode::SUCCESS, r.next_offset),
            ReadStatus::NoMatchedMessage => (ResponseCode::PULL_RETRY_IMMEDIATELY, r.next_offset),
            ReadStatus::NoNewMessage | ReadStatus::NoMatchedLogicQueue if h.queue_offset != 0 => {
                (ResponseCode::PULL_OFFSET_MOVED, QueueOffset(0))
            }
            ReadStatus::NoNewMessage
            | ReadStatus::NoMatchedLogicQueue
            | ReadStatus::OffsetOverflowOne => {
                (ResponseCode::PULL_NOT_FOUND, QueueOffset(h.queue_offset))
            }
            ReadStatus::OffsetOverflowBadly => (ResponseCode::PULL_OFFSET_MOVED, r.max_offset),
            ReadStatus::OffsetTooSmall => (ResponseCode::PULL_OFFSET_MOVED, r.min_offset),
        };
        if code == ResponseCode::PULL_NOT_FOUND && Instant::now() < deadline {
            core.wait_for_arrival(&h.topic, h.queue_id, deadline).await;
            continue;
        }
        let found = if code == ResponseCode::SUCCESS {
            r.records.len()
        } else {
            0
        };
        core.traffic.pulled(found as u64);
        if found > 0 {
            let bytes = r.records.iter().map(RecordRef::len).sum::<usize>() as u64;
            let cluster = &config.broker_cluster_name;
            core.traffic
                .stats
                .got(cluster, &h.topic, &h.consumer_group, found as u64, bytes);
        }
        let body = r.records.into_iter().map(body_part).collect();
        let header = PullMessageResponseHeader {
            suggest_which_broker_id: 0,
            next_begin_offset: next.0,
            min_offset: r.min_offset.0,
            max_offset: r.max_offset.0,
            ..Default::default()
        };
        let response = RemotingCommand::response_to(req, code, Some(status_name(r.status).into()))
            .with_header(&header);
        return Ok(Reply::with_parts(response, body));
    }
}

/// A stored record as a piece of the response body, without copying it.
fn body_part(record: RecordRef) -> BodyPart {
    match record {
        RecordRef::Memory(bytes) => BodyPart::Memory(bytes),
        RecordRef::File { segment, pos, len } => {
            BodyPart::File(FileRegion::new(segment.sendable(), pos, len))
        }
    }
}

/// What the pull selects by. The expression comes with the pull when the subscription flag is
/// set, else from the group's last heartbeat (everything when there was none). SQL92 is served
/// only with `property_filter` (`enablePropertyFilter`).
fn pull_filter(
    core: &BrokerCore,
    h: &PullMessageRequestHeader,
    property_filter: bool,
) -> Result<Arc<PullFilter>, Refusal> {
    let own;
    let announced = core.subscriptions.borrow();
    let subscription = if pull_sys_flag::has_subscription(h.sys_flag) {
        own = Subscription::compile(
            h.subscription.as_deref().unwrap_or_default(),
            h.expression_type.as_deref(),
            h.sub_version,
        );
        &own
    } else {
        match announced
            .get(&h.consumer_group)
            .and_then(|g| g.subscriptions.get(&h.topic))
        {
            // The consumer pulls for a newer subscription than its heartbeats announced: as
            // Java, refuse rather than filter by the old one (the client pulls again shortly).
            Some(s) if s.sub_version < h.sub_version => {
                return Err(Refusal::new(
                    ResponseCode::SUBSCRIPTION_NOT_LATEST,
                    "the consumer's subscription not latest",
                ))
            }
            Some(s) => s,
            None => return Ok(Arc::new(PullFilter::All)),
        }
    };
    subscription.filter(property_filter).map_err(|e| {
        log::debug!(
            "group {}: subscription to {} not served: {e:?}",
            h.consumer_group,
            h.topic
        );
        e.into()
    })
}

/// Replaces the records of `r` (a read from `from`) with those `selector` selects, reading on
/// while fewer than `max_msgs` are selected, the queue has more, and no more entries have been
/// looked at than a tag read scans. A selective expression still fills a pull, as Java's scan
/// of the consume queue does, instead of costing the consumer a round trip per batch.
async fn fill_with_selected(
    r: &mut ReadResult,
    from: QueueOffset,
    max_msgs: usize,
    selector: &Selector,
    read: impl Fn(QueueOffset, usize, usize) -> ringmq_storage::Result<ReadResult>,
) -> Result<(), Refusal> {
    let scan_limit = (max_msgs * SQL_SCAN_PER_MESSAGE) as i64;
    let mut selected = select(std::mem::take(&mut r.records), selector).await?;
    while r.status == ReadStatus::Found || r.status == ReadStatus::NoMatchedMessage {
        let bytes: usize = selected.iter().map(RecordRef::len).sum();
        if selected.len() >= max_msgs
            || bytes >= MAX_PULL_BYTES
            || r.next_offset >= r.max_offset
            || r.next_offset.0 - from.0 >= scan_limit
        {
            break;
        }
        let more = read(
            r.next_offset,
            max_msgs - selected.len(),
            MAX_PULL_BYTES - bytes,
        )?;
        if more.status != ReadStatus::Found && more.status != ReadStatus::NoMatchedMessage {
            break;
        }
        selected.extend(select(more.records, selector).await?);
        r.next_offset = more.next_offset;
        r.max_offset = more.max_offset;
    }
    r.status = if selected.is_empty() {
        ReadStatus::NoMatchedMessage
    } else {
        ReadStatus::Found
    };
    r.records = selected;
    Ok(())
}

/// The records `selector` selects; file records are read for their properties.
async fn select(records: Vec<RecordRef>, selector: &Selector) -> Result<Vec<RecordRef>, Refusal> {
    let mut selected = Vec::with_capacity(records.len());
    for record in records {
        let keep = match &record {
            RecordRef::Memory(bytes) => filter::selects_record(selector, bytes),
            RecordRef::File { segment, pos, len } => {
                let bytes = segment.read(*pos, *len).await?;
                filter::selects_record(selector, &bytes)
            }
        };
        if keep {
            selected.push(record);
        }
    }
    Ok(selected)
}

/// Java puts the store's status name in the remark.
fn status_name(s: ReadStatus) -> &'static str {
    match s {
        ReadStatus::Found => "FOUND",
        ReadStatus::NoNewMessage => "NO_MESSAGE_IN_QUEUE",
        ReadStatus::OffsetOverflowOne => "OFFSET_OVERFLOW_ONE",
        ReadStatus::OffsetOverflowBadly => "OFFSET_OVERFLOW_BADLY",
        ReadStatus::OffsetTooSmall => "OFFSET_TOO_SMALL",
        ReadStatus::NoMatchedMessage => "NO_MATCHED_MESSAGE",
        ReadStatus::NoMatchedLogicQueue => "NO_MATCHED_LOGIC_QUEUE",
    }
}
