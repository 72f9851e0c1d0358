//! UPDATE_BROKER_CONFIG (`mqadmin updateBrokerConfig`) through the third-party admin client: a
//! change is in force on both cores at once, saved in the broker's own config file (its other
//! lines kept) so a restart keeps it, and `brokerPermission` reaches the name server's routes
//! at once. Refusals leave the settings and the file as they were.

mod common;

use common::{fields, fresh_dir, pull_from, send_v2, start_broker_from, start_broker_with};
use common::{start_namesrv, wait_for_route, wait_until, Wire};
use ringmq_protocol::{RemotingCommand, RequestCode, ResponseCode};
use rocketmq_client_rust::BrokerAdmin;
use std::collections::HashMap;
use std::time::Duration;

const TOPIC: &str = "ConfigTopic";
/// Queues 0-3: with two cores, both own some of them.
const QUEUES: i32 = 4;

fn update(
    owner: &rocketmq_runtime::RuntimeOwner,
    admin: &rocketmq_client_rust::DefaultMQAdminExt,
    broker: &str,
    pairs: &[(&str, &str)],
) {
    let properties: HashMap<_, _> = pairs
        .iter()
        .map(|(k, v)| ((*k).into(), (*v).into()))
        .collect();
    owner
        .block_on(admin.update_broker_config(broker.into(), properties))
        .unwrap_or_else(|e| panic!("UPDATE_BROKER_CONFIG {pairs:?}: {e}"));
}

fn setting(wire: &mut Wire, key: &str) -> Option<String> {
    let answer = wire.call(fields(RequestCode::GET_BROKER_CONFIG, &[]));
    let text = String::from_utf8(answer.body.to_vec()).unwrap();
    ringmq_remoting::properties::parse(&text)
        .into_iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v)
}

fn update_over_wire(wire: &mut Wire, body: &str) -> RemotingCommand {
    wire.call(fields(RequestCode::UPDATE_BROKER_CONFIG, &[]).with_body(body.as_bytes().to_vec()))
}

/// The send answer's code for each queue.
fn send_codes(wire: &mut Wire, body: &[u8]) -> Vec<i32> {
    (0..QUEUES)
        .map(|q| send_v2(wire, TOPIC, q, "", body).code)
        .collect()
}

#[test]
fn an_update_is_in_force_on_every_core_and_survives_a_restart() {
    let namesrv = start_namesrv();
    let dir = fresh_dir("config-update");
    let broker = start_broker_with(&namesrv, "cfg", dir, "ASYNC_FLUSH", "# operator's note\n");
    let conf = broker.dir.join("broker.conf");
    let mut wire = Wire::connect(&broker.addr);
    assert_eq!(
        send_codes(&mut wire, &[7; 2048]),
        vec![ResponseCode::SUCCESS.0; 4]
    );

    let (owner, runtime) = common::client_runtime("config-update");
    let admin = common::start_admin(&owner, &runtime, &namesrv);
    update(&owner, &admin, &broker.addr, &[("maxMessageSize", "1024")]);
    // Both cores refuse a 2 KiB body now, and still take a small one.
    assert_eq!(
        send_codes(&mut wire, &[7; 2048]),
        vec![ResponseCode::MESSAGE_ILLEGAL.0; 4]
    );
    assert_eq!(
        send_codes(&mut wire, &[7; 512]),
        vec![ResponseCode::SUCCESS.0; 4]
    );
    let shown = owner
        .block_on(admin.get_broker_config(broker.addr.as_str().into()))
        .expect("GET_BROKER_CONFIG");
    assert_eq!(
        shown.get("maxMessageSize").map(|v| v.to_string()),
        Some("1024".into())
    );
    let saved = std::fs::read_to_string(&conf).unwrap();
    assert!(saved.contains("maxMessageSize=1024\n"), "{saved}");
    assert!(saved.contains("# operator's note\n"), "{saved}");
    assert!(saved.contains("cores=2\n"), "{saved}");

    // A refused update changes nothing, here or in the file.
    let refused = update_over_wire(&mut wire, "maxMessageSize=4096\nlistenPort=1\n");
    assert_eq!(refused.code, ResponseCode::NO_PERMISSION.0);
    let remark = refused.remark.unwrap_or_default();
    assert!(
        remark.contains("listenPort") && remark.contains("restart"),
        "{remark}"
    );
    let refused = update_over_wire(&mut wire, "maxMesageSize=4096\n");
    assert_eq!(refused.code, ResponseCode::SYSTEM_ERROR.0);
    assert!(refused.remark.unwrap_or_default().contains("maxMesageSize"));
    let refused = update_over_wire(&mut wire, "maxMessageSize=lots\n");
    assert_eq!(refused.code, ResponseCode::SYSTEM_ERROR.0);
    assert_eq!(
        setting(&mut wire, "maxMessageSize").as_deref(),
        Some("1024")
    );
    assert_eq!(std::fs::read_to_string(&conf).unwrap(), saved);

    // A graceful restart reads the saved setting back.
    let (dir, status) = broker.stop(libc::SIGTERM);
    assert!(status.success());
    let broker = start_broker_from(&conf, dir);
    let mut wire = Wire::connect(&broker.addr);
    assert_eq!(
        setting(&mut wire, "maxMessageSize").as_deref(),
        Some("1024")
    );
    assert_eq!(
        send_codes(&mut wire, &[7; 2048]),
        vec![ResponseCode::MESSAGE_ILLEGAL.0; 4]
    );
}

/// The permission the name server routes `TOPIC` on the broker with.
fn routed_perm(namesrv: &mut Wire) -> Option<i64> {
    let answer = namesrv.call(fields(
        RequestCode::GET_ROUTEINFO_BY_TOPIC,
        &[("topic", TOPIC)],
    ));
    let text = String::from_utf8(answer.body.to_vec()).ok()?;
    let at = text.find("\"perm\":")? + "\"perm\":".len();
    text[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .ok()
}

#[test]
fn broker_permission_drains_the_broker_and_back() {
    let namesrv = start_namesrv();
    let broker = start_broker_with(
        &namesrv,
        "drain",
        fresh_dir("config-drain"),
        "ASYNC_FLUSH",
        "",
    );
    let mut wire = Wire::connect(&broker.addr);
    assert_eq!(
        send_codes(&mut wire, b"before"),
        vec![ResponseCode::SUCCESS.0; 4]
    );
    wait_for_route(&namesrv, TOPIC);
    let mut ns = Wire::connect(&namesrv);
    assert_eq!(routed_perm(&mut ns), Some(6));

    let (owner, runtime) = common::client_runtime("config-drain");
    let admin = common::start_admin(&owner, &runtime, &namesrv);
    update(&owner, &admin, &broker.addr, &[("brokerPermission", "4")]);
    // Registered at once, not at the next 30 s round: producers route around the broker.
    wait_until("the read-only route", Duration::from_secs(5), || {
        routed_perm(&mut ns) == Some(4)
    });
    let refused = send_v2(&mut wire, TOPIC, 1, "", b"during");
    assert_eq!(refused.code, ResponseCode::NO_PERMISSION.0);
    assert!(refused
        .remark
        .unwrap_or_default()
        .contains("sending message is forbidden"));
    // Consumers still drain what is stored, on both cores.
    for q in 0..QUEUES {
        let pulled = pull_from(&mut wire, "drain_group", TOPIC, q, 0);
        assert_eq!(pulled.code, ResponseCode::SUCCESS.0, "queue {q}");
    }

    update(&owner, &admin, &broker.addr, &[("brokerPermission", "6")]);
    wait_until("the writable route", Duration::from_secs(5), || {
        routed_perm(&mut ns) == Some(6)
    });
    assert_eq!(
        send_codes(&mut wire, b"after"),
        vec![ResponseCode::SUCCESS.0; 4]
    );
}
