//! The client against a real remoting server whose test service answers out of order.

use glommio::net::TcpListener;
use ringmq_client::{ClientError, RemotingClient};
use ringmq_protocol::{RemotingCommand, RequestCode, ResponseCode};
use ringmq_remoting::{serve, Connection, Reply, ServerOptions, Service};
use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

/// Echoes field `n` after `delayMs`; counts oneway requests; code 999 closes the connection.
#[derive(Default)]
struct Echo {
    oneways: Cell<u32>,
}

impl Service for Echo {
    async fn handle(&self, conn: &Rc<Connection>, req: RemotingCommand) -> Option<Reply> {
        if req.code == 999 {
            conn.close();
            return None;
        }
        if req.is_oneway() {
            self.oneways.set(self.oneways.get() + 1);
            return None;
        }
        let delay: u64 = req
            .fields()
            .get("delayMs")
            .and_then(|d| d.parse().ok())
            .unwrap_or(0);
        glommio::timer::sleep(Duration::from_millis(delay)).await;
        let mut resp = RemotingCommand::response_to(&req, ResponseCode::SUCCESS, None);
        resp.fields_mut()
            .insert("n", req.fields().get("n").unwrap_or(""));
        resp.fields_mut()
            .insert("oneways", self.oneways.get().to_string());
        Some(resp.into())
    }
}

fn request(n: u32, delay_ms: u64) -> RemotingCommand {
    let mut r = RemotingCommand::request(RequestCode(5000), 0);
    r.fields_mut().insert("n", n.to_string());
    r.fields_mut().insert("delayMs", delay_ms.to_string());
    r
}

fn with_server(
    test: impl FnOnce(String) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()>>>
        + Send
        + 'static,
) {
    glommio::LocalExecutorBuilder::new(glommio::Placement::Unbound)
        .spawn(move || async move {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let addr = listener.local_addr().unwrap().to_string();
            glommio::spawn_local(serve(
                listener,
                Rc::new(Echo::default()),
                ServerOptions::default(),
            ))
            .detach();
            test(addr).await;
        })
        .unwrap()
        .join()
        .unwrap();
}

#[test]
fn pipelined_calls_get_their_own_responses_in_any_order() {
    with_server(|addr| {
        Box::pin(async move {
            let client = RemotingClient::connect(&addr, Duration::from_secs(2))
                .await
                .unwrap();
            let mut tasks = Vec::new();
            for n in 0..200u32 {
                let c = client.clone();
                // Later requests answer sooner: responses come back out of order.
                let delay = u64::from(20 - n % 20);
                tasks.push(glommio::spawn_local(async move {
                    let resp = c
                        .call(request(n, delay), Duration::from_secs(5))
                        .await
                        .unwrap();
                    assert_eq!(resp.fields().get("n"), Some(n.to_string().as_str()));
                }));
            }
            for t in tasks {
                t.await;
            }
        })
    });
}

#[test]
fn a_slow_response_times_out_and_the_connection_stays_usable() {
    with_server(|addr| {
        Box::pin(async move {
            let client = RemotingClient::connect(&addr, Duration::from_secs(2))
                .await
                .unwrap();
            let err = client
                .call(request(1, 300), Duration::from_millis(50))
                .await
                .unwrap_err();
            assert!(matches!(err, ClientError::Timeout { .. }), "{err}");
            let ok = client
                .call(request(2, 0), Duration::from_secs(2))
                .await
                .unwrap();
            assert_eq!(ok.fields().get("n"), Some("2"));
            // The late response to request 1 arrives and is dropped, not misdelivered.
            glommio::timer::sleep(Duration::from_millis(300)).await;
            let ok = client
                .call(request(3, 0), Duration::from_secs(2))
                .await
                .unwrap();
            assert_eq!(ok.fields().get("n"), Some("3"));
        })
    });
}

#[test]
fn oneway_requests_get_no_response_and_closing_fails_waiters() {
    with_server(|addr| {
        Box::pin(async move {
            let client = RemotingClient::connect(&addr, Duration::from_secs(2))
                .await
                .unwrap();
            for _ in 0..3 {
                client.send_oneway(request(0, 0)).unwrap();
            }
            let resp = client
                .call(request(9, 0), Duration::from_secs(2))
                .await
                .unwrap();
            assert_eq!(resp.fields().get("oneways"), Some("3"));
            // A request the server answers by closing: the waiter learns at once.
            let slow = client.clone();
            let waiter = glommio::spawn_local(async move {
                slow.call(request(10, 1000), Duration::from_secs(5)).await
            });
            glommio::timer::sleep(Duration::from_millis(20)).await;
            client
                .send_oneway(RemotingCommand::request(RequestCode(999), 0))
                .unwrap();
            let err = waiter.await.unwrap_err();
            assert!(matches!(err, ClientError::Closed { .. }), "{err}");
            assert!(client.is_closed());
            assert!(matches!(
                client.call(request(11, 0), Duration::from_secs(1)).await,
                Err(ClientError::Closed { .. })
            ));
        })
    });
    // Connecting to nothing is a clear error.
    glommio::LocalExecutorBuilder::new(glommio::Placement::Unbound)
        .spawn(|| async {
            let err = RemotingClient::connect("127.0.0.1:1", Duration::from_secs(1))
                .await
                .err()
                .unwrap();
            assert!(
                err.to_string().contains("cannot connect to 127.0.0.1:1"),
                "{err}"
            );
        })
        .unwrap()
        .join()
        .unwrap();
}
