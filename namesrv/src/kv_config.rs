//! Namespaced key/value settings (PUT/GET/DELETE_KV_CONFIG), persisted on every change.
//!
//! The file has the shape Java's name server writes (`{"configTable":{ns:{key:value}}}`), so an
//! existing `kvConfig.json` carries over. The one namespace the server itself reads is
//! `ORDER_TOPIC_CONFIG`: per-topic `brokerName:queueNums` lists for ordered topics.

use crate::atomic_file::write_atomically;
use ringmq_protocol::json::{self, JsonStyle};
use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

pub const ORDER_TOPIC_CONFIG: &str = "ORDER_TOPIC_CONFIG";

type Table = BTreeMap<String, BTreeMap<String, String>>;

ringmq_protocol::json_bean! {
    /// The persisted form.
    pub struct KvConfigFile {
        pub config_table: BTreeMap<String, BTreeMap<String, String>> => "configTable",
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KvConfigError {
    #[error("cannot read KV config {path}: {source}")]
    Read { path: PathBuf, source: io::Error },
    #[error(
        "KV config {path} is not valid JSON ({reason}), and no readable backup {path}.bak exists"
    )]
    Corrupt { path: PathBuf, reason: String },
}

#[derive(Debug, Default)]
pub struct KvConfig {
    path: Option<PathBuf>,
    table: Table,
}

impl KvConfig {
    /// A store that is never written to disk (tests, `kvConfigPath` empty).
    pub fn in_memory() -> Self {
        Self::default()
    }

    /// Loads `path`; a missing file is an empty store. A torn file falls back to its `.bak` copy.
    pub fn load(path: &Path) -> Result<Self, KvConfigError> {
        let table = match read_table(path)? {
            Ok(table) => table,
            Err(reason) => match read_table(&crate::atomic_file::backup_of(path)) {
                Ok(Ok(table)) => {
                    log::warn!(
                        "{} is corrupt ({reason}); using {}.bak",
                        path.display(),
                        path.display()
                    );
                    table
                }
                _ => {
                    return Err(KvConfigError::Corrupt {
                        path: path.to_owned(),
                        reason,
                    })
                }
            },
        };
        Ok(Self {
            path: Some(path.to_owned()),
            table,
        })
    }

    pub fn get(&self, namespace: &str, key: &str) -> Option<&str> {
        self.table.get(namespace)?.get(key).map(String::as_str)
    }

    pub fn namespace(&self, namespace: &str) -> Option<&BTreeMap<String, String>> {
        self.table.get(namespace)
    }

    pub fn put(&mut self, namespace: &str, key: &str, value: &str) -> io::Result<()> {
        self.table
            .entry(namespace.to_owned())
            .or_default()
            .insert(key.to_owned(), value.to_owned());
        self.persist()
    }

    /// Removes `key`; an emptied namespace stays (listing it answers an empty table, as in Java).
    pub fn delete(&mut self, namespace: &str, key: &str) -> io::Result<()> {
        if let Some(ns) = self.table.get_mut(namespace) {
            ns.remove(key);
        }
        self.persist()
    }

    fn persist(&self) -> io::Result<()> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        let file = KvConfigFile {
            config_table: self.table.clone(),
        };
        write_atomically(path, &json::to_vec(&file, JsonStyle::Standard))
    }
}

/// Outer error: the file exists but cannot be read. Inner error: it is not a valid table.
fn read_table(path: &Path) -> Result<Result<Table, String>, KvConfigError> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(json::from_slice::<KvConfigFile>(&bytes)
            .map(|f| f.config_table)
            .map_err(|e| e.to_string())),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Ok(Table::new())),
        Err(source) => Err(KvConfigError::Read {
            path: path.to_owned(),
            source,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn persists_and_reloads_and_survives_a_torn_file() {
        let dir = std::env::temp_dir().join(format!("ringmq-kv-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let path = dir.join("kvConfig.json");
        let mut kv = KvConfig::load(&path).unwrap();
        kv.put(ORDER_TOPIC_CONFIG, "T", "broker-a:4").unwrap();
        kv.put("ns", "k", "v1").unwrap();
        kv.put("ns", "k", "v2").unwrap();
        let again = KvConfig::load(&path).unwrap();
        assert_eq!(again.get("ns", "k"), Some("v2"));
        assert_eq!(again.get(ORDER_TOPIC_CONFIG, "T"), Some("broker-a:4"));

        // A file cut short by a crash: the backup (previous write) is used.
        let full = std::fs::read(&path).unwrap();
        std::fs::write(&path, &full[..full.len() / 2]).unwrap();
        let recovered = KvConfig::load(&path).unwrap();
        assert_eq!(recovered.get(ORDER_TOPIC_CONFIG, "T"), Some("broker-a:4"));
        assert_eq!(
            recovered.get("ns", "k"),
            Some("v1"),
            "backup holds the write before the last"
        );

        // Java's own file shape loads too.
        std::fs::write(
            &path,
            br#"{"configTable":{"ORDER_TOPIC_CONFIG":{"X":"broker-b:8"}}}"#,
        )
        .unwrap();
        let mut java = KvConfig::load(&path).unwrap();
        assert_eq!(java.get(ORDER_TOPIC_CONFIG, "X"), Some("broker-b:8"));
        java.delete(ORDER_TOPIC_CONFIG, "X").unwrap();
        assert_eq!(
            KvConfig::load(&path)
                .unwrap()
                .namespace(ORDER_TOPIC_CONFIG)
                .map(|n| n.len()),
            Some(0)
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
