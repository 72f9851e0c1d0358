//! Which messages a pull hands out.
//!
//! A tag subscription is judged on the consume queue's tag hash codes, before any record is read
//! (the client then checks the exact tag, as Java's does). An SQL92 subscription
//! ([`sql92::Selector`]) needs each candidate's properties, so it is judged on the records the
//! read returns; Java 4.9.7 does the same when no consume-queue bloom filter is kept.

pub mod sql92;

use bytes::Bytes;
use ringmq_protocol::message::properties::tag_hash_code;
use ringmq_protocol::message::StoredMessage;
use sql92::{Selector, SelectorError};
use std::collections::HashSet;
use std::sync::Arc;

/// Java's `ExpressionType` names.
pub const TAG: &str = "TAG";
pub const SQL92: &str = "SQL92";

/// A subscription, ready to judge messages.
#[derive(Debug, Clone)]
pub enum PullFilter {
    /// Every message (`*`, or no subscription known).
    All,
    /// Messages whose tag hash code is one of these.
    Tags(HashSet<i64>),
    /// Messages whose properties the selector selects.
    Sql(Selector),
}

#[derive(Debug, thiserror::Error)]
pub enum FilterError {
    #[error("unknown expression type {0}")]
    UnknownType(String),
    #[error("{0}")]
    Selector(#[from] SelectorError),
}

impl PullFilter {
    /// The filter for `expression` of `kind` (`TAG` when absent).
    pub fn new(expression: &str, kind: Option<&str>) -> Result<Self, FilterError> {
        match kind.unwrap_or(TAG) {
            k if k.eq_ignore_ascii_case(TAG) => Ok(Self::tags(expression)),
            k if k.eq_ignore_ascii_case(SQL92) => Ok(Self::Sql(Selector::parse(expression)?)),
            other => Err(FilterError::UnknownType(other.to_owned())),
        }
    }

    /// `TagA || TagB`; `*` or nothing for all.
    fn tags(expression: &str) -> Self {
        let tags: Vec<&str> = expression
            .split("||")
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .collect();
        if tags.is_empty() || tags.contains(&"*") {
            return Self::All;
        }
        Self::Tags(tags.into_iter().map(tag_hash_code).collect())
    }

    /// Whether a consume-queue entry with this tag code may be selected.
    pub fn passes_tag_code(&self, code: i64) -> bool {
        match self {
            Self::Tags(codes) => codes.contains(&code),
            Self::All | Self::Sql(_) => true,
        }
    }

    /// The selector records must also pass, if any.
    pub fn selector(&self) -> Option<&Selector> {
        match self {
            Self::Sql(s) => Some(s),
            Self::All | Self::Tags(_) => None,
        }
    }
}

/// A consumer's subscription to one topic, compiled once: when its group announces it (the
/// queue cores keep it for the group's pulls), or when a pull or CHECK_CLIENT_CONFIG brings its
/// own.
#[derive(Debug, Clone)]
pub struct Subscription {
    pub sub_version: i64,
    /// The expression type, `TAG` when none was given.
    kind: String,
    /// The filter, or the parser's words on why there is none.
    filter: Result<Arc<PullFilter>, String>,
}

/// Why this broker cannot serve a subscription.
#[derive(Debug)]
pub enum Unservable {
    /// Not a tag expression, and `enablePropertyFilter` is off.
    PropertyFilterOff { kind: String },
    /// The expression does not parse.
    DoesNotParse(String),
}

impl Subscription {
    pub fn compile(expression: &str, kind: Option<&str>, sub_version: i64) -> Self {
        Subscription {
            sub_version,
            kind: kind.unwrap_or(TAG).to_owned(),
            filter: PullFilter::new(expression, kind)
                .map(Arc::new)
                .map_err(|e| e.to_string()),
        }
    }

    /// The filter, if this broker can serve it. As in Java, the switch is checked before the
    /// expression.
    pub fn filter(&self, property_filter_enabled: bool) -> Result<Arc<PullFilter>, Unservable> {
        if !property_filter_enabled && !self.kind.eq_ignore_ascii_case(TAG) {
            return Err(Unservable::PropertyFilterOff {
                kind: self.kind.clone(),
            });
        }
        self.filter.clone().map_err(Unservable::DoesNotParse)
    }
}

/// Whether `selector` selects the stored record `record`. A record that does not decode is not
/// selected (recovery verified it, so this does not happen in practice).
pub fn selects_record(selector: &Selector, record: &Bytes) -> bool {
    let Ok((message, _)) = StoredMessage::decode(record) else {
        return false;
    };
    let properties = message.properties();
    selector.matches(&|name| properties.get(name))
}
