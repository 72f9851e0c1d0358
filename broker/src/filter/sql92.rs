//! SQL92 message selectors (`MessageSelector.bySql(..)`): the language of Java's `filter` module,
//! a JMS selector evaluated over a message's properties.
//!
//! What is accepted is what Java 4.9.7's `SelectorParser` accepts: `AND`, `OR`, `NOT`, `=`, `<>`,
//! `<`, `<=`, `>`, `>=`, `BETWEEN .. AND ..`, `IN ('a', ..)`, `IS [NOT] NULL`, unary `+`/`-`,
//! parentheses; string (`'it''s'`), integer, decimal, `TRUE`, `FALSE` and `NULL` literals;
//! property names of letters, digits, `_` and `$`; keywords in any case; `--` and `/* */`
//! comments.
//!
//! Evaluation follows Java's too, because a consumer moving from a Java broker must receive the
//! same messages:
//! - Property values are strings. Compared with a number they are converted to that number's
//!   type (Java's `Long.valueOf` / `Double.valueOf`), and a value that does not convert is an
//!   evaluation error: the message is not selected, whatever the rest of the expression says.
//! - A missing property is NULL, and logic is three-valued (`NULL AND FALSE` is FALSE, `NULL OR
//!   TRUE` is TRUE); a message is selected only when the whole expression is TRUE.

use std::borrow::Cow;
use std::cmp::Ordering;

/// Why a selector does not parse. The consumer's pulls are refused with this text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason} at {at} in \"{text}\"")]
pub struct SelectorError {
    pub text: String,
    /// Byte offset of the token that could not be taken.
    pub at: usize,
    pub reason: String,
}

/// A parsed selector.
#[derive(Debug, Clone)]
pub struct Selector {
    root: Expr,
}

#[derive(Debug, Clone)]
enum Expr {
    Literal(Literal),
    Property(String),
    Negate(Box<Expr>),
    Not(Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    /// `=`: NULL only when the left side alone is NULL (Java's `doCreateEqual`).
    Equal(Box<Expr>, Box<Expr>),
    /// `<`, `<=`, `>`, `>=`: NULL when either side is.
    Compare(Box<Expr>, Ordering, bool, Box<Expr>),
    IsNull(Box<Expr>),
    In(String, Vec<String>),
    /// A bare property used as a condition: TRUE never, since property values are strings.
    BooleanCast(Box<Expr>),
}

#[derive(Debug, Clone)]
enum Literal {
    Null,
    Bool(bool),
    Long(i64),
    Double(f64),
    Str(String),
}

/// A value during evaluation.
#[derive(Debug, Clone, PartialEq)]
enum Value<'a> {
    Null,
    Bool(bool),
    Long(i64),
    Double(f64),
    Str(Cow<'a, str>),
}

/// An evaluation that cannot go on (Java throws, and the message is not selected).
struct EvalError;

impl Selector {
    pub fn parse(text: &str) -> Result<Selector, SelectorError> {
        let tokens = lex(text)?;
        let mut p = Parser {
            text,
            tokens,
            at: 0,
        };
        let root = p.or_expr()?;
        if p.at < p.tokens.len() {
            return Err(p.error("unexpected text after the expression"));
        }
        let root = p.as_condition(root)?;
        Ok(Selector { root })
    }

    /// Whether a message whose properties `property` looks up is selected.
    pub fn matches<'a>(&'a self, property: &dyn Fn(&str) -> Option<&'a str>) -> bool {
        matches!(eval(&self.root, property), Ok(Value::Bool(true)))
    }
}

// ---- lexing ----

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Str(String),
    Long(i64),
    Double(f64),
    Op(&'static str),
}

fn lex(text: &str) -> Result<Vec<(usize, Tok)>, SelectorError> {
    let b = text.as_bytes();
    let err = |at: usize, reason: &str| SelectorError {
        text: text.to_owned(),
        at,
        reason: reason.to_owned(),
    };
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let start = i;
        match c {
            b' ' | b'\t' | b'\n' | b'\r' | 0x0c => i += 1,
            b'-' if b.get(i + 1) == Some(&b'-') => {
                while i < b.len() && b[i] != b'\n' && b[i] != b'\r' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let end = text[i + 2..]
                    .find("*/")
                    .ok_or_else(|| err(i, "unterminated comment"))?;
                i += 2 + end + 2;
            }
            b'\'' => {
                let mut s = String::new();
                i += 1;
                loop {
                    let rest = &text[i..];
                    let q = rest
                        .find('\'')
                        .ok_or_else(|| err(start, "unterminated string"))?;
                    s.push_str(&rest[..q]);
                    i += q + 1;
                    if b.get(i) == Some(&b'\'') {
                        s.push('\'');
                        i += 1;
                    } else {
                        break;
                    }
                }
                out.push((start, Tok::Str(s)));
            }
            b'0'..=b'9' | b'.' if c != b'.' || b.get(i + 1).is_some_and(u8::is_ascii_digit) => {
                let (tok, len) = number(&text[i..]).ok_or_else(|| err(i, "bad number"))?;
                out.push((start, tok));
                i += len;
            }
            c if c.is_ascii_alphabetic() || c == b'_' || c == b'$' => {
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'$')
                {
                    i += 1;
                }
                out.push((start, Tok::Word(text[start..i].to_owned())));
            }
            _ => {
                let op = ["<>", ">=", "<=", "=", ">", "<", "(", ")", ",", "+", "-"]
                    .into_iter()
                    .find(|op| text[i..].starts_with(op))
                    .ok_or_else(|| err(i, "unexpected character"))?;
                out.push((start, Tok::Op(op)));
                i += op.len();
            }
        }
    }
    Ok(out)
}

/// A number at the start of `s`: an integer (`12`, `12L`) or a decimal (`1.5`, `.5`, `1e3`).
fn number(s: &str) -> Option<(Tok, usize)> {
    let b = s.as_bytes();
    let digits = |from: usize| b[from..].iter().take_while(|c| c.is_ascii_digit()).count();
    let mut len = digits(0);
    let mut decimal = false;
    if b.get(len) == Some(&b'.') {
        decimal = true;
        len += 1 + digits(len + 1);
    }
    if matches!(b.get(len), Some(b'e' | b'E')) {
        let sign = usize::from(matches!(b.get(len + 1), Some(b'+' | b'-')));
        let exp = digits(len + 1 + sign);
        if exp > 0 {
            decimal = true;
            len += 1 + sign + exp;
        }
    }
    if decimal {
        return Some((Tok::Double(s[..len].parse().ok()?), len));
    }
    let value = s[..len].parse().ok()?;
    let suffix = usize::from(matches!(b.get(len), Some(b'l' | b'L')));
    Some((Tok::Long(value), len + suffix))
}

// ---- parsing ----

struct Parser<'t> {
    text: &'t str,
    tokens: Vec<(usize, Tok)>,
    at: usize,
}

impl Parser<'_> {
    fn error(&self, reason: &str) -> SelectorError {
        SelectorError {
            text: self.text.to_owned(),
            at: self.tokens.get(self.at).map_or(self.text.len(), |t| t.0),
            reason: reason.to_owned(),
        }
    }

    fn peek(&self) -> Option<&Tok> {
        self.tokens.get(self.at).map(|t| &t.1)
    }

    fn peek_keyword(&self, ahead: usize, word: &str) -> bool {
        matches!(self.tokens.get(self.at + ahead), Some((_, Tok::Word(w))) if w.eq_ignore_ascii_case(word))
    }

    fn keyword(&mut self, word: &str) -> bool {
        let found = self.peek_keyword(0, word);
        self.at += usize::from(found);
        found
    }

    fn op(&mut self, op: &str) -> bool {
        let found = matches!(self.peek(), Some(Tok::Op(o)) if *o == op);
        self.at += usize::from(found);
        found
    }

    fn expect_keyword(&mut self, word: &str) -> Result<(), SelectorError> {
        if self.keyword(word) {
            Ok(())
        } else {
            Err(self.error(&format!("expected {word}")))
        }
    }

    fn expect_op(&mut self, op: &str) -> Result<(), SelectorError> {
        if self.op(op) {
            Ok(())
        } else {
            Err(self.error(&format!("expected '{op}'")))
        }
    }

    /// A condition: boolean expressions as they are, a bare property cast (Java's
    /// `asBooleanExpression`); anything else cannot be a condition.
    fn as_condition(&self, e: Expr) -> Result<Expr, SelectorError> {
        match e {
            Expr::Property(_) => Ok(Expr::BooleanCast(Box::new(e))),
            Expr::Literal(Literal::Bool(_))
            | Expr::Not(_)
            | Expr::And(..)
            | Expr::Or(..)
            | Expr::Equal(..)
            | Expr::Compare(..)
            | Expr::IsNull(_)
            | Expr::In(..)
            | Expr::BooleanCast(_) => Ok(e),
            Expr::Literal(_) | Expr::Negate(_) => {
                Err(self.error("expression will not result in a boolean value"))
            }
        }
    }

    fn or_expr(&mut self) -> Result<Expr, SelectorError> {
        let mut left = self.and_expr()?;
        while self.keyword("OR") {
            let right = self.and_expr()?;
            left = Expr::Or(
                Box::new(self.as_condition(left)?),
                Box::new(self.as_condition(right)?),
            );
        }
        Ok(left)
    }

    fn and_expr(&mut self) -> Result<Expr, SelectorError> {
        let mut left = self.equality()?;
        while self.keyword("AND") {
            let right = self.equality()?;
            left = Expr::And(
                Box::new(self.as_condition(left)?),
                Box::new(self.as_condition(right)?),
            );
        }
        Ok(left)
    }

    fn equality(&mut self) -> Result<Expr, SelectorError> {
        let mut left = self.comparison()?;
        loop {
            if self.op("=") {
                let right = self.comparison()?;
                left = Expr::Equal(Box::new(left), Box::new(right));
            } else if self.op("<>") {
                let right = self.comparison()?;
                left = Expr::Not(Box::new(Expr::Equal(Box::new(left), Box::new(right))));
            } else if self.peek_keyword(0, "IS") {
                self.at += 1;
                let not = self.keyword("NOT");
                self.expect_keyword("NULL")?;
                left = Expr::IsNull(Box::new(left));
                if not {
                    left = Expr::Not(Box::new(left));
                }
            } else {
                return Ok(left);
            }
        }
    }

    fn comparison(&mut self) -> Result<Expr, SelectorError> {
        let mut left = self.unary()?;
        loop {
            let ops = [
                (">=", Ordering::Greater, true),
                ("<=", Ordering::Less, true),
                (">", Ordering::Greater, false),
                ("<", Ordering::Less, false),
            ];
            if let Some(&(_, ord, or_equal)) = ops.iter().find(|(op, ..)| self.op(op)) {
                let right = self.unary()?;
                left = self.compare(left, ord, or_equal, right)?;
            } else if self.keyword("BETWEEN") {
                left = self.between(left, false)?;
            } else if self.peek_keyword(0, "NOT") && self.peek_keyword(1, "BETWEEN") {
                self.at += 2;
                left = self.between(left, true)?;
            } else if self.keyword("IN") {
                left = self.in_list(left)?;
            } else if self.peek_keyword(0, "NOT") && self.peek_keyword(1, "IN") {
                self.at += 2;
                left = Expr::Not(Box::new(self.in_list(left)?));
            } else {
                return Ok(left);
            }
        }
    }

    /// `<`, `<=`, `>`, `>=`: constants compared must be numbers (Java's `checkLessThanOperand`).
    fn compare(
        &self,
        left: Expr,
        ord: Ordering,
        or_equal: bool,
        right: Expr,
    ) -> Result<Expr, SelectorError> {
        for side in [&left, &right] {
            if let Expr::Literal(l) = side {
                if !matches!(l, Literal::Long(_) | Literal::Double(_)) {
                    return Err(self.error("only numbers can be compared with <, <=, > or >="));
                }
            }
        }
        Ok(Expr::Compare(
            Box::new(left),
            ord,
            or_equal,
            Box::new(right),
        ))
    }

    fn between(&mut self, value: Expr, not: bool) -> Result<Expr, SelectorError> {
        let low = self.unary()?;
        self.expect_keyword("AND")?;
        let high = self.unary()?;
        let (ge_low, le_high) = (
            self.compare(value.clone(), Ordering::Greater, true, low.clone())?,
            self.compare(value.clone(), Ordering::Less, true, high.clone())?,
        );
        if let (Expr::Literal(l), Expr::Literal(h)) = (&low, &high) {
            if let Ok(Ordering::Greater) = compare(&literal(l), &literal(h)) {
                return Err(self.error("the low end of BETWEEN is above its high end"));
            }
        }
        Ok(if not {
            Expr::Or(
                Box::new(self.compare(value.clone(), Ordering::Less, false, low)?),
                Box::new(self.compare(value, Ordering::Greater, false, high)?),
            )
        } else {
            Expr::And(Box::new(ge_low), Box::new(le_high))
        })
    }

    fn in_list(&mut self, left: Expr) -> Result<Expr, SelectorError> {
        let Expr::Property(name) = left else {
            return Err(self.error("IN needs a property on its left"));
        };
        self.expect_op("(")?;
        let mut items = Vec::new();
        loop {
            match self.peek() {
                Some(Tok::Str(s)) => {
                    items.push(s.clone());
                    self.at += 1;
                }
                _ => return Err(self.error("IN lists hold strings")),
            }
            if !self.op(",") {
                break;
            }
        }
        self.expect_op(")")?;
        Ok(Expr::In(name, items))
    }

    fn unary(&mut self) -> Result<Expr, SelectorError> {
        if self.op("+") {
            return self.unary();
        }
        if self.op("-") {
            let inner = self.unary()?;
            return Ok(match inner {
                Expr::Literal(Literal::Long(n)) => Expr::Literal(Literal::Long(-n)),
                Expr::Literal(Literal::Double(n)) => Expr::Literal(Literal::Double(-n)),
                other => Expr::Negate(Box::new(other)),
            });
        }
        if self.keyword("NOT") {
            let inner = self.unary()?;
            return Ok(Expr::Not(Box::new(self.as_condition(inner)?)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Expr, SelectorError> {
        let Some(tok) = self.peek().cloned() else {
            return Err(self.error("the expression ends too early"));
        };
        self.at += 1;
        Ok(match tok {
            Tok::Str(s) => Expr::Literal(Literal::Str(s)),
            Tok::Long(n) => Expr::Literal(Literal::Long(n)),
            Tok::Double(n) => Expr::Literal(Literal::Double(n)),
            Tok::Op("(") => {
                let inner = self.or_expr()?;
                self.expect_op(")")?;
                inner
            }
            Tok::Word(w) if w.eq_ignore_ascii_case("TRUE") => Expr::Literal(Literal::Bool(true)),
            Tok::Word(w) if w.eq_ignore_ascii_case("FALSE") => Expr::Literal(Literal::Bool(false)),
            Tok::Word(w) if w.eq_ignore_ascii_case("NULL") => Expr::Literal(Literal::Null),
            Tok::Word(w)
                if ["NOT", "AND", "OR", "BETWEEN", "IN", "IS"]
                    .iter()
                    .any(|k| w.eq_ignore_ascii_case(k)) =>
            {
                self.at -= 1;
                return Err(self.error("a keyword where a value belongs"));
            }
            Tok::Word(w) => Expr::Property(w),
            Tok::Op(_) => {
                self.at -= 1;
                return Err(self.error("an operator where a value belongs"));
            }
        })
    }
}

// ---- evaluation ----

fn literal(l: &Literal) -> Value<'_> {
    match l {
        Literal::Null => Value::Null,
        Literal::Bool(b) => Value::Bool(*b),
        Literal::Long(n) => Value::Long(*n),
        Literal::Double(n) => Value::Double(*n),
        Literal::Str(s) => Value::Str(Cow::Borrowed(s)),
    }
}

fn condition(v: Value<'_>) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(b),
        _ => None,
    }
}

fn eval<'a>(
    e: &'a Expr,
    property: &dyn Fn(&str) -> Option<&'a str>,
) -> Result<Value<'a>, EvalError> {
    Ok(match e {
        Expr::Literal(l) => literal(l),
        Expr::Property(name) => {
            property(name).map_or(Value::Null, |v| Value::Str(Cow::Borrowed(v)))
        }
        Expr::Negate(inner) => match eval(inner, property)? {
            Value::Long(n) => Value::Long(n.wrapping_neg()),
            Value::Double(n) => Value::Double(-n),
            _ => Value::Null,
        },
        Expr::Not(inner) => match condition(eval(inner, property)?) {
            Some(b) => Value::Bool(!b),
            None => Value::Null,
        },
        // Left to right, stopping as soon as the answer is known: an error further right then
        // does not matter, as in Java.
        Expr::And(l, r) => {
            let l = condition(eval(l, property)?);
            if l == Some(false) {
                return Ok(Value::Bool(false));
            }
            match (l, condition(eval(r, property)?)) {
                (_, Some(false)) => Value::Bool(false),
                (Some(true), Some(true)) => Value::Bool(true),
                _ => Value::Null,
            }
        }
        Expr::Or(l, r) => {
            let l = condition(eval(l, property)?);
            if l == Some(true) {
                return Ok(Value::Bool(true));
            }
            match (l, condition(eval(r, property)?)) {
                (_, Some(true)) => Value::Bool(true),
                (Some(false), Some(false)) => Value::Bool(false),
                _ => Value::Null,
            }
        }
        Expr::Equal(l, r) => {
            let (l, r) = (eval(l, property)?, eval(r, property)?);
            match (&l, &r) {
                (Value::Null, Value::Null) => Value::Bool(true),
                (Value::Null, _) => Value::Null,
                (_, Value::Null) => Value::Bool(false),
                _ if l == r => Value::Bool(true),
                _ => Value::Bool(compare(&l, &r)? == Ordering::Equal),
            }
        }
        Expr::Compare(l, ord, or_equal, r) => {
            let (l, r) = (eval(l, property)?, eval(r, property)?);
            if l == Value::Null || r == Value::Null {
                return Ok(Value::Null);
            }
            let got = compare(&l, &r)?;
            Value::Bool(got == *ord || (*or_equal && got == Ordering::Equal))
        }
        Expr::IsNull(inner) => Value::Bool(eval(inner, property)? == Value::Null),
        Expr::In(name, items) => match property(name) {
            None => Value::Null,
            Some(v) => Value::Bool(items.iter().any(|i| i == v)),
        },
        Expr::BooleanCast(inner) => match eval(inner, property)? {
            Value::Null => Value::Null,
            Value::Bool(b) => Value::Bool(b),
            _ => Value::Bool(false),
        },
    })
}

/// Java's `ComparisonExpression.__compare` with string conversion on: the string side is read
/// as the other side's type. Types it cannot bring together compare as "less".
fn compare(l: &Value<'_>, r: &Value<'_>) -> Result<Ordering, EvalError> {
    use Value::*;
    Ok(match (l, r) {
        (Long(a), Long(b)) => a.cmp(b),
        (Double(a), Double(b)) => a.total_cmp(b),
        (Long(a), Double(b)) => (*a as f64).total_cmp(b),
        (Double(a), Long(b)) => a.total_cmp(&(*b as f64)),
        (Str(a), Str(b)) => a.cmp(b),
        (Bool(a), Bool(b)) => a.cmp(b),
        (Long(a), Str(s)) => a.cmp(&java_long(s)?),
        (Double(a), Str(s)) => a.total_cmp(&java_double(s)?),
        (Str(s), Long(b)) => java_long(s)?.cmp(b),
        (Str(s), Double(b)) => java_double(s)?.total_cmp(b),
        (Str(s), Bool(b)) => s.eq_ignore_ascii_case("true").cmp(b),
        // Java casts the boolean to a string here and throws.
        (Bool(_), Str(_)) => return Err(EvalError),
        _ => Ordering::Less,
    })
}

/// `Long.valueOf`: an optional sign and decimal digits, nothing else.
fn java_long(s: &str) -> Result<i64, EvalError> {
    s.parse().map_err(|_| EvalError)
}

/// `Double.valueOf`: surrounding blanks and a `d`/`f` suffix allowed.
fn java_double(s: &str) -> Result<f64, EvalError> {
    let t = s.trim();
    let t = t.strip_suffix(['d', 'D', 'f', 'F']).unwrap_or(t);
    t.parse().map_err(|_| EvalError)
}

#[cfg(test)]
mod tests;
