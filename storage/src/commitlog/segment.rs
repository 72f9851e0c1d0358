//! One commit-log file: a fixed-size, pre-zeroed region of a shard's log.
//!
//! Segments are named by the 20-digit offset of their first byte and created whole before any
//! record goes in: allocated, zero-filled with large O_DIRECT writes, synced, and only then renamed
//! to their final name (and the directory synced). Appending therefore never grows a file, so an
//! fdatasync after a write has no metadata to flush (on this machine ~0.15 ms instead of ~1.3 ms),
//! and a file that exists under a segment name is known to be whole.

use crate::error::{from_glommio, Result, StorageError};
use crate::offset::CommitLogOffset;
use bytes::Bytes;
use glommio::io::{DmaBuffer, DmaFile, OpenOptions};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Opens `path` read-only through the page cache.
fn open_sendable(path: &Path) -> Result<Arc<File>> {
    File::open(path)
        .map(Arc::new)
        .map_err(|e| StorageError::io(path, e))
}

/// Direct I/O works in whole pages.
pub const PAGE: u64 = 4096;
/// Bytes zero-filled per write when preparing a segment.
pub(super) const ZERO_CHUNK: usize = 4 << 20;
/// Suffix of a segment still being prepared; such files are discarded at start-up.
pub const PREPARING_SUFFIX: &str = ".preparing";

pub fn align_down(v: u64) -> u64 {
    v & !(PAGE - 1)
}

pub fn align_up(v: u64) -> u64 {
    align_down(v + PAGE - 1)
}

/// How long removal waits for replies still sending a range of the segment (Java's
/// `destroyMapedFileIntervalForcibly` default). They are normally gone within milliseconds.
const REMOVE_WAIT_FOR_READERS: Duration = Duration::from_secs(120);

#[derive(Debug)]
pub struct CommitLogSegment {
    file: DmaFile,
    /// The same file opened for plain buffered reads: what `sendfile` sends cold records from.
    /// `O_DIRECT` would demand block-aligned ranges, and records are not aligned.
    sendable: Arc<File>,
    path: PathBuf,
    base: CommitLogOffset,
    size: u64,
}

impl CommitLogSegment {
    pub fn file_name(base: CommitLogOffset) -> String {
        format!("{:020}", base.0)
    }

    /// Parses a segment file name back into its base offset.
    pub fn parse_name(name: &str) -> Option<CommitLogOffset> {
        (name.len() == 20 && name.bytes().all(|b| b.is_ascii_digit()))
            .then(|| name.parse().ok().map(CommitLogOffset))?
    }

    /// Creates the segment starting at `base`, fully zeroed and durable, under its final name.
    pub async fn create(dir: &Path, base: CommitLogOffset, size: u64) -> Result<Self> {
        prime_iopoll_probe(dir).await?;
        let path = dir.join(Self::file_name(base));
        let tmp = dir.join(format!("{}{PREPARING_SUFFIX}", Self::file_name(base)));
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .dma_open(&tmp)
            .await
            .map_err(|e| from_glommio(&tmp, e))?;
        file.pre_allocate(size, false)
            .await
            .map_err(|e| from_glommio(&tmp, e))?;
        // One zeroed buffer for every write: a fresh one each time would be faulted in and
        // cleared again, CPU taken from the appenders on this core.
        let zeros = {
            let mut buf = file.alloc_dma_buffer(ZERO_CHUNK.min(size as usize));
            buf.as_bytes_mut().fill(0);
            Rc::new(buf)
        };
        let mut pos = 0;
        while pos < size {
            let written = if size - pos >= zeros.len() as u64 {
                file.write_rc_at(zeros.clone(), pos).await
            } else {
                let len = (size - pos) as usize; // whole pages: sizes are multiples of PAGE
                let mut buf = file.alloc_dma_buffer(len);
                buf.as_bytes_mut().fill(0);
                file.write_at(buf, pos).await
            };
            written.map_err(|e| from_glommio(&tmp, e))?;
            pos += zeros.len().min((size - pos) as usize) as u64;
        }
        file.fdatasync().await.map_err(|e| from_glommio(&tmp, e))?;
        file.rename(&path)
            .await
            .map_err(|e| from_glommio(&path, e))?;
        sync_dir(dir)?;
        Ok(Self {
            file,
            sendable: open_sendable(&path)?,
            path,
            base,
            size,
        })
    }

    /// Opens an existing segment.
    pub async fn open(path: &Path, base: CommitLogOffset, size: u64) -> Result<Self> {
        prime_iopoll_probe(path.parent().unwrap_or(Path::new("."))).await?;
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .dma_open(path)
            .await
            .map_err(|e| from_glommio(path, e))?;
        Ok(Self {
            file,
            sendable: open_sendable(path)?,
            path: path.to_owned(),
            base,
            size,
        })
    }

    pub fn base(&self) -> CommitLogOffset {
        self.base
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    /// One past the segment's last byte.
    pub fn end(&self) -> CommitLogOffset {
        self.base + self.size
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn contains(&self, offset: CommitLogOffset) -> bool {
        offset >= self.base && offset < self.end()
    }

    pub fn alloc(&self, len: usize) -> DmaBuffer {
        self.file.alloc_dma_buffer(len)
    }

    /// Writes a page-aligned buffer at page-aligned `pos` (relative to the segment).
    pub async fn write_at(&self, buf: DmaBuffer, pos: u64) -> Result<()> {
        self.write_shared_at(Rc::new(buf), pos).await
    }

    /// Like [`CommitLogSegment::write_at`], leaving the buffer with the caller for reuse.
    pub async fn write_shared_at(&self, buf: Rc<DmaBuffer>, pos: u64) -> Result<()> {
        debug_assert_eq!(pos % PAGE, 0);
        let len = buf.len();
        let written = self
            .file
            .write_rc_at(buf, pos)
            .await
            .map_err(|e| from_glommio(&self.path, e))?;
        if written != len {
            return Err(StorageError::io(
                &self.path,
                std::io::Error::other(format!("short write: {written} of {len} bytes")),
            ));
        }
        Ok(())
    }

    pub async fn sync(&self) -> Result<()> {
        self.file
            .fdatasync()
            .await
            .map_err(|e| from_glommio(&self.path, e))
    }

    /// Reads `len` bytes at `pos` (relative to the segment).
    pub async fn read(&self, pos: u64, len: usize) -> Result<Bytes> {
        let r = self
            .file
            .read_at(pos, len)
            .await
            .map_err(|e| from_glommio(&self.path, e))?;
        if r.len() < len {
            return Err(StorageError::Corrupt {
                what: "commit-log segment",
                path: self.path.clone(),
                reason: format!("read {} of {len} bytes at {pos}", r.len()),
            });
        }
        Ok(Bytes::copy_from_slice(&r[..len]))
    }

    /// A shared, buffered (not `O_DIRECT`) handle on the segment, for sending a range of it with
    /// `sendfile`. Removal waits while any is held.
    pub fn sendable(&self) -> Arc<File> {
        self.sendable.clone()
    }

    /// Deletes the file. Its blocks are released first in small paced steps (punching holes
    /// from the end), so freeing a 1 GiB extent never holds the disk for long: Java brokers show
    /// ~1 s send stalls when such a file is unlinked at once. Punched ranges read as zeros, so
    /// this first waits (up to `REMOVE_WAIT_FOR_READERS`) until no reply still holds a
    /// [`CommitLogSegment::sendable`] handle.
    pub async fn remove(&self) -> Result<()> {
        let since = Instant::now();
        while Arc::strong_count(&self.sendable) > 1 && since.elapsed() < REMOVE_WAIT_FOR_READERS {
            glommio::timer::sleep(Duration::from_millis(50)).await;
        }
        if Arc::strong_count(&self.sendable) > 1 {
            log::warn!(
                "{}: removing while a reply still reads from it (after {:?})",
                self.path.display(),
                REMOVE_WAIT_FOR_READERS
            );
        }
        // Small steps with pauses: on a file system mounted with `discard`, each freed range is
        // a synchronous TRIM that queues ahead of the log's own writes.
        const STEP: u64 = 4 << 20;
        const PAUSE: Duration = Duration::from_millis(4);
        let mut end = self.size;
        while end > 0 {
            let start = end.saturating_sub(STEP);
            self.file
                .deallocate(start, end - start)
                .await
                .map_err(|e| from_glommio(&self.path, e))?;
            end = start;
            glommio::timer::sleep(PAUSE).await;
        }
        self.file
            .remove()
            .await
            .map_err(|e| from_glommio(&self.path, e))
    }

    /// When the segment was last written (retention ages segments like Java does, by this).
    pub fn modified(&self) -> Option<std::time::SystemTime> {
        std::fs::metadata(&self.path)
            .and_then(|m| m.modified())
            .ok()
    }
}

/// glommio decides once per block device whether reads may use its IOPOLL ring, by reading 512
/// bytes from the first DMA file opened there. On an empty file that read hits end-of-file and
/// "succeeds", and glommio then sends every later read to a ring the device cannot serve
/// (EOPNOTSUPP on virtio disks). Opening a file that has data first makes the probe honest.
async fn prime_iopoll_probe(dir: &Path) -> Result<()> {
    use std::os::unix::fs::MetadataExt;
    thread_local! {
        static PRIMED: std::cell::RefCell<Vec<u64>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    let dev = std::fs::metadata(dir)
        .map_err(|e| StorageError::io(dir, e))?
        .dev();
    if PRIMED.with(|p| p.borrow().contains(&dev)) {
        return Ok(());
    }
    let probe = dir.join(".iopoll-probe");
    std::fs::write(&probe, [0u8; PAGE as usize]).map_err(|e| StorageError::io(&probe, e))?;
    let opened = DmaFile::open(&probe)
        .await
        .map_err(|e| from_glommio(&probe, e));
    let _ = std::fs::remove_file(&probe);
    opened?.close().await.map_err(|e| from_glommio(&probe, e))?;
    PRIMED.with(|p| p.borrow_mut().push(dev));
    Ok(())
}

/// Makes a rename or an unlink in `dir` durable.
pub fn sync_dir(dir: &Path) -> Result<()> {
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| StorageError::io(dir, e))
}
