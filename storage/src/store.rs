//! The store as a whole: how many shards it has and which shard owns which queue.
//!
//! The shard count is a property of the store, fixed when the store is created and recorded in
//! `store.meta`; the broker then spreads shards over however many cores the machine has (a core may
//! own several). (topic, queueId) -> shard is a fixed function of those values and the count, so
//! every core computes the same owner and messages of a queue always land in the same log.

use crate::atomic::write_durably;
use crate::error::{Result, StorageError};
use crate::offset::MAX_SHARDS;
use std::path::{Path, PathBuf};

pub const META_FILE: &str = "store.meta";
const MAGIC: u32 = 0x524D_5153; // "RMQS"
const FORMAT_VERSION: u32 = 1;

/// What `store.meta` records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreMeta {
    pub shard_count: u32,
}

impl StoreMeta {
    /// Reads the meta of the store at `root`, creating the store with `shards_if_new` shards if
    /// it does not exist yet. An existing store keeps its own count.
    pub fn open_or_create(root: &Path, shards_if_new: u32) -> Result<StoreMeta> {
        let path = root.join(META_FILE);
        match std::fs::read(&path) {
            Ok(bytes) => decode(&bytes).ok_or_else(|| StorageError::Corrupt {
                what: "store meta",
                path: path.clone(),
                reason: "bad magic, version or checksum".into(),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if shards_if_new == 0 || shards_if_new > MAX_SHARDS {
                    return Err(StorageError::InvalidMessage(format!(
                        "shard count must be 1..={MAX_SHARDS}"
                    )));
                }
                std::fs::create_dir_all(root).map_err(|e| StorageError::io(root, e))?;
                let meta = StoreMeta {
                    shard_count: shards_if_new,
                };
                write_durably(&path, &encode(&meta))?;
                Ok(meta)
            }
            Err(e) => Err(StorageError::io(&path, e)),
        }
    }

    /// The shard that owns (topic, queue_id).
    pub fn shard_of(&self, topic: &str, queue_id: i32) -> u32 {
        shard_of(topic, queue_id, self.shard_count)
    }

    /// Where shard `id` keeps its files.
    pub fn shard_dir(root: &Path, id: u32) -> PathBuf {
        root.join(format!("shard-{id:03}"))
    }
}

/// FNV-1a over the topic, mixed with the queue id: stable across builds and platforms (unlike
/// std's hasher), and spreads a topic's queues over the shards.
pub fn shard_of(topic: &str, queue_id: i32, shard_count: u32) -> u32 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in topic.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h ^= (queue_id as u32 as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    h ^= h >> 29;
    (h % u64::from(shard_count.max(1))) as u32
}

fn encode(meta: &StoreMeta) -> Vec<u8> {
    let mut b = Vec::with_capacity(16);
    b.extend_from_slice(&MAGIC.to_be_bytes());
    b.extend_from_slice(&FORMAT_VERSION.to_be_bytes());
    b.extend_from_slice(&meta.shard_count.to_be_bytes());
    let crc = crc32fast::hash(&b);
    b.extend_from_slice(&crc.to_be_bytes());
    b
}

fn decode(b: &[u8]) -> Option<StoreMeta> {
    let word =
        |i: usize| -> Option<u32> { Some(u32::from_be_bytes(b.get(i..i + 4)?.try_into().ok()?)) };
    if b.len() != 16
        || word(0)? != MAGIC
        || word(4)? != FORMAT_VERSION
        || crc32fast::hash(&b[..12]) != word(12)?
    {
        return None;
    }
    Some(StoreMeta {
        shard_count: word(8)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shard_count_is_fixed_at_creation() {
        let root = std::env::temp_dir().join(format!("ringmq-meta-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        assert_eq!(StoreMeta::open_or_create(&root, 4).unwrap().shard_count, 4);
        // A machine with a different core count opens the same store with its recorded count.
        assert_eq!(StoreMeta::open_or_create(&root, 16).unwrap().shard_count, 4);
        std::fs::write(root.join(META_FILE), b"garbage garbage!").unwrap();
        assert!(StoreMeta::open_or_create(&root, 4).is_err());
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn queues_map_to_shards_stably_and_spread() {
        // Fixed values: changing the function would move existing queues to other logs.
        assert_eq!(shard_of("TopicTest", 0, 8), shard_of("TopicTest", 0, 8));
        let golden: Vec<u32> = (0..8).map(|q| shard_of("TopicTest", q, 8)).collect();
        assert_eq!(golden, GOLDEN);
        let mut counts = [0u32; 4];
        for t in 0..100 {
            for q in 0..8 {
                counts[shard_of(&format!("topic-{t}"), q, 4) as usize] += 1;
            }
        }
        assert!(
            counts.iter().all(|&c| (150..=250).contains(&c)),
            "uneven spread: {counts:?}"
        );
        assert_eq!(shard_of("any", 3, 1), 0);
    }

    // Computed once from the function as written; must never change for existing stores.
    const GOLDEN: [u32; 8] = [2, 4, 7, 6, 1, 0, 3, 2];
}
