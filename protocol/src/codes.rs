//! Numeric vocabularies of the RocketMQ remoting protocol: request codes,
//! response codes and the client language byte. Values follow Apache RocketMQ
//! 4.9.7 and the current 5.x line so that stock clients and tools interoperate.

use std::fmt;

/// Generates the associated constants plus the name tables for one of the
/// code newtypes below.
///
/// The primary list must not reuse a value (the generated `match` would then
/// contain an unreachable arm, which the build rejects under `-D warnings`).
/// Constants that deliberately share a value with a primary entry go in the
/// `aliases` block: they get a constant and are accepted by `from_name`, but
/// `name()` keeps reporting the primary spelling.
macro_rules! code_table {
    (
        $ty:ident($repr:ty);
        codes {
            $( $(#[$doc:meta])* $name:ident = $value:literal; )*
        }
        aliases {
            $( $(#[$adoc:meta])* $alias:ident = $avalue:literal; )*
        }
    ) => {
        impl $ty {
            $( $(#[$doc])* pub const $name: $ty = $ty($value); )*
            $( $(#[$adoc])* pub const $alias: $ty = $ty($avalue); )*

            const KNOWN: &'static [($ty, &'static str)] = &[
                $( ($ty($value), stringify!($name)), )*
            ];

            const ALIASES: &'static [($ty, &'static str)] = &[
                $( ($ty($avalue), stringify!($alias)), )*
            ];

            /// The Java constant name of this code, or `None` when the value is
            /// not one we know. Where several names share a value, the spelling
            /// of the newest upstream release is returned.
            pub const fn name(self) -> Option<&'static str> {
                match self.0 {
                    $( $value => Some(stringify!($name)), )*
                    _ => None,
                }
            }

            /// Looks a code up by its exact (case-sensitive) Java constant
            /// name; legacy alias names are accepted as well.
            pub fn from_name(name: &str) -> Option<$ty> {
                Self::KNOWN
                    .iter()
                    .chain(Self::ALIASES.iter())
                    .find(|(_, n)| *n == name)
                    .map(|(code, _)| *code)
            }

            /// Whether this value has a name in our table.
            pub const fn is_known(self) -> bool {
                self.name().is_some()
            }

            /// Every known code with its canonical name, in declaration order
            /// (aliases excluded).
            pub fn known() -> &'static [($ty, &'static str)] {
                Self::KNOWN
            }
        }

        impl From<$repr> for $ty {
            fn from(value: $repr) -> Self {
                $ty(value)
            }
        }

        impl From<$ty> for $repr {
            fn from(code: $ty) -> Self {
                code.0
            }
        }
    };
}

// ---------------------------------------------------------------------------
// Request codes
// ---------------------------------------------------------------------------

/// The `code` field of a request frame: which operation the peer asks for.
///
/// This is a newtype over the raw `i32` rather than a Rust `enum` because the
/// value comes straight off the wire: clients newer or older than us, vendor
/// forks and proxies all send codes we have never heard of, and the server
/// must still be able to carry, log and reject them (with
/// `REQUEST_CODE_NOT_SUPPORTED`) instead of failing to decode the frame.
/// Known values are exposed as associated constants named exactly like the
/// Java constants, which keeps grepping across both code bases easy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RequestCode(pub i32);

code_table! {
    RequestCode(i32);
    codes {
        // Core data path: produce, consume, look up messages and offsets.
        /// Publish a single message (original header layout).
        SEND_MESSAGE = 10;
        /// Fetch messages from a queue (pull / push consumers).
        PULL_MESSAGE = 11;
        /// Search messages by key / time window through the index.
        QUERY_MESSAGE = 12;
        /// Ask a broker for an offset it stores.
        QUERY_BROKER_OFFSET = 13;
        /// Read the committed offset of a consumer group on one queue.
        QUERY_CONSUMER_OFFSET = 14;
        /// Commit the offset of a consumer group on one queue.
        UPDATE_CONSUMER_OFFSET = 15;

        // Broker administration: topics.
        /// Create a topic on a broker or change its configuration.
        UPDATE_AND_CREATE_TOPIC = 17;
        /// Batch form of `UPDATE_AND_CREATE_TOPIC` (5.x).
        UPDATE_AND_CREATE_TOPIC_LIST = 18;
        /// Dump every topic configuration held by a broker.
        GET_ALL_TOPIC_CONFIG = 21;
        /// List topic configurations.
        GET_TOPIC_CONFIG_LIST = 22;
        /// List topic names.
        GET_TOPIC_NAME_LIST = 23;

        // Broker administration: configuration and runtime state.
        /// Change broker configuration properties at runtime.
        UPDATE_BROKER_CONFIG = 25;
        /// Read the broker configuration.
        GET_BROKER_CONFIG = 26;
        /// Ask the broker to run its file clean-up immediately.
        TRIGGER_DELETE_FILES = 27;
        /// Read runtime statistics of a broker.
        GET_BROKER_RUNTIME_INFO = 28;

        // Store queries on a single queue.
        /// Find the queue offset closest to a timestamp.
        SEARCH_OFFSET_BY_TIMESTAMP = 29;
        /// Highest offset of a queue.
        GET_MAX_OFFSET = 30;
        /// Lowest offset of a queue.
        GET_MIN_OFFSET = 31;
        /// Store time of the oldest message in a queue.
        GET_EARLIEST_MSG_STORETIME = 32;
        /// Load a message by its commit-log offset id.
        VIEW_MESSAGE_BY_ID = 33;

        // Client sessions, transactions and ordered consumption.
        /// Periodic client heartbeat carrying producer / consumer registrations.
        HEART_BEAT = 34;
        /// A client leaves a group.
        UNREGISTER_CLIENT = 35;
        /// A consumer hands a failed message back for redelivery.
        CONSUMER_SEND_MSG_BACK = 36;
        /// A producer commits or rolls back a half (prepared) message.
        END_TRANSACTION = 37;
        /// List the client ids currently in a consumer group.
        GET_CONSUMER_LIST_BY_GROUP = 38;
        /// Broker to producer: ask for the outcome of a pending transaction.
        CHECK_TRANSACTION_STATE = 39;
        /// Broker to consumer: group membership changed, rebalance now.
        NOTIFY_CONSUMER_IDS_CHANGED = 40;
        /// Take queue locks for orderly consumption.
        LOCK_BATCH_MQ = 41;
        /// Release queue locks taken by `LOCK_BATCH_MQ`.
        UNLOCK_BATCH_MQ = 42;
        /// Dump all consumer offsets held by a broker.
        GET_ALL_CONSUMER_OFFSET = 43;
        /// Dump the progress of the delayed-delivery (schedule) queues.
        GET_ALL_DELAY_OFFSET = 45;
        /// Validate a consumer's subscription / filter settings.
        CHECK_CLIENT_CONFIG = 46;
        /// Read client-side configuration published by the broker (5.x).
        GET_CLIENT_CONFIG = 47;

        // Plain ACL administration (4.x only; superseded by the 30xx auth codes).
        /// Create or update an ACL account (4.x).
        UPDATE_AND_CREATE_ACL_CONFIG = 50;
        /// Remove an ACL account (4.x).
        DELETE_ACL_CONFIG = 51;
        /// Read ACL version information of a broker (4.x).
        GET_BROKER_CLUSTER_ACL_INFO = 52;
        /// Replace the global IP white list (4.x).
        UPDATE_GLOBAL_WHITE_ADDRS_CONFIG = 53;
        /// Read the full ACL configuration of a broker (4.x).
        GET_BROKER_CLUSTER_ACL_CONFIG = 54;

        // Timer (scheduled message) store, 5.x.
        /// Read the timer store checkpoint.
        GET_TIMER_CHECK_POINT = 60;
        /// Read timer store metrics.
        GET_TIMER_METRICS = 61;

        // Name server: key/value store, broker registration and routing.
        /// Store a key/value pair in a name-server namespace.
        PUT_KV_CONFIG = 100;
        /// Read a key/value pair from a name-server namespace.
        GET_KV_CONFIG = 101;
        /// Remove a key/value pair from a name-server namespace.
        DELETE_KV_CONFIG = 102;
        /// A broker announces itself and its topics to the name server.
        REGISTER_BROKER = 103;
        /// A broker withdraws from the name server.
        UNREGISTER_BROKER = 104;
        /// Resolve the queues and brokers that serve a topic.
        GET_ROUTEINFO_BY_TOPIC = 105;
        /// Describe every cluster and broker known to the name server.
        GET_BROKER_CLUSTER_INFO = 106;

        // Administration: subscription groups, statistics, consumer control.
        /// Create or update a subscription (consumer) group.
        UPDATE_AND_CREATE_SUBSCRIPTIONGROUP = 200;
        /// Dump all subscription group configurations of a broker.
        GET_ALL_SUBSCRIPTIONGROUP_CONFIG = 201;
        /// Per-queue offset statistics of a topic.
        GET_TOPIC_STATS_INFO = 202;
        /// Connections of a consumer group.
        GET_CONSUMER_CONNECTION_LIST = 203;
        /// Connections of a producer group.
        GET_PRODUCER_CONNECTION_LIST = 204;
        /// Revoke write permission of a broker on the name server.
        WIPE_WRITE_PERM_OF_BROKER = 205;
        /// List all topic names known to the name server.
        GET_ALL_TOPIC_LIST_FROM_NAMESERVER = 206;
        /// Remove a subscription group.
        DELETE_SUBSCRIPTIONGROUP = 207;
        /// Consumption progress / lag of a group.
        GET_CONSUME_STATS = 208;
        /// Pause a consumer group.
        SUSPEND_CONSUMER = 209;
        /// Resume a paused consumer group.
        RESUME_CONSUMER = 210;
        /// Reset offsets on the consumer side.
        RESET_CONSUMER_OFFSET_IN_CONSUMER = 211;
        /// Reset offsets stored on the broker.
        RESET_CONSUMER_OFFSET_IN_BROKER = 212;
        /// Resize a consumer's thread pool.
        ADJUST_CONSUMER_THREAD_POOL = 213;
        /// Which groups consumed a given message.
        WHO_CONSUME_THE_MESSAGE = 214;
        /// Remove a topic from a broker.
        DELETE_TOPIC_IN_BROKER = 215;
        /// Remove a topic's route from the name server.
        DELETE_TOPIC_IN_NAMESRV = 216;
        /// Register a topic route directly on the name server (5.x).
        REGISTER_TOPIC_IN_NAMESRV = 217;
        /// List all key/value pairs of a name-server namespace.
        GET_KVLIST_BY_NAMESPACE = 219;
        /// Broker to consumer: move your offsets to the given values.
        RESET_CONSUMER_CLIENT_OFFSET = 220;
        /// Broker to consumer: report your offsets.
        GET_CONSUMER_STATUS_FROM_CLIENT = 221;
        /// Admin asks a broker to reset a group's offsets.
        INVOKE_BROKER_TO_RESET_OFFSET = 222;
        /// Admin asks a broker to collect consumer status.
        INVOKE_BROKER_TO_GET_CONSUMER_STATUS = 223;
        /// List the topics belonging to a cluster.
        GET_TOPICS_BY_CLUSTER = 224;
        /// Batch form of `UPDATE_AND_CREATE_SUBSCRIPTIONGROUP` (5.x).
        UPDATE_AND_CREATE_SUBSCRIPTIONGROUP_LIST = 225;

        // Administration and client extensions, 3xx range.
        /// Which groups consume a topic.
        QUERY_TOPIC_CONSUME_BY_WHO = 300;
        /// A filter server registers with a broker (legacy class filtering).
        REGISTER_FILTER_SERVER = 301;
        /// Upload a message filter class (legacy class filtering).
        REGISTER_MESSAGE_FILTER_CLASS = 302;
        /// Time span covered by a group's consumption.
        QUERY_CONSUME_TIME_SPAN = 303;
        /// System topics as known to the name server.
        GET_SYSTEM_TOPIC_LIST_FROM_NS = 304;
        /// System topics as known to a broker.
        GET_SYSTEM_TOPIC_LIST_FROM_BROKER = 305;
        /// Drop consume-queue files that are no longer needed.
        CLEAN_EXPIRED_CONSUMEQUEUE = 306;
        /// Ask a consumer for a snapshot of its internal state.
        GET_CONSUMER_RUNNING_INFO = 307;
        /// Compute the offset to which lagging groups may be corrected.
        QUERY_CORRECTION_OFFSET = 308;
        /// Push one message straight to a consumer for a test delivery.
        CONSUME_MESSAGE_DIRECTLY = 309;
        /// Publish a single message with the compact (short field name) header.
        SEND_MESSAGE_V2 = 310;
        /// Unit-deployment topic list.
        GET_UNIT_TOPIC_LIST = 311;
        /// Topics that have unit subscriptions.
        GET_HAS_UNIT_SUB_TOPIC_LIST = 312;
        /// Non-unit topics that have unit subscriptions.
        GET_HAS_UNIT_SUB_UNUNIT_TOPIC_LIST = 313;
        /// Copy offsets from one group to another.
        CLONE_GROUP_OFFSET = 314;
        /// Read one of the broker's statistics items.
        VIEW_BROKER_STATS_DATA = 315;
        /// Remove topics that no longer have a backing queue.
        CLEAN_UNUSED_TOPIC = 316;
        /// Consumption statistics across a whole broker.
        GET_BROKER_CONSUME_STATS = 317;
        /// Change name-server configuration at runtime.
        UPDATE_NAMESRV_CONFIG = 318;
        /// Read the name-server configuration.
        GET_NAMESRV_CONFIG = 319;
        /// Publish several messages in one frame.
        SEND_BATCH_MESSAGE = 320;
        /// Inspect consume-queue entries.
        QUERY_CONSUME_QUEUE = 321;
        /// Compare a broker's topic-config data version with the name server's.
        QUERY_DATA_VERSION = 322;
        /// Re-arm transaction checks for half messages that ran out of retries.
        RESUME_CHECK_HALF_MESSAGE = 323;
        /// Reply to a request/reply message (original header layout).
        SEND_REPLY_MESSAGE = 324;
        /// Reply to a request/reply message (compact header).
        SEND_REPLY_MESSAGE_V2 = 325;
        /// Broker delivers a reply message to the waiting requester.
        PUSH_REPLY_MESSAGE_TO_CLIENT = 326;
        /// Restore write permission of a broker on the name server.
        ADD_WRITE_PERM_OF_BROKER = 327;
        /// Every producer connected to a broker.
        GET_ALL_PRODUCER_INFO = 328;
        /// Delete commit-log files already past retention.
        DELETE_EXPIRED_COMMITLOG = 329;
        /// Topics a consumer group subscribes to (5.x).
        QUERY_TOPICS_BY_CONSUMER = 343;
        /// Subscription of a group on a topic (5.x).
        QUERY_SUBSCRIPTION_BY_CONSUMER = 345;
        /// Configuration of a single topic (5.x).
        GET_TOPIC_CONFIG = 351;
        /// Configuration of a single subscription group (5.x).
        GET_SUBSCRIPTIONGROUP_CONFIG = 352;
        /// Set or read the "forbidden" flag of a group on a topic (5.x).
        UPDATE_AND_GET_GROUP_FORBIDDEN = 353;
        /// Check how far the RocksDB consume queue has caught up (5.x).
        CHECK_ROCKSDB_CQ_WRITE_PROGRESS = 354;
        /// Export RocksDB-held metadata as JSON (5.x).
        EXPORT_ROCKSDB_CONFIG_TO_JSON = 355;
        /// Pull used by the lite pull consumer (5.x).
        LITE_PULL_MESSAGE = 361;
        /// Withdraw a not-yet-delivered scheduled message (5.x).
        RECALL_MESSAGE = 370;

        // Server-side queue assignment (5.x).
        /// Ask the broker which queues this client should consume.
        QUERY_ASSIGNMENT = 400;
        /// Switch a group between pull and pop consumption.
        SET_MESSAGE_REQUEST_MODE = 401;
        /// Read every group's consumption mode.
        GET_ALL_MESSAGE_REQUEST_MODE = 402;

        // Static (logical-queue) topics (5.x).
        /// Create or update a static topic and its queue mapping.
        UPDATE_AND_CREATE_STATIC_TOPIC = 513;

        // Broker container and master/slave replication (5.x).
        /// Members of the broker's replica group.
        GET_BROKER_MEMBER_GROUP = 901;
        /// Add a broker to a broker container.
        ADD_BROKER = 902;
        /// Remove a broker from a broker container.
        REMOVE_BROKER = 903;
        /// Broker liveness heartbeat (to name server or controller).
        BROKER_HEARTBEAT = 904;
        /// The lowest broker id of a replica group changed.
        NOTIFY_MIN_BROKER_ID_CHANGE = 905;
        /// Exchange high-availability state between master and slave.
        EXCHANGE_BROKER_HA_INFO = 906;
        /// Read high-availability status of a broker.
        GET_BROKER_HA_STATUS = 907;
        /// Force the master's flush offset to a given value.
        RESET_MASTER_FLUSH_OFFSET = 908;

        // DLedger-style controller (5.x).
        /// Change the in-sync replica set.
        CONTROLLER_ALTER_SYNC_STATE_SET = 1001;
        /// Elect a new master for a replica group.
        CONTROLLER_ELECT_MASTER = 1002;
        /// Register a broker with the controller.
        CONTROLLER_REGISTER_BROKER = 1003;
        /// Read master / epoch information of a replica group.
        CONTROLLER_GET_REPLICA_INFO = 1004;
        /// Read controller metadata.
        CONTROLLER_GET_METADATA_INFO = 1005;
        /// Read in-sync replica sets.
        CONTROLLER_GET_SYNC_STATE_DATA = 1006;
        /// Read a broker's epoch cache.
        GET_BROKER_EPOCH_CACHE = 1007;
        /// Controller to broker: your role changed.
        NOTIFY_BROKER_ROLE_CHANGED = 1008;
        /// Change controller configuration at runtime.
        UPDATE_CONTROLLER_CONFIG = 1009;
        /// Read controller configuration.
        GET_CONTROLLER_CONFIG = 1010;
        /// Drop controller-held data about brokers.
        CLEAN_BROKER_DATA = 1011;
        /// Ask the controller for the next free broker id.
        CONTROLLER_GET_NEXT_BROKER_ID = 1012;
        /// Claim a broker id from the controller.
        CONTROLLER_APPLY_BROKER_ID = 1013;
        /// Internal controller event: a broker channel was closed.
        BROKER_CLOSE_CHANNEL_REQUEST = 1014;
        /// Internal controller event: scan for inactive brokers.
        CHECK_NOT_ACTIVE_BROKER_REQUEST = 1015;
        /// Internal controller event: read broker liveness data.
        GET_BROKER_LIVE_INFO_REQUEST = 1016;
        /// Internal controller event: read in-sync replica data.
        GET_SYNC_STATE_DATA_REQUEST = 1017;
        /// Internal controller event: broker heartbeat replicated through Raft.
        RAFT_BROKER_HEART_BEAT_EVENT_REQUEST = 1018;

        // Tiered storage / cold data read control (5.x).
        /// Set a cold-read flow-control rule for a group.
        UPDATE_COLD_DATA_FLOW_CTR_CONFIG = 2001;
        /// Remove a cold-read flow-control rule.
        REMOVE_COLD_DATA_FLOW_CTR_CONFIG = 2002;
        /// Read cold-read flow-control state.
        GET_COLD_DATA_FLOW_CTR_INFO = 2003;
        /// Change how the commit log is read (e.g. read-ahead policy).
        SET_COMMITLOG_READ_MODE = 2004;

        // Authentication and authorization management (5.3+).
        /// Create a user.
        AUTH_CREATE_USER = 3001;
        /// Update a user.
        AUTH_UPDATE_USER = 3002;
        /// Delete a user.
        AUTH_DELETE_USER = 3003;
        /// Read one user.
        AUTH_GET_USER = 3004;
        /// List users.
        AUTH_LIST_USER = 3005;
        /// Create an access-control policy.
        AUTH_CREATE_ACL = 3006;
        /// Update an access-control policy.
        AUTH_UPDATE_ACL = 3007;
        /// Delete an access-control policy.
        AUTH_DELETE_ACL = 3008;
        /// Read one access-control policy.
        AUTH_GET_ACL = 3009;
        /// List access-control policies.
        AUTH_LIST_ACL = 3010;

        // Pop consumption (5.x): broker-managed delivery with invisibility windows.
        /// Receive messages; they stay invisible until acked or the window ends.
        POP_MESSAGE = 200050;
        /// Acknowledge one popped message.
        ACK_MESSAGE = 200051;
        /// Look at messages without taking them.
        PEEK_MESSAGE = 200052;
        /// Extend or shorten the invisibility window of a popped message.
        CHANGE_MESSAGE_INVISIBLETIME = 200053;
        /// Long poll that returns once messages become available.
        NOTIFICATION = 200054;
        /// Read the number of parked pop long-poll requests.
        POLLING_INFO = 200055;
        /// Undo a pop (reserved upstream; brokers answer "not supported").
        POP_ROLLBACK = 200056;
        /// Acknowledge several popped messages at once.
        BATCH_ACK_MESSAGE = 200151;
    }

    aliases {}
}

impl fmt::Display for RequestCode {
    /// Prints `NAME(code)` for known codes and `UNKNOWN(code)` otherwise.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "{}({})", name, self.0),
            None => write!(f, "UNKNOWN({})", self.0),
        }
    }
}

// ---------------------------------------------------------------------------
// Response codes
// ---------------------------------------------------------------------------

/// The `code` field of a response frame: how the request ended.
///
/// Kept as a newtype over `i32` for the same reason as [`RequestCode`]: the
/// value is whatever the peer put on the wire, and a response carrying a code
/// we do not know must still decode, be logged and be passed through.
///
/// Upstream reused the values 209, 210 and 211: 4.9.7 names them after ACL
/// failures, 5.x after pop long polling and broker lookup. Both spellings exist
/// as constants here; [`ResponseCode::name`] reports the 5.x one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ResponseCode(pub i32);

code_table! {
    ResponseCode(i32);
    codes {
        // Failures of the broker-to-broker RPC client (5.x, static topics). They
        // are raised on the calling side rather than by a remote handler, but
        // share this code space.
        /// The RPC layer failed for an unclassified reason.
        RPC_UNKNOWN = -1000;
        /// No address was available for the target.
        RPC_ADDR_IS_NULL = -1002;
        /// Writing the request to the channel failed.
        RPC_SEND_TO_CHANNEL_FAILED = -1004;
        /// No answer arrived in time.
        RPC_TIME_OUT = -1006;

        // Generic outcomes defined by the remoting layer itself.
        /// The request was handled successfully.
        SUCCESS = 0;
        /// An unexpected error occurred while handling the request.
        SYSTEM_ERROR = 1;
        /// The server is overloaded; retrying later may succeed.
        SYSTEM_BUSY = 2;
        /// No processor is registered for the request code.
        REQUEST_CODE_NOT_SUPPORTED = 3;
        /// A transactional operation failed.
        TRANSACTION_FAILED = 4;

        // Send / store outcomes.
        /// Stored, but the synchronous disk flush did not finish in time.
        FLUSH_DISK_TIMEOUT = 10;
        /// Stored on the master, but no slave is available for replication.
        SLAVE_NOT_AVAILABLE = 11;
        /// Stored on the master, but replication to the slave timed out.
        FLUSH_SLAVE_TIMEOUT = 12;
        /// The message was rejected as malformed or too large.
        MESSAGE_ILLEGAL = 13;
        /// The service cannot take the request right now (e.g. store not
        /// writable, broker is a slave, shutting down).
        SERVICE_NOT_AVAILABLE = 14;
        /// The client version is not supported.
        VERSION_NOT_SUPPORTED = 15;
        /// The caller lacks permission for this operation or resource.
        NO_PERMISSION = 16;

        // Topic, pull and query outcomes.
        /// The topic does not exist.
        TOPIC_NOT_EXIST = 17;
        /// The topic already exists.
        TOPIC_EXIST_ALREADY = 18;
        /// No new message at the requested offset.
        PULL_NOT_FOUND = 19;
        /// The pull should be retried right away.
        PULL_RETRY_IMMEDIATELY = 20;
        /// The requested offset is invalid; the response carries a corrected one.
        PULL_OFFSET_MOVED = 21;
        /// The query found nothing.
        QUERY_NOT_FOUND = 22;

        // Subscription and filter outcomes.
        /// The subscription expression could not be parsed.
        SUBSCRIPTION_PARSE_FAILED = 23;
        /// The broker has no subscription for this group and topic.
        SUBSCRIPTION_NOT_EXIST = 24;
        /// The broker's subscription data is newer than the client's.
        SUBSCRIPTION_NOT_LATEST = 25;
        /// The subscription group does not exist.
        SUBSCRIPTION_GROUP_NOT_EXIST = 26;
        /// Filter data for the subscription is missing.
        FILTER_DATA_NOT_EXIST = 27;
        /// Filter data for the subscription is outdated.
        FILTER_DATA_NOT_LATEST = 28;
        /// A request argument is invalid (5.x).
        INVALID_PARAMETER = 29;

        // Transaction check answers and miscellaneous outcomes.
        /// The transaction should be committed.
        TRANSACTION_SHOULD_COMMIT = 200;
        /// The transaction should be rolled back.
        TRANSACTION_SHOULD_ROLLBACK = 201;
        /// The transaction state is not yet known (spelling kept from upstream).
        TRANSACTION_STATE_UNKNOW = 202;
        /// The transaction belongs to a different producer group.
        TRANSACTION_STATE_GROUP_WRONG = 203;
        /// A buyer id is missing (legacy unit deployment).
        NO_BUYER_ID = 204;
        /// The request targets a different unit (legacy unit deployment).
        NOT_IN_CURRENT_UNIT = 205;
        /// The targeted consumer is not connected.
        CONSUMER_NOT_ONLINE = 206;
        /// Direct consumption of a message timed out.
        CONSUME_MSG_TIMEOUT = 207;
        /// No message is available.
        NO_MESSAGE = 208;

        // Pop long polling and broker lookup (5.x meaning of 209..=213).
        /// Too many pop long-poll requests are parked already.
        POLLING_FULL = 209;
        /// A pop long-poll request expired without messages.
        POLLING_TIMEOUT = 210;
        /// The named broker does not exist.
        BROKER_NOT_EXIST = 211;
        /// The broker has not finished dispatching the commit log yet.
        BROKER_DISPATCH_NOT_COMPLETE = 212;
        /// The operation is not applicable to broadcast consumption.
        BROADCAST_CONSUMPTION = 213;
        /// The request was rejected by flow control.
        FLOW_CONTROL = 215;

        // Leadership and connection lifecycle (5.x).
        /// This node does not lead the queue (static topic / logical queue).
        NOT_LEADER_FOR_QUEUE = 501;
        /// The operation is not allowed in the current state.
        ILLEGAL_OPERATION = 604;
        /// The server is closing this connection; reconnect elsewhere.
        GO_AWAY = 1500;

        // Controller outcomes (5.x, values as of 5.2+).
        /// The master epoch in the request is stale.
        CONTROLLER_FENCED_MASTER_EPOCH = 2000;
        /// The in-sync replica set epoch in the request is stale.
        CONTROLLER_FENCED_SYNC_STATE_SET_EPOCH = 2001;
        /// The named master is not the current one.
        CONTROLLER_INVALID_MASTER = 2002;
        /// The proposed replica set is invalid.
        CONTROLLER_INVALID_REPLICAS = 2003;
        /// No master is available for the replica group.
        CONTROLLER_MASTER_NOT_AVAILABLE = 2004;
        /// The controller request is malformed.
        CONTROLLER_INVALID_REQUEST = 2005;
        /// The broker is not alive according to the controller.
        CONTROLLER_BROKER_NOT_ALIVE = 2006;
        /// This controller is not the leader.
        CONTROLLER_NOT_LEADER = 2007;
        /// The controller has no metadata for the broker.
        CONTROLLER_BROKER_METADATA_NOT_EXIST = 2008;
        /// A request to clean broker metadata was invalid.
        CONTROLLER_INVALID_CLEAN_BROKER_METADATA = 2009;
        /// The broker must register with the controller first.
        CONTROLLER_BROKER_NEED_TO_BE_REGISTERED = 2010;
        /// A master still exists, so the request cannot proceed.
        CONTROLLER_MASTER_STILL_EXIST = 2011;
        /// Master election failed.
        CONTROLLER_ELECT_MASTER_FAILED = 2012;
        /// Changing the in-sync replica set failed.
        CONTROLLER_ALTER_SYNC_STATE_SET_FAILED = 2013;
        /// The broker id is invalid.
        CONTROLLER_BROKER_ID_INVALID = 2014;
        /// The JRaft-based controller hit an internal error.
        CONTROLLER_JRAFT_INTERNAL_ERROR = 2015;
        /// No liveness information exists for the broker.
        CONTROLLER_BROKER_LIVE_INFO_NOT_EXISTS = 2016;

        // Authentication and authorization (5.3+).
        /// The user does not exist.
        USER_NOT_EXIST = 3001;
        /// The access-control policy does not exist.
        POLICY_NOT_EXIST = 3002;
    }

    aliases {
        // 4.9.7 meanings of 209..=211 (plain ACL administration). Same values
        // as POLLING_FULL, POLLING_TIMEOUT and BROKER_NOT_EXIST.
        /// 4.9.7: creating or updating an ACL account failed (value of
        /// `POLLING_FULL` in 5.x).
        UPDATE_AND_CREATE_ACL_CONFIG_FAILED = 209;
        /// 4.9.7: deleting an ACL account failed (value of `POLLING_TIMEOUT`
        /// in 5.x).
        DELETE_ACL_CONFIG_FAILED = 210;
        /// 4.9.7: updating the global white list failed (value of
        /// `BROKER_NOT_EXIST` in 5.x).
        UPDATE_GLOBAL_WHITE_ADDRS_CONFIG_FAILED = 211;
    }
}

impl fmt::Display for ResponseCode {
    /// Prints `NAME(code)` for known codes and `UNKNOWN(code)` otherwise.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "{}({})", name, self.0),
            None => write!(f, "UNKNOWN({})", self.0),
        }
    }
}

// ---------------------------------------------------------------------------
// Language codes
// ---------------------------------------------------------------------------

/// The implementation language a peer announces in every frame.
///
/// With the JSON header it travels as the enum name (`"JAVA"`); with the
/// compact ROCKETMQ binary header it is a single byte holding the code below.
/// It is a newtype over `u8` so that a byte we do not recognise (for example
/// one added by a newer client) still decodes and can be echoed back.
///
/// `LanguageCode::default()` is [`LanguageCode::RUST`]: that is what this
/// server announces in its own requests and responses, because it is honest
/// about the implementation and `RUST` (12) has been defined by upstream since
/// 4.x, so every Java peer we talk to can decode it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LanguageCode(pub u8);

code_table! {
    LanguageCode(u8);
    codes {
        // Byte values are the explicit codes of upstream's enum (identical to the
        // declaration order there).
        /// Java (the reference client and server).
        JAVA = 0;
        /// C++ client.
        CPP = 1;
        /// .NET client.
        DOTNET = 2;
        /// Python client.
        PYTHON = 3;
        /// Delphi client.
        DELPHI = 4;
        /// Erlang client.
        ERLANG = 5;
        /// Ruby client.
        RUBY = 6;
        /// Any other implementation.
        OTHER = 7;
        /// HTTP bridge.
        HTTP = 8;
        /// Go client.
        GO = 9;
        /// PHP client.
        PHP = 10;
        /// OpenMessaging (OMS) binding.
        OMS = 11;
        /// Rust implementation (what this server announces).
        RUST = 12;
        /// Node.js client (5.x).
        NODE_JS = 13;
    }

    aliases {}
}

impl Default for LanguageCode {
    /// [`LanguageCode::RUST`]; see the type documentation.
    fn default() -> Self {
        LanguageCode::RUST
    }
}

impl fmt::Display for LanguageCode {
    /// Prints the enum name (`JAVA`) or `UNKNOWN(n)` for unrecognised bytes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "UNKNOWN({})", self.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn request_code_values() {
        let cases: &[(RequestCode, i32, &str)] = &[
            (RequestCode::SEND_MESSAGE, 10, "SEND_MESSAGE"),
            (RequestCode::PULL_MESSAGE, 11, "PULL_MESSAGE"),
            (
                RequestCode::QUERY_CONSUMER_OFFSET,
                14,
                "QUERY_CONSUMER_OFFSET",
            ),
            (
                RequestCode::UPDATE_CONSUMER_OFFSET,
                15,
                "UPDATE_CONSUMER_OFFSET",
            ),
            (
                RequestCode::UPDATE_AND_CREATE_TOPIC,
                17,
                "UPDATE_AND_CREATE_TOPIC",
            ),
            (RequestCode::HEART_BEAT, 34, "HEART_BEAT"),
            (
                RequestCode::CONSUMER_SEND_MSG_BACK,
                36,
                "CONSUMER_SEND_MSG_BACK",
            ),
            (RequestCode::END_TRANSACTION, 37, "END_TRANSACTION"),
            (RequestCode::REGISTER_BROKER, 103, "REGISTER_BROKER"),
            (RequestCode::UNREGISTER_BROKER, 104, "UNREGISTER_BROKER"),
            (
                RequestCode::GET_ROUTEINFO_BY_TOPIC,
                105,
                "GET_ROUTEINFO_BY_TOPIC",
            ),
            (
                RequestCode::GET_BROKER_CLUSTER_INFO,
                106,
                "GET_BROKER_CLUSTER_INFO",
            ),
            (RequestCode::SEND_MESSAGE_V2, 310, "SEND_MESSAGE_V2"),
            (RequestCode::SEND_BATCH_MESSAGE, 320, "SEND_BATCH_MESSAGE"),
            (RequestCode::LITE_PULL_MESSAGE, 361, "LITE_PULL_MESSAGE"),
            (RequestCode::BROKER_HEARTBEAT, 904, "BROKER_HEARTBEAT"),
            (
                RequestCode::UPDATE_AND_CREATE_ACL_CONFIG,
                50,
                "UPDATE_AND_CREATE_ACL_CONFIG",
            ),
            (
                RequestCode::RAFT_BROKER_HEART_BEAT_EVENT_REQUEST,
                1018,
                "RAFT_BROKER_HEART_BEAT_EVENT_REQUEST",
            ),
            (RequestCode::AUTH_LIST_ACL, 3010, "AUTH_LIST_ACL"),
            (RequestCode::POP_MESSAGE, 200050, "POP_MESSAGE"),
            (RequestCode::BATCH_ACK_MESSAGE, 200151, "BATCH_ACK_MESSAGE"),
        ];
        for &(code, value, name) in cases {
            assert_eq!(code.0, value, "{name}");
            assert_eq!(code.name(), Some(name));
            assert_eq!(RequestCode::from_name(name), Some(code));
            assert_eq!(RequestCode::from(value), code);
        }
    }

    #[test]
    fn response_code_values() {
        let cases: &[(ResponseCode, i32, &str)] = &[
            (ResponseCode::SUCCESS, 0, "SUCCESS"),
            (ResponseCode::SYSTEM_ERROR, 1, "SYSTEM_ERROR"),
            (ResponseCode::SYSTEM_BUSY, 2, "SYSTEM_BUSY"),
            (
                ResponseCode::REQUEST_CODE_NOT_SUPPORTED,
                3,
                "REQUEST_CODE_NOT_SUPPORTED",
            ),
            (ResponseCode::TRANSACTION_FAILED, 4, "TRANSACTION_FAILED"),
            (ResponseCode::FLUSH_DISK_TIMEOUT, 10, "FLUSH_DISK_TIMEOUT"),
            (ResponseCode::SLAVE_NOT_AVAILABLE, 11, "SLAVE_NOT_AVAILABLE"),
            (ResponseCode::FLUSH_SLAVE_TIMEOUT, 12, "FLUSH_SLAVE_TIMEOUT"),
            (ResponseCode::MESSAGE_ILLEGAL, 13, "MESSAGE_ILLEGAL"),
            (
                ResponseCode::SERVICE_NOT_AVAILABLE,
                14,
                "SERVICE_NOT_AVAILABLE",
            ),
            (ResponseCode::NO_PERMISSION, 16, "NO_PERMISSION"),
            (ResponseCode::TOPIC_NOT_EXIST, 17, "TOPIC_NOT_EXIST"),
            (ResponseCode::PULL_NOT_FOUND, 19, "PULL_NOT_FOUND"),
            (
                ResponseCode::PULL_RETRY_IMMEDIATELY,
                20,
                "PULL_RETRY_IMMEDIATELY",
            ),
            (ResponseCode::PULL_OFFSET_MOVED, 21, "PULL_OFFSET_MOVED"),
            (ResponseCode::QUERY_NOT_FOUND, 22, "QUERY_NOT_FOUND"),
            (
                ResponseCode::SUBSCRIPTION_GROUP_NOT_EXIST,
                26,
                "SUBSCRIPTION_GROUP_NOT_EXIST",
            ),
            (ResponseCode::NO_MESSAGE, 208, "NO_MESSAGE"),
            (ResponseCode::FLOW_CONTROL, 215, "FLOW_CONTROL"),
            (ResponseCode::GO_AWAY, 1500, "GO_AWAY"),
            (ResponseCode::RPC_TIME_OUT, -1006, "RPC_TIME_OUT"),
            (
                ResponseCode::CONTROLLER_ALTER_SYNC_STATE_SET_FAILED,
                2013,
                "CONTROLLER_ALTER_SYNC_STATE_SET_FAILED",
            ),
            (ResponseCode::POLICY_NOT_EXIST, 3002, "POLICY_NOT_EXIST"),
        ];
        for &(code, value, name) in cases {
            assert_eq!(code.0, value, "{name}");
            assert_eq!(code.name(), Some(name));
            assert_eq!(ResponseCode::from_name(name), Some(code));
            assert_eq!(ResponseCode::from(value), code);
        }
    }

    #[test]
    fn response_aliases_share_values_and_report_5x_names() {
        assert_eq!(
            ResponseCode::UPDATE_AND_CREATE_ACL_CONFIG_FAILED,
            ResponseCode::POLLING_FULL
        );
        assert_eq!(
            ResponseCode::DELETE_ACL_CONFIG_FAILED,
            ResponseCode::POLLING_TIMEOUT
        );
        assert_eq!(
            ResponseCode::UPDATE_GLOBAL_WHITE_ADDRS_CONFIG_FAILED,
            ResponseCode::BROKER_NOT_EXIST
        );
        assert_eq!(ResponseCode(209).name(), Some("POLLING_FULL"));
        assert_eq!(ResponseCode(210).name(), Some("POLLING_TIMEOUT"));
        assert_eq!(ResponseCode(211).name(), Some("BROKER_NOT_EXIST"));
        assert_eq!(
            ResponseCode::from_name("DELETE_ACL_CONFIG_FAILED"),
            Some(ResponseCode(210))
        );
    }

    #[test]
    fn i32_round_trip() {
        for v in [i32::MIN, -1006, -1, 0, 10, 105, 310, 9999, 200151, i32::MAX] {
            assert_eq!(i32::from(RequestCode::from(v)), v);
            assert_eq!(i32::from(ResponseCode::from(v)), v);
        }
        for &(code, _) in RequestCode::known() {
            assert_eq!(RequestCode::from(i32::from(code)), code);
        }
        for &(code, _) in ResponseCode::known() {
            assert_eq!(ResponseCode::from(i32::from(code)), code);
        }
    }

    #[test]
    fn tables_are_consistent() {
        fn check<T: Copy + Eq + std::hash::Hash + std::fmt::Debug>(
            table: &[(T, &'static str)],
            name_of: impl Fn(T) -> Option<&'static str>,
        ) {
            let mut values = HashSet::new();
            let mut names = HashSet::new();
            for &(code, name) in table {
                assert!(values.insert(code), "duplicate value {code:?}");
                assert!(names.insert(name), "duplicate name {name}");
                assert_eq!(name_of(code), Some(name));
            }
        }
        check(RequestCode::known(), RequestCode::name);
        check(ResponseCode::known(), ResponseCode::name);
        check(LanguageCode::known(), LanguageCode::name);
        assert_eq!(RequestCode::known().len(), 163);
        assert_eq!(ResponseCode::known().len(), 66);
        assert_eq!(LanguageCode::known().len(), 14);
    }

    #[test]
    fn display() {
        assert_eq!(
            RequestCode::SEND_MESSAGE_V2.to_string(),
            "SEND_MESSAGE_V2(310)"
        );
        assert_eq!(RequestCode(12345).to_string(), "UNKNOWN(12345)");
        assert_eq!(RequestCode(-7).to_string(), "UNKNOWN(-7)");
        assert_eq!(ResponseCode::SUCCESS.to_string(), "SUCCESS(0)");
        assert_eq!(ResponseCode(-1000).to_string(), "RPC_UNKNOWN(-1000)");
        assert_eq!(ResponseCode(99).to_string(), "UNKNOWN(99)");
        assert!(!RequestCode(16).is_known());
        assert!(RequestCode(10).is_known());
        assert_eq!(RequestCode(16).name(), None);
        assert_eq!(RequestCode::from_name("send_message"), None);
    }

    #[test]
    fn language_codes() {
        let cases: &[(LanguageCode, u8, &str)] = &[
            (LanguageCode::JAVA, 0, "JAVA"),
            (LanguageCode::CPP, 1, "CPP"),
            (LanguageCode::DOTNET, 2, "DOTNET"),
            (LanguageCode::PYTHON, 3, "PYTHON"),
            (LanguageCode::OTHER, 7, "OTHER"),
            (LanguageCode::GO, 9, "GO"),
            (LanguageCode::RUST, 12, "RUST"),
            (LanguageCode::NODE_JS, 13, "NODE_JS"),
        ];
        for &(code, byte, name) in cases {
            assert_eq!(code.0, byte);
            assert_eq!(code.name(), Some(name));
            assert_eq!(code.to_string(), name);
            assert_eq!(LanguageCode::from_name(name), Some(code));
            assert_eq!(LanguageCode::from(byte), code);
            assert_eq!(u8::from(code), byte);
        }
        assert_eq!(LanguageCode::default(), LanguageCode::RUST);
        assert_eq!(LanguageCode(200).name(), None);
        assert_eq!(LanguageCode(200).to_string(), "UNKNOWN(200)");
        assert_eq!(LanguageCode::from_name("java"), None);
        assert_eq!(LanguageCode::from_name("RUSTY"), None);
    }
}
