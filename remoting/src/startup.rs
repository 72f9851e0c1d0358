//! Process start-up: resource limits glommio needs, and logging.

use std::io;

/// io_uring rings live in locked memory; glommio refuses to start below this.
pub const MIN_MEMLOCK_BYTES: u64 = 512 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(
        "io_uring needs at least {required} KiB of locked memory, but RLIMIT_MEMLOCK is {current} KiB \
         (hard limit {hard} KiB). Raise it, e.g. `ulimit -l {required}` in the starting shell, \
         `LimitMEMLOCK=infinity` in a systemd unit, or a `memlock` line in /etc/security/limits.conf"
    )]
    Memlock {
        current: u64,
        hard: u64,
        required: u64,
    },
    #[error("cannot read resource limits: {0}")]
    Rlimit(io::Error),
}

fn get(resource: libc::__rlimit_resource_t) -> io::Result<libc::rlimit> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct we pass and nothing else.
    if unsafe { libc::getrlimit(resource, &mut lim) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(lim)
}

fn set_soft(resource: libc::__rlimit_resource_t, soft: u64) -> io::Result<()> {
    let mut lim = get(resource)?;
    lim.rlim_cur = soft.min(lim.rlim_max);
    // SAFETY: setrlimit reads the struct we pass.
    if unsafe { libc::setrlimit(resource, &lim) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Makes sure glommio can create its rings: raises the soft memlock limit toward the hard one
/// if needed, and explains how to fix it when even the hard limit is too low.
pub fn check_memlock() -> Result<(), StartupError> {
    let lim = get(libc::RLIMIT_MEMLOCK).map_err(StartupError::Rlimit)?;
    if lim.rlim_cur >= MIN_MEMLOCK_BYTES {
        return Ok(());
    }
    let _ = set_soft(libc::RLIMIT_MEMLOCK, MIN_MEMLOCK_BYTES);
    let now = get(libc::RLIMIT_MEMLOCK).map_err(StartupError::Rlimit)?;
    if now.rlim_cur >= MIN_MEMLOCK_BYTES {
        return Ok(());
    }
    Err(StartupError::Memlock {
        current: now.rlim_cur / 1024,
        hard: now.rlim_max / 1024,
        required: MIN_MEMLOCK_BYTES / 1024,
    })
}

/// Raises the open-file soft limit to the hard limit: every client connection is a descriptor.
pub fn raise_nofile_limit() {
    if let Ok(lim) = get(libc::RLIMIT_NOFILE) {
        if lim.rlim_cur < lim.rlim_max {
            let _ = set_soft(libc::RLIMIT_NOFILE, lim.rlim_max);
        }
    }
}

/// Logging to stderr, filtered by `RUST_LOG` (e.g. `RUST_LOG=debug`, `RUST_LOG=ringmq_namesrv=trace`);
/// warnings and errors only by default.
pub fn init_logging() {
    let env = env_logger::Env::default().default_filter_or("warn");
    let _ = env_logger::Builder::from_env(env)
        .format_timestamp_millis()
        .try_init();
}

static SHUTDOWN: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Turns SIGTERM and SIGINT into a request for graceful shutdown ([`shutdown_requested`]); a
/// second signal exits at once. Call before starting executor threads: the signals are blocked
/// in this thread and every thread it starts, and taken by one dedicated thread instead, so no
/// executor is interrupted in the middle of an I/O call.
pub fn catch_shutdown_signals() {
    // SAFETY: plain libc signal-set calls on a local set.
    let set = unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGTERM);
        libc::sigaddset(&mut set, libc::SIGINT);
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        set
    };
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || loop {
            let mut signal = 0;
            // SAFETY: `set` is a valid signal set and `signal` a valid out-pointer.
            if unsafe { libc::sigwait(&set, &mut signal) } != 0 {
                continue;
            }
            if SHUTDOWN.swap(true, std::sync::atomic::Ordering::SeqCst) {
                eprintln!("second signal: exiting without a graceful shutdown");
                std::process::exit(130);
            }
            log::warn!("signal {signal} received: shutting down gracefully");
        })
        .expect("spawn the signal thread");
}

/// Resolves once SIGTERM or SIGINT has arrived (checked every 50 ms).
pub async fn shutdown_requested() {
    while !SHUTDOWN.load(std::sync::atomic::Ordering::SeqCst) {
        glommio::timer::sleep(std::time::Duration::from_millis(50)).await;
    }
}
