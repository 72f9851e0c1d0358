//! Small JSON config files (topics, subscription groups, consumer offsets, delay progress) written
//! so that a crash leaves the old or the new contents, and read back falling over to the backup
//! when a file is torn. The file system here may lose a rename or a size after a power cut, so a
//! reader never trusts a file just because it exists: it must parse.

use ringmq_protocol::body::DataVersion;
use ringmq_protocol::json::{self, JsonCodec};
use std::ffi::OsString;
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// A config file (topics, offsets) that cannot be read or written.
#[derive(Debug, thiserror::Error)]
pub enum PersistError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: io::Error },
    #[error("{path} is unreadable ({reason}), and no readable backup {path}.bak exists")]
    Corrupt { path: PathBuf, reason: String },
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: io::Error },
}

/// Where a table is kept on disk, and whether memory is ahead of it. Every table here (topics,
/// groups, consumer offsets, delay progress) is written whole; a failed write leaves it dirty, so
/// the next write tries again. Without a path (a copy on another core, a test) nothing is written.
#[derive(Debug, Default)]
pub struct JsonFile {
    path: Option<PathBuf>,
    dirty: bool,
}

impl JsonFile {
    pub fn at(path: PathBuf) -> Self {
        Self {
            path: Some(path),
            dirty: false,
        }
    }

    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Memory changed: the next [`write_if_dirty`](Self::write_if_dirty) writes.
    pub fn mark_dirty(&mut self) {
        self.dirty = true;
    }

    pub fn is_dirty(&self) -> bool {
        self.dirty
    }

    /// Writes `contents` now.
    pub fn write(&mut self, contents: &[u8]) -> Result<(), PersistError> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        let result = write_atomically(path, contents);
        self.dirty = result.is_err();
        result
    }

    /// The write that brings the file up to memory, if memory changed since the last one, to run
    /// where blocking harms nobody ([`TableWrite::run`] fsyncs). From now the file counts as
    /// written; after a failed write, [`JsonFile::mark_dirty`] so the next round tries again.
    pub fn take_write(&mut self, contents: impl FnOnce() -> Vec<u8>) -> Option<TableWrite> {
        if !self.dirty {
            return None;
        }
        let path = self.path.clone()?;
        self.dirty = false;
        Some(TableWrite {
            path,
            contents: contents(),
        })
    }

    /// Writes what `contents` makes if memory changed since the last write; returns whether it
    /// wrote. A failed write leaves the file dirty, so the next call tries again.
    pub fn write_if_dirty(
        &mut self,
        contents: impl FnOnce() -> Vec<u8>,
    ) -> Result<bool, PersistError> {
        let Some(write) = self.take_write(contents) else {
            return Ok(false);
        };
        write
            .run()
            .map(|()| true)
            .inspect_err(|_| self.dirty = true)
    }
}

/// A table's new contents and where they go (see [`JsonFile::take_write`]).
pub struct TableWrite {
    path: PathBuf,
    contents: Vec<u8>,
}

impl TableWrite {
    /// Writes the file with [`write_atomically`]. Blocking: it waits for fsyncs.
    pub fn run(self) -> Result<(), PersistError> {
        write_atomically(&self.path, &self.contents)
    }

    /// [`run`](Self::run) on a blocking thread: the core goes on serving while the disk syncs.
    pub async fn run_off_core(self) -> Result<(), PersistError> {
        glommio::executor().spawn_blocking(move || self.run()).await
    }
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = OsString::from(path.as_os_str());
    s.push(suffix);
    PathBuf::from(s)
}

/// Replaces `path` with `contents` so that after a crash it holds the old or the new contents:
/// write `<path>.tmp`, fsync, keep the old file as `<path>.bak` (Java's names), rename, fsync the
/// directory. The name server's `atomic_file` has the same helper; a shared crate should take both.
pub fn write_atomically(path: &Path, contents: &[u8]) -> Result<(), PersistError> {
    let err = |source| PersistError::Write {
        path: path.to_owned(),
        source,
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    fs::create_dir_all(dir).map_err(err)?;
    let tmp = with_suffix(path, ".tmp");
    {
        let mut f = File::create(&tmp).map_err(err)?;
        f.write_all(contents).map_err(err)?;
        f.sync_all().map_err(err)?;
    }
    if path.exists() {
        if let Err(e) = fs::copy(path, with_suffix(path, ".bak")) {
            log::warn!("cannot back up {}: {e}", path.display());
        }
    }
    fs::rename(&tmp, path).map_err(err)?;
    File::open(dir).and_then(|d| d.sync_all()).map_err(err)
}

/// Reads a JSON config file. Missing: `None`, or the `.bak` if there is one (Java's non-atomic
/// writer can leave just that after a crash). Empty or unparsable: the `.bak`. When the `.bak`
/// is needed and unreadable too: [`PersistError::Corrupt`], never a silently empty table.
pub fn load_json<T: JsonCodec>(path: &Path) -> Result<Option<T>, PersistError> {
    let bak = with_suffix(path, ".bak");
    let (reason, missing) = match read_json::<T>(path)? {
        Some(Ok(value)) => return Ok(Some(value)),
        Some(Err(reason)) => (reason, false),
        None => ("missing".to_owned(), true),
    };
    match read_json::<T>(&bak)? {
        Some(Ok(value)) => {
            log::warn!(
                "{} is unreadable ({reason}); using {}",
                path.display(),
                bak.display()
            );
            Ok(Some(value))
        }
        None if missing => Ok(None),
        _ => Err(PersistError::Corrupt {
            path: path.to_owned(),
            reason,
        }),
    }
}

/// Outer error: the file cannot be read. `None`: no such file. Inner error: not a valid `T`.
fn read_json<T: JsonCodec>(path: &Path) -> Result<Option<Result<T, String>>, PersistError> {
    match fs::read(path) {
        Ok(bytes) if bytes.iter().all(u8::is_ascii_whitespace) => {
            Ok(Some(Err("empty file".into())))
        }
        Ok(bytes) => Ok(Some(json::from_slice(&bytes).map_err(|e| e.to_string()))),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(PersistError::Read {
            path: path.to_owned(),
            source,
        }),
    }
}

/// The version of a table made now (Java's `new DataVersion()`).
pub fn fresh_version() -> DataVersion {
    DataVersion {
        timestamp: now_millis(),
        ..DataVersion::default()
    }
}

/// The version after one more change (Java's `nextVersion`).
pub fn next_version(v: &DataVersion) -> DataVersion {
    DataVersion {
        timestamp: now_millis(),
        counter: v.counter + 1,
        state_version: v.state_version,
    }
}

/// The wall clock in epoch milliseconds, as Java's `System.currentTimeMillis`.
pub fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}
