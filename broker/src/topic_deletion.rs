//! What DELETE_TOPIC_IN_BROKER removes besides the topic's config: each core's consume queues
//! of the topic and every group's committed offsets on it (Java 5.x's `deleteTopicInBroker`:
//! `cleanOffsetByTopic` and the store's `deleteTopics`). Without this, a topic created again
//! under the same name would show its old messages, and its consumers would resume from
//! offsets of the old queues.
//!
//! The records stay in the commit log until retention deletes their segment, as in Java; the
//! index still finds them by key.

use crate::core::BrokerCore;
use crate::handlers::Refusal;
use crate::hops::{Answer, Ask, HopError};
use crate::offsets::ForgottenOffsets;
use ringmq_protocol::ResponseCode;

impl BrokerCore {
    /// Deletes the topic's queues and offsets on every core (control core only). The offsets
    /// file forgets them at its next write, even if a gather already under way still carries
    /// them.
    pub async fn delete_topic_data(&self, topic: &str) -> Result<(), Refusal> {
        let control = self.control()?;
        let mut queues = self.delete_topic_data_here(topic).await?;
        for (core, answer) in self
            .mesh
            .ask_all(|| Ask::DeleteTopicData(topic.to_owned()))
            .await
        {
            let failed = |e: String| {
                Refusal::new(
                    ResponseCode::SYSTEM_ERROR,
                    format!("the queues of topic {topic} on core {core} were not deleted: {e}"),
                )
            };
            match answer {
                Ok(Answer::Deleted(Ok(n))) => queues += n,
                Ok(Answer::Deleted(Err(e))) => return Err(failed(e.to_string())),
                Ok(_) => return Err(failed("unexpected answer".into())),
                Err(e) => return Err(failed(e.to_string())),
            }
        }
        control
            .forgotten_offsets
            .borrow_mut()
            .push(ForgottenOffsets::OfTopic(topic.to_owned()));
        log::info!("topic {topic} deleted with its {queues} queues");
        Ok(())
    }

    /// This core's part: the topic's queues in the shards it owns, and the offsets on them.
    /// Returns how many queues went.
    pub(crate) async fn delete_topic_data_here(&self, topic: &str) -> Result<usize, HopError> {
        self.offsets.borrow_mut().remove_topic(topic);
        let mut queues = 0;
        for shard in self.owned_shards() {
            queues += shard.delete_topic(topic).await?;
        }
        Ok(queues)
    }
}
