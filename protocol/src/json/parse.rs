//! A recursive-descent reader for fastjson-flavoured JSON.
//!
//! Beyond standard JSON it accepts what fastjson itself writes or reads: bare numeric and identifier
//! keys, object and array keys, single-quoted strings, `\x` escapes and trailing commas. Nesting is
//! capped at [`MAX_DEPTH`] so a hostile body cannot overflow the stack.

use super::{Json, JsonError};
use std::borrow::Cow;

/// Deepest nesting accepted. Real RocketMQ bodies nest five or six levels.
pub const MAX_DEPTH: usize = 128;

/// Parses one JSON value; anything but whitespace after it is an error.
pub fn parse(text: &[u8]) -> Result<Json, JsonError> {
    let mut p = Parser::new(text);
    let v = p.any()?;
    p.finish()?;
    Ok(v)
}

/// A reader positioned somewhere in a JSON text. [`parse`] builds a whole [`Json`] tree; hot
/// paths that know the shape they expect (the remoting header, read for every request) walk an
/// object field by field with [`Parser::each_field`] instead, taking each value straight into its
/// destination.
pub struct Parser<'a> {
    s: &'a [u8],
    i: usize,
    depth: usize,
    /// `s` is known to be UTF-8 (made [`for_utf8`](Parser::for_utf8)), so spans of it between
    /// ASCII delimiters need no second check.
    utf8: bool,
}

impl<'a> Parser<'a> {
    pub fn new(text: &'a [u8]) -> Self {
        Parser {
            s: text,
            i: 0,
            depth: 0,
            utf8: false,
        }
    }

    /// A reader of text already checked as UTF-8. Checking a whole header once is much cheaper
    /// than checking each of its two dozen short strings: the check has a fixed cost per call.
    pub fn for_utf8(text: &'a str) -> Self {
        Parser {
            utf8: true,
            ..Parser::new(text.as_bytes())
        }
    }

    /// Walks the object at the current position: for each field, `field(parser, key)` must
    /// consume the value (with [`Parser::any`] or a nested `each_field`). Keys without escapes
    /// are borrowed from the text.
    pub fn each_field(
        &mut self,
        mut field: impl FnMut(&mut Self, Cow<'a, str>) -> Result<(), JsonError>,
    ) -> Result<(), JsonError> {
        self.skip_ws();
        self.expect(b'{', "expected an object")?;
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(JsonError::TooDeep(MAX_DEPTH));
        }
        loop {
            self.skip_ws();
            if self.peek() == Some(b'}') {
                self.i += 1;
                self.depth -= 1;
                return Ok(());
            }
            let key = self.key_str()?;
            self.skip_ws();
            self.expect(b':', "expected ':' after an object key")?;
            self.skip_ws();
            field(self, key)?;
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b'}') => {}
                _ => return Err(self.err("expected ',' or '}' in an object")),
            }
        }
    }

    /// The value at the current position, whatever it is.
    pub fn any(&mut self) -> Result<Json, JsonError> {
        self.skip_ws();
        self.value()
    }

    /// The string at the current position, borrowed from the text when it has no escapes;
    /// `None` (nothing consumed) when the value there is not a string.
    pub fn str_value(&mut self) -> Result<Option<Cow<'a, str>>, JsonError> {
        self.skip_ws();
        let Some(quote @ (b'"' | b'\'')) = self.peek() else {
            return Ok(None);
        };
        let start = self.i + 1;
        let plain = self.s[start..]
            .iter()
            .position(|&c| c == quote || c == b'\\')
            .filter(|&n| self.s[start + n] == quote);
        if let Some(n) = plain {
            let text = self.span(start, start + n)?;
            self.i = start + n + 1;
            return Ok(Some(Cow::Borrowed(text)));
        }
        self.string(quote).map(|s| Some(Cow::Owned(s)))
    }

    /// Whether the value at the current position is an object.
    pub fn at_object(&mut self) -> bool {
        self.skip_ws();
        self.peek() == Some(b'{')
    }

    /// Fails unless only whitespace is left.
    pub fn finish(&mut self) -> Result<(), JsonError> {
        self.skip_ws();
        if self.i != self.s.len() {
            return Err(self.err("trailing characters after the value"));
        }
        Ok(())
    }

    /// A key as text: borrowed when it is a quoted string without escapes, else read as any
    /// key and written out (`{0:..}` gives "0").
    fn key_str(&mut self) -> Result<Cow<'a, str>, JsonError> {
        if let Some(s) = self.str_value()? {
            return Ok(s);
        }
        Ok(match self.key()? {
            Json::Str(s) => Cow::Owned(s),
            other => Cow::Owned(other.to_string()),
        })
    }

    /// `s[start..end]` as text; both ends sit next to ASCII delimiters (quotes).
    fn span(&self, start: usize, end: usize) -> Result<&'a str, JsonError> {
        let bytes = &self.s[start..end];
        if self.utf8 {
            // SAFETY: `s` is valid UTF-8 (`for_utf8`), and a span whose ends are next to ASCII
            // bytes starts and ends on character boundaries, so it is valid UTF-8 too.
            return Ok(unsafe { std::str::from_utf8_unchecked(bytes) });
        }
        std::str::from_utf8(bytes).map_err(|_| self.err("string is not UTF-8"))
    }

    fn err(&self, reason: &'static str) -> JsonError {
        JsonError::Syntax {
            offset: self.i,
            reason,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.i += 1;
        }
    }

    fn expect(&mut self, c: u8, reason: &'static str) -> Result<(), JsonError> {
        if self.peek() == Some(c) {
            self.i += 1;
            Ok(())
        } else {
            Err(self.err(reason))
        }
    }

    fn value(&mut self) -> Result<Json, JsonError> {
        match self.peek() {
            Some(b'{') => self.nested(Self::object),
            Some(b'[') => self.nested(Self::array),
            Some(q @ (b'"' | b'\'')) => self.string(q).map(Json::Str),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(c) if c.is_ascii_alphabetic() => match self.ident() {
                "true" => Ok(Json::Bool(true)),
                "false" => Ok(Json::Bool(false)),
                "null" => Ok(Json::Null),
                _ => Err(self.err("unknown literal")),
            },
            Some(_) => Err(self.err("unexpected character")),
            None => Err(self.err("unexpected end of input")),
        }
    }

    fn nested(&mut self, f: fn(&mut Self) -> Result<Json, JsonError>) -> Result<Json, JsonError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(JsonError::TooDeep(MAX_DEPTH));
        }
        let v = f(self);
        self.depth -= 1;
        v
    }

    fn object(&mut self) -> Result<Json, JsonError> {
        self.i += 1; // '{'
        let mut entries = Vec::new();
        loop {
            self.skip_ws();
            if self.peek() == Some(b'}') {
                self.i += 1;
                return Ok(Json::Object(entries));
            }
            let key = self.key()?;
            self.skip_ws();
            self.expect(b':', "expected ':' after an object key")?;
            self.skip_ws();
            let value = self.value()?;
            entries.push((key, value));
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b'}') => {}
                _ => return Err(self.err("expected ',' or '}' in an object")),
            }
        }
    }

    /// A key: any value, or a bare identifier (fastjson reads `{name:1}`).
    fn key(&mut self) -> Result<Json, JsonError> {
        match self.peek() {
            Some(c) if c.is_ascii_alphabetic() || c == b'_' || c == b'$' => {
                let word = self.ident();
                Ok(match word {
                    "true" => Json::Bool(true),
                    "false" => Json::Bool(false),
                    "null" => Json::Null,
                    _ => Json::Str(word.to_owned()),
                })
            }
            _ => self.value(),
        }
    }

    fn ident(&mut self) -> &str {
        let start = self.i;
        while let Some(c) = self.peek() {
            if c.is_ascii_alphanumeric() || c == b'_' || c == b'$' {
                self.i += 1;
            } else {
                break;
            }
        }
        // Only ASCII bytes were consumed, so this cannot fail.
        std::str::from_utf8(&self.s[start..self.i]).unwrap_or("")
    }

    fn array(&mut self) -> Result<Json, JsonError> {
        self.i += 1; // '['
        let mut items = Vec::new();
        loop {
            self.skip_ws();
            if self.peek() == Some(b']') {
                self.i += 1;
                return Ok(Json::Array(items));
            }
            items.push(self.value()?);
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b']') => {}
                _ => return Err(self.err("expected ',' or ']' in an array")),
            }
        }
    }

    fn number(&mut self) -> Result<Json, JsonError> {
        let start = self.i;
        let mut is_float = false;
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        while let Some(c) = self.peek() {
            match c {
                b'0'..=b'9' => {}
                b'.' | b'e' | b'E' | b'+' | b'-' => is_float = true,
                _ => break,
            }
            self.i += 1;
        }
        let digits = &self.s[start..self.i];
        // fastjson may suffix longs/floats with a type letter (`1L`, `1.5F`); skip it.
        if let Some(b'L' | b'S' | b'B' | b'F' | b'D') = self.peek() {
            self.i += 1;
        }
        if !is_float {
            if let Some(n) = parse_i64(digits) {
                return Ok(Json::Int(n));
            }
        }
        // Only ASCII bytes were consumed.
        let text = std::str::from_utf8(digits).map_err(|_| self.err("bad number"))?;
        text.parse::<f64>()
            .map(Json::Float)
            .map_err(|_| JsonError::Syntax {
                offset: start,
                reason: "bad number",
            })
    }

    fn string(&mut self, quote: u8) -> Result<String, JsonError> {
        self.i += 1; // opening quote
        let mut out: Vec<u8> = Vec::new();
        loop {
            let start = self.i;
            while let Some(c) = self.peek() {
                if c == quote || c == b'\\' {
                    break;
                }
                self.i += 1;
            }
            out.extend_from_slice(&self.s[start..self.i]);
            match self.peek() {
                None => return Err(self.err("unterminated string")),
                Some(c) if c == quote => {
                    self.i += 1;
                    return String::from_utf8(out).map_err(|_| self.err("string is not UTF-8"));
                }
                Some(_) => self.escape(&mut out)?,
            }
        }
    }

    fn escape(&mut self, out: &mut Vec<u8>) -> Result<(), JsonError> {
        self.i += 1; // backslash
        let c = self.peek().ok_or_else(|| self.err("unterminated escape"))?;
        self.i += 1;
        let simple = match c {
            b'"' => b'"',
            b'\'' => b'\'',
            b'\\' => b'\\',
            b'/' => b'/',
            b'b' => 0x08,
            b'f' => 0x0c,
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            b'x' => {
                let v = self.hex(2)?;
                push_char(out, char::from_u32(v).unwrap_or('\u{fffd}'));
                return Ok(());
            }
            b'u' => {
                let hi = self.hex(4)?;
                let ch = if (0xD800..0xDC00).contains(&hi) && self.s[self.i..].starts_with(b"\\u") {
                    self.i += 2;
                    let lo = self.hex(4)?;
                    char::from_u32(
                        0x10000 + ((hi - 0xD800) << 10) + (lo.wrapping_sub(0xDC00) & 0x3ff),
                    )
                } else {
                    char::from_u32(hi)
                };
                push_char(out, ch.unwrap_or('\u{fffd}'));
                return Ok(());
            }
            _ => return Err(self.err("unknown escape")),
        };
        out.push(simple);
        Ok(())
    }

    fn hex(&mut self, digits: usize) -> Result<u32, JsonError> {
        let end = self.i + digits;
        let text = self
            .s
            .get(self.i..end)
            .ok_or_else(|| self.err("short hex escape"))?;
        let text = std::str::from_utf8(text).map_err(|_| self.err("bad hex escape"))?;
        let v = u32::from_str_radix(text, 16).map_err(|_| self.err("bad hex escape"))?;
        self.i = end;
        Ok(v)
    }
}

fn push_char(out: &mut Vec<u8>, c: char) {
    let mut buf = [0u8; 4];
    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
}

/// An optionally negative run of decimal digits as an `i64`; `None` when it is not one or does not
/// fit (the caller then reads it as a float, as fastjson would a huge integer). Every header
/// carries four integers, so they skip `str::parse`'s generality.
fn parse_i64(digits: &[u8]) -> Option<i64> {
    let (negative, digits) = match digits.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, digits),
    };
    if digits.is_empty() {
        return None;
    }
    // Accumulated negative: i64::MIN has no positive counterpart.
    let mut n: i64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        n = n.checked_mul(10)?.checked_sub(i64::from(d - b'0'))?;
    }
    if negative {
        Some(n)
    } else {
        n.checked_neg()
    }
}
