//! Subscription groups (Java's `SubscriptionGroupManager`): per consumer group, whether it may
//! consume, how many retry queues and retries it gets, and whether its members hear of membership
//! changes. Kept in `<storePathRootDir>/config/subscriptionGroup.json` in Java's shape.
//!
//! A group exists once an admin creates it (UPDATE_AND_CREATE_SUBSCRIPTIONGROUP) or, with
//! `autoCreateSubscriptionGroup` (the default), the first time one of its consumers heartbeats,
//! pulls or sends a message back; groups named `CID_RMQ_SYS_*` are made whatever the setting.
//!
//! Ownership follows the topic table: the control core holds the table that is written, every
//! other core a copy it updates before any change is acknowledged, so a pull reads its group's
//! settings locally. A core that meets a group its copy lacks asks the control core to make it.

use crate::config::BrokerConfig;
use crate::core::BrokerCore;
use crate::handlers::Refusal;
use crate::hops::{Answer, Ask};
use crate::mesh::CONTROL_CORE;
use crate::persist::{fresh_version, load_json, next_version, JsonFile, PersistError, TableWrite};
use crate::replica::{self, Change, Changed};
use ringmq_protocol::body::{DataVersion, SubscriptionGroupConfig, SubscriptionGroupWrapper};
use ringmq_protocol::json::{self, JsonStyle};
use std::collections::BTreeMap;

/// Groups every broker has (Java's `SubscriptionGroupManager.init`).
const BUILT_IN_GROUPS: [&str; 7] = [
    "TOOLS_CONSUMER",
    "FILTERSRV_CONSUMER",
    "SELF_TEST_C_GROUP",
    "CID_ONS-HTTP-PROXY",
    "CID_ONSAPI_PULL",
    "CID_ONSAPI_PERMISSION",
    "CID_ONSAPI_OWNER",
];

/// Java's `MixAll.isSysConsumerGroup`: such groups are made even without auto-creation.
pub fn is_system_group(group: &str) -> bool {
    group.starts_with("CID_RMQ_SYS_")
}

/// A group config with Java's defaults.
pub fn default_group(name: &str) -> SubscriptionGroupConfig {
    SubscriptionGroupConfig {
        group_name: name.to_owned(),
        ..SubscriptionGroupConfig::default()
    }
}

/// One change to the table, as the control core hands it to the other cores' copies.
pub type GroupChange = Change<SubscriptionGroupConfig>;

#[derive(Debug)]
pub struct GroupTable {
    file: JsonFile,
    table: BTreeMap<String, SubscriptionGroupConfig>,
    data_version: DataVersion,
    /// A change not yet on disk (its write failed).
    /// Groups changed since the last [`take_changes`](Self::take_changes).
    changes: Changed,
}

impl GroupTable {
    /// The built-in groups, never written to disk (the other cores' copies, tests).
    pub fn in_memory() -> Self {
        GroupTable {
            file: JsonFile::default(),
            table: BUILT_IN_GROUPS
                .iter()
                .map(|g| (g.to_string(), default_group(g)))
                .collect(),
            data_version: fresh_version(),
            changes: Changed::default(),
        }
    }

    /// The built-in groups overlaid by `config/subscriptionGroup.json` if it exists (a torn file
    /// falls back to its `.bak`).
    pub fn load(config: &BrokerConfig) -> Result<Self, PersistError> {
        let path = config.config_dir().join("subscriptionGroup.json");
        let mut table = Self::in_memory();
        if let Some(saved) = load_json::<SubscriptionGroupWrapper>(&path)? {
            for (name, mut group) in saved.subscription_group_table {
                if group.group_name.is_empty() {
                    group.group_name = name.clone();
                }
                table.table.insert(name, group);
            }
            table.data_version = saved.data_version;
        }
        table.file = JsonFile::at(path);
        Ok(table)
    }

    pub fn get(&self, group: &str) -> Option<&SubscriptionGroupConfig> {
        self.table.get(group)
    }

    /// The group names, in order.
    pub fn names(&self) -> Vec<String> {
        self.table.keys().cloned().collect()
    }

    pub fn len(&self) -> usize {
        self.table.len()
    }

    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    /// Creates or replaces a group (UPDATE_AND_CREATE_SUBSCRIPTIONGROUP).
    pub fn upsert(&mut self, group: SubscriptionGroupConfig) {
        let name = group.group_name.clone();
        self.table.insert(name.clone(), group);
        self.changed(name);
    }

    /// The group, made with defaults if it did not exist.
    pub fn create_if_absent(&mut self, group: &str) -> SubscriptionGroupConfig {
        if let Some(g) = self.table.get(group) {
            return g.clone();
        }
        let made = default_group(group);
        log::info!("auto-created subscription group {group}");
        self.upsert(made.clone());
        made
    }

    /// Removes a group; `false` if there was none.
    pub fn delete(&mut self, group: &str) -> bool {
        let existed = self.table.remove(group).is_some();
        if existed {
            self.changed(group.to_owned());
        }
        existed
    }

    /// What changed since the last call, each group once, as its copies must apply it.
    pub fn take_changes(&mut self) -> Vec<GroupChange> {
        self.changes.take(&self.table)
    }

    /// Every group, as changes that turn a fresh copy into this table.
    pub fn snapshot(&self) -> Vec<GroupChange> {
        replica::snapshot(&self.table)
    }

    /// Applies a change made on the control core to this copy.
    pub fn apply(&mut self, change: GroupChange) {
        replica::apply(&mut self.table, change)
    }

    /// The table with its version: the GET_ALL_SUBSCRIPTIONGROUP_CONFIG body and the file.
    /// The version always has 5.x's `stateVersion` (0 outside controller mode, as a 5.x broker
    /// writes it): 5.x clients require the field, 4.x clients ignore it.
    pub fn wrapper(&self) -> SubscriptionGroupWrapper {
        let mut data_version = self.data_version.clone();
        data_version.state_version.get_or_insert(0);
        SubscriptionGroupWrapper {
            subscription_group_table: self.table.clone(),
            forbidden_table: BTreeMap::new(),
            data_version,
        }
    }

    pub fn is_dirty(&self) -> bool {
        self.file.is_dirty()
    }

    /// Writes the table now, blocking (start-up and shutdown; changes are written by
    /// [`take_write`](Self::take_write) off the core).
    pub fn persist(&mut self) -> Result<(), PersistError> {
        let contents = json::to_vec(&self.wrapper(), JsonStyle::Fastjson);
        self.file.write(&contents)
    }

    /// The write that brings the file up to memory, if a change is not on disk yet.
    pub fn take_write(&mut self) -> Option<TableWrite> {
        if !self.file.is_dirty() {
            return None;
        }
        let contents = json::to_vec(&self.wrapper(), JsonStyle::Fastjson);
        self.file.take_write(|| contents)
    }

    /// A write taken with [`take_write`](Self::take_write) failed: the next one tries again.
    pub fn mark_dirty(&mut self) {
        self.file.mark_dirty();
    }

    /// A new data version, the file due to be written (see
    /// [`crate::core::Control::write_table`]), the group noted for the copies.
    fn changed(&mut self, group: String) {
        self.changes.note(group);
        self.data_version = next_version(&self.data_version);
        self.file.mark_dirty();
    }
}

impl BrokerCore {
    /// The settings of `group`, made with defaults by the control core if it is missing and
    /// the broker auto-creates groups (Java's `findSubscriptionGroupConfig`). `None`: no such
    /// group and none may be made.
    pub async fn find_group(
        &self,
        group: &str,
    ) -> Result<Option<SubscriptionGroupConfig>, Refusal> {
        if let Some(g) = self.groups.borrow().get(group) {
            return Ok(Some(g.clone()));
        }
        if !self.config().auto_create_subscription_group && !is_system_group(group) {
            return Ok(None);
        }
        if self.control.is_none() {
            return match self
                .mesh
                .ask(CONTROL_CORE, Ask::EnsureGroup(group.to_owned()))
                .await?
            {
                Answer::Group(result) => result,
                _ => Err(crate::mesh::MeshError::WrongAnswer(CONTROL_CORE).into()),
            };
        }
        self.change_groups(|t| Some(t.create_if_absent(group)))
            .await
    }

    /// Changes the group table (control core only), then brings every core's copy up to date
    /// before returning.
    pub async fn change_groups<R>(
        &self,
        change: impl FnOnce(&mut GroupTable) -> R,
    ) -> Result<R, Refusal> {
        let control = self.control()?;
        let (result, changes) = {
            let mut groups = self.groups.borrow_mut();
            let result = change(&mut groups);
            (result, groups.take_changes())
        };
        if !changes.is_empty() {
            self.traffic.stats.forget_deleted_groups(&changes);
            self.update_copies("subscription group", || Ask::ApplyGroups(changes.clone()))
                .await;
            control
                .write_table(
                    "the subscription groups",
                    || self.groups.borrow_mut().take_write(),
                    || self.groups.borrow_mut().mark_dirty(),
                )
                .await;
        }
        Ok(result)
    }

    /// Applies changes from the control core to this core's copy.
    pub fn apply_groups(&self, changes: Vec<GroupChange>) {
        self.traffic.stats.forget_deleted_groups(&changes);
        let mut groups = self.groups.borrow_mut();
        for change in changes {
            groups.apply(change);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(root: &std::path::Path) -> BrokerConfig {
        BrokerConfig {
            store_path_root_dir: root.to_owned(),
            ..BrokerConfig::default()
        }
    }

    #[test]
    fn groups_persist_reload_and_a_torn_file_falls_back_to_its_backup() {
        let root = std::env::temp_dir().join(format!("ringmq-groups-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let mut t = GroupTable::load(&config(&root)).unwrap();
        assert!(t.get("TOOLS_CONSUMER").is_some(), "built-in groups exist");
        // The control core writes the file after each change.
        let write = |t: &mut GroupTable| t.take_write().map(|w| w.run().unwrap());
        let mut g = default_group("g1");
        g.retry_max_times = 3;
        t.upsert(g);
        write(&mut t).expect("a change is due to be written");
        t.create_if_absent("g2");
        write(&mut t);
        assert!(t.delete("g2"));
        write(&mut t);
        assert!(!t.delete("g2"));
        assert!(write(&mut t).is_none(), "nothing changed");
        let version = t.wrapper().data_version;
        assert_eq!(
            version.state_version,
            Some(0),
            "5.x clients need stateVersion"
        );

        let back = GroupTable::load(&config(&root)).unwrap();
        assert_eq!(back.get("g1").unwrap().retry_max_times, 3);
        assert!(back.get("g2").is_none());
        assert_eq!(back.wrapper().data_version, version);

        // The write after g1 left g1 in the backup; tear the current file.
        let path = root.join("config/subscriptionGroup.json");
        std::fs::write(&path, b"{\"subscriptionGroupTable\":{").unwrap();
        let torn = GroupTable::load(&config(&root)).unwrap();
        assert_eq!(torn.get("g1").unwrap().retry_max_times, 3);
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn copies_follow_the_changes_they_are_handed() {
        let mut owner = GroupTable::in_memory();
        let mut copy = GroupTable::in_memory();
        owner.create_if_absent("a");
        owner.create_if_absent("b");
        owner.delete("a");
        for change in owner.take_changes() {
            copy.apply(change);
        }
        assert!(copy.get("a").is_none());
        assert!(copy.get("b").is_some());
        assert_eq!(copy.len(), owner.len());
        assert!(owner.take_changes().is_empty());
    }
}
