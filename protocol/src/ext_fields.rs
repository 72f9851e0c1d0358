//! The string map a command header travels in (`extFields` on the wire).

use bytes::Bytes;
use std::borrow::Cow;
use std::fmt;

/// Header fields as ordered `(name, value)` pairs.
///
/// Headers hold a dozen fields at most, so a vector beats a hash map for lookups and keeps the order
/// they arrived in, which lets a decoded frame re-encode to the same bytes.
///
/// Every request header is decoded into one of these, so its text is kept without a string
/// allocation per name and value: a decoded map copies the header's text once into `text` and
/// its entries are spans of it, and the names a typed header writes are `&'static str`s. Copying
/// the header (a few hundred bytes) rather than pointing into the frame matters: a request held
/// for a long poll would otherwise keep alive the whole read buffer its frame came in.
#[derive(Clone, Default)]
pub struct ExtFields {
    /// What [`Text::Span`] entries point into.
    text: Bytes,
    fields: Vec<(Text, Text)>,
}

/// One name or value.
#[derive(Clone)]
enum Text {
    /// `text[start..end]`, which was a `&str` when it was added, so it is valid UTF-8.
    Span(u32, u32),
    Static(&'static str),
    Owned(Box<str>),
}

impl ExtFields {
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty map usable in `static`s.
    pub const fn empty() -> Self {
        Self {
            text: Bytes::new(),
            fields: Vec::new(),
        }
    }

    /// An empty map for the fields of the header `header`, holding a copy of it. Decode the
    /// header from [`ExtFields::text`]: names and values borrowed from that are kept as spans.
    pub(crate) fn for_header(header: &[u8], capacity: usize) -> Self {
        Self {
            text: Bytes::copy_from_slice(header),
            fields: Vec::with_capacity(capacity),
        }
    }

    /// The copy of the header this map was made [`for`](ExtFields::for_header).
    pub(crate) fn text(&self) -> Bytes {
        self.text.clone()
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        // From the back: a decoded map may hold a name twice (a hostile frame), and the last
        // value wins, as it does for `insert`.
        self.fields
            .iter()
            .rev()
            .find(|(k, _)| self.resolve(k) == name)
            .map(|(_, v)| self.resolve(v))
    }

    /// Sets `name`, replacing an earlier value of the same name.
    pub fn insert(&mut self, name: impl Into<String>, value: impl Into<String>) {
        let name: String = name.into();
        self.put(Text::Owned(name.into()), Text::Owned(value.into().into()));
    }

    /// Sets `name` (a typed header's field name), replacing an earlier value of the same name.
    pub fn insert_static(&mut self, name: &'static str, value: String) {
        self.put(Text::Static(name), Text::Owned(value.into()));
    }

    /// Adds `name` while decoding [`ExtFields::text`]: text borrowed from it is kept as a span.
    /// Unlike `insert` it does not look for an earlier entry of the name: a header's names are
    /// distinct, and should a frame repeat one, `get` still finds the last value.
    pub(crate) fn push_from_header(&mut self, name: Cow<'_, str>, value: Cow<'_, str>) {
        let name = self.text_from(name);
        let value = self.text_from(value);
        self.fields.push((name, value));
    }

    /// Removes every entry of `name`, returning the value `get` gave.
    pub fn remove(&mut self, name: &str) -> Option<String> {
        let value = self.get(name)?.to_owned();
        let Self { text, fields } = self;
        fields.retain(|(k, _)| resolve(text, k) != name);
        Some(value)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.fields
            .iter()
            .map(|(k, v)| (self.resolve(k), self.resolve(v)))
    }

    pub fn len(&self) -> usize {
        self.fields.len()
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    fn put(&mut self, name: Text, value: Text) {
        let key = self.resolve(&name);
        match self.fields.iter().position(|(k, _)| self.resolve(k) == key) {
            Some(i) => self.fields[i].1 = value,
            None => self.fields.push((name, value)),
        }
    }

    /// `s` as a span of `self.text` when it lies there, else a copy of it.
    fn text_from(&self, s: Cow<'_, str>) -> Text {
        let base = self.text.as_ptr() as usize;
        let at = s.as_ptr() as usize;
        let within =
            matches!(s, Cow::Borrowed(_)) && at >= base && at + s.len() <= base + self.text.len();
        match u32::try_from(at.wrapping_sub(base)) {
            Ok(start) if within => Text::Span(start, start + s.len() as u32),
            _ => Text::Owned(s.into_owned().into()),
        }
    }

    fn resolve<'s>(&'s self, t: &'s Text) -> &'s str {
        resolve(&self.text, t)
    }
}

/// The text of `t`, an entry of a map whose copied header is `text`.
fn resolve<'s>(text: &'s Bytes, t: &'s Text) -> &'s str {
    match t {
        Text::Span(start, end) => {
            let bytes = &text[*start as usize..*end as usize];
            // SAFETY: a span is only made from a `&str` that lay in these very bytes (see
            // `text_from`; `text` never changes and memory in its range belongs to it), so they
            // are that string's bytes: valid UTF-8.
            unsafe { std::str::from_utf8_unchecked(bytes) }
        }
        Text::Static(s) => s,
        Text::Owned(s) => s,
    }
}

impl PartialEq for ExtFields {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl Eq for ExtFields {}

impl fmt::Debug for ExtFields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn borrowed_text_becomes_spans_and_everything_else_is_kept_as_given() {
        let mut f = ExtFields::for_header(br#"{"topic":"T1","queueId":"3"}"#, 4);
        let copy = f.text();
        let text = std::str::from_utf8(&copy).unwrap();
        f.push_from_header(Cow::Borrowed(&text[2..7]), Cow::Borrowed(&text[10..12]));
        f.push_from_header(Cow::Borrowed(&text[15..22]), Cow::Owned("unescaped".into()));
        // Equal text from elsewhere is copied, not mistaken for a span.
        let elsewhere = String::from(r#"{"topic":"T1","queueId":"3"}"#);
        f.push_from_header(Cow::Borrowed(&elsewhere[2..7]), Cow::Borrowed("x"));
        f.push_from_header(Cow::Borrowed("bname"), Cow::Borrowed("b"));
        f.insert_static("flag", "0".into());
        assert_eq!(f.get("queueId"), Some("unescaped"));
        assert_eq!(f.get("bname"), Some("b"));
        assert_eq!(f.get("flag"), Some("0"));
        assert!(matches!(
            f.fields[0],
            (Text::Span(2, 7), Text::Span(10, 12))
        ));
        assert!(matches!(f.fields[1], (Text::Span(15, 22), Text::Owned(_))));
        assert!(matches!(f.fields[2], (Text::Owned(_), Text::Owned(_))));
        // The name given twice reads as its last value.
        assert_eq!(f.get("topic"), Some("x"));
    }

    #[test]
    fn a_name_set_twice_keeps_its_place_and_the_last_value_whatever_its_kind() {
        let mut f = ExtFields::for_header(br#"{"a":"1"}"#, 2);
        let copy = f.text();
        let text = std::str::from_utf8(&copy).unwrap();
        f.push_from_header(Cow::Borrowed(&text[2..3]), Cow::Borrowed(&text[6..7]));
        assert_eq!(f.get("a"), Some("1"));
        f.insert("b", "2");
        f.insert_static("a", "3".into());
        assert_eq!(f.iter().collect::<Vec<_>>(), vec![("a", "3"), ("b", "2")]);
        assert_eq!(f.remove("a"), Some("3".into()));
        assert_eq!(f, [("b", "2")].into_iter().collect());
    }

    #[test]
    fn a_name_a_frame_repeats_reads_as_its_last_value_and_goes_entirely_on_remove() {
        let mut f = ExtFields::for_header(b"", 3);
        f.push_from_header("topic".into(), "first".into());
        f.push_from_header("queueId".into(), "1".into());
        f.push_from_header("topic".into(), "second".into());
        assert_eq!(f.get("topic"), Some("second"));
        assert_eq!(f.remove("topic"), Some("second".into()));
        assert_eq!(f.get("topic"), None);
        assert_eq!(f.iter().collect::<Vec<_>>(), vec![("queueId", "1")]);
    }
}
