//! How full the file system under a directory is (`statvfs`), for retention's thresholds and the
//! broker's runtime report.

use crate::error::{Result, StorageError};
use std::path::Path;

/// Space on the file system holding a directory, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DiskSpace {
    pub total: u64,
    /// Free blocks, the root reserve included.
    pub free: u64,
    /// What an unprivileged writer can still use.
    pub available: u64,
}

impl DiskSpace {
    pub fn of(dir: &Path) -> Result<Self> {
        use std::os::unix::ffi::OsStrExt;
        let c = std::ffi::CString::new(dir.as_os_str().as_bytes())
            .map_err(|e| StorageError::io(dir, std::io::Error::other(e)))?;
        // SAFETY: all-zero is a valid `statvfs` (plain integers).
        let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
        // SAFETY: `c` is a valid NUL-terminated path and `st` a valid out-pointer.
        if unsafe { libc::statvfs(c.as_ptr(), &mut st) } != 0 {
            return Err(StorageError::io(dir, std::io::Error::last_os_error()));
        }
        let block = st.f_frsize as u64;
        Ok(Self {
            total: st.f_blocks as u64 * block,
            free: st.f_bfree as u64 * block,
            available: st.f_bavail as u64 * block,
        })
    }

    /// Whole percent in use (the root reserve counts as free), 0 for an empty file system.
    pub fn used_percent(&self) -> u32 {
        match self.total {
            0 => 0,
            total => ((total - self.free) * 100 / total) as u32,
        }
    }

    /// Java's `UtilAll.getDiskPartitionSpaceUsedPercent`: used over used plus what a writer may
    /// still use (the root reserve left out), rounded up to whole percent, as a fraction.
    pub fn java_used_ratio(&self) -> f64 {
        let used = self.total - self.free;
        let entire = used + self.available;
        if entire == 0 {
            return 0.0;
        }
        (used * 100).div_ceil(entire) as f64 / 100.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratios_follow_the_definitions() {
        let d = DiskSpace {
            total: 1000,
            free: 300,
            available: 250,
        };
        assert_eq!(d.used_percent(), 70);
        // 700 / 950 = 73.68...% rounds up to 74%.
        assert_eq!(d.java_used_ratio(), 0.74);
        let here = DiskSpace::of(Path::new(".")).unwrap();
        assert!(here.total >= here.free && here.free >= here.available);
        assert!(DiskSpace::of(Path::new("/no/such/dir")).is_err());
    }
}
