//! END_TRANSACTION (Java's `EndTransactionProcessor`): a producer commits or rolls back the half
//! message it sent, after its local transaction or in answer to a check (see
//! [`crate::transaction`]). Served on the core that owns the half queue. And
//! RESUME_CHECK_HALF_MESSAGE (`mqadmin resumeCheckHalfMessage`): a half that was given up is
//! checked again.
//!
//! Stock clients send it oneway, so the answer matters only to other callers; Java's refusals
//! are kept for them. Where Java answers nothing (an end that leaves the transaction open), we
//! answer SUCCESS with a remark saying so: a caller waiting for an answer would otherwise hang.

use super::{Handled, Refusal};
use crate::core::BrokerCore;
use crate::schedule;
use crate::topics::{TRANS_HALF_TOPIC, TRANS_OP_HALF_TOPIC};
use crate::transaction::{self, HALF_QUEUE};
use ringmq_protocol::header::transaction::{
    EndTransactionRequestHeader, ResumeCheckHalfMessageRequestHeader, TRANSACTION_COMMIT_TYPE,
    TRANSACTION_ROLLBACK_TYPE,
};
use ringmq_protocol::message::properties::{self, Properties};
use ringmq_protocol::message::{sys_flag, MessageId, StoredMessage};
use ringmq_protocol::{RemotingCommand, ResponseCode};
use ringmq_storage::shard::MessageToStore;
use ringmq_storage::CommitLogOffset;

pub async fn end(core: &BrokerCore, req: &RemotingCommand) -> Handled {
    let h: EndTransactionRequestHeader = req.header()?;
    let commit = match h.commit_or_rollback {
        TRANSACTION_COMMIT_TYPE => true,
        TRANSACTION_ROLLBACK_TYPE => false,
        other => {
            log::debug!(
                "END_TRANSACTION of group {} leaves half {} open (state {other})",
                h.producer_group,
                h.commit_log_offset
            );
            return Ok(RemotingCommand::response_to(
                req,
                ResponseCode::SUCCESS,
                Some("the transaction stays open; the broker will check its state later".into()),
            ));
        }
    };
    let ledger = &core.transactions;
    ledger.ensure_loaded(core).await?;
    let half = prepared_message(core, &h).await?;
    if !ledger.begin_end(h.tran_state_table_offset) {
        // Ended, or ending: a repeated END_TRANSACTION for the same half changes nothing.
        return Ok(super::ok(req));
    }
    match carry_out(core, &h, half, commit).await {
        Ok(op) => {
            ledger.finish_end(h.tran_state_table_offset, &op);
            Ok(super::ok(req))
        }
        Err(refusal) => {
            ledger.abandon_end(h.tran_state_table_offset);
            Err(refusal)
        }
    }
}

/// The half message the header names, checked the way Java checks it.
async fn prepared_message(
    core: &BrokerCore,
    h: &EndTransactionRequestHeader,
) -> Result<StoredMessage, Refusal> {
    let not_found = || {
        Refusal::new(
            ResponseCode::SYSTEM_ERROR,
            "Find prepared transaction message failed",
        )
    };
    let record = core
        .record_at(CommitLogOffset(h.commit_log_offset))
        .await
        .ok_or_else(not_found)?;
    let (half, _) = StoredMessage::decode(&record).map_err(|_| not_found())?;
    // Java does not look at the topic; we do, or any stored message could be "committed" again.
    if half.topic != TRANS_HALF_TOPIC || half.queue_id != HALF_QUEUE {
        return Err(not_found());
    }
    let wrong = |what: &str| Refusal::new(ResponseCode::SYSTEM_ERROR, what);
    let props = Properties::parse(&half.properties);
    if props.get(properties::PRODUCER_GROUP) != Some(h.producer_group.as_str()) {
        return Err(wrong("The producer group wrong"));
    }
    if half.queue_offset != h.tran_state_table_offset {
        return Err(wrong("The transaction state table offset wrong"));
    }
    if half.commit_log_offset != h.commit_log_offset {
        return Err(wrong("The commit log offset wrong"));
    }
    Ok(half)
}

/// Stores the real message (on commit), then the op message that ends the half. Returns where
/// the op message went.
async fn carry_out(
    core: &BrokerCore,
    h: &EndTransactionRequestHeader,
    half: StoredMessage,
    commit: bool,
) -> Result<ringmq_storage::shard::PutResult, Refusal> {
    if commit {
        let real = real_message(core, half, h.commit_log_offset)?;
        core.store(vec![real], None).await?;
    }
    transaction::ensure_topic(core, TRANS_OP_HALF_TOPIC).await?;
    let mut op = core
        .store(
            vec![transaction::end_marker(core, h.tran_state_table_offset)],
            None,
        )
        .await?;
    op.pop().ok_or_else(|| {
        Refusal::new(
            ResponseCode::SYSTEM_ERROR,
            "the end of the transaction was not stored",
        )
    })
}

/// The committed message, as Java's `endMessageTransaction` makes it: back in its real topic and
/// queue, marked committed, without the half's own properties. A delay the producer asked for
/// starts now.
fn real_message(
    core: &BrokerCore,
    half: StoredMessage,
    half_offset: i64,
) -> Result<MessageToStore, Refusal> {
    let mut props = Properties::parse(&half.properties);
    let topic = props.remove(properties::REAL_TOPIC);
    let queue = props
        .remove(properties::REAL_QUEUE_ID)
        .and_then(|q| q.trim().parse::<i32>().ok());
    let (Some(topic), Some(queue)) = (topic, queue) else {
        return Err(Refusal::new(
            ResponseCode::SYSTEM_ERROR,
            "the half message names no real topic and queue",
        ));
    };
    props.remove(properties::TRANSACTION_PREPARED);
    let level = schedule::requested_level(&props).unwrap_or(0);
    let (topic, queue) = if level > 0 {
        schedule::redirect_to_schedule(
            &core.config().message_delay_level,
            level,
            &topic,
            queue,
            &mut props,
        )
    } else {
        (topic, queue)
    };
    let sys_flag = sys_flag::with_transaction_type(half.sys_flag, TRANSACTION_COMMIT_TYPE);
    let reconsume_times = half.reconsume_times;
    Ok(MessageToStore {
        sys_flag,
        prepared_transaction_offset: half_offset,
        ..schedule::stored_again(half, &topic, queue, &props, reconsume_times)
    })
}

/// RESUME_CHECK_HALF_MESSAGE (Java's `AdminBrokerProcessor.resumeCheckHalfMessage`): the message
/// at the offset msgId (a half given up in `TRANS_CHECK_MAX_TIME_TOPIC`, usually) goes back into
/// the half queue with its check count at zero, so its producer is asked again.
pub async fn resume_check(core: &BrokerCore, req: &RemotingCommand) -> Handled {
    let h: ResumeCheckHalfMessageRequestHeader = req.header()?;
    // Java's remark, with what went wrong.
    let failed = |why: String| {
        Refusal::new(
            ResponseCode::SYSTEM_ERROR,
            format!(
                "Exception was thrown when putting message back to RMQ_SYS_TRANS_HALF_TOPIC: {why}"
            ),
        )
    };
    let msg_id = h.msg_id.unwrap_or_default();
    let id: MessageId = msg_id
        .parse()
        .map_err(|_| failed(format!("`{msg_id}` is not an offset message id")))?;
    let record = core
        .record_at(CommitLogOffset(id.commit_log_offset))
        .await
        .ok_or_else(|| failed(format!("no message has the id {msg_id}")))?;
    let (msg, _) = StoredMessage::decode(&record).map_err(|e| failed(e.to_string()))?;
    let mut props = Properties::parse(&msg.properties);
    props.insert(properties::TRANSACTION_CHECK_TIMES, "0");
    transaction::ensure_topic(core, TRANS_HALF_TOPIC).await?;
    let reconsume_times = msg.reconsume_times;
    let again = schedule::stored_again(msg, TRANS_HALF_TOPIC, HALF_QUEUE, &props, reconsume_times);
    core.store(vec![again], None).await.map_err(|e| {
        Refusal::new(
            ResponseCode::SYSTEM_ERROR,
            format!("Put message back to RMQ_SYS_TRANS_HALF_TOPIC failed: {e}"),
        )
    })?;
    Ok(super::ok(req))
}
