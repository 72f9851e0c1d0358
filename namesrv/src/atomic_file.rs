//! Small files that must never be seen half-written.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Replaces `path` with `contents` so that after a crash the file holds either the old or the new
/// contents: write a temporary file, fsync it, rename it over the target, fsync the directory.
/// The previous contents are kept as `<path>.bak`, as Java's name server does.
pub fn write_atomically(path: &Path, contents: &[u8]) -> io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    fs::create_dir_all(dir)?;
    let tmp = with_suffix(path, ".tmp");
    {
        let mut f = File::create(&tmp)?;
        f.write_all(contents)?;
        f.sync_all()?;
    }
    if path.exists() {
        let _ = fs::copy(path, backup_of(path));
    }
    fs::rename(&tmp, path)?;
    File::open(dir)?.sync_all()
}

/// Where the previous contents of `path` are kept: `<path>.bak`, Java's name.
pub fn backup_of(path: &Path) -> PathBuf {
    with_suffix(path, ".bak")
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}
