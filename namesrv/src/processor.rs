//! What the name server answers to each request code.
//!
//! One method per request family; each decodes its typed header, acts on the [`RouteTable`] or the
//! [`KvConfig`], and builds the response the Java name server would send (codes and remarks as
//! Java's `DefaultRequestProcessor` words them). Nothing here does network I/O.

use crate::config::{NamesrvConfig, UPDATE_BLACK_LIST};
use crate::kv_config::{KvConfig, ORDER_TOPIC_CONFIG};
use crate::route_table::{BrokerKey, Registration, RouteTable};
use ringmq_protocol::body::{
    DataVersion, KvTable, RegisterBrokerBody, TopicConfigSerializeWrapper, TopicList,
};
use ringmq_protocol::header::namesrv::*;
use ringmq_protocol::json::{self, JsonCodec, JsonStyle};
use ringmq_protocol::message::body_crc;
use ringmq_protocol::{ProtocolError, RemotingCommand, RequestCode, ResponseCode};
use std::cell::RefCell;
use std::time::{Duration, Instant};

/// Client versions from V4_9_4 on are answered with standard JSON routes (Java does the same).
const V4_9_4: i32 = 401;
/// Brokers older than V3_0_11 send a bare topic-config wrapper instead of a RegisterBrokerBody.
const V3_0_11: i32 = 37;
const FAQ_URL: &str = "http://rocketmq.apache.org/docs/faq/";

/// Why a request failed; becomes a response code plus remark.
#[derive(Debug)]
enum Failure {
    Protocol(ProtocolError),
    Code(ResponseCode, String),
}

impl From<ProtocolError> for Failure {
    fn from(e: ProtocolError) -> Self {
        Failure::Protocol(e)
    }
}

type Outcome = Result<RemotingCommand, Failure>;

/// The name server's state and request handling, owned by one executor.
pub struct Namesrv {
    pub routes: RefCell<RouteTable>,
    kv: RefCell<KvConfig>,
    config: RefCell<NamesrvConfig>,
}

impl Namesrv {
    pub fn new(config: NamesrvConfig, kv: KvConfig) -> Self {
        Self {
            routes: RefCell::new(RouteTable::new()),
            kv: RefCell::new(kv),
            config: RefCell::new(config),
        }
    }

    pub fn scan_interval(&self) -> Duration {
        self.config.borrow().scan_not_active_broker_interval
    }

    /// Answers `req`, which arrived on connection `conn` at `now`.
    pub fn process(&self, conn: u64, req: &RemotingCommand, now: Instant) -> RemotingCommand {
        let outcome = match req.request_code() {
            RequestCode::REGISTER_BROKER => self.register_broker(conn, req, now),
            RequestCode::UNREGISTER_BROKER => self.unregister_broker(req),
            RequestCode::GET_ROUTEINFO_BY_TOPIC => self.route_info(req),
            RequestCode::GET_BROKER_CLUSTER_INFO => {
                let info = self.routes.borrow().cluster_info();
                Ok(ok(req).with_body(json::to_vec(&info, JsonStyle::Fastjson)))
            }
            RequestCode::QUERY_DATA_VERSION => self.query_data_version(req, now),
            RequestCode::BROKER_HEARTBEAT => self.broker_heartbeat(req, now),
            RequestCode::WIPE_WRITE_PERM_OF_BROKER => self.wipe_write_perm(req),
            RequestCode::ADD_WRITE_PERM_OF_BROKER => self.add_write_perm(req),
            RequestCode::DELETE_TOPIC_IN_NAMESRV => self.delete_topic(req),
            RequestCode::GET_ALL_TOPIC_LIST_FROM_NAMESERVER => {
                self.topic_list(req, |rt| rt.all_topics(), true)
            }
            RequestCode::GET_TOPICS_BY_CLUSTER => self.topics_by_cluster(req),
            RequestCode::GET_SYSTEM_TOPIC_LIST_FROM_NS => {
                let (topics, addr) = self.routes.borrow().system_topics();
                Ok(ok(req).with_body(json::to_vec(
                    &TopicList {
                        topic_list: topics,
                        broker_addr: addr,
                    },
                    JsonStyle::Fastjson,
                )))
            }
            RequestCode::GET_UNIT_TOPIC_LIST => {
                self.topic_list(req, |rt| rt.topics_with_flags(RouteTable::unit_flag), false)
            }
            RequestCode::GET_HAS_UNIT_SUB_TOPIC_LIST => self.topic_list(
                req,
                |rt| rt.topics_with_flags(RouteTable::unit_sub_flag),
                false,
            ),
            RequestCode::GET_HAS_UNIT_SUB_UNUNIT_TOPIC_LIST => self.topic_list(
                req,
                |rt| {
                    rt.topics_with_flags(|f| {
                        !RouteTable::unit_flag(f) && RouteTable::unit_sub_flag(f)
                    })
                },
                false,
            ),
            RequestCode::PUT_KV_CONFIG => self.put_kv(req),
            RequestCode::GET_KV_CONFIG => self.get_kv(req),
            RequestCode::DELETE_KV_CONFIG => self.delete_kv(req),
            RequestCode::GET_KVLIST_BY_NAMESPACE => self.kv_list(req),
            RequestCode::GET_NAMESRV_CONFIG => {
                let text = self.config.borrow().to_properties();
                Ok(ok(req).with_body(text.into_bytes()))
            }
            RequestCode::UPDATE_NAMESRV_CONFIG => self.update_config(req),
            other => Err(Failure::Code(
                ResponseCode::REQUEST_CODE_NOT_SUPPORTED,
                // Java's wording, leading space included.
                format!(" request type {} not supported", other.0),
            )),
        };
        match outcome {
            Ok(resp) => resp,
            Err(Failure::Code(code, remark)) => {
                RemotingCommand::response_to(req, code, Some(remark))
            }
            Err(Failure::Protocol(e)) => {
                log::debug!("{} from connection {conn}: {e}", req.request_code());
                RemotingCommand::response_to(req, ResponseCode::SYSTEM_ERROR, Some(e.to_string()))
            }
        }
    }

    fn register_broker(&self, conn: u64, req: &RemotingCommand, now: Instant) -> Outcome {
        let h: RegisterBrokerRequestHeader = req.header()?;
        if let Some(expected) = h.body_crc32.filter(|&c| c != 0) {
            if body_crc(&req.body) as i32 != expected {
                return Err(Failure::Code(
                    ResponseCode::SYSTEM_ERROR,
                    "crc32 not match".into(),
                ));
            }
        }
        let (topics, filter_servers) = if req.body.is_empty() {
            (
                TopicConfigSerializeWrapper::default(),
                if req.version >= V3_0_11 {
                    Some(Vec::new())
                } else {
                    None
                },
            )
        } else if h.compressed == Some(true) {
            return Err(Failure::Code(
                ResponseCode::SYSTEM_ERROR,
                "compressed REGISTER_BROKER bodies are not supported; set compressedRegister=false on the broker".into(),
            ));
        } else if req.version >= V3_0_11 {
            let body: RegisterBrokerBody =
                json::from_slice(&req.body).map_err(ProtocolError::Body)?;
            (
                body.topic_config_serialize_wrapper,
                Some(body.filter_server_list),
            )
        } else {
            (
                json::from_slice(&req.body).map_err(ProtocolError::Body)?,
                None,
            )
        };
        let outcome = self.routes.borrow_mut().register(
            Registration {
                cluster: h.cluster_name,
                broker_name: h.broker_name,
                broker_addr: h.broker_addr,
                broker_id: h.broker_id,
                ha_server_addr: h.ha_server_addr,
                topics,
                filter_servers,
                connection: conn,
                timeout: h
                    .heartbeat_timeout_millis
                    .filter(|&ms| ms > 0)
                    .map(|ms| Duration::from_millis(ms as u64)),
                enable_acting_master: h.enable_acting_master,
                zone_name: req.fields().get("__ZONE_NAME").map(str::to_owned),
            },
            now,
        );
        let header = RegisterBrokerResponseHeader {
            ha_server_addr: outcome.ha_server_addr,
            master_addr: outcome.master_addr,
        };
        let mut resp = ok(req).with_header(&header);
        if self.config.borrow().return_order_topic_config_to_broker {
            if let Some(table) = self.kv.borrow().namespace(ORDER_TOPIC_CONFIG) {
                resp = resp.with_body(json::to_vec(
                    &KvTable {
                        table: table.clone(),
                    },
                    JsonStyle::Fastjson,
                ));
            }
        }
        Ok(resp)
    }

    fn unregister_broker(&self, req: &RemotingCommand) -> Outcome {
        let h: UnRegisterBrokerRequestHeader = req.header()?;
        self.routes
            .borrow_mut()
            .unregister(&h.cluster_name, &h.broker_addr, &h.broker_name);
        Ok(ok(req))
    }

    fn route_info(&self, req: &RemotingCommand) -> Outcome {
        let h: GetRouteInfoRequestHeader = req.header()?;
        let Some(mut route) = self.routes.borrow().route(&h.topic) else {
            return Err(Failure::Code(
                ResponseCode::TOPIC_NOT_EXIST,
                format!("No topic route info in name server for the topic: {}\nSee {FAQ_URL} for further details.", h.topic),
            ));
        };
        if self.config.borrow().order_message_enable {
            route.order_topic_conf = self
                .kv
                .borrow()
                .get(ORDER_TOPIC_CONFIG, &h.topic)
                .map(str::to_owned);
        }
        let style = if req.version >= V4_9_4 || h.accept_standard_json_only == Some(true) {
            JsonStyle::Standard
        } else {
            JsonStyle::Fastjson
        };
        Ok(ok(req).with_body(route.to_json().write(style).into_bytes()))
    }

    fn query_data_version(&self, req: &RemotingCommand, now: Instant) -> Outcome {
        let h: QueryDataVersionRequestHeader = req.header()?;
        let version: DataVersion = json::from_slice(&req.body).map_err(ProtocolError::Body)?;
        let key = BrokerKey {
            cluster: h.cluster_name,
            addr: h.broker_addr,
        };
        let (changed, stored) = self
            .routes
            .borrow_mut()
            .query_data_version(&key, &version, now);
        let mut resp = ok(req).with_header(&QueryDataVersionResponseHeader { changed });
        if let Some(stored) = stored {
            resp = resp.with_body(json::to_vec(&stored, JsonStyle::Fastjson));
        }
        Ok(resp)
    }

    fn broker_heartbeat(&self, req: &RemotingCommand, now: Instant) -> Outcome {
        let h: BrokerHeartbeatRequestHeader = req.header()?;
        self.routes.borrow_mut().touch(
            &BrokerKey {
                cluster: h.cluster_name,
                addr: h.broker_addr,
            },
            now,
        );
        Ok(ok(req))
    }

    fn wipe_write_perm(&self, req: &RemotingCommand) -> Outcome {
        let h: WipeWritePermOfBrokerRequestHeader = req.header()?;
        let count = self.routes.borrow_mut().wipe_write_perm(&h.broker_name);
        Ok(ok(req).with_header(&WipeWritePermOfBrokerResponseHeader {
            wipe_topic_count: count,
        }))
    }

    fn add_write_perm(&self, req: &RemotingCommand) -> Outcome {
        let h: AddWritePermOfBrokerRequestHeader = req.header()?;
        let count = self.routes.borrow_mut().add_write_perm(&h.broker_name);
        Ok(ok(req).with_header(&AddWritePermOfBrokerResponseHeader {
            add_topic_count: count,
        }))
    }

    fn delete_topic(&self, req: &RemotingCommand) -> Outcome {
        let h: DeleteTopicFromNamesrvRequestHeader = req.header()?;
        self.routes
            .borrow_mut()
            .delete_topic(&h.topic, h.cluster_name.as_deref());
        Ok(ok(req))
    }

    /// Topic-list answers; `all` selects which switch (`enableAllTopicList` or `enableTopicList`)
    /// may disable it.
    fn topic_list(
        &self,
        req: &RemotingCommand,
        select: impl Fn(&RouteTable) -> Vec<String>,
        all: bool,
    ) -> Outcome {
        let config = self.config.borrow();
        if !(if all {
            config.enable_all_topic_list
        } else {
            config.enable_topic_list
        }) {
            return Err(Failure::Code(ResponseCode::SYSTEM_ERROR, "disable".into()));
        }
        let topics = select(&self.routes.borrow());
        Ok(ok(req).with_body(json::to_vec(
            &TopicList {
                topic_list: topics,
                broker_addr: None,
            },
            JsonStyle::Fastjson,
        )))
    }

    fn topics_by_cluster(&self, req: &RemotingCommand) -> Outcome {
        let h: GetTopicsByClusterRequestHeader = req.header()?;
        self.topic_list(req, |rt| rt.topics_of_cluster(&h.cluster), false)
    }

    fn put_kv(&self, req: &RemotingCommand) -> Outcome {
        let h: PutKVConfigRequestHeader = req.header()?;
        self.kv
            .borrow_mut()
            .put(&h.namespace, &h.key, &h.value)
            .map_err(persist_failed)?;
        Ok(ok(req))
    }

    fn get_kv(&self, req: &RemotingCommand) -> Outcome {
        let h: GetKVConfigRequestHeader = req.header()?;
        match self.kv.borrow().get(&h.namespace, &h.key) {
            Some(v) => Ok(ok(req).with_header(&GetKVConfigResponseHeader {
                value: Some(v.to_owned()),
            })),
            None => Ok(RemotingCommand::response_to(
                req,
                ResponseCode::QUERY_NOT_FOUND,
                Some(format!(
                    "No config item, Namespace: {} Key: {}",
                    h.namespace, h.key
                )),
            )
            .with_header(&GetKVConfigResponseHeader { value: None })),
        }
    }

    fn delete_kv(&self, req: &RemotingCommand) -> Outcome {
        let h: DeleteKVConfigRequestHeader = req.header()?;
        self.kv
            .borrow_mut()
            .delete(&h.namespace, &h.key)
            .map_err(persist_failed)?;
        Ok(ok(req))
    }

    fn kv_list(&self, req: &RemotingCommand) -> Outcome {
        let h: GetKVListByNamespaceRequestHeader = req.header()?;
        match self.kv.borrow().namespace(&h.namespace) {
            Some(table) => Ok(ok(req).with_body(json::to_vec(
                &KvTable {
                    table: table.clone(),
                },
                JsonStyle::Fastjson,
            ))),
            None => Err(Failure::Code(
                ResponseCode::QUERY_NOT_FOUND,
                format!("No config item, Namespace: {}", h.namespace),
            )),
        }
    }

    fn update_config(&self, req: &RemotingCommand) -> Outcome {
        if req.body.is_empty() {
            return Ok(ok(req));
        }
        let text = std::str::from_utf8(&req.body).map_err(|_| {
            Failure::Code(ResponseCode::SYSTEM_ERROR, "string2Properties error".into())
        })?;
        let pairs = ringmq_remoting::properties::parse(text);
        if pairs
            .iter()
            .any(|(k, _)| UPDATE_BLACK_LIST.contains(&k.as_str()))
        {
            return Err(Failure::Code(
                ResponseCode::NO_PERMISSION,
                "Can not update config in black list.".into(),
            ));
        }
        // Validate everything before changing anything.
        let mut updated = self.config.borrow().clone();
        for (k, v) in &pairs {
            updated
                .set(k, v)
                .map_err(|e| Failure::Code(ResponseCode::SYSTEM_ERROR, e.to_string()))?;
        }
        crate::atomic_file::write_atomically(
            &updated.config_store_path,
            updated.to_properties().as_bytes(),
        )
        .map_err(persist_failed)?;
        *self.config.borrow_mut() = updated;
        Ok(ok(req))
    }
}

fn ok(req: &RemotingCommand) -> RemotingCommand {
    RemotingCommand::response_to(req, ResponseCode::SUCCESS, None)
}

fn persist_failed(e: std::io::Error) -> Failure {
    Failure::Code(
        ResponseCode::SYSTEM_ERROR,
        format!("cannot persist the change: {e}"),
    )
}
