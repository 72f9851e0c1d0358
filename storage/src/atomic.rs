//! Small metadata files replaced all at once.

use crate::error::{Result, StorageError};
use std::io::Write;
use std::path::Path;

/// Replaces `path` with `contents` so that a crash leaves either the old or the new file: write a
/// temporary file, fsync it, rename it over `path`, fsync the directory.
pub fn write_durably(path: &Path, contents: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::File::create(&tmp).map_err(|e| StorageError::io(&tmp, e))?;
    f.write_all(contents)
        .and_then(|()| f.sync_all())
        .map_err(|e| StorageError::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| StorageError::io(path, e))?;
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| StorageError::io(dir, e))
}
