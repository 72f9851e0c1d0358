//! Deleting stored data on the admin's request, on every core:
//!
//! | request | what goes |
//! |---|---|
//! | DELETE_TOPIC_IN_BROKER | the topic's consume queues and every group's offsets on it (Java 5.x's `deleteTopicInBroker`: the store's `deleteTopics` and `cleanOffsetByTopic`) |
//! | CLEAN_UNUSED_TOPIC (`mqadmin cleanUnusedTopic`) | the queues of topics the broker has no config for, system topics aside |
//! | CLEAN_EXPIRED_CONSUMEQUEUE (`mqadmin cleanExpiredCQ`) | queues whose every record retention already deleted, system topics aside |
//! | DELETE_EXPIRED_COMMITLOG (`mqadmin deleteExpiredCommitLog`) | expired commit-log segments, now rather than at `deleteWhen` |
//!
//! Without the first, a topic created again under the same name would show its old messages,
//! and its consumers would resume from offsets of the old queues. Records stay in the commit
//! log until retention deletes their segment, as in Java; the index still finds them by key.
//! Like Java, the two cleanups leave offsets alone.

use crate::core::BrokerCore;
use crate::handlers::Refusal;
use crate::hops::{Answer, Ask, HopError};
use crate::offsets::ForgottenOffsets;
use ringmq_protocol::ResponseCode;
use std::time::SystemTime;

/// What to delete.
#[derive(Debug, Clone)]
pub enum Cleanup {
    Topic(String),
    UnusedTopics,
    ExpiredQueues,
    ExpiredSegments,
}

impl BrokerCore {
    /// Deletes what `what` names on every core (control core only); returns how many queues
    /// (segments, for [`Cleanup::ExpiredSegments`]) went. A deleted topic's offsets go too.
    pub async fn clean(&self, what: Cleanup) -> Result<usize, Refusal> {
        self.control()?;
        let failed = |core: usize, e: String| {
            Refusal::new(
                ResponseCode::SYSTEM_ERROR,
                format!("{what:?} was not done on core {core}: {e}"),
            )
        };
        let mut count = self
            .clean_here(&what)
            .await
            .map_err(|e| failed(self.id(), e.to_string()))?;
        for (core, answer) in self.mesh.ask_all(|| Ask::Clean(what.clone())).await {
            match answer {
                Ok(Answer::Cleaned(Ok(n))) => count += n,
                Ok(Answer::Cleaned(Err(e))) => return Err(failed(core, e.to_string())),
                Ok(_) => return Err(failed(core, "unexpected answer".into())),
                Err(e) => return Err(failed(core, e.to_string())),
            }
        }
        if let Cleanup::Topic(topic) = &what {
            self.forget_offsets(ForgottenOffsets::OfTopic(topic.clone()))
                .await?;
        }
        log::info!("{what:?}: {count} deleted");
        Ok(count)
    }

    /// This core's part of [`clean`](Self::clean), on the shards it owns.
    pub(crate) async fn clean_here(&self, what: &Cleanup) -> Result<usize, HopError> {
        let mut count = 0;
        for shard in self.owned_shards() {
            count += match what {
                Cleanup::Topic(topic) => shard.delete_topic(topic).await?,
                Cleanup::UnusedTopics => {
                    // This core's copy of the topic table is up to date: the control core
                    // waits for every copy to apply a change before it answers.
                    shard
                        .delete_topics(|t| {
                            let topics = self.topics.borrow();
                            topics.get(t).is_none() && !topics.is_system_topic(t)
                        })
                        .await?
                }
                Cleanup::ExpiredQueues => {
                    shard
                        .delete_expired_queues(|t| self.topics.borrow().is_system_topic(t))
                        .await?
                }
                Cleanup::ExpiredSegments => {
                    shard.delete_expired_segments(SystemTime::now()).await?
                }
            };
        }
        Ok(count)
    }
}
