//! What the admin asks about the whole broker, gathered from every core: each core answers for
//! the queues (and offsets) it owns, and the asking core puts the parts together.
//!
//! Each view has a `_here` half, which a core runs on its own state (also when another core asks
//! it, see [`crate::hops`]), and a gathering half that runs it everywhere.

use crate::core::BrokerCore;
use crate::hops::{wrong, Answer, Ask, HopError, KeyQuery};
use bytes::{Bytes, BytesMut};
use ringmq_protocol::body::{
    MessageQueue, OffsetWrapper, QueueTimeSpan, TopicOffset, TopicStatsTable,
};
use ringmq_storage::{QueueOffset, StorageError};
use std::time::Instant;

impl BrokerCore {
    /// Runs `ask` on every core, this one included, and collects what each found.
    pub(crate) async fn everywhere<T>(
        &self,
        here: Result<Vec<T>, HopError>,
        ask: impl Fn() -> Ask,
        pick: impl Fn(Answer) -> Option<Result<Vec<T>, HopError>>,
    ) -> Result<Vec<T>, HopError> {
        let mut all = here?;
        for (core, answer) in self.mesh.ask_all(ask).await {
            match pick(answer?) {
                Some(found) => all.extend(found?),
                None => return Err(wrong(core).into()),
            }
        }
        Ok(all)
    }

    /// GET_TOPIC_STATS_INFO's table, from every core: each core's queues and put rate.
    pub async fn topic_stats(&self, topic: &str) -> Result<TopicStatsTable, HopError> {
        let here = self.topic_stats_here(topic).await.map(|t| vec![t]);
        let parts = self
            .everywhere(
                here,
                || Ask::TopicStats(topic.to_owned()),
                |a| match a {
                    Answer::TopicStats(r) => Some(r.map(|t| vec![t])),
                    _ => None,
                },
            )
            .await?;
        let mut all = TopicStatsTable::default();
        for part in parts {
            all.offset_table.extend(part.offset_table);
            all.topic_put_tps += part.topic_put_tps;
        }
        Ok(all)
    }

    pub(crate) async fn topic_stats_here(&self, topic: &str) -> Result<TopicStatsTable, HopError> {
        let write_queues = self
            .topics
            .borrow()
            .get(topic)
            .map_or(0, |t| t.write_queue_nums);
        let mut table = TopicStatsTable {
            topic_put_tps: self.traffic.topic_put_tps(topic, Instant::now()),
            ..Default::default()
        };
        for queue_id in 0..write_queues {
            let Some(shard) = self.local_shard(topic, queue_id) else {
                continue;
            };
            let (min, max) = (
                shard.min_offset(topic, queue_id),
                shard.max_offset(topic, queue_id),
            );
            let last_update_timestamp = last_store_time(shard, topic, queue_id, max.0).await?;
            table.offset_table.insert(
                self.message_queue(topic, queue_id),
                TopicOffset {
                    min_offset: min.0,
                    max_offset: max.0,
                    last_update_timestamp,
                },
            );
        }
        Ok(table)
    }

    /// GET_CONSUME_STATS's table for `topics`, from every core.
    pub async fn consume_stats(
        &self,
        group: &str,
        topics: &[String],
    ) -> Result<Vec<(MessageQueue, OffsetWrapper)>, HopError> {
        let here = self.consume_stats_here(group, topics).await;
        self.everywhere(
            here,
            || Ask::ConsumeStats {
                group: group.to_owned(),
                topics: topics.to_vec(),
            },
            |a| match a {
                Answer::ConsumeStats(r) => Some(r),
                _ => None,
            },
        )
        .await
    }

    pub(crate) async fn consume_stats_here(
        &self,
        group: &str,
        topics: &[String],
    ) -> Result<Vec<(MessageQueue, OffsetWrapper)>, HopError> {
        let mut table = Vec::new();
        for topic in topics {
            let read_queues = self
                .topics
                .borrow()
                .get(topic)
                .map_or(0, |t| t.read_queue_nums);
            for queue_id in 0..read_queues {
                let Some(shard) = self.local_shard(topic, queue_id) else {
                    continue;
                };
                let broker_offset = shard.max_offset(topic, queue_id).0.max(0);
                let consumer_offset = self
                    .offsets
                    .borrow()
                    .query(group, topic, queue_id)
                    .unwrap_or(0)
                    .max(0);
                // Java reports when the last consumed message was stored.
                let last_timestamp =
                    last_store_time(shard, topic, queue_id, consumer_offset).await?;
                table.push((
                    self.message_queue(topic, queue_id),
                    OffsetWrapper {
                        broker_offset,
                        consumer_offset,
                        // Pull positions are not tracked: Java answers the committed offset too
                        // for a queue not pulled since the broker started.
                        pull_offset: consumer_offset,
                        last_timestamp,
                    },
                ));
            }
        }
        Ok(table)
    }

    /// QUERY_MESSAGE's matches (encoded messages), from every core, at most `q.max`.
    pub async fn query(&self, q: &KeyQuery) -> Result<Vec<Bytes>, HopError> {
        let here = self.query_here(q).await;
        let mut found = self
            .everywhere(
                here,
                || Ask::Query(q.clone()),
                |a| match a {
                    Answer::Found(r) => Some(r),
                    _ => None,
                },
            )
            .await?;
        found.truncate(q.max);
        Ok(found)
    }

    pub(crate) async fn query_here(&self, q: &KeyQuery) -> Result<Vec<Bytes>, HopError> {
        let mut found = Vec::new();
        for shard in self.owned_shards() {
            if found.len() >= q.max {
                break;
            }
            for msg in shard
                .query_by_key(&q.topic, &q.key, q.max - found.len(), q.begin, q.end)
                .await?
            {
                let mut out = BytesMut::new();
                msg.encode(&mut out)
                    .map_err(|e| StorageError::InvalidMessage(e.to_string()))?;
                found.push(out.freeze());
            }
        }
        Ok(found)
    }

    /// QUERY_CONSUME_TIME_SPAN's spans for `group` on `topic`, from every core.
    pub async fn consume_time_spans(
        &self,
        group: &str,
        topic: &str,
    ) -> Result<Vec<QueueTimeSpan>, HopError> {
        let here = self.consume_time_spans_here(group, topic).await;
        let mut spans = self
            .everywhere(
                here,
                || Ask::ConsumeTimeSpans {
                    group: group.to_owned(),
                    topic: topic.to_owned(),
                },
                |a| match a {
                    Answer::TimeSpans(r) => Some(r),
                    _ => None,
                },
            )
            .await?;
        spans.sort_by_key(|s| s.message_queue.queue_id);
        Ok(spans)
    }

    /// Java's `queryConsumeTimeSpan` for this core's write queues of `topic`. A time that has no
    /// message is -1, as Java's store answers. Where the group has no offset, its lag is
    /// measured from the oldest message (Java looks up offset -1 and reports the current time).
    pub(crate) async fn consume_time_spans_here(
        &self,
        group: &str,
        topic: &str,
    ) -> Result<Vec<QueueTimeSpan>, HopError> {
        let write_queues = self
            .topics
            .borrow()
            .get(topic)
            .map_or(0, |t| t.write_queue_nums);
        let now = crate::persist::now_millis();
        let mut spans = Vec::new();
        for queue_id in 0..write_queues {
            let Some(shard) = self.local_shard(topic, queue_id) else {
                continue;
            };
            let time_at = |offset: i64| async move {
                if offset < 0 {
                    return Ok::<_, StorageError>(-1);
                }
                Ok(shard
                    .store_time_at(topic, queue_id, QueueOffset(offset))
                    .await?
                    .unwrap_or(-1))
            };
            let (min, max) = (
                shard.min_offset(topic, queue_id).0,
                shard.max_offset(topic, queue_id).0,
            );
            let min_time = time_at(min).await?;
            let committed = self.offsets.borrow().query(group, topic, queue_id);
            let consumed = committed.unwrap_or(-1);
            let consume_time = if consumed > 0 {
                time_at(consumed - 1).await?
            } else {
                min_time
            };
            let next = time_at(consumed.max(min)).await?;
            spans.push(QueueTimeSpan {
                message_queue: self.message_queue(topic, queue_id),
                min_time_stamp: min_time,
                max_time_stamp: time_at(max - 1).await?,
                consume_time_stamp: consume_time,
                delay_time: if consumed < max && next >= 0 {
                    now - next
                } else {
                    0
                },
            });
        }
        Ok(spans)
    }
}

/// When the message just before queue offset `end` was stored; 0 if there is none.
async fn last_store_time(
    shard: &ringmq_storage::shard::Shard,
    topic: &str,
    queue_id: i32,
    end: i64,
) -> Result<i64, StorageError> {
    if end <= 0 {
        return Ok(0);
    }
    Ok(shard
        .store_time_at(topic, queue_id, QueueOffset(end - 1))
        .await?
        .unwrap_or(0))
}
