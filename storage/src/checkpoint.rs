//! The shard checkpoint: how far the commit log is known good and the consume queues are on disk.
//!
//! Recovery starts scanning the commit log at [`Checkpoint::dispatched`]: every record before it is
//! durable and indexed in synced consume-queue files, so only the log after it is read again.
//! The file holds two slots written alternately, each with a sequence number and a CRC; a write
//! torn by a crash spoils at most the slot being written, and the other slot is used. Layout in
//! `storage/FORMAT.md`.

use crate::error::{Result, StorageError};
use crate::offset::CommitLogOffset;
use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub const FILE_NAME: &str = "checkpoint";
const MAGIC: u32 = 0x524D_5143; // "RMQC"
const VERSION: u16 = 1;
/// Each slot has its own sector, so a torn write cannot reach the other.
const SLOT_SIZE: u64 = 4096;
const BODY_LEN: usize = 44;

/// What one checkpoint records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Checkpoint {
    /// Every record before this offset is durable.
    pub commit_log_durable: CommitLogOffset,
    /// Every record before this offset has its consume-queue entry in a synced file.
    pub dispatched: CommitLogOffset,
    /// Every record before this offset is in a synced index file.
    pub indexed: CommitLogOffset,
    /// The shard was closed cleanly after this checkpoint.
    pub clean_shutdown: bool,
}

/// The checkpoint file of one shard.
pub struct CheckpointFile {
    file: Arc<File>,
    path: PathBuf,
    sequence: u64,
}

/// A checkpoint encoded for its slot, ready to be written by any thread (see
/// [`CheckpointFile::prepare`]).
pub struct SlotWrite {
    file: Arc<File>,
    path: PathBuf,
    sequence: u64,
    buf: [u8; BODY_LEN + 4],
}

impl SlotWrite {
    /// Writes the slot and makes it durable; returns its sequence number for
    /// [`CheckpointFile::written`]. Blocking: an fdatasync waits for the disk.
    pub fn write(self) -> Result<u64> {
        self.file
            .write_all_at(&self.buf, (self.sequence % 2) * SLOT_SIZE)
            .and_then(|()| self.file.sync_data())
            .map_err(|e| StorageError::io(&self.path, e))?;
        Ok(self.sequence)
    }
}

impl CheckpointFile {
    /// Opens (or creates) the file and returns the newest valid checkpoint, if any.
    pub fn open(dir: &Path) -> Result<(CheckpointFile, Option<Checkpoint>)> {
        let path = dir.join(FILE_NAME);
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| StorageError::io(&path, e))?;
        let mut newest: Option<(u64, Checkpoint)> = None;
        for slot in 0..2 {
            let mut buf = [0u8; BODY_LEN + 4];
            if file.read_exact_at(&mut buf, slot * SLOT_SIZE).is_err() {
                continue;
            }
            if let Some((seq, cp)) = decode(&buf) {
                if newest.is_none_or(|(s, _)| seq > s) {
                    newest = Some((seq, cp));
                }
            }
        }
        let sequence = newest.map_or(0, |(s, _)| s);
        Ok((
            CheckpointFile {
                file: Arc::new(file),
                path,
                sequence,
            },
            newest.map(|(_, cp)| cp),
        ))
    }

    /// Durably records `cp` in the slot not holding the newest copy.
    pub fn write(&mut self, cp: &Checkpoint) -> Result<()> {
        let sequence = self.prepare(cp).write()?;
        self.written(sequence);
        Ok(())
    }

    /// `cp` encoded for the slot not holding the newest copy, to be written elsewhere (a
    /// blocking thread) and then reported with [`CheckpointFile::written`].
    pub fn prepare(&self, cp: &Checkpoint) -> SlotWrite {
        let sequence = self.sequence + 1;
        SlotWrite {
            file: self.file.clone(),
            path: self.path.clone(),
            sequence,
            buf: encode(sequence, cp),
        }
    }

    /// Slot `sequence` is durable: the next write goes to the other one.
    pub fn written(&mut self, sequence: u64) {
        self.sequence = self.sequence.max(sequence);
    }
}

fn encode(seq: u64, cp: &Checkpoint) -> [u8; BODY_LEN + 4] {
    let mut b = [0u8; BODY_LEN + 4];
    b[0..4].copy_from_slice(&MAGIC.to_be_bytes());
    b[4..6].copy_from_slice(&VERSION.to_be_bytes());
    b[8..16].copy_from_slice(&seq.to_be_bytes());
    b[16..24].copy_from_slice(&cp.commit_log_durable.0.to_be_bytes());
    b[24..32].copy_from_slice(&cp.dispatched.0.to_be_bytes());
    b[32..40].copy_from_slice(&cp.indexed.0.to_be_bytes());
    b[40] = u8::from(cp.clean_shutdown);
    let crc = crc32fast::hash(&b[..BODY_LEN]);
    b[BODY_LEN..].copy_from_slice(&crc.to_be_bytes());
    b
}

fn decode(b: &[u8; BODY_LEN + 4]) -> Option<(u64, Checkpoint)> {
    let field = |r: std::ops::Range<usize>| -> [u8; 8] { b[r].try_into().unwrap_or_default() };
    if u32::from_be_bytes(b[0..4].try_into().ok()?) != MAGIC {
        return None;
    }
    if crc32fast::hash(&b[..BODY_LEN]) != u32::from_be_bytes(b[BODY_LEN..].try_into().ok()?) {
        return None;
    }
    let seq = u64::from_be_bytes(field(8..16));
    Some((
        seq,
        Checkpoint {
            commit_log_durable: CommitLogOffset(i64::from_be_bytes(field(16..24))),
            dispatched: CommitLogOffset(i64::from_be_bytes(field(24..32))),
            indexed: CommitLogOffset(i64::from_be_bytes(field(32..40))),
            clean_shutdown: b[40] == 1,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newest_valid_slot_wins_and_a_torn_slot_falls_back() {
        let dir = std::env::temp_dir().join(format!("ringmq-cp-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let (mut f, none) = CheckpointFile::open(&dir).unwrap();
        assert_eq!(none, None);
        let a = Checkpoint {
            commit_log_durable: CommitLogOffset(100),
            dispatched: CommitLogOffset(90),
            ..Default::default()
        };
        let b = Checkpoint {
            commit_log_durable: CommitLogOffset(200),
            dispatched: CommitLogOffset(200),
            ..Default::default()
        };
        f.write(&a).unwrap();
        f.write(&b).unwrap();
        assert_eq!(CheckpointFile::open(&dir).unwrap().1, Some(b));

        // Tear the newest slot (sequence 2 lives in slot 0): the previous checkpoint is used.
        let raw = std::fs::OpenOptions::new()
            .write(true)
            .open(dir.join(FILE_NAME))
            .unwrap();
        raw.write_all_at(&[0xFF; 10], 20).unwrap();
        let (mut f, got) = CheckpointFile::open(&dir).unwrap();
        assert_eq!(got, Some(a));
        // Writing again continues after the surviving sequence and becomes the newest.
        let c = Checkpoint {
            clean_shutdown: true,
            ..b
        };
        f.write(&c).unwrap();
        assert_eq!(CheckpointFile::open(&dir).unwrap().1, Some(c));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
