//! `namesrv`: start RingMQ's name server (like Java's `mqnamesrv`).

use clap::Parser;
use ringmq_namesrv::config::NamesrvConfig;
use ringmq_namesrv::kv_config::KvConfig;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "namesrv",
    version,
    about = "RingMQ name server: the RocketMQ route registry"
)]
struct Args {
    /// Config file: Java `namesrv.properties` keys, as properties or TOML (`.toml`).
    #[arg(short = 'c', long = "config")]
    config: Option<PathBuf>,
    /// Address to listen on; overrides `bindAddress`/`listenPort` [default: 127.0.0.1:9876].
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// Print the effective configuration and exit (like `mqnamesrv -p`).
    #[arg(short = 'p', long = "print-config")]
    print_config: bool,
}

fn main() -> ExitCode {
    ringmq_remoting::startup::init_logging();
    let args = Args::parse();
    let mut config = match &args.config {
        Some(path) => match NamesrvConfig::from_file(path) {
            Ok(c) => c,
            Err(e) => return fail(&e),
        },
        None => NamesrvConfig::default(),
    };
    if let Some(addr) = args.listen {
        config.bind_address = addr.ip();
        config.listen_port = addr.port();
    }
    if args.print_config {
        print!("{}", config.to_properties());
        return ExitCode::SUCCESS;
    }
    let kv = if config.kv_config_path.as_os_str().is_empty() {
        KvConfig::in_memory()
    } else {
        match KvConfig::load(&config.kv_config_path) {
            Ok(kv) => kv,
            Err(e) => return fail(&e),
        }
    };
    if let Err(e) = ringmq_remoting::startup::check_memlock() {
        return fail(&e);
    }
    ringmq_remoting::startup::raise_nofile_limit();

    let executor = glommio::LocalExecutorBuilder::new(glommio::Placement::Unbound)
        .name("namesrv")
        .spawn(move || async move {
            ringmq_namesrv::server::run(config, kv, |addr| {
                // Java prints the same sentence; scripts wait for it.
                println!("The Name Server boot success. listening on {addr}");
            })
            .await
        });
    match executor.map(|h| h.join()) {
        Ok(Ok(Ok(()))) => ExitCode::SUCCESS,
        Ok(Ok(Err(e))) => fail(&format!("cannot listen: {e}")),
        Ok(Err(e)) => fail(&format!("executor failed: {e}")),
        Err(e) => fail(&format!("cannot start the io_uring executor: {e}")),
    }
}

fn fail(e: &dyn std::fmt::Display) -> ExitCode {
    eprintln!("namesrv: {e}");
    ExitCode::FAILURE
}
