//! One module per request family, the way Java has a processor per family: a reader looking for
//! what happens to a PULL_MESSAGE opens `pull.rs`.

pub mod admin;
pub mod broker_config;
pub mod client;
pub mod consumer_status;
pub mod inspect;
pub mod lookup;
pub mod offsets;
pub mod pull;
pub mod reply;
pub mod reset_offset;
pub mod runtime_info;
pub mod send;
pub mod send_back;
pub mod transaction;

use crate::config::BrokerConfig;
use crate::filter::Unservable;
use ringmq_protocol::{ProtocolError, RemotingCommand, RequestCode, ResponseCode};
use ringmq_storage::StorageError;

/// Java's FAQ pointer, appended to some remarks.
pub const FAQ_SUFFIX: &str = "\nSee http://rocketmq.apache.org/docs/faq/ for further details.";

/// A request that cannot be served: the response code and a remark a person can act on.
#[derive(Debug)]
pub struct Refusal {
    pub code: ResponseCode,
    pub remark: String,
    /// Response header fields that say more than the code (a pull's `forbiddenType`).
    pub fields: Vec<(&'static str, String)>,
}

impl Refusal {
    pub fn new(code: ResponseCode, remark: impl Into<String>) -> Self {
        Self {
            code,
            remark: remark.into(),
            fields: Vec::new(),
        }
    }

    /// REQUEST_CODE_NOT_SUPPORTED for `code`, in Java's words (leading space included).
    pub fn not_supported(code: RequestCode) -> Self {
        Self::new(
            ResponseCode::REQUEST_CODE_NOT_SUPPORTED,
            format!(" request type {} not supported", code.0),
        )
    }

    /// Adds a response header field.
    pub fn with_field(mut self, name: &'static str, value: impl ToString) -> Self {
        self.fields.push((name, value.to_string()));
        self
    }

    pub fn into_response(self, req: &RemotingCommand) -> RemotingCommand {
        let mut response = RemotingCommand::response_to(req, self.code, Some(self.remark));
        for (name, value) in self.fields {
            response.fields_mut().insert_static(name, value);
        }
        response
    }
}

/// A subscription this broker cannot serve, as a pull is refused (Java's codes and words).
impl From<Unservable> for Refusal {
    fn from(e: Unservable) -> Self {
        match e {
            Unservable::PropertyFilterOff { kind } => Refusal::new(
                ResponseCode::SYSTEM_ERROR,
                format!("The broker does not support consumer to filter message by {kind}"),
            ),
            Unservable::DoesNotParse(why) => Refusal::new(
                ResponseCode::SUBSCRIPTION_PARSE_FAILED,
                format!("parse the consumer's subscription failed: {why}"),
            ),
        }
    }
}

impl From<ProtocolError> for Refusal {
    fn from(e: ProtocolError) -> Self {
        Refusal::new(ResponseCode::SYSTEM_ERROR, e.to_string())
    }
}

impl From<StorageError> for Refusal {
    fn from(e: StorageError) -> Self {
        if let StorageError::Busy { waited } = &e {
            // Java's wording: clients retry SYSTEM_BUSY on another broker or later.
            return Refusal::new(
                ResponseCode::SYSTEM_BUSY,
                format!(
                    "[TIMEOUT_CLEAN_QUEUE]broker busy, start flow control for a while, period in queue: {}ms, size of queue: 0",
                    waited.as_millis()
                ),
            );
        }
        let code = match &e {
            StorageError::DiskFull { .. } | StorageError::Closed => {
                ResponseCode::SERVICE_NOT_AVAILABLE
            }
            StorageError::InvalidMessage(_) | StorageError::RecordTooLarge { .. } => {
                ResponseCode::MESSAGE_ILLEGAL
            }
            _ => ResponseCode::SYSTEM_ERROR,
        };
        Refusal::new(code, e.to_string())
    }
}

pub type Handled = Result<RemotingCommand, Refusal>;

/// NO_PERMISSION unless the broker's own permission (`brokerPermission`) has `perm`; `action` is
/// Java's word for it in the remark ("sending", "pulling").
pub fn broker_permits(config: &BrokerConfig, perm: i32, action: &str) -> Result<(), Refusal> {
    if config.broker_permission & perm != 0 {
        return Ok(());
    }
    Err(Refusal::new(
        ResponseCode::NO_PERMISSION,
        format!(
            "the broker[{}] {action} message is forbidden",
            config.broker_ip1
        ),
    ))
}

pub fn ok(req: &RemotingCommand) -> RemotingCommand {
    RemotingCommand::response_to(req, ResponseCode::SUCCESS, None)
}
