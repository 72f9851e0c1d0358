//! Finding messages other than by queue offset: by key or unique key through the shard's index
//! (QUERY_MESSAGE), and by store time through a binary search of a consume queue
//! (SEARCH_OFFSET_BY_TIMESTAMP). Both read the records they find to check them, so they are
//! async and may touch the disk, unlike the put and read paths of [`Shard`].

use super::Shard;
use crate::error::Result;
use crate::index_file::MessageIndex;
use crate::offset::{CommitLogOffset, QueueOffset};
use ringmq_protocol::message::{Properties, StoredMessage};

impl Shard {
    /// Messages of `topic` whose `KEYS` contain `key`, or whose unique key is `key`, stored within
    /// `[begin, end]` (ms), newest first, at most `max` (QUERY_MESSAGE). The index returns
    /// candidates by key hash; each is read and checked, so hash collisions never show.
    pub async fn query_by_key(
        &self,
        topic: &str,
        key: &str,
        max: usize,
        begin: i64,
        end: i64,
    ) -> Result<Vec<StoredMessage>> {
        let candidates = self.index.borrow().lookup(
            &index_key(topic, key),
            begin,
            end,
            max.saturating_mul(4).max(16),
        )?;
        let mut out = Vec::new();
        for offset in candidates {
            if out.len() >= max {
                break;
            }
            let Ok(msg) = self.read_at(offset).await else {
                continue;
            };
            let props = msg.properties();
            if msg.topic == topic
                && (props.keys().any(|k| k == key) || props.unique_key() == Some(key))
            {
                out.push(msg);
            }
        }
        Ok(out)
    }

    /// The store time of the message at `offset` of a queue.
    pub async fn store_time_at(
        &self,
        topic: &str,
        queue_id: i32,
        offset: QueueOffset,
    ) -> Result<Option<i64>> {
        let entry = self
            .queues
            .borrow()
            .get(topic, queue_id)
            .map(|cq| cq.get(offset))
            .transpose()?
            .flatten();
        let Some(entry) = entry else { return Ok(None) };
        let bytes = self.locate(entry)?.bytes().await?;
        Ok(StoredMessage::decode(&bytes)
            .ok()
            .map(|(m, _)| m.store_timestamp))
    }

    /// The first queue offset whose message was stored at or after `timestamp` (ms); the max
    /// offset if none was (SEARCH_OFFSET_BY_TIMESTAMP).
    pub async fn search_offset_by_timestamp(
        &self,
        topic: &str,
        queue_id: i32,
        timestamp: i64,
    ) -> Result<QueueOffset> {
        let (mut lo, mut hi) = (
            self.min_offset(topic, queue_id).0,
            self.max_offset(topic, queue_id).0,
        );
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match self
                .store_time_at(topic, queue_id, QueueOffset(mid))
                .await?
            {
                Some(t) if t < timestamp => lo = mid + 1,
                _ => hi = mid,
            }
        }
        Ok(QueueOffset(lo))
    }
}

/// Java's index key: topic, `#`, key.
fn index_key(topic: &str, key: &str) -> String {
    format!("{topic}#{key}")
}

/// Indexes a message under each of its keys and its unique key.
pub(super) fn index_keys(
    index: &mut MessageIndex,
    topic: &str,
    props: &Properties,
    offset: CommitLogOffset,
    store_timestamp: i64,
) -> Result<()> {
    for key in props.keys() {
        index.put(&index_key(topic, key), offset, store_timestamp)?;
    }
    if let Some(unique) = props.unique_key() {
        index.put(&index_key(topic, unique), offset, store_timestamp)?;
    }
    Ok(())
}
