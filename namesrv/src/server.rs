//! Runs the name server on one glommio executor: the accept loop and the broker-expiry timer.

use crate::config::NamesrvConfig;
use crate::kv_config::KvConfig;
use crate::processor::Namesrv;
use glommio::net::TcpListener;
use ringmq_protocol::RemotingCommand;
use ringmq_remoting::{serve, Connection, Reply, ServerOptions, Service};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::{Rc, Weak};
use std::time::Instant;

/// The name server as a remoting [`Service`]: requests go to the [`Namesrv`] processor; a closed
/// connection drops the brokers registered over it.
struct NamesrvService {
    namesrv: Namesrv,
    /// Open connections by id, so expiry can close the connection of a silent broker.
    connections: RefCell<HashMap<u64, Weak<Connection>>>,
}

impl Service for NamesrvService {
    async fn handle(&self, conn: &Rc<Connection>, request: RemotingCommand) -> Option<Reply> {
        self.connections
            .borrow_mut()
            .entry(conn.id())
            .or_insert_with(|| Rc::downgrade(conn));
        Some(
            self.namesrv
                .process(conn.id(), &request, Instant::now())
                .into(),
        )
    }

    fn connection_closed(&self, conn: &Rc<Connection>) {
        self.connections.borrow_mut().remove(&conn.id());
        for key in self
            .namesrv
            .routes
            .borrow_mut()
            .connection_closed(conn.id())
        {
            log::info!(
                "broker {} of cluster {} unregistered: its connection closed",
                key.addr,
                key.cluster
            );
        }
    }
}

/// Binds, then serves forever. Errors only if the listen address cannot be bound.
pub async fn run(
    config: NamesrvConfig,
    kv: KvConfig,
    ready: impl FnOnce(std::net::SocketAddr),
) -> std::io::Result<()> {
    let listener = TcpListener::bind(config.listen_addr())?;
    let local = listener.local_addr()?;
    let options = ServerOptions {
        max_frame_len: config.frame_max_length,
        ..Default::default()
    };
    let service = Rc::new(NamesrvService {
        namesrv: Namesrv::new(config, kv),
        connections: RefCell::default(),
    });
    glommio::spawn_local(expire_brokers(Rc::downgrade(&service))).detach();
    ready(local);
    serve(listener, service, options).await;
    Ok(())
}

/// Drops brokers that stopped re-registering, and closes their connections as Java does.
async fn expire_brokers(service: Weak<NamesrvService>) {
    loop {
        let Some(interval) = service.upgrade().map(|s| s.namesrv.scan_interval()) else {
            return;
        };
        glommio::timer::sleep(interval).await;
        let Some(service) = service.upgrade() else {
            return;
        };
        let expired = service.namesrv.routes.borrow_mut().expire(Instant::now());
        for (key, conn_id) in expired {
            log::warn!(
                "broker {} of cluster {} expired: no registration within its timeout",
                key.addr,
                key.cluster
            );
            let conn = service
                .connections
                .borrow()
                .get(&conn_id)
                .and_then(Weak::upgrade);
            if let Some(conn) = conn {
                conn.close();
            }
        }
    }
}
