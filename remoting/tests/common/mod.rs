//! Shared by the remoting tests: a server on its own glommio executor.

use glommio::net::TcpListener;
use ringmq_remoting::{serve, ServerOptions, Service};
use std::rc::Rc;
use std::sync::mpsc;
use std::time::Duration;

/// Serves `make()`'s service on a free loopback port from a thread of its own; returns the
/// address. The service is made on the executor, so it need not be `Send`.
pub fn start<S: Service>(make: impl FnOnce() -> S + Send + 'static) -> String {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        glommio::LocalExecutorBuilder::new(glommio::Placement::Unbound)
            .spawn(move || async move {
                let listener = TcpListener::bind("127.0.0.1:0").unwrap();
                tx.send(listener.local_addr().unwrap().to_string()).unwrap();
                serve(listener, Rc::new(make()), ServerOptions::default()).await;
            })
            .unwrap()
            .join()
            .unwrap();
    });
    rx.recv_timeout(Duration::from_secs(5)).unwrap()
}
