//! Buffered positioned file I/O shared by consume queues and index files: which files of a
//! directory have writes not yet made durable, and reading a range in full.
//!
//! Consume queues and index files write through the page cache and make their files durable
//! later, together: this tracks the files written (by number) and whether the directory itself
//! changed (a file created or removed), and syncs exactly those.

use crate::error::{Result, StorageError};
use std::collections::BTreeSet;
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

#[derive(Debug, Default)]
pub(crate) struct PendingSyncs {
    files: BTreeSet<u64>,
    dir: bool,
}

impl PendingSyncs {
    pub fn file_written(&mut self, file: u64) {
        self.files.insert(file);
    }

    /// A file was created or removed: the directory entry must be synced too.
    pub fn dir_changed(&mut self) {
        self.dir = true;
    }

    /// A removed file needs no sync of its own.
    pub fn file_removed(&mut self, file: u64) {
        self.files.remove(&file);
        self.dir = true;
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty() && !self.dir
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// Forgets everything: the caller made it all durable another way (one `syncfs`).
    pub fn clear(&mut self) {
        self.files.clear();
        self.dir = false;
    }

    /// fdatasyncs each pending file (through `open` when that is the file, else by opening its
    /// path; fdatasync through any descriptor flushes the file's dirty pages), then the directory.
    /// A file deleted meanwhile is skipped; a file that fails stays pending.
    pub fn sync(
        &mut self,
        dir: &Path,
        path_of: impl Fn(u64) -> PathBuf,
        open: Option<(u64, &File)>,
    ) -> Result<()> {
        while let Some(file) = self.files.pop_first() {
            let path = path_of(file);
            let res = match open {
                Some((n, f)) if n == file => f.sync_data(),
                _ => match File::open(&path) {
                    Ok(f) => f.sync_data(),
                    Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
                    Err(e) => Err(e),
                },
            };
            if let Err(e) = res {
                self.files.insert(file);
                return Err(StorageError::io(path, e));
            }
        }
        if self.dir {
            File::open(dir)
                .and_then(|d| d.sync_all())
                .map_err(|e| StorageError::io(dir, e))?;
            self.dir = false;
        }
        Ok(())
    }
}

/// Reads until `buf` is full or the file ends; returns the bytes read.
pub(crate) fn read_full_at(f: &File, buf: &mut [u8], pos: u64) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match f.read_at(&mut buf[n..], pos + n as u64) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}
