//! A scanner for the common shape of an OpenAI chat chunk, the hot path of a streamed
//! chat: `{"id":…,"model":…,"choices":[{"index":0,"delta":{"content":…},"finish_reason":…}]}`.
//! It reads the bytes once, without serde, and answers only when it is sure: any chunk
//! that is unusual (a `usage` or `error` that is not null, a nested value it does not
//! know, an escape in a key or the model, a surrogate escape, a repeated field, anything
//! malformed) gives `None`, and the caller parses it with serde as before. Whatever it
//! answers is exactly what the serde path would have found (a proptest in
//! `stream.rs` holds it to that).
//!
//! The chunks of one stream mostly differ only in their content (the id, model and
//! time repeat), so [`Scanner`] remembers the bytes around the content string of the
//! last chunk it read whole. A chunk with exactly those bytes around one JSON string
//! is that chunk with another string: reading the string alone gives what reading it
//! all would, because a JSON parser is in the same state on the same bytes.

use std::ops::Range;

/// What a common chat chunk holds.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Scanned<'a> {
    /// `model`, when it is a string (without escapes).
    pub model: Option<&'a str>,
    /// `choices[0].delta.content`, when it is a string.
    pub content: Option<Content<'a>>,
    /// `choices[0].finish_reason` is present and not null.
    pub finished: bool,
    /// Where the content string is, quotes included.
    pub(crate) content_span: Option<Range<usize>>,
}

/// A JSON string's text: borrowed when it has no escapes, else decoded into the
/// scanner (see [`Scanner::decoded`]).
#[derive(Debug, PartialEq, Eq)]
pub enum Content<'a> {
    Plain(&'a str),
    Decoded,
}

/// Scans the chunks of a stream one after another, reusing its buffers: nothing is
/// allocated per chunk once the first few have been seen.
#[derive(Debug, Default)]
pub struct Scanner {
    /// The content of the last chunk, when it had escapes.
    scratch: String,
    shape: Shape,
}

/// The last chunk read whole that had a content string: the bytes around the string
/// and what the chunk said besides it.
#[derive(Debug, Default)]
struct Shape {
    known: bool,
    before: Vec<u8>,
    after: Vec<u8>,
    model: Option<Place>,
    finished: bool,
}

/// Where the model string is: counted from the start when it comes before the
/// content, from the end when after (the content's length varies between them).
#[derive(Debug, Clone, Copy)]
enum Place {
    FromStart(usize, usize),
    FromEnd(usize, usize),
}

impl Scanner {
    /// Scans `data` as a chat chunk; `None` means "ask serde".
    pub fn scan<'a>(&mut self, data: &'a str) -> Option<Scanned<'a>> {
        if let Some(found) = self.same_shape(data) {
            return Some(found);
        }
        let found = scan_whole(data, &mut self.scratch)?;
        if let Some(span) = &found.content_span {
            self.shape.learn(data, span, &found);
        }
        Some(found)
    }

    /// The content of the last chunk scanned, when it was [`Content::Decoded`].
    pub fn decoded(&self) -> &str {
        &self.scratch
    }

    /// `data` read as the last shape with another content string, if it is one.
    fn same_shape<'a>(&mut self, data: &'a str) -> Option<Scanned<'a>> {
        let shape = &self.shape;
        let bytes = data.as_bytes();
        let end = bytes.len().checked_sub(shape.after.len())?;
        if !shape.known
            || end < shape.before.len() + 2
            || !bytes.starts_with(&shape.before)
            || !bytes.ends_with(&shape.after)
        {
            return None;
        }
        let mut cursor = Cursor {
            text: data,
            bytes,
            at: shape.before.len(),
        };
        let content = cursor.string(&mut self.scratch)?;
        if cursor.at != end {
            return None;
        }
        let model = match shape.model {
            None => None,
            Some(Place::FromStart(from, to)) => Some(data.get(from..to)?),
            Some(Place::FromEnd(from, to)) => Some(data.get(bytes.len() - from..bytes.len() - to)?),
        };
        Some(Scanned {
            model,
            content: Some(content),
            finished: shape.finished,
            content_span: Some(shape.before.len()..end),
        })
    }
}

impl Shape {
    fn learn(&mut self, data: &str, span: &Range<usize>, found: &Scanned) {
        let bytes = data.as_bytes();
        self.before.clear();
        self.before.extend_from_slice(&bytes[..span.start]);
        self.after.clear();
        self.after.extend_from_slice(&bytes[span.end..]);
        self.finished = found.finished;
        // The model is a slice of `data`: its offsets are pointer differences.
        self.model = found.model.map(|model| {
            let from = model.as_ptr() as usize - data.as_ptr() as usize;
            let to = from + model.len();
            if to <= span.start {
                Place::FromStart(from, to)
            } else {
                Place::FromEnd(bytes.len() - from, bytes.len() - to)
            }
        });
        self.known = true;
    }
}

/// Scans `data` whole; `scratch` receives the content when it has escapes (cleared
/// first).
fn scan_whole<'a>(data: &'a str, scratch: &mut String) -> Option<Scanned<'a>> {
    let mut cursor = Cursor {
        text: data,
        bytes: data.as_bytes(),
        at: 0,
    };
    let mut found = Scanned::default();
    let mut seen = [false; 4];
    cursor.object(|c, key| match key {
        "model" => {
            once(&mut seen[0])?;
            if !c.null() {
                found.model = Some(c.plain_string()?);
            }
            Some(())
        }
        "choices" => {
            once(&mut seen[1])?;
            if !c.null() {
                choices(c, &mut found, scratch)?;
            }
            Some(())
        }
        // Rare (once a stream at most): left to serde.
        "usage" => once(&mut seen[2]).filter(|()| c.null()),
        "error" => once(&mut seen[3]).filter(|()| c.null()),
        _ => c.skip_scalar(),
    })?;
    cursor.skip_space();
    (cursor.at == cursor.bytes.len()).then_some(found)
}

/// A known field seen twice is an error for serde: left to it.
fn once(seen: &mut bool) -> Option<()> {
    (!std::mem::replace(seen, true)).then_some(())
}

fn choices<'a>(c: &mut Cursor<'a>, found: &mut Scanned<'a>, scratch: &mut String) -> Option<()> {
    c.eat(b'[')?;
    if c.eat(b']').is_some() {
        return Some(());
    }
    let mut seen = [false; 2];
    c.object(|c, key| match key {
        "delta" => {
            once(&mut seen[0])?;
            if !c.null() {
                delta(c, found, scratch)?;
            }
            Some(())
        }
        "finish_reason" => {
            once(&mut seen[1])?;
            if !c.null() {
                c.skip_scalar()?;
                found.finished = true;
            }
            Some(())
        }
        _ => c.skip_scalar(),
    })?;
    // More choices (n > 1) are objects: serde's turn.
    c.eat(b']')
}

fn delta<'a>(c: &mut Cursor<'a>, found: &mut Scanned<'a>, scratch: &mut String) -> Option<()> {
    let mut seen = false;
    c.object(|c, key| match key {
        "content" => {
            once(&mut seen)?;
            if !c.null() {
                c.skip_space();
                let start = c.at;
                found.content = Some(c.string(scratch)?);
                found.content_span = Some(start..c.at);
            }
            Some(())
        }
        _ => c.skip_scalar(),
    })
}

struct Cursor<'a> {
    text: &'a str,
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    /// JSON whitespace, as serde_json skips it.
    fn skip_space(&mut self) {
        while matches!(self.bytes.get(self.at), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.skip_space();
        self.bytes.get(self.at).copied()
    }

    fn eat(&mut self, byte: u8) -> Option<()> {
        (self.peek()? == byte).then(|| self.at += 1)
    }

    /// An object, `field` consuming each key's value.
    fn object(&mut self, mut field: impl FnMut(&mut Self, &'a str) -> Option<()>) -> Option<()> {
        self.eat(b'{')?;
        if self.eat(b'}').is_some() {
            return Some(());
        }
        loop {
            let key = self.plain_string()?;
            self.eat(b':')?;
            field(self, key)?;
            if self.eat(b',').is_none() {
                return self.eat(b'}');
            }
        }
    }

    /// `null` (consumed) or not (nothing consumed).
    fn null(&mut self) -> bool {
        self.peek() == Some(b'n') && self.word(b"null").is_some()
    }

    fn word(&mut self, word: &[u8]) -> Option<()> {
        let end = self.at + word.len();
        (self.bytes.get(self.at..end)? == word).then(|| self.at = end)
    }

    /// A string, number, `true`, `false` or `null`; containers are serde's.
    fn skip_scalar(&mut self) -> Option<()> {
        match self.peek()? {
            b'"' => self.plain_string().map(drop),
            b't' => self.word(b"true"),
            b'f' => self.word(b"false"),
            b'n' => self.word(b"null"),
            b'-' | b'0'..=b'9' => self.number(),
            _ => None,
        }
    }

    /// JSON's number grammar: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
    fn number(&mut self) -> Option<()> {
        if self.bytes.get(self.at) == Some(&b'-') {
            self.at += 1;
        }
        match self.bytes.get(self.at)? {
            b'0' => self.at += 1,
            b'1'..=b'9' => self.digits()?,
            _ => return None,
        }
        if self.bytes.get(self.at) == Some(&b'.') {
            self.at += 1;
            self.digits()?;
        }
        if matches!(self.bytes.get(self.at), Some(b'e' | b'E')) {
            self.at += 1;
            if matches!(self.bytes.get(self.at), Some(b'+' | b'-')) {
                self.at += 1;
            }
            self.digits()?;
        }
        Some(())
    }

    /// One or more digits.
    fn digits(&mut self) -> Option<()> {
        let start = self.at;
        while self.bytes.get(self.at).is_some_and(u8::is_ascii_digit) {
            self.at += 1;
        }
        (self.at > start).then_some(())
    }

    /// A string without escapes, borrowed.
    fn plain_string(&mut self) -> Option<&'a str> {
        self.eat(b'"')?;
        match self.string_piece()? {
            (text, true) => Some(text),
            (_, false) => None,
        }
    }

    /// A string, its escapes decoded into `scratch` when it has any.
    fn string(&mut self, scratch: &mut String) -> Option<Content<'a>> {
        self.eat(b'"')?;
        let (first, closed) = self.string_piece()?;
        if closed {
            return Some(Content::Plain(first));
        }
        scratch.clear();
        scratch.push_str(first);
        loop {
            // At a backslash.
            let (decoded, used) = escape(self.bytes.get(self.at + 1..)?)?;
            scratch.push(decoded);
            self.at += 1 + used;
            let (piece, closed) = self.string_piece()?;
            scratch.push_str(piece);
            if closed {
                return Some(Content::Decoded);
            }
        }
    }

    /// Inside a string, up to the next `"` or backslash: the text and whether it was the
    /// closing quote (consumed). Control characters are refused, as serde_json does.
    fn string_piece(&mut self) -> Option<(&'a str, bool)> {
        let start = self.at;
        let len = special_at(self.bytes.get(start..)?)?;
        if self.bytes.get(start + len).is_some_and(|&b| b < 0x20) {
            return None;
        }
        let text = self.text.get(start..start + len)?;
        self.at = start + len;
        let closed = self.bytes.get(self.at) == Some(&b'"');
        if closed {
            self.at += 1;
        }
        Some((text, closed))
    }
}

/// Where the first `"`, backslash or control character is, eight bytes at a time (the
/// strings are short, where memchr's set-up costs more than it saves).
fn special_at(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = u64::from_le_bytes([1; 8]);
    const HIGH: u64 = u64::from_le_bytes([0x80; 8]);
    // High bit of each byte below `n`; a byte above the first hit may be marked
    // wrongly (borrows), so only the lowest mark is used.
    let below = |word: u64, n: u8| word.wrapping_sub(ONES * u64::from(n)) & !word & HIGH;
    let mut words = bytes.chunks_exact(8);
    let mut at = 0;
    for chunk in &mut words {
        let word = u64::from_le_bytes(chunk.try_into().ok()?);
        let marks = below(word ^ (ONES * u64::from(b'"')), 1)
            | below(word ^ (ONES * u64::from(b'\\')), 1)
            | below(word, 0x20);
        if marks != 0 {
            return Some(at + marks.trailing_zeros() as usize / 8);
        }
        at += 8;
    }
    let mut tail = words.remainder().iter();
    tail.position(|&b| b == b'"' || b == b'\\' || b < 0x20)
        .map(|i| at + i)
}

/// The escape after a backslash: its character and how many bytes it used. Surrogate
/// escapes (pairs or lone) are left to serde_json.
fn escape(after: &[u8]) -> Option<(char, usize)> {
    let simple = match *after.first()? {
        b'"' => '"',
        b'\\' => '\\',
        b'/' => '/',
        b'b' => '\u{8}',
        b'f' => '\u{c}',
        b'n' => '\n',
        b'r' => '\r',
        b't' => '\t',
        b'u' => {
            let code = after.get(1..5)?.iter().try_fold(0u32, |code, &b| {
                Some(code * 16 + char::from(b).to_digit(16)?)
            })?;
            return char::from_u32(code).map(|c| (c, 5));
        }
        _ => return None,
    };
    Some((simple, 1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_chunk_of_the_last_shape_is_read_from_its_string_alone() {
        let chunk = |content: &str| {
            format!(
                r#"{{"id":"c","choices":[{{"delta":{{"content":{content}}},"finish_reason":null}}],"model":"m"}}"#
            )
        };
        let mut scanner = Scanner::default();
        assert!(
            scanner.same_shape(&chunk(r#""a""#)).is_none(),
            "nothing learnt yet"
        );
        scanner.scan(&chunk(r#""a""#)).expect("common");
        let (second, third) = (chunk(r#""bc\n""#), chunk("null"));
        let found = scanner.same_shape(&second).expect("same shape");
        assert_eq!(found.content, Some(Content::Decoded));
        assert_eq!(scanner.decoded(), "bc\n");
        assert_eq!(found.model, Some("m"), "found after the content");
        assert!(scanner.same_shape(&third).is_none(), "null is not a string");
        assert_eq!(scanner.scan(&third).expect("common").content, None);
    }

    proptest! {
        #[test]
        fn special_at_finds_the_first_quote_backslash_or_control(
            bytes in proptest::collection::vec(prop_oneof![9 => 0x20u8..=0xff, 1 => any::<u8>()], 0..40),
        ) {
            let expected = bytes.iter().position(|&b| b == b'"' || b == b'\\' || b < 0x20);
            prop_assert_eq!(special_at(&bytes), expected);
        }
    }
}
