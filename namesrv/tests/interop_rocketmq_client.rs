//! Interop: the third-party `rocketmq-client-rust` 1.0.0 client (crates.io; nobody here wrote it)
//! talks to our real `namesrv` binary: its admin API, its producer, and raw requests through its
//! transport, over both header encodings.
//!
//! The client runs on a tokio runtime of its own (`rocketmq_runtime::RuntimeOwner`); each test
//! drives it with `owner.block_on` and shuts it down outside any runtime, hence plain `#[test]`s.

mod common;

use std::sync::Arc;
use std::time::Duration;

use rocketmq_client_rust::ClientConfig;
use rocketmq_client_rust::ClientInstanceHandle;
use rocketmq_client_rust::ClientRuntime;
use rocketmq_client_rust::ClientRuntimeConfig;
use rocketmq_client_rust::DefaultMQAdminExt;
use rocketmq_client_rust::DefaultMQProducer;
use rocketmq_client_rust::RouteAdmin;
use rocketmq_client_rust::TelemetryHandle;
use rocketmq_client_rust::TopicAdmin;
use rocketmq_protocol::protocol::body::broker_body::cluster_info::ClusterInfo;
use rocketmq_protocol::protocol::remoting_command::RemotingCommand;
use rocketmq_protocol::protocol::remoting_command_defaults::RemotingCommandDefaults;
use rocketmq_protocol::protocol::remoting_command_defaults::RemotingCommandFactory;
use rocketmq_protocol::protocol::SerializeType;
use rocketmq_runtime::RuntimeConfig;
use rocketmq_runtime::RuntimeOwner;

const CLUSTER: &str = "DefaultCluster";
const BROKER: &str = "broker-a";
const BROKER_ADDR: &str = "127.0.0.1:10911";
const TOPIC: &str = "InteropTopic";
const MISSING_TOPIC: &str = "InteropMissingTopic";

// RocketMQ request / response codes used below.
const GET_ROUTEINFO_BY_TOPIC: i32 = 105;
const GET_BROKER_CLUSTER_INFO: i32 = 106;
const SUCCESS: i32 = 0;
const TOPIC_NOT_EXIST: i32 = 17;

/// Owns the Tokio runtime the client runs on, plus one client "domain".
struct ClientEnv {
    owner: RuntimeOwner,
    client_runtime: Arc<ClientRuntime>,
}

impl ClientEnv {
    /// `serialize = None` -> `ClientRuntime::try_new`, which resolves the wire format from
    /// `rocketmq.serialize.type` / `ROCKETMQ_SERIALIZE_TYPE` (default JSON) and pins it as the
    /// process-wide default. `Some(t)` -> an explicit per-runtime factory (no env, no global).
    fn new(thread_name: &str, serialize: Option<SerializeType>) -> Self {
        let owner = RuntimeOwner::plan(RuntimeConfig {
            thread_name: thread_name.to_string(),
            ..Default::default()
        })
        .expect("valid runtime config")
        .build()
        .expect("runtime owner starts");
        let context = owner.root_context().component("client");
        let client_runtime = match serialize {
            None => ClientRuntime::try_new(
                context,
                ClientRuntimeConfig::default(),
                TelemetryHandle::noop(),
            ),
            Some(serialize_type) => ClientRuntime::try_new_with_remoting_command_factory(
                context,
                ClientRuntimeConfig::default(),
                TelemetryHandle::noop(),
                RemotingCommandFactory::new(RemotingCommandDefaults::new(
                    RemotingCommandDefaults::default().version(),
                    serialize_type,
                )),
            ),
        }
        .expect("client runtime");
        Self {
            owner,
            client_runtime,
        }
    }

    fn finish(self) {
        let Self {
            owner,
            client_runtime,
        } = self;
        owner.block_on(async move {
            // Joins every client task; not asserted healthy because that is the client's
            // business, not the namesrv's.
            let report = client_runtime.shutdown().await;
            if !report.is_healthy() {
                eprintln!("client runtime shutdown report: {}", report.to_json());
            }
        });
        owner.shutdown_runtime_blocking().expect("runtime shutdown");
    }
}

/// Starts a `DefaultMQAdminExt` against `ns_addr` (start() does not contact any broker).
async fn start_admin(client_runtime: &Arc<ClientRuntime>, ns_addr: &str) -> DefaultMQAdminExt {
    let mut admin = DefaultMQAdminExt::with_timeout(client_runtime.clone(), Duration::from_secs(3));
    admin.set_namesrv_addr(ns_addr);
    admin.start().await.expect("admin start");
    admin
}

async fn assert_route_via_admin(admin: &DefaultMQAdminExt) {
    // GET_ROUTEINFO_BY_TOPIC (105) -> TopicRouteData
    let route = TopicAdmin::examine_topic_route_info(admin, TOPIC.into())
        .await
        .expect("route query succeeds")
        .expect("route exists");
    assert_eq!(route.broker_datas.len(), 1, "{route:?}");
    let broker = &route.broker_datas[0];
    assert_eq!(broker.broker_name().as_str(), BROKER);
    assert_eq!(broker.cluster(), CLUSTER);
    assert_eq!(
        broker.broker_addrs().get(&0).map(|a| a.as_str()),
        Some(BROKER_ADDR)
    );
    assert_eq!(route.queue_datas.len(), 1, "{route:?}");
    let queue = &route.queue_datas[0];
    assert_eq!(queue.broker_name().as_str(), BROKER);
    assert_eq!(queue.read_queue_nums(), 4);
    assert_eq!(queue.write_queue_nums(), 4);

    // TOPIC_NOT_EXIST (17) is swallowed by this API: the client calls
    // get_topic_route_info_from_name_server_detail(topic, timeout, allow_topic_not_exist = true)
    // and maps 17 to Ok(None). Any other non-zero code comes back as Err.
    let missing = TopicAdmin::examine_topic_route_info(admin, MISSING_TOPIC.into())
        .await
        .expect("TOPIC_NOT_EXIST is mapped to Ok(None), not Err");
    assert!(missing.is_none(), "{missing:?}");
}

#[test]
fn admin_reads_route_cluster_and_kv_json() {
    let ns = common::Namesrv::start();
    let _broker = common::register_broker(&ns.addr, CLUSTER, BROKER, BROKER_ADDR, &[(TOPIC, 4)]);

    let env = ClientEnv::new("interop-admin-json", None);
    let client_runtime = env.client_runtime.clone();
    let ns_addr = ns.addr.clone();
    env.owner.block_on(async move {
        let mut admin = start_admin(&client_runtime, &ns_addr).await;

        assert_route_via_admin(&admin).await;

        // GET_BROKER_CLUSTER_INFO (106) -> ClusterInfo
        let cluster_info = RouteAdmin::examine_broker_cluster_info(&admin)
            .await
            .expect("cluster info");
        let brokers = cluster_info
            .broker_addr_table
            .as_ref()
            .expect("brokerAddrTable");
        let broker = brokers.get(BROKER).expect("broker-a in brokerAddrTable");
        assert_eq!(
            broker.broker_addrs().get(&0).map(|a| a.as_str()),
            Some(BROKER_ADDR)
        );
        let clusters = cluster_info
            .cluster_addr_table
            .as_ref()
            .expect("clusterAddrTable");
        assert!(clusters
            .get(CLUSTER)
            .expect("DefaultCluster")
            .contains(BROKER));

        // 106 + 105 combined: cluster names serving the topic's first broker.
        let cluster_names = RouteAdmin::get_cluster_list(&admin, TOPIC.to_string())
            .await
            .expect("cluster list");
        assert!(cluster_names.contains(CLUSTER), "{cluster_names:?}");

        // KV config: PUT_KV_CONFIG (100) to every namesrv, GET_KV_CONFIG (101),
        // GET_KVLIST_BY_NAMESPACE (219), DELETE_KV_CONFIG (102).
        RouteAdmin::create_and_update_kv_config(
            &admin,
            "InteropNs".into(),
            "k1".into(),
            "v1".into(),
        )
        .await
        .expect("put kv");
        let value = RouteAdmin::get_kv_config(&admin, "InteropNs".into(), "k1".into())
            .await
            .expect("get kv");
        assert_eq!(value.as_str(), "v1");
        let table = RouteAdmin::get_kv_list_by_namespace(&admin, "InteropNs".into())
            .await
            .expect("kv list");
        assert_eq!(table.table.get("k1").map(|v| v.as_str()), Some("v1"));
        RouteAdmin::delete_kv_config(&admin, "InteropNs".into(), "k1".into())
            .await
            .expect("delete kv");
        // QUERY_NOT_FOUND (22) from GET_KV_CONFIG is mapped to Ok("") by this API.
        let gone = RouteAdmin::get_kv_config(&admin, "InteropNs".into(), "k1".into())
            .await
            .expect("missing kv is not an error");
        assert!(gone.is_empty(), "{gone}");

        admin.shutdown().await;
    });
    env.finish();
}

#[test]
fn admin_reads_route_rocketmq_binary_headers() {
    let ns = common::Namesrv::start();
    let _broker = common::register_broker(&ns.addr, CLUSTER, BROKER, BROKER_ADDR, &[(TOPIC, 4)]);

    let env = ClientEnv::new("interop-admin-binary", Some(SerializeType::ROCKETMQ));
    let client_runtime = env.client_runtime.clone();
    let ns_addr = ns.addr.clone();
    env.owner.block_on(async move {
        let mut admin = start_admin(&client_runtime, &ns_addr).await;
        assert_route_via_admin(&admin).await;
        admin.shutdown().await;
    });
    env.finish();
}

/// Lower-level path: a pooled client instance that can send any RemotingCommand to any
/// address and return the raw response (the response code is NOT turned into an error).
#[test]
fn raw_invoke_exposes_topic_not_exist_code() {
    let ns = common::Namesrv::start();
    let _broker = common::register_broker(&ns.addr, CLUSTER, BROKER, BROKER_ADDR, &[(TOPIC, 4)]);

    let env = ClientEnv::new("interop-raw", None);
    let client_runtime = env.client_runtime.clone();
    let ns_addr = ns.addr.clone();
    env.owner.block_on(async move {
        let mut config = ClientConfig::new();
        config.set_namesrv_addr(ns_addr.as_str().into());
        let handle = ClientInstanceHandle::get_or_create(&client_runtime, 1, config, None)
            .expect("instance");
        handle.start().await.expect("instance start");

        // Typed helpers on the same handle (namesrv chosen from the configured list).
        let route = handle
            .topic_route(TOPIC, 3_000)
            .await
            .expect("route query")
            .expect("route exists");
        assert_eq!(route.queue_datas[0].write_queue_nums, 4);
        let cluster_info = handle
            .broker_cluster_info(3_000)
            .await
            .expect("cluster info");
        assert!(cluster_info
            .broker_addr_table
            .expect("brokerAddrTable")
            .contains_key(BROKER));

        // Raw requests (JSON headers here; use SerializeType::ROCKETMQ for binary headers).
        let factory = RemotingCommandFactory::new(RemotingCommandDefaults::default());
        let target = ns_addr.as_str().into();

        let mut request = factory.create_remoting_command(GET_ROUTEINFO_BY_TOPIC);
        request.add_ext_field("topic", MISSING_TOPIC);
        let response: RemotingCommand = handle
            .invoke_remoting(&target, request, 3_000)
            .await
            .expect("transport ok");
        assert_eq!(
            response.code(),
            TOPIC_NOT_EXIST,
            "remark={:?}",
            response.remark()
        );

        let mut request = factory.create_remoting_command(GET_ROUTEINFO_BY_TOPIC);
        request.add_ext_field("topic", TOPIC);
        let response = handle
            .invoke_remoting(&target, request, 3_000)
            .await
            .expect("transport ok");
        assert_eq!(response.code(), SUCCESS);
        assert!(response.body().is_some_and(|b| !b.is_empty()));

        let request = factory.create_remoting_command(GET_BROKER_CLUSTER_INFO);
        let response = handle
            .invoke_remoting(&target, request, 3_000)
            .await
            .expect("transport ok");
        assert_eq!(response.code(), SUCCESS);
        let cluster_info =
            ClusterInfo::decode(response.body().expect("body")).expect("ClusterInfo json");
        assert!(cluster_info
            .cluster_addr_table
            .expect("clusterAddrTable")
            .get(CLUSTER)
            .is_some_and(|brokers| brokers.contains(BROKER)));

        handle.shutdown_owned().await;
    });
    env.finish();
}

/// Producer path: returns only the *writable* queues whose broker has a master (id 0) address.
#[test]
fn producer_fetches_publish_queues() {
    let ns = common::Namesrv::start();
    let _broker = common::register_broker(&ns.addr, CLUSTER, BROKER, BROKER_ADDR, &[(TOPIC, 4)]);

    let env = ClientEnv::new("interop-producer", None);
    let client_runtime = env.client_runtime.clone();
    let ns_addr = ns.addr.clone();
    env.owner.block_on(async move {
        let mut producer = DefaultMQProducer::builder(client_runtime.clone())
            .producer_group("interop_producer_group")
            .name_server_addr(ns_addr.as_str())
            .build();
        producer.start().await.expect("producer start");

        let queues = producer
            .fetch_publish_message_queues(TOPIC)
            .await
            .expect("queues");
        assert_eq!(queues.len(), 4, "{queues:?}");
        assert!(queues
            .iter()
            .all(|q| q.broker_name().as_str() == BROKER && q.topic().as_str() == TOPIC));
        let mut ids: Vec<i32> = queues.iter().map(|q| q.queue_id()).collect();
        ids.sort_unstable();
        assert_eq!(ids, vec![0, 1, 2, 3]);

        // TOPIC_NOT_EXIST -> Ok(None) internally -> generic "Can not find Message Queue" error;
        // the namesrv response code is not retained in the error.
        assert!(producer
            .fetch_publish_message_queues(MISSING_TOPIC)
            .await
            .is_err());

        producer.shutdown().await;
    });
    env.finish();
}
