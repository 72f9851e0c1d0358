//! The string map a command header travels in (`extFields` on the wire).

/// Header fields as ordered `(name, value)` pairs.
///
/// Headers hold a dozen fields at most, so a vector beats a hash map for lookups and keeps the order
/// they arrived in, which lets a decoded frame re-encode to the same bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExtFields {
    fields: Vec<(String, String)>,
}

impl ExtFields {
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty map usable in `static`s.
    pub const fn empty() -> Self {
        Self { fields: Vec::new() }
    }

    pub fn with_capacity(n: usize) -> Self {
        Self {
            fields: Vec::with_capacity(n),
        }
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Sets `name`, replacing an earlier value of the same name.
    pub fn insert(&mut self, name: impl Into<String>, value: impl Into<String>) {
        let (name, value) = (name.into(), value.into());
        match self.fields.iter_mut().find(|(k, _)| *k == name) {
            Some(slot) => slot.1 = value,
            None => self.fields.push((name, value)),
        }
    }

    pub fn remove(&mut self, name: &str) -> Option<String> {
        let i = self.fields.iter().position(|(k, _)| k == name)?;
        Some(self.fields.remove(i).1)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.fields.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    pub fn len(&self) -> usize {
        self.fields.len()
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for ExtFields {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut f = ExtFields::new();
        for (k, v) in iter {
            f.insert(k, v);
        }
        f
    }
}
