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
    if args.print_config {
        print!("{}", config.to_properties());
        return ExitCode::SUCCESS;
    }
    if let Err(e) = ringmq_remoting::startup::check_memlock() {
        return fail(&e);
    }
    ringmq_remoting::startup::raise_nofile_limit();
    ringmq_remoting::startup::catch_shutdown_signals();
    let executor = glommio::LocalExecutorBuilder::new(glommio::Placement::Unbound)
        .name("broker")
        .spawn(move || async move {
            let name = config.broker_name.clone();
            ringmq_broker::server::run(config, move |addr| {
                // Java prints the same sentence; scripts wait for it.
                println!("The broker[{name}, {addr}] boot success.");
            })
            .await
        });
    match executor.map(|h| h.join()) {
        Ok(Ok(Ok(()))) => ExitCode::SUCCESS,
        Ok(Ok(Err(e))) => fail(&e),
        Ok(Err(e)) => fail(&format!("executor failed: {e}")),
        Err(e) => fail(&format!("cannot start the io_uring executor: {e}")),
    }
}

fn fail(e: &dyn std::fmt::Display) -> ExitCode {
    eprintln!("broker: {e}");
    ExitCode::FAILURE
}
