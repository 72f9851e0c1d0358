//! Retention: deleting old commit-log segments, and refusing appends when the disk is full.
//!
//! Java's `CleanCommitLogService` rules: segments last written longer ago than
//! `fileReservedTime` go at `deleteWhen` (or at once above `diskMaxUsedSpaceRatio`); above the
//! forced-clean ratio the oldest go even unexpired; above the refuse ratio appends stop with a
//! disk-full error. Queue minimums and the index follow the deleted segments.

use super::Shard;
use crate::error::{Result, StorageError};
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// When commit-log segments are deleted and when appends stop (Java's `fileReservedTime`,
/// `deleteWhen`, `diskMaxUsedSpaceRatio` and the forced-clean and warning ratios).
#[derive(Debug, Clone)]
pub struct RetentionPolicy {
    /// Segments last written longer ago than this are expired (72 h).
    pub file_reserved_time: Duration,
    /// Local hours of the day at which expired segments are deleted (`deleteWhen=04`).
    pub delete_when: Vec<u8>,
    /// At or above this disk use (percent), expired segments go at once, whatever the hour (75).
    pub disk_max_used_space_ratio: u32,
    /// At or above this, the oldest segments go even if not expired (85).
    pub disk_clean_forcibly_ratio: u32,
    /// At or above this, appends are refused with a disk-full error (90).
    pub disk_refuse_ratio: u32,
    /// How often the policy is applied.
    pub check_interval: Duration,
}

impl Default for RetentionPolicy {
    fn default() -> Self {
        Self {
            file_reserved_time: Duration::from_secs(72 * 3600),
            delete_when: vec![4],
            disk_max_used_space_ratio: 75,
            disk_clean_forcibly_ratio: 85,
            disk_refuse_ratio: 90,
            check_interval: Duration::from_secs(10),
        }
    }
}

impl Shard {
    /// Applies the retention policy once at `now`: refuses or re-allows appends by disk use, and
    /// deletes the oldest segments that are due. Returns how many segments were deleted.
    pub async fn enforce_retention(&self, now: SystemTime) -> Result<usize> {
        self.apply_retention(now, false).await
    }

    /// Like [`enforce_retention`](Self::enforce_retention), whatever the hour of `deleteWhen`
    /// (Java's manual delete, `mqadmin deleteExpiredCommitLog`): expired segments go now.
    pub async fn delete_expired_segments(&self, now: SystemTime) -> Result<usize> {
        self.apply_retention(now, true).await
    }

    async fn apply_retention(&self, now: SystemTime, now_is_due: bool) -> Result<usize> {
        let policy = &self.config.retention;
        let usage = disk_used_percent(&self.dir)?;
        self.commit_log
            .set_disk_full(
                (usage >= policy.disk_refuse_ratio).then(|| StorageError::DiskFull {
                    path: self.dir.clone(),
                    used_percent: usage,
                    limit_percent: policy.disk_refuse_ratio,
                }),
            );
        let forced = usage >= policy.disk_clean_forcibly_ratio;
        let due = forced
            || now_is_due
            || usage >= policy.disk_max_used_space_ratio
            || policy.delete_when.contains(&local_hour(now));
        if !due {
            return Ok(0);
        }
        let mut deleted = 0;
        while let Some(oldest) = self.commit_log.sealed_segments().into_iter().next() {
            let expired = oldest
                .modified()
                .is_some_and(|m| m + policy.file_reserved_time <= now);
            // Under space pressure the oldest go even unexpired, until usage drops below the mark.
            let deletable = expired
                || (forced && disk_used_percent(&self.dir)? >= policy.disk_clean_forcibly_ratio);
            if !deletable {
                break;
            }
            let Some(new_min) = self.commit_log.delete_oldest_segment().await? else {
                break;
            };
            for cq in self.queues.borrow_mut().values_mut() {
                cq.delete_before(new_min)?;
                cq.correct_min_offset(new_min)?;
            }
            self.index.borrow_mut().delete_before(new_min)?;
            deleted += 1;
        }
        Ok(deleted)
    }
}

pub(super) async fn retention_loop(shard: std::rc::Weak<Shard>) {
    loop {
        let Some(interval) = shard.upgrade().map(|s| s.config.retention.check_interval) else {
            return;
        };
        glommio::timer::sleep(interval).await;
        let Some(shard) = shard.upgrade() else { return };
        match shard.enforce_retention(SystemTime::now()).await {
            Ok(0) => {}
            Ok(n) => log::info!(
                "shard {}: retention deleted {n} commit-log segment(s)",
                shard.id
            ),
            Err(e) => log::error!("shard {}: retention failed: {e}", shard.id),
        }
    }
}

/// Percentage of the file system holding `dir` that is in use.
fn disk_used_percent(dir: &Path) -> Result<u32> {
    Ok(crate::disk::DiskSpace::of(dir)?.used_percent())
}

/// The local hour of `now` (`deleteWhen` is in the broker's local time, as in Java).
fn local_hour(now: SystemTime) -> u8 {
    let secs = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()) as libc::time_t;
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    // SAFETY: localtime_r writes into `tm` only.
    if unsafe { libc::localtime_r(&secs, &mut tm) }.is_null() {
        return ((secs / 3600) % 24) as u8;
    }
    tm.tm_hour as u8
}
