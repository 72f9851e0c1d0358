//! Starting and stopping the broker's cores.
//!
//! [`prepare`] runs once before any executor exists: it opens the store's meta (fixing its shard
//! count on first start) and settles the port, so every core starts with the same final config
//! (the port is part of every message id). Then each core runs [`run_core`] on its own executor:
//!
//! 1. join the mesh, open the shards it owns (recovering them in parallel with the other cores),
//!    take its part of the committed offsets and delay progress;
//! 2. other cores report to the control core, which loads the topic table, hands every core its
//!    copy ([`Ask::Start`]) and waits until all of them listen, then listens itself, registers
//!    with the name servers and says it booted;
//! 3. on SIGTERM/SIGINT the control core leaves the name servers, asks every core to close
//!    ([`Ask::Close`]: stop accepting, let requests in flight finish, make its shards durable with a
//!    clean checkpoint, hand over its final progress), closes its own shards and writes offsets,
//!    delay progress and topics.

use crate::config::BrokerConfig;
use crate::core::{BrokerCore, Tables};
use crate::groups::GroupTable;
use crate::handlers::client::notify_group_changed;
use crate::hops::{self, Answer, Ask, Progress, Tell};
use crate::mesh::{self, Mesh, MeshError, MeshPlan, CONTROL_CORE};
use crate::offsets::ConsumerOffsets;
use crate::offsets::ForgottenOffsets;
use crate::persist::{PersistError, TableWrite};
use crate::registration::{BrokerIdentity, NameServers};
use crate::schedule::{self, DelayOffsets};
use crate::service::BrokerService;
use crate::topics::TopicTable;
use glommio::net::TcpListener;
use glommio::sync::Semaphore;
use ringmq_remoting::{serve, ServerOptions};
use ringmq_storage::shard::Shard;
use ringmq_storage::store::StoreMeta;
use std::cell::{Cell, RefCell};
use std::net::SocketAddr;
use std::rc::{Rc, Weak};
use std::time::{Duration, Instant};

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("{0}")]
    Storage(#[from] ringmq_storage::StorageError),
    #[error("{0}")]
    Tables(#[from] crate::persist::PersistError),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cores cannot reach each other: {0}")]
    Mesh(#[from] MeshError),
    #[error("core {core} failed to start: {why}")]
    Core { core: usize, why: String },
}

/// What every core starts from.
#[derive(Clone)]
pub struct Prepared {
    pub config: BrokerConfig,
    pub meta: StoreMeta,
    pub cores: usize,
}

impl Prepared {
    /// Bytes of I/O memory each core registers with io_uring: room for the DMA buffers of every
    /// commit log the busiest core owns, plus `READ_IO_MEMORY` for cold reads. Writes from
    /// registered memory skip the kernel's page pinning (see
    /// [`CommitLogConfig::dma_memory`](ringmq_storage::commitlog::CommitLogConfig::dma_memory)).
    pub fn io_memory_per_core(&self) -> usize {
        let shards_per_core = (self.meta.shard_count as usize).div_ceil(self.cores.max(1));
        shards_per_core * self.config.commit_log_config().dma_memory() + READ_IO_MEMORY
    }
}

/// Registered I/O memory kept for cold commit-log reads (pulls served from disk, lookups).
const READ_IO_MEMORY: usize = 4 << 20;

/// Holds the listening port between [`prepare`] and the moment every core listens on it.
pub struct PortHold(#[allow(dead_code)] Option<socket2::Socket>);

/// Opens the store's meta and settles the core count and the port. With `listenPort=0` (tests)
/// a free port is picked and held by a bound, non-listening SO_REUSEPORT socket until the cores
/// bind the same port (drop the [`PortHold`] after they did).
pub fn prepare(mut config: BrokerConfig) -> Result<(Prepared, PortHold), StartError> {
    let cores = match config.cores {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    };
    let wanted_shards = match config.shards {
        0 => cores as u32,
        n => n,
    };
    let meta = StoreMeta::open_or_create(&config.store_path_root_dir, wanted_shards)?;
    let addr = config.listen_addr();
    let hold = if config.listen_port == 0 {
        let socket = reserve_port(addr).map_err(|source| StartError::Listen { addr, source })?;
        let port = socket
            .local_addr()
            .ok()
            .and_then(|a| a.as_socket())
            .map_or(0, |a| a.port());
        config.listen_port = port;
        Some(socket)
    } else {
        None
    };
    Ok((
        Prepared {
            config,
            meta,
            cores,
        },
        PortHold(hold),
    ))
}

fn reserve_port(addr: SocketAddr) -> std::io::Result<socket2::Socket> {
    let socket = socket2::Socket::new(
        socket2::Domain::for_address(addr),
        socket2::Type::STREAM,
        None,
    )?;
    socket.set_reuse_address(true)?;
    socket.set_reuse_port(true)?;
    socket.bind(&addr.into())?;
    Ok(socket)
}

/// Runs one core until the broker stops. `mesh` is `None` for a one-core broker; `ready` is
/// called on the control core once every core listens.
pub async fn run_core(
    prepared: Prepared,
    mesh: Option<MeshPlan>,
    ready: impl FnOnce(SocketAddr),
) -> Result<(), StartError> {
    let Prepared { config, meta, .. } = prepared;
    let (mesh, receivers) = match mesh {
        Some(plan) => {
            let (mesh, receivers) = Mesh::join(plan).await?;
            (Rc::new(mesh), Some(receivers))
        }
        None => (Rc::new(Mesh::single()), None),
    };
    let id = mesh.id();
    let opened = open_core(&config, &meta, id, mesh.cores()).await;
    let (shards, offsets, delays) = match opened {
        Ok(parts) => parts,
        Err(e) => {
            if id != CONTROL_CORE {
                let _ = mesh
                    .tell(CONTROL_CORE, Tell::Opened(Err(e.to_string())))
                    .await;
            }
            return Err(e);
        }
    };
    let tables = if id == CONTROL_CORE {
        Tables {
            topics: TopicTable::load(&config)?,
            groups: GroupTable::load(&config)?,
        }
    } else {
        Tables {
            topics: TopicTable::in_memory(&config),
            groups: GroupTable::in_memory(),
        }
    };
    let core = Rc::new(BrokerCore::new(
        config,
        meta,
        mesh.clone(),
        shards,
        tables,
        offsets,
        delays,
    ));
    if let Some(receivers) = receivers {
        let (serving, failing) = (Rc::downgrade(&core), Rc::downgrade(&core));
        mesh.receive(
            receivers,
            move |from, envelope| {
                if let Some(core) = serving.upgrade() {
                    hops::serve(&core, from, envelope);
                }
            },
            move |from| peer_gone(&failing, from),
        );
    }
    if id != CONTROL_CORE {
        mesh.tell(CONTROL_CORE, Tell::Opened(Ok(()))).await?;
        core.wait_stopped().await;
        return Ok(());
    }
    run_control(&core, ready).await
}

/// A core's channel closed. Without the control core nothing can be served: stop.
fn peer_gone(core: &Weak<BrokerCore>, from: usize) {
    let Some(core) = core.upgrade() else { return };
    if from == CONTROL_CORE {
        core.mark_stopped();
    } else if !core.is_closing() {
        log::error!("core {from} stopped while the broker runs");
    }
}

type CoreParts = (Vec<Option<Rc<Shard>>>, ConsumerOffsets, DelayOffsets);

/// Opens (and recovers) the shards core `id` owns, and takes its part of the progress files.
async fn open_core(
    config: &BrokerConfig,
    meta: &StoreMeta,
    id: usize,
    cores: usize,
) -> Result<CoreParts, StartError> {
    let root = &config.store_path_root_dir;
    let mut shards = Vec::new();
    for shard in 0..meta.shard_count {
        if shard as usize % cores != id {
            shards.push(None);
            continue;
        }
        let (opened, report) = Shard::open(
            shard,
            &StoreMeta::shard_dir(root, shard),
            config.shard_config(),
        )
        .await?;
        if let Some((at, why)) = &report.cut {
            log::warn!("shard {shard}: commit log cut at {at}: {why}");
        }
        shards.push(Some(opened));
    }
    let owns = |topic: &str, queue: i32| meta.shard_of(topic, queue) as usize % cores == id;
    // The transaction ledger keeps its op-queue position beside its half-queue one.
    let offsets = ConsumerOffsets::load(config)?.owned_part(|topic, queue| match topic {
        crate::topics::TRANS_OP_HALF_TOPIC => owns(crate::topics::TRANS_HALF_TOPIC, queue),
        _ => owns(topic, queue),
    });
    let delays = DelayOffsets::load_from(&delay_offsets_path(config))?
        .owned_part(|level| owns(crate::topics::SCHEDULE_TOPIC, level - 1));
    Ok((shards, offsets, delays))
}

fn delay_offsets_path(config: &BrokerConfig) -> std::path::PathBuf {
    config.config_dir().join("delayOffset.json")
}

/// The files the control core writes every core's progress to.
///
/// They are written with fsyncs, on a blocking thread: on the control core, which also serves
/// connections, a disk busy with the commit log would stall every request there. Rounds take
/// turns (the periodic one and the last one at shutdown write the same temporary files).
struct ProgressFiles {
    tables: RefCell<ProgressTables>,
    turn: Semaphore,
    /// The shutdown's round was written: a periodic round that gathered its progress earlier
    /// must not overwrite it with older offsets.
    finished: Cell<bool>,
}

struct ProgressTables {
    offsets: ConsumerOffsets,
    delays: DelayOffsets,
}

impl ProgressFiles {
    fn load(config: &BrokerConfig) -> Result<Self, StartError> {
        Ok(Self {
            tables: RefCell::new(ProgressTables {
                offsets: ConsumerOffsets::load(config)?,
                delays: DelayOffsets::load_from(&delay_offsets_path(config))?,
            }),
            turn: Semaphore::new(1),
            finished: Cell::new(false),
        })
    }

    /// Takes in every core's progress, drops the offsets of groups and topics deleted since the last write
    /// (a part gathered before the deletion may still carry them), and writes what changed.
    /// `last` is the shutdown's round; nothing is written after it.
    async fn write(&self, parts: Vec<Progress>, forgotten: Vec<ForgottenOffsets>, last: bool) {
        // The semaphore is never closed, so the permit always comes; it is held to the end.
        let _turn = self.turn.acquire_permit(1).await;
        if self.finished.get() {
            return;
        }
        self.finished.set(last);
        let (offsets, delays) = {
            let mut t = self.tables.borrow_mut();
            for part in parts {
                t.offsets.absorb(part.offsets);
                t.delays.absorb(part.delays);
            }
            for f in &forgotten {
                t.offsets.forget(f);
            }
            (t.offsets.take_write(), t.delays.take_write())
        };
        if let Some(Err(e)) = run_blocking(offsets).await {
            log::error!("cannot persist consumer offsets: {e}");
            self.tables.borrow_mut().offsets.mark_dirty();
        }
        if let Some(Err(e)) = run_blocking(delays).await {
            log::error!("cannot persist delay-level offsets: {e}");
            self.tables.borrow_mut().delays.mark_dirty();
        }
    }
}

/// Runs `write`, if any, on a blocking thread.
async fn run_blocking(write: Option<TableWrite>) -> Option<Result<(), PersistError>> {
    Some(write?.run_off_core().await)
}

/// The control core: start every core, serve, and lead the shutdown.
async fn run_control(
    core: &Rc<BrokerCore>,
    ready: impl FnOnce(SocketAddr),
) -> Result<(), StartError> {
    let others = core.mesh.cores() - 1;
    let control = core.control().map_err(|r| StartError::Core {
        core: core.id(),
        why: r.remark,
    })?;
    control
        .opened_changed
        .wait_until(|| {
            let opened = control.opened.borrow();
            opened.0 == others || opened.1.is_some()
        })
        .await;
    if let Some(why) = control.opened.borrow_mut().1.take() {
        return Err(StartError::Core { core: 0, why });
    }
    let snapshot = core.topics.borrow().snapshot();
    let group_snapshot = core.groups.borrow().snapshot();
    for (other, answer) in core
        .mesh
        .ask_all(|| Ask::Start {
            topics: snapshot.clone(),
            groups: group_snapshot.clone(),
            port: core.config().listen_port,
        })
        .await
    {
        match answer? {
            Answer::Started(Ok(())) => {}
            Answer::Started(Err(why)) => return Err(StartError::Core { core: other, why }),
            _ => return Err(MeshError::WrongAnswer(other).into()),
        }
    }
    let local =
        start_serving(core, core.config().listen_port).map_err(|source| StartError::Listen {
            addr: core.config().listen_addr(),
            source,
        })?;
    let config = core.config();
    let identity = BrokerIdentity {
        cluster: config.broker_cluster_name.clone(),
        broker_name: config.broker_name.clone(),
        broker_id: config.broker_id,
        broker_addr: config.broker_addr(),
        ha_server_addr: format!("{}:{}", config.broker_ip1, config.listen_port + 1),
    };
    let namesrvs = Rc::new(NameServers::new(config.namesrv_addrs(), identity));
    let files = Rc::new(ProgressFiles::load(&config)?);
    glommio::spawn_local(keep_registered(Rc::downgrade(core), namesrvs.clone())).detach();
    glommio::spawn_local(housekeeping(Rc::downgrade(core), files.clone())).detach();
    ready(local);
    ringmq_remoting::startup::shutdown_requested().await;
    shut_down(core, &namesrvs, &files).await
}

/// Listens on `port` on this core (SO_REUSEPORT: every core has its own listener on the same
/// port and the kernel spreads connections among them) and starts this core's delay levels.
/// Serving stops when the core begins closing.
pub fn start_serving(core: &Rc<BrokerCore>, port: u16) -> Result<SocketAddr, std::io::Error> {
    let mut addr = core.config().listen_addr();
    addr.set_port(port);
    let listener = TcpListener::bind(addr).map_err(std::io::Error::from)?;
    let local = listener.local_addr().map_err(std::io::Error::from)?;
    let service = Rc::new(BrokerService { core: core.clone() });
    let c = core.clone();
    glommio::spawn_local(async move {
        futures_lite::future::or(
            serve(listener, service, ServerOptions::default()),
            c.wait_closing(),
        )
        .await;
    })
    .detach();
    schedule::start(core);
    crate::transaction::start(core);
    glommio::spawn_local(crate::traffic::keep_sampling(Rc::downgrade(core))).detach();
    Ok(local)
}

/// How long requests already in flight get to finish once a core stops accepting.
const DRAIN: Duration = Duration::from_millis(200);

/// Closes this core: no new connections, a moment for requests in flight, then every shard made
/// durable with a clean checkpoint. Returns the progress to write.
pub async fn close_core(core: &BrokerCore) -> Result<Progress, StartError> {
    core.begin_closing();
    glommio::timer::sleep(DRAIN).await;
    for shard in core.owned_shards() {
        shard.close().await?;
    }
    Ok(core.progress())
}

/// Graceful shutdown, led by the control core.
async fn shut_down(
    core: &Rc<BrokerCore>,
    namesrvs: &NameServers,
    files: &ProgressFiles,
) -> Result<(), StartError> {
    core.begin_closing();
    namesrvs.unregister_all().await;
    let mut progress = Vec::new();
    let mut failure = None;
    for (other, answer) in core.mesh.ask_all(|| Ask::Close).await {
        match answer {
            Ok(Answer::Closed(Ok(p))) => progress.push(p),
            Ok(Answer::Closed(Err(why))) => {
                failure.get_or_insert(StartError::Core { core: other, why });
            }
            Ok(_) => {
                failure.get_or_insert(MeshError::WrongAnswer(other).into());
            }
            Err(e) => {
                failure.get_or_insert(e.into());
            }
        }
    }
    progress.push(close_core(core).await?);
    files.write(progress, forgotten_offsets(core), true).await;
    core.topics.borrow_mut().persist()?;
    core.groups.borrow_mut().persist()?;
    core.mark_stopped();
    match failure {
        Some(e) => Err(e),
        None => {
            log::warn!("broker stopped cleanly");
            Ok(())
        }
    }
}

/// Registers at start, every `registerNameServerPeriod`, and when topics change.
async fn keep_registered(core: Weak<BrokerCore>, namesrvs: Rc<NameServers>) {
    loop {
        let Some(c) = core.upgrade() else { return };
        let wrapper = c.topics.borrow().registration(c.config().broker_permission);
        // The version this round registers: a change made while the round is under way must
        // trigger the next round at once, not wait for the timer.
        let version = wrapper.data_version.clone();
        let interval = c.config().register_interval();
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
        let Some(control) = &c.control else { return };
        let changed = control
            .topics_changed
            .wait_until(|| c.topics.borrow().data_version() != &version);
        futures_lite::future::or(changed, glommio::timer::sleep(interval)).await;
    }
}

fn forgotten_offsets(core: &BrokerCore) -> Vec<ForgottenOffsets> {
    core.control
        .as_ref()
        .map(|c| std::mem::take(&mut *c.forgotten_offsets.borrow_mut()))
        .unwrap_or_default()
}

/// Writes every core's progress and drops clients that stopped sending heartbeats.
async fn housekeeping(core: Weak<BrokerCore>, files: Rc<ProgressFiles>) {
    let interval = |config: &BrokerConfig| config.flush_consumer_offset_interval;
    BrokerCore::every(core, interval, |c| housekeeping_round(c, files.clone())).await;
}

async fn housekeeping_round(c: Rc<BrokerCore>, files: Rc<ProgressFiles>) {
    let progress = c.all_progress().await;
    files.write(progress, forgotten_offsets(&c), false).await;
    let changed = match &c.control {
        Some(control) => control.clients.borrow_mut().expire(Instant::now()),
        None => Vec::new(),
    };
    for group in changed {
        log::info!("consumer group {group}: a member stopped sending heartbeats");
        notify_group_changed(&c, &group).await;
    }
}

/// The mesh plan for `cores` executors, or `None` for one.
pub fn mesh_plan(cores: usize) -> Option<MeshPlan> {
    (cores > 1).then(|| mesh::plan(cores))
}
