//! A latency benchmark harness for any broker that speaks the RocketMQ remoting protocol.
//!
//! The harness is a RocketMQ client of its own, on glommio over [`ringmq_client`]: it finds
//! brokers through a name server the way every RocketMQ client does ([`route`]), drives them with
//! open- or closed-loop producers ([`workload`]) and long-polling pull consumers ([`consume`]), and
//! reports HdrHistogram percentiles next to raw floors it measures itself in the same run
//! ([`floor`]): loopback TCP round trips of the same frame size and O_DIRECT write + fdatasync on
//! the store's file system. A broker figure means little alone; its ratio to the floor says how
//! much the broker adds to what the machine cannot avoid.
//!
//! Open-loop runs schedule every message at an intended time and measure latency from that time,
//! so a broker stall shows in the percentiles instead of silently slowing the producer down
//! (coordinated omission). [`run`] composes one measured run; [`suite`] composes runs into the
//! standard suite, sweeps and comparisons; [`report`] prints the tables, [`export`] writes one
//! `RESULT_JSON` line per run and an HdrHistogram V2 interval log, [`plot`] an SVG percentile plot.
//! [`pipeline`] is apart from the rest: the pipelined rate of a trivial request next to a plain
//! blocking-socket server answering the same frames, for the network path alone.

pub mod admin;
pub mod clock;
pub mod consume;
pub mod error;
pub mod export;
pub mod floor;
pub mod metrics;
pub mod pipeline;
pub mod plot;
pub mod proc_stats;
pub mod report;
pub mod route;
pub mod run;
pub mod suite;
pub mod workload;

pub use error::BenchError;

/// Runs `task` to completion on a fresh glommio executor thread and returns its output.
///
/// Every run of the harness happens on one executor: all connections, producers and consumers
/// share one thread, so nothing on the data path needs a lock.
pub fn block_on<T, F, Fut>(task: F) -> Result<T, BenchError>
where
    T: Send + 'static,
    F: FnOnce() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = T> + 'static,
{
    glommio::LocalExecutorBuilder::new(glommio::Placement::Unbound)
        .name("bench")
        .spawn(task)
        .map_err(|e| BenchError::Executor(e.to_string()))?
        .join()
        .map_err(|e| BenchError::Executor(e.to_string()))
}
