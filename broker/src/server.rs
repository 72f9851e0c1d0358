//! Starting the broker: the store, the tables, the network, and the background duties
//! (registration with name servers, persisting consumer offsets, expiring silent clients).

use crate::config::BrokerConfig;
use crate::core::BrokerCore;
use crate::handlers::client::notify_group_changed;
use crate::offsets::ConsumerOffsets;
use crate::registration::{BrokerIdentity, NameServers};
use crate::schedule::{self, DelayOffsets};
use crate::service::BrokerService;
use crate::topics::TopicTable;
use glommio::net::TcpListener;
use ringmq_remoting::{serve, ServerOptions};
use ringmq_storage::shard::Shard;
use ringmq_storage::store::StoreMeta;
use std::net::SocketAddr;
use std::rc::{Rc, Weak};
use std::time::Instant;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("{0}")]
    Storage(#[from] ringmq_storage::StorageError),
    #[error("{0}")]
    Tables(#[from] crate::topics::PersistError),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// Opens everything and serves until the process ends. `ready` is called once listening.
pub async fn run(config: BrokerConfig, ready: impl FnOnce(SocketAddr)) -> Result<(), StartError> {
    let root = config.store_path_root_dir.clone();
    let wanted_shards = if config.shards == 0 { 1 } else { config.shards };
    let meta = StoreMeta::open_or_create(&root, wanted_shards)?;
    let mut shards = Vec::new();
    for id in 0..meta.shard_count {
        let (shard, report) =
            Shard::open(id, &StoreMeta::shard_dir(&root, id), config.shard_config()).await?;
        if let Some((at, why)) = &report.cut {
            log::warn!("shard {id}: commit log cut at {at}: {why}");
        }
        shards.push(shard);
    }
    let topics = TopicTable::load(&config)?;
    let offsets = ConsumerOffsets::load(&config)?;
    let delay_offsets = DelayOffsets::load_from(&config.config_dir().join("delayOffset.json"))?;
    let listen = SocketAddr::new(
        std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED),
        config.listen_port,
    );
    let listen = if config.broker_ip1.is_loopback() {
        SocketAddr::new(config.broker_ip1, config.listen_port)
    } else {
        listen
    };
    let listener = TcpListener::bind(listen).map_err(|source| StartError::Listen {
        addr: listen,
        source: source.into(),
    })?;
    let local = listener.local_addr().map_err(|source| StartError::Listen {
        addr: listen,
        source: source.into(),
    })?;
    let mut config = config;
    // With listenPort=0 (tests) the kernel picks the port; advertise the real one.
    config.listen_port = local.port();
    let identity = BrokerIdentity {
        cluster: config.broker_cluster_name.clone(),
        broker_name: config.broker_name.clone(),
        broker_id: config.broker_id,
        broker_addr: config.broker_addr(),
        ha_server_addr: format!("{}:{}", config.broker_ip1, config.listen_port + 1),
    };
    let namesrvs = Rc::new(NameServers::new(config.namesrv_addrs(), identity));
    let core = Rc::new(BrokerCore::new(
        config,
        meta,
        shards,
        topics,
        offsets,
        delay_offsets,
    ));
    schedule::start(&core);
    glommio::spawn_local(keep_registered(Rc::downgrade(&core), namesrvs.clone())).detach();
    glommio::spawn_local(housekeeping(Rc::downgrade(&core))).detach();
    ready(local);
    let serving = serve(
        listener,
        Rc::new(BrokerService { core: core.clone() }),
        ServerOptions::default(),
    );
    futures_lite::future::or(serving, ringmq_remoting::startup::shutdown_requested()).await;
    shut_down(&core, &namesrvs).await
}

/// Graceful shutdown: no new connections (the listener is gone), a moment for requests in
/// flight, then leave the name servers, make every shard durable with a clean checkpoint, and
/// write offsets and topics.
async fn shut_down(core: &BrokerCore, namesrvs: &NameServers) -> Result<(), StartError> {
    core.begin_closing();
    glommio::timer::sleep(std::time::Duration::from_millis(200)).await;
    namesrvs.unregister_all().await;
    for shard in &core.shards {
        shard.close().await?;
    }
    persist_offsets(core);
    core.topics.borrow_mut().persist()?;
    log::warn!("broker stopped cleanly");
    Ok(())
}

/// Registers at start, every `registerNameServerPeriod`, and when topics change.
async fn keep_registered(core: Weak<BrokerCore>, namesrvs: Rc<NameServers>) {
    loop {
        let Some(c) = core.upgrade() else { return };
        let wrapper = c.topics.borrow().wrapper();
        // The version this round registers: a change made while the round is under way must
        // trigger the next round at once, not wait for the timer.
        let version = wrapper.data_version.clone();
        let interval = c.config.register_interval();
        drop(c);
        for (addr, result) in namesrvs
            .addrs()
            .iter()
            .zip(namesrvs.register_all(&wrapper).await)
        {
            match result {
                Ok(()) => log::debug!("registered with name server {addr}"),
                Err(e) => log::warn!("registration failed: {e}"),
            }
        }
        let Some(c) = core.upgrade() else { return };
        let changed = c
            .topics_changed
            .wait_until(|| c.topics.borrow().data_version() != &version);
        futures_lite::future::or(changed, glommio::timer::sleep(interval)).await;
    }
}

/// Persists consumer offsets and drops clients that stopped sending heartbeats.
async fn housekeeping(core: Weak<BrokerCore>) {
    loop {
        let Some(interval) = core
            .upgrade()
            .map(|c| c.config.flush_consumer_offset_interval)
        else {
            return;
        };
        glommio::timer::sleep(interval).await;
        let Some(c) = core.upgrade() else { return };
        persist_offsets(&c);
        let changed = c.clients.borrow_mut().expire(Instant::now());
        for group in changed {
            log::info!("consumer group {group}: a member stopped sending heartbeats");
            notify_group_changed(&c, &group);
        }
    }
}

/// Writes consumer offsets and delay-level progress, if changed.
fn persist_offsets(core: &BrokerCore) {
    if let Err(e) = core.offsets.borrow_mut().persist() {
        log::error!("cannot persist consumer offsets: {e}");
    }
    if let Err(e) = core.delay_offsets.borrow_mut().persist() {
        log::error!("cannot persist delay-level offsets: {e}");
    }
}
