//! `broker`: start a RingMQ broker (like Java's `mqbroker`).

use clap::Parser;
use ringmq_broker::config::BrokerConfig;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "broker",
    version,
    about = "RingMQ broker: RocketMQ-compatible storage and delivery"
)]
struct Args {
    /// Config file: Java `broker.conf` keys, as properties or TOML (`.toml`).
    #[arg(short = 'c', long = "config")]
    config: Option<PathBuf>,
    /// Name server addresses, `;`-separated; overrides `namesrvAddr`.
    #[arg(short = 'n', long = "namesrv-addr")]
    namesrv_addr: Option<String>,
    /// Print the effective configuration and exit (like `mqbroker -p`).
    #[arg(short = 'p', long = "print-config")]
    print_config: bool,
    /// Executors to run, one pinned to each core; overrides `cores` (0 = every core).
    #[arg(long = "cores")]
    cores: Option<usize>,
}

fn main() -> ExitCode {
    ringmq_remoting::startup::init_logging();
    let args = Args::parse();
    let mut config = match &args.config {
        Some(path) => match BrokerConfig::from_file(path) {
            Ok(c) => c,
            Err(e) => return fail(&e),
        },
        None => BrokerConfig::default(),
    };
    if let Some(addrs) = &args.namesrv_addr {
        if let Err(e) = config
            .set("namesrvAddr", addrs)
            .and_then(|_| config.validate())
        {
            return fail(&e);
        }
    }
    if let Some(cores) = args.cores {
        config.cores = cores;
    }
    if args.print_config {
        print!("{}", config.to_properties());
        return ExitCode::SUCCESS;
    }
    if let Err(e) = ringmq_remoting::startup::check_memlock() {
        return fail(&e);
    }
    ringmq_remoting::startup::raise_nofile_limit();
    ringmq_remoting::startup::catch_shutdown_signals();
    let (prepared, port_hold) = match ringmq_broker::server::prepare(config) {
        Ok(p) => p,
        Err(e) => return fail(&e),
    };
    let plan = ringmq_broker::server::mesh_plan(prepared.cores);
    let cpus = allowed_cpus();
    let (booted_tx, booted_rx) = std::sync::mpsc::channel::<std::net::SocketAddr>();
    let mut executors = Vec::with_capacity(prepared.cores);
    for index in 0..prepared.cores {
        let placement = match cpus.get(index % cpus.len().max(1)) {
            Some(&cpu) => glommio::Placement::Fixed(cpu),
            None => glommio::Placement::Unbound,
        };
        let (prepared, plan, booted) = (prepared.clone(), plan.clone(), booted_tx.clone());
        let spawned = glommio::LocalExecutorBuilder::new(placement)
            .name(&format!("broker-{index}"))
            .spin_before_park(prepared.config.spin_before_park)
            .io_memory(prepared.io_memory_per_core())
            .spawn(move || async move {
                ringmq_broker::server::run_core(prepared, plan, move |addr| {
                    let _ = booted.send(addr);
                })
                .await
            });
        match spawned {
            Ok(handle) => executors.push(handle),
            Err(e) => return fail(&format!("cannot start the io_uring executor: {e}")),
        }
    }
    drop(booted_tx);
    if let Ok(addr) = booted_rx.recv() {
        // Every core listens on the port now; the placeholder socket can go.
        drop(port_hold);
        // Java prints the same sentence, with the advertised address; scripts wait for it.
        let advertised = std::net::SocketAddr::new(prepared.config.broker_ip1, addr.port());
        println!(
            "The broker[{}, {advertised}] boot success.",
            prepared.config.broker_name
        );
    }
    let mut status = ExitCode::SUCCESS;
    let mut failed_once = false;
    for handle in executors {
        let failed = match handle.join() {
            Ok(Ok(())) => continue,
            Ok(Err(e)) => e.to_string(),
            Err(e) => format!("executor failed: {e}"),
        };
        // The first failure is the cause; the others usually follow from it.
        if !failed_once {
            failed_once = true;
            status = fail(&failed);
        }
    }
    status
}

/// The CPUs this process may run on, in order (its affinity mask), to pin executors to.
fn allowed_cpus() -> Vec<usize> {
    // SAFETY: a zeroed cpu_set_t is a valid empty set; sched_getaffinity fills it for this thread.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) != 0 {
            return Vec::new();
        }
        (0..libc::CPU_SETSIZE as usize)
            .filter(|&cpu| libc::CPU_ISSET(cpu, &set))
            .collect()
    }
}

fn fail(e: &dyn std::fmt::Display) -> ExitCode {
    eprintln!("broker: {e}");
    ExitCode::FAILURE
}
