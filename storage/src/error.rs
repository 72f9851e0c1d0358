//! The storage layer's error type.

use crate::offset::CommitLogOffset;
use std::io;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("I/O error on {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    /// Disk use is above the hard limit; appends are refused before anything is written.
    #[error("disk full: {used_percent}% of {path} is used (appends stop at {limit_percent}%)")]
    DiskFull {
        path: PathBuf,
        used_percent: u32,
        limit_percent: u32,
    },
    #[error("record of {size} bytes does not fit a {segment_size}-byte commit-log segment")]
    RecordTooLarge { size: usize, segment_size: u64 },
    #[error("message cannot be stored: {0}")]
    InvalidMessage(String),
    #[error("no record at commit-log offset {0}")]
    NoRecordAt(CommitLogOffset),
    #[error("corrupt {what} in {path}: {reason}")]
    Corrupt {
        what: &'static str,
        path: PathBuf,
        reason: String,
    },
    #[error("store at {path} was created with {found} shards; opening it with {requested} is not supported")]
    ShardCountMismatch {
        path: PathBuf,
        found: u32,
        requested: u32,
    },
    /// The log had no room (the disk is behind) for longer than the caller would wait.
    #[error("no room in the commit log after waiting {waited:?}: the disk is behind")]
    Busy { waited: std::time::Duration },
    #[error("the store is shutting down")]
    Closed,
}

impl StorageError {
    pub fn io(path: impl Into<PathBuf>, source: io::Error) -> Self {
        StorageError::Io {
            path: path.into(),
            source,
        }
    }
}

/// glommio reports its own error type; keep the OS error when there is one.
pub(crate) fn from_glommio(path: impl Into<PathBuf>, e: glommio::GlommioError<()>) -> StorageError {
    StorageError::io(path, io::Error::from(e))
}

pub type Result<T> = std::result::Result<T, StorageError>;
