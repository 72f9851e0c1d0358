//! CPU time and memory of a process on this machine, from `/proc/<pid>/stat` (utime + stime) and
//! `/proc/<pid>/status` (VmRSS, VmHWM), sampled at the start and end of a measured window.
//!
//! Latency alone hides cost: a broker that spins a core to shave microseconds looks better than one
//! that idles. CPU seconds per measured second next to the latency figures keeps that visible.

use std::time::{Duration, Instant};

/// One reading.
#[derive(Debug, Clone, Copy)]
pub struct ProcSample {
    pub at: Instant,
    /// User plus system time.
    pub cpu: Duration,
    pub rss_kib: u64,
    /// Peak resident set size.
    pub hwm_kib: u64,
}

/// What a process used over a window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProcUsage {
    pub pid: u32,
    pub cpu_s: f64,
    pub wall_s: f64,
    /// Resident set at the start of the window: growth over a steady load is a leak.
    pub rss_start_kib: u64,
    pub rss_kib: u64,
    pub hwm_kib: u64,
}

impl ProcUsage {
    /// CPU time over wall time, in percent of one core.
    /// Resident set growth over the window, in KiB (negative when it shrank).
    pub fn rss_growth_kib(&self) -> i64 {
        self.rss_kib as i64 - self.rss_start_kib as i64
    }

    pub fn cpu_pct(&self) -> f64 {
        if self.wall_s > 0.0 {
            100.0 * self.cpu_s / self.wall_s
        } else {
            0.0
        }
    }
}

/// Reads `pid` now; `None` when the process is gone or not on this machine.
pub fn sample(pid: u32) -> Option<ProcSample> {
    let at = Instant::now();
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let ticks = parse_cpu_ticks(&stat)?;
    Some(ProcSample {
        at,
        cpu: Duration::from_secs_f64(ticks as f64 / clock_ticks_per_second()),
        rss_kib: parse_status_kib(&status, "VmRSS:").unwrap_or(0),
        hwm_kib: parse_status_kib(&status, "VmHWM:").unwrap_or(0),
    })
}

/// Usage between two samples of `pid`.
pub fn usage(pid: u32, from: &ProcSample, to: &ProcSample) -> ProcUsage {
    ProcUsage {
        pid,
        cpu_s: to.cpu.saturating_sub(from.cpu).as_secs_f64(),
        wall_s: to.at.saturating_duration_since(from.at).as_secs_f64(),
        rss_start_kib: from.rss_kib,
        rss_kib: to.rss_kib,
        hwm_kib: to.hwm_kib,
    }
}

fn clock_ticks_per_second() -> f64 {
    // SAFETY: sysconf only reads a configuration value.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 {
        t as f64
    } else {
        100.0
    }
}

/// utime + stime in clock ticks. The command name (field 2) may hold spaces and parentheses, so
/// fields are counted from the last `)`: utime and stime are fields 14 and 15 of the line.
fn parse_cpu_ticks(stat: &str) -> Option<u64> {
    let after = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    // `after` starts at field 3 (state).
    let utime: u64 = fields.get(14 - 3)?.parse().ok()?;
    let stime: u64 = fields.get(15 - 3)?.parse().ok()?;
    Some(utime + stime)
}

fn parse_status_kib(status: &str, key: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with(key))?;
    line[key.len()..].split_whitespace().next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_stat_and_status() {
        let stat = "1234 (my (odd) name) S 1 1234 1234 0 -1 4194560 500 0 0 0 250 75 0 0 20 0 4 0 \
                    100 1000000 2000 18446744073709551615";
        assert_eq!(parse_cpu_ticks(stat), Some(325));
        let status = "Name:\tbroker\nVmHWM:\t  204800 kB\nVmRSS:\t  102400 kB\n";
        assert_eq!(parse_status_kib(status, "VmRSS:"), Some(102_400));
        assert_eq!(parse_status_kib(status, "VmHWM:"), Some(204_800));
    }

    #[test]
    fn samples_this_process() {
        let pid = std::process::id();
        let a = sample(pid).expect("own /proc entry");
        let mut x = 0u64;
        for i in 0..2_000_000u64 {
            x = x.wrapping_mul(31).wrapping_add(i);
        }
        std::hint::black_box(x);
        let b = sample(pid).unwrap();
        let u = usage(pid, &a, &b);
        assert!(u.rss_kib > 0 && u.cpu_s >= 0.0);
        assert!(sample(u32::MAX).is_none());
    }
}
