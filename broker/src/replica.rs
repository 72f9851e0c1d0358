//! How a table owned by the control core reaches the other cores' copies: the owner notes which
//! names changed, and hands each copy the entries as they now are (or their deletion), which the
//! copy applies as they come. The topic table and the subscription groups both work this way.

use ringmq_protocol::body::{SubscriptionGroupConfig, TopicConfig};
use std::collections::BTreeMap;

/// An entry of a replicated table, keyed by its own name.
pub trait Named: Clone {
    fn name(&self) -> &str;
}

impl Named for TopicConfig {
    fn name(&self) -> &str {
        &self.topic_name
    }
}

impl Named for SubscriptionGroupConfig {
    fn name(&self) -> &str {
        &self.group_name
    }
}

/// One change to a table, as the control core hands it to the other cores' copies.
#[derive(Debug, Clone)]
pub enum Change<T> {
    Upsert(T),
    Delete(String),
}

/// Applies a change made on the control core to a copy.
pub fn apply<T: Named>(table: &mut BTreeMap<String, T>, change: Change<T>) {
    match change {
        Change::Upsert(entry) => {
            table.insert(entry.name().to_owned(), entry);
        }
        Change::Delete(name) => {
            table.remove(&name);
        }
    }
}

/// Every entry, as changes that turn a fresh copy into `table`.
pub fn snapshot<T: Named>(table: &BTreeMap<String, T>) -> Vec<Change<T>> {
    table.values().cloned().map(Change::Upsert).collect()
}

/// The names changed on the owner since its copies last heard.
#[derive(Debug, Default)]
pub struct Changed(Vec<String>);

impl Changed {
    pub fn note(&mut self, name: String) {
        self.0.push(name);
    }

    /// Each name changed since the last call once, as the change its copies must apply.
    pub fn take<T: Named>(&mut self, table: &BTreeMap<String, T>) -> Vec<Change<T>> {
        let mut names = std::mem::take(&mut self.0);
        names.sort();
        names.dedup();
        names
            .into_iter()
            .map(|name| match table.get(&name) {
                Some(entry) => Change::Upsert(entry.clone()),
                None => Change::Delete(name),
            })
            .collect()
    }
}
