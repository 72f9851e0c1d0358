//! The real `namesrv` binary, driven over TCP the way brokers and clients drive it.

mod common;

use common::{register_broker, register_command, wire_vector, Namesrv, WireClient};
use ringmq_protocol::body::{ClusterInfo, KvTable, TopicList, TopicRouteData};
use ringmq_protocol::json;
use ringmq_protocol::{RemotingCommand, RequestCode, ResponseCode, SerializeType};
use std::io::Write;
use std::time::{Duration, Instant};

fn route(client: &mut WireClient, topic: &str, serialize: SerializeType) -> RemotingCommand {
    client.request(
        RequestCode::GET_ROUTEINFO_BY_TOPIC,
        &[("topic", topic)],
        serialize,
    )
}

#[test]
fn two_brokers_register_and_one_expires_when_its_connection_closes() {
    let ns = Namesrv::start();
    let a = register_broker(
        &ns.addr,
        "DefaultCluster",
        "broker-a",
        "127.0.0.1:10911",
        &[("Orders", 4)],
    );
    let b = register_broker(
        &ns.addr,
        "DefaultCluster",
        "broker-b",
        "127.0.0.1:10921",
        &[("Orders", 8), ("OnlyB", 2)],
    );
    let mut client = ns.client();

    for serialize in [SerializeType::Json, SerializeType::RocketMq] {
        let resp = route(&mut client, "Orders", serialize);
        assert_eq!(resp.code, 0, "{:?}", resp.remark);
        assert_eq!(
            resp.serialize_type, serialize,
            "answered in the request's encoding"
        );
        let data: TopicRouteData = json::from_slice(&resp.body).unwrap();
        let mut names: Vec<_> = data
            .broker_datas
            .iter()
            .map(|b| b.broker_name.as_str())
            .collect();
        names.sort();
        assert_eq!(names, ["broker-a", "broker-b"]);
        let total: i32 = data.queue_datas.iter().map(|q| q.write_queue_nums).sum();
        assert_eq!(total, 12);
    }

    // broker-b dies: its connection closes, and it leaves every route at once.
    drop(b);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let data: TopicRouteData =
            json::from_slice(&route(&mut client, "Orders", SerializeType::Json).body).unwrap();
        if data.broker_datas.len() == 1 {
            assert_eq!(data.broker_datas[0].broker_name, "broker-a");
            assert_eq!(data.queue_datas.len(), 1);
            break;
        }
        assert!(
            Instant::now() < deadline,
            "broker-b still routed after its connection closed"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let gone = route(&mut client, "OnlyB", SerializeType::Json);
    assert_eq!(gone.code, ResponseCode::TOPIC_NOT_EXIST.0);
    assert_eq!(
        gone.remark.as_deref(),
        Some("No topic route info in name server for the topic: OnlyB\nSee http://rocketmq.apache.org/docs/faq/ for further details.")
    );

    let info: ClusterInfo = json::from_slice(
        &client
            .request(
                RequestCode::GET_BROKER_CLUSTER_INFO,
                &[],
                SerializeType::Json,
            )
            .body,
    )
    .unwrap();
    assert_eq!(info.cluster_addr_table["DefaultCluster"], ["broker-a"]);
    drop(a);
}

#[test]
fn route_bodies_follow_the_java_json_rules() {
    let ns = Namesrv::start();
    let _a = register_broker(
        &ns.addr,
        "DefaultCluster",
        "broker-a",
        "127.0.0.1:10911",
        &[("T", 4)],
    );
    let mut client = ns.client();

    // A 4.9.4+ client (version 407 here) gets standard JSON, as from the Java name server.
    let standard =
        String::from_utf8(route(&mut client, "T", SerializeType::Json).body.to_vec()).unwrap();
    assert!(
        standard.contains(r#""brokerAddrs":{"0":"127.0.0.1:10911"}"#),
        "{standard}"
    );
    // An older client gets fastjson's shape, which Go and C++ clients parse...
    let mut old = RemotingCommand::request(RequestCode::GET_ROUTEINFO_BY_TOPIC, 0);
    old.version = 373; // V4_7_1
    old.fields_mut().insert("topic", "T");
    let legacy = String::from_utf8(client.call(old.clone()).body.to_vec()).unwrap();
    assert!(
        legacy.contains(r#""brokerAddrs":{0:"127.0.0.1:10911"}"#),
        "{legacy}"
    );
    // ...unless it asks for standard JSON.
    old.fields_mut().insert("acceptStandardJsonOnly", "true");
    let asked = String::from_utf8(client.call(old).body.to_vec()).unwrap();
    assert_eq!(asked, standard);
    // Cluster info is always in fastjson's shape (Java does the same).
    let info = client.request(
        RequestCode::GET_BROKER_CLUSTER_INFO,
        &[],
        SerializeType::Json,
    );
    assert!(String::from_utf8_lossy(&info.body).contains(r#"{0:"127.0.0.1:10911"}"#));
}

#[test]
fn captured_java_frames_get_the_answers_the_java_name_server_gave() {
    for enc in ["json", "rocketmq"] {
        let ns = Namesrv::start();
        let mut broker = ns.client();
        let reg = broker.call(wire_vector(&format!("request-103-register_broker-{enc}")));
        let want = wire_vector(&format!("response-103-register_broker-{enc}"));
        assert_eq!(
            (reg.code, reg.remark.as_deref(), reg.fields()),
            (want.code, want.remark.as_deref(), want.fields()),
            "{enc}"
        );

        let mut client = ns.client();
        for (req, resp) in [
            (
                "request-105-get_routeinfo_by_topic.ok",
                "response-105-get_routeinfo_by_topic.ok",
            ),
            (
                "request-106-get_broker_cluster_info",
                "response-106-get_broker_cluster_info",
            ),
        ] {
            let got = client.call(wire_vector(&format!("{req}-{enc}")));
            let want = wire_vector(&format!("{resp}-{enc}"));
            assert_eq!(
                (got.code, got.remark.as_deref(), got.fields()),
                (want.code, want.remark.as_deref(), want.fields()),
                "{req}"
            );
            assert_eq!(got.serialize_type, want.serialize_type);
            if req.contains("-105-") {
                let mut ours: TopicRouteData = json::from_slice(&got.body).unwrap();
                let java: TopicRouteData = json::from_slice(&want.body).unwrap();
                // We also send 5.x's enableActingMaster=false, which 4.9.7 omitted.
                ours.broker_datas
                    .iter_mut()
                    .for_each(|b| b.enable_acting_master = None);
                assert_eq!(ours, java, "{req}");
            } else {
                let mut ours: ClusterInfo = json::from_slice(&got.body).unwrap();
                let java: ClusterInfo = json::from_slice(&want.body).unwrap();
                ours.broker_addr_table
                    .values_mut()
                    .for_each(|b| b.enable_acting_master = None);
                assert_eq!(ours, java, "{req}");
            }
        }

        // Unregistering (captured at broker shutdown) removes the route.
        let unreg = broker.call(wire_vector(&format!("request-104-unregister_broker-{enc}")));
        assert_eq!(
            unreg.code,
            wire_vector(&format!("response-104-unregister_broker-{enc}")).code
        );
        let got = client.call(wire_vector(&format!(
            "request-105-get_routeinfo_by_topic.topic_not_exist-{enc}"
        )));
        let want = wire_vector(&format!(
            "response-105-get_routeinfo_by_topic.topic_not_exist-{enc}"
        ));
        assert_eq!((got.code, got.remark), (want.code, want.remark));
    }
}

#[test]
fn kv_config_round_trips_and_survives_a_restart() {
    let ns = Namesrv::start();
    let mut c = ns.client();
    let put = |c: &mut WireClient, k: &str, v: &str| {
        c.request(
            RequestCode::PUT_KV_CONFIG,
            &[
                ("namespace", "ORDER_TOPIC_CONFIG"),
                ("key", k),
                ("value", v),
            ],
            SerializeType::Json,
        )
    };
    assert_eq!(put(&mut c, "Ordered", "broker-a:4").code, 0);
    assert_eq!(put(&mut c, "Other", "broker-b:2").code, 0);
    let got = c.request(
        RequestCode::GET_KV_CONFIG,
        &[("namespace", "ORDER_TOPIC_CONFIG"), ("key", "Ordered")],
        SerializeType::RocketMq,
    );
    assert_eq!(
        (got.code, got.fields().get("value")),
        (0, Some("broker-a:4"))
    );
    let missing = c.request(
        RequestCode::GET_KV_CONFIG,
        &[("namespace", "ORDER_TOPIC_CONFIG"), ("key", "Nope")],
        SerializeType::Json,
    );
    assert_eq!(missing.code, ResponseCode::QUERY_NOT_FOUND.0);
    assert_eq!(
        missing.remark.as_deref(),
        Some("No config item, Namespace: ORDER_TOPIC_CONFIG Key: Nope")
    );
    let del = c.request(
        RequestCode::DELETE_KV_CONFIG,
        &[("namespace", "ORDER_TOPIC_CONFIG"), ("key", "Other")],
        SerializeType::Json,
    );
    assert_eq!(del.code, 0);

    // A registering broker receives the ORDER_TOPIC_CONFIG table.
    let reg = c.call(register_command(
        "DefaultCluster",
        "broker-a",
        "127.0.0.1:10911",
        0,
        &[("Ordered", 4)],
        1,
    ));
    let table: KvTable = json::from_slice(&reg.body).unwrap();
    assert_eq!(table.table.len(), 1);
    assert_eq!(table.table["Ordered"], "broker-a:4");

    drop(c);
    let dir = ns.kill();
    let ns = Namesrv::start_in(dir, "");
    let mut c = ns.client();
    let list = c.request(
        RequestCode::GET_KVLIST_BY_NAMESPACE,
        &[("namespace", "ORDER_TOPIC_CONFIG")],
        SerializeType::Json,
    );
    let table: KvTable = json::from_slice(&list.body).unwrap();
    assert_eq!(table.table.keys().collect::<Vec<_>>(), ["Ordered"]);
    let none = c.request(
        RequestCode::GET_KVLIST_BY_NAMESPACE,
        &[("namespace", "nothing")],
        SerializeType::Json,
    );
    assert_eq!(
        (none.code, none.remark.as_deref()),
        (22, Some("No config item, Namespace: nothing"))
    );
}

#[test]
fn ordered_topics_carry_their_conf_when_enabled() {
    let ns = Namesrv::start_with("orderMessageEnable=true");
    let mut c = ns.client();
    c.request(
        RequestCode::PUT_KV_CONFIG,
        &[
            ("namespace", "ORDER_TOPIC_CONFIG"),
            ("key", "Seq"),
            ("value", "broker-a:2"),
        ],
        SerializeType::Json,
    );
    let _a = register_broker(
        &ns.addr,
        "DefaultCluster",
        "broker-a",
        "127.0.0.1:10911",
        &[("Seq", 2)],
    );
    let data: TopicRouteData =
        json::from_slice(&route(&mut c, "Seq", SerializeType::Json).body).unwrap();
    assert_eq!(data.order_topic_conf.as_deref(), Some("broker-a:2"));
}

#[test]
fn admin_requests_topics_perms_and_config() {
    let ns = Namesrv::start();
    let mut broker = ns.client();
    broker.call(register_command(
        "C1",
        "broker-a",
        "127.0.0.1:10911",
        0,
        &[("T1", 4), ("T2", 4)],
        1,
    ));
    let mut c = ns.client();

    let list: TopicList = json::from_slice(
        &c.request(
            RequestCode::GET_ALL_TOPIC_LIST_FROM_NAMESERVER,
            &[],
            SerializeType::Json,
        )
        .body,
    )
    .unwrap();
    assert_eq!(list.topic_list, ["T1", "T2"]);
    let by_cluster: TopicList = json::from_slice(
        &c.request(
            RequestCode::GET_TOPICS_BY_CLUSTER,
            &[("cluster", "C1")],
            SerializeType::Json,
        )
        .body,
    )
    .unwrap();
    assert_eq!(by_cluster.topic_list, ["T1", "T2"]);

    let wipe = c.request(
        RequestCode::WIPE_WRITE_PERM_OF_BROKER,
        &[("brokerName", "broker-a")],
        SerializeType::Json,
    );
    assert_eq!(wipe.fields().get("wipeTopicCount"), Some("2"));
    let data: TopicRouteData =
        json::from_slice(&route(&mut c, "T1", SerializeType::Json).body).unwrap();
    assert_eq!(data.queue_datas[0].perm, 4, "write permission wiped");
    let add = c.request(
        RequestCode::ADD_WRITE_PERM_OF_BROKER,
        &[("brokerName", "broker-a")],
        SerializeType::Json,
    );
    assert_eq!(add.fields().get("addTopicCount"), Some("2"));

    assert_eq!(
        c.request(
            RequestCode::DELETE_TOPIC_IN_NAMESRV,
            &[("topic", "T2")],
            SerializeType::Json
        )
        .code,
        0
    );
    assert_eq!(
        route(&mut c, "T2", SerializeType::Json).code,
        ResponseCode::TOPIC_NOT_EXIST.0
    );

    let config = c.request(RequestCode::GET_NAMESRV_CONFIG, &[], SerializeType::Json);
    assert!(String::from_utf8_lossy(&config.body).contains("orderMessageEnable=false\n"));
    let update = c.call(
        RemotingCommand::request(RequestCode::UPDATE_NAMESRV_CONFIG, 0)
            .with_body(&b"orderMessageEnable=true"[..]),
    );
    assert_eq!(update.code, 0, "{:?}", update.remark);
    let config = c.request(RequestCode::GET_NAMESRV_CONFIG, &[], SerializeType::Json);
    assert!(String::from_utf8_lossy(&config.body).contains("orderMessageEnable=true\n"));
    let refused = c.call(
        RemotingCommand::request(RequestCode::UPDATE_NAMESRV_CONFIG, 0)
            .with_body(&b"kvConfigPath=/tmp/x"[..]),
    );
    assert_eq!(
        (refused.code, refused.remark.as_deref()),
        (16, Some("Can not update config in black list."))
    );
}

#[test]
fn silent_brokers_expire_on_the_timer() {
    // 5.x brokers announce their own timeout; the scan interval is shortened for the test.
    let ns = Namesrv::start_with("scanNotActiveBrokerInterval=50");
    let mut broker = ns.client();
    let mut reg = register_command(
        "DefaultCluster",
        "broker-a",
        "127.0.0.1:10911",
        0,
        &[("T", 4)],
        1,
    );
    reg.fields_mut().insert("heartbeatTimeoutMillis", "300");
    assert_eq!(broker.call(reg).code, 0);
    let mut c = ns.client();
    assert_eq!(route(&mut c, "T", SerializeType::Json).code, 0);

    // Heartbeats (oneway, no response) keep it alive past its timeout.
    for _ in 0..6 {
        std::thread::sleep(Duration::from_millis(100));
        let hb = RemotingCommand::request(RequestCode::BROKER_HEARTBEAT, 0).mark_oneway();
        let mut hb = hb;
        for (k, v) in [
            ("clusterName", "DefaultCluster"),
            ("brokerAddr", "127.0.0.1:10911"),
            ("brokerName", "broker-a"),
        ] {
            hb.fields_mut().insert(k, v);
        }
        broker.send(&hb);
    }
    assert_eq!(
        route(&mut c, "T", SerializeType::Json).code,
        0,
        "heartbeats kept the broker alive"
    );

    // Silence: gone within timeout + scan interval, and its connection is closed.
    std::thread::sleep(Duration::from_millis(600));
    assert_eq!(
        route(&mut c, "T", SerializeType::Json).code,
        ResponseCode::TOPIC_NOT_EXIST.0
    );
    assert!(
        broker.is_closed_by_server(),
        "an expired broker's connection is closed"
    );
}

#[test]
fn bad_input_is_refused_without_disturbing_other_clients() {
    let ns = Namesrv::start();
    let mut good = ns.client();

    // Unknown request code: an answer naming the code; the connection stays usable.
    let unknown = good.call(RemotingCommand::request(RequestCode(4242), 0));
    assert_eq!(
        (unknown.code, unknown.remark.as_deref()),
        (3, Some(" request type 4242 not supported"))
    );
    // A missing required header field: a clear remark, not a dropped connection.
    let missing = good.request(
        RequestCode::GET_KV_CONFIG,
        &[("namespace", "x")],
        SerializeType::Json,
    );
    assert_eq!(
        (missing.code, missing.remark.as_deref()),
        (1, Some("the custom field <key> is null"))
    );
    // A register body that is not JSON.
    let mut bad = register_command("C", "b", "127.0.0.1:1", 0, &[], 1).with_body(&b"{not json"[..]);
    bad.fields_mut().remove("bodyCrc32");
    let resp = good.call(bad);
    assert_eq!(resp.code, 1);
    assert!(resp.remark.unwrap().starts_with("invalid body"));

    // An oversized frame (17 MiB claimed): the connection is closed without reading it.
    let mut huge = WireClient::connect(&ns.addr);
    huge.stream.write_all(&(17u32 << 20).to_be_bytes()).unwrap();
    assert!(huge.is_closed_by_server());

    // Garbage: an unknown serialize type and random bytes.
    let mut garbage = WireClient::connect(&ns.addr);
    garbage
        .stream
        .write_all(&[0, 0, 0, 12, 7, 0, 0, 4, 1, 2, 3, 4, 5, 6, 7, 8])
        .unwrap();
    assert!(garbage.is_closed_by_server());
    let mut json_garbage = WireClient::connect(&ns.addr);
    json_garbage
        .stream
        .write_all(&[0, 0, 0, 9, 0, 0, 0, 5, b'{', b'{', b'{', b'x', b'!'])
        .unwrap();
    assert!(json_garbage.is_closed_by_server());

    // A client that stops mid-frame holds only its own connection.
    let mut stalled = WireClient::connect(&ns.addr);
    stalled.stream.write_all(&[0, 0, 1, 0, 0, 0]).unwrap();

    let resp = good.request(
        RequestCode::GET_BROKER_CLUSTER_INFO,
        &[],
        SerializeType::Json,
    );
    assert_eq!(resp.code, 0, "others are still served");
    drop(stalled);
}

#[test]
fn a_client_that_never_reads_does_not_stall_others() {
    let ns = Namesrv::start();
    let _a = register_broker(
        &ns.addr,
        "DefaultCluster",
        "broker-a",
        "127.0.0.1:10911",
        &[("T", 4)],
    );
    // Pipeline thousands of requests and never read the answers.
    let mut hog = WireClient::connect(&ns.addr);
    hog.stream
        .set_write_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let mut req = RemotingCommand::request(RequestCode::GET_BROKER_CLUSTER_INFO, 0);
    let mut batch = Vec::new();
    for i in 0..2000 {
        req.opaque = i;
        batch.extend_from_slice(&req.to_bytes());
    }
    for _ in 0..100 {
        if hog.stream.write_all(&batch).is_err() {
            break; // the server stopped reading from it: back-pressure works
        }
    }
    let mut c = ns.client();
    let start = Instant::now();
    for _ in 0..20 {
        assert_eq!(route(&mut c, "T", SerializeType::Json).code, 0);
    }
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "others waited {:?}",
        start.elapsed()
    );
}

#[test]
fn a_thousand_concurrent_connections_are_served() {
    let ns = Namesrv::start();
    let _a = register_broker(
        &ns.addr,
        "DefaultCluster",
        "broker-a",
        "127.0.0.1:10911",
        &[("T", 4)],
    );
    let mut clients: Vec<WireClient> = (0..1000).map(|_| WireClient::connect(&ns.addr)).collect();
    // Every connection sends before any reads, so all are open and in flight at once.
    for (i, c) in clients.iter_mut().enumerate() {
        let mut req = RemotingCommand::request(RequestCode::GET_ROUTEINFO_BY_TOPIC, i as i32);
        req.fields_mut().insert("topic", "T");
        c.send(&req);
    }
    for (i, c) in clients.iter_mut().enumerate() {
        let resp = c.read().expect("answered");
        assert_eq!((resp.code, resp.opaque), (0, i as i32));
    }
}
