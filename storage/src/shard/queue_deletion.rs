//! Deleting consume queues: a deleted topic's (DELETE_TOPIC_IN_BROKER), those of topics the
//! broker no longer has (CLEAN_UNUSED_TOPIC), and those whose every record retention already
//! deleted (CLEAN_EXPIRED_CONSUMEQUEUE).
//!
//! Java destroys the queues and leaves the records in the commit log, where retention removes
//! them with their segments. We do the same, and make the deletion stick across a crash:
//! recovery rebuilds queues from the log past the checkpoint, so the log is made durable up to
//! the deletion and a checkpoint is written after the directories are gone. Otherwise a restart
//! would bring the deleted queues back, and a topic created again under the same name would
//! start at the old offsets with the old messages.

use super::{QueueKey, Shard};
use crate::consume_queue::ConsumeQueue;
use crate::error::{Result, StorageError};
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::rc::Rc;

impl Shard {
    /// The topics with queues on this shard.
    pub fn topics(&self) -> BTreeSet<String> {
        self.queues.borrow().topics().map(str::to_owned).collect()
    }

    /// Deletes every queue of `topic` on this shard. Returns how many there were. Puts to the
    /// topic made afterwards start new queues at offset 0.
    pub async fn delete_topic(&self, topic: &str) -> Result<usize> {
        self.delete_queues(|t, _| t == topic).await
    }

    /// Deletes the queues of the topics `doomed` picks. Returns how many queues went.
    pub async fn delete_topics(&self, doomed: impl Fn(&str) -> bool) -> Result<usize> {
        self.delete_queues(|t, _| doomed(t)).await
    }

    /// Deletes the queues whose last record lies before the oldest commit-log segment (so every
    /// record they point at is gone), except those of topics `spared`. A queue with no entries
    /// yet is kept. Returns how many went. A queue deleted here starts again at offset 0.
    pub async fn delete_expired_queues(&self, spared: impl Fn(&str) -> bool) -> Result<usize> {
        let log_start = self.commit_log.min_offset();
        self.delete_queues(|t, cq| {
            !spared(t)
                && cq
                    .last_entry_end()
                    .is_some_and(|end| end.shard() == log_start.shard() && end <= log_start)
        })
        .await
    }

    async fn delete_queues(&self, doomed: impl Fn(&str, &ConsumeQueue) -> bool) -> Result<usize> {
        let keys: Vec<QueueKey> = {
            let mut queues = self.queues.borrow_mut();
            let keys: Vec<QueueKey> = queues
                .iter()
                .filter(|(t, _, cq)| doomed(t, cq))
                .map(|(t, q, _)| (Rc::clone(t), q))
                .collect();
            // Dropping a queue closes its files, which is cheap; only the removal goes off the
            // core.
            for (topic, queue_id) in &keys {
                queues.remove(topic, *queue_id);
            }
            keys
        };
        if keys.is_empty() {
            return Ok(0);
        }
        // Records of these queues that are not yet durable would be dispatched again by a
        // recovery that starts before them.
        self.commit_log.flush().await?;
        {
            // Checkpoints flush queues, and the first flush of a queue made after this deletion
            // makes its directory: none may run while the old one is being removed.
            let _turn = self.checkpoint_turn.acquire_permit(1).await;
            let root = self.dir.join("consumequeue");
            let dirs: Vec<(PathBuf, PathBuf)> = keys
                .iter()
                .map(|(t, q)| (root.join(&**t), super::queue_dir(&root, t, *q)))
                .collect();
            glommio::executor()
                .spawn_blocking(move || remove_queue_dirs(&dirs))
                .await?;
            // The removal must reach the disk before the checkpoint that relies on it.
            self.sync_off_core().await?;
        }
        self.write_checkpoint(false).await?;
        log::info!(
            "shard {}: deleted {} consume queue(s): {:?}",
            self.id,
            keys.len(),
            keys
        );
        Ok(keys.len())
    }
}

/// Removes each queue's directory, then its topic's if that is left empty.
fn remove_queue_dirs(dirs: &[(PathBuf, PathBuf)]) -> Result<()> {
    for (_, queue) in dirs {
        match std::fs::remove_dir_all(queue) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(StorageError::io(queue, e))
            }
            _ => {}
        }
    }
    for (topic, _) in dirs {
        // Another queue of the topic may remain; then the directory stays.
        let _ = std::fs::remove_dir(topic);
    }
    Ok(())
}
