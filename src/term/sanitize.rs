//! Text from a server made harmless on a terminal. A model's reply, a model id or an
//! error message can carry escape sequences (`ESC ] 0 ; title BEL`, `ESC [ 2 J`) that
//! retitle, clear or rewrite the user's terminal. On a terminal every control character
//! but newline and tab is shown as a visible stand-in instead: C0 controls as their
//! Unicode control pictures (`␛`, `␇`, …), DEL as `␡`, C1 controls as `�`. A carriage
//! return is kept only right before a newline. Piped output is never touched: scripts
//! get the server's bytes exactly.

use std::borrow::Cow;
use std::io::{self, Write};

use crate::output::Output;
use crate::term::streams;

/// The stand-in for a C1 control (U+0080..U+009F), which some terminals obey like ESC.
const C1_STAND_IN: char = '\u{FFFD}';

/// `text` with every control character but `\n`, `\t` and a `\r` before `\n` replaced.
pub fn neutralise(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_control) {
        return Cow::Borrowed(text);
    }
    let mut chars = text.chars().peekable();
    let mut out = String::with_capacity(text.len() + 8);
    while let Some(c) = chars.next() {
        match c {
            '\r' if chars.peek() == Some(&'\n') => out.push(c),
            c if is_control(c) => out.push(stand_in(c)),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// [`neutralise`]d when it goes to a terminal, else `text` as it is (piped output
/// stays byte-for-byte).
pub fn for_terminal(text: &str, terminal: bool) -> Cow<'_, str> {
    if terminal {
        neutralise(text)
    } else {
        Cow::Borrowed(text)
    }
}

/// [`for_terminal`] on the process's stdout.
pub fn for_stdout(text: &str) -> Cow<'_, str> {
    for_terminal(text, streams::process_terminals().stdout)
}

/// [`for_terminal`] on the process's stderr.
pub fn for_stderr(text: &str) -> Cow<'_, str> {
    for_terminal(text, streams::process_terminals().stderr)
}

/// Every text a formatter shows people (labels, headers, cells, messages) [`neutralise`]d
/// in place. The typed values json and yaml print are left alone: their encoders escape
/// control characters themselves, and the same bytes then come out on a terminal or a pipe.
pub fn neutralise_output(output: &mut Output) {
    match output {
        Output::Record(record) => {
            for field in &mut record.fields {
                neutralise_in_place(&mut field.label);
                neutralise_in_place(&mut field.cell.text);
            }
        }
        Output::Table(table) => {
            for column in &mut table.columns {
                neutralise_in_place(&mut column.header);
            }
            for cell in table.rows.iter_mut().flatten() {
                neutralise_in_place(&mut cell.text);
            }
            neutralise_in_place(&mut table.empty_message);
        }
        Output::Text(text) => neutralise_in_place(text),
        Output::Json(_) | Output::Empty => {}
    }
}

/// Serialised JSON with DEL and the C1 controls written as `\u007f`..`\u009f`, which
/// JSON allows raw and serde_json leaves raw, but some terminals obey. Outside strings
/// JSON has no such characters, so this only ever rewrites them inside strings, as
/// escapes with the same meaning: the document parses to the same value.
pub fn escape_json_controls(json: &str) -> Cow<'_, str> {
    let raw = |c: char| ('\u{7f}'..='\u{9f}').contains(&c);
    if !json.chars().any(raw) {
        return Cow::Borrowed(json);
    }
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        if raw(c) {
            out.push_str(&format!("\\u{:04x}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

fn neutralise_in_place(text: &mut String) {
    if let Cow::Owned(shown) = neutralise(text) {
        *text = shown;
    }
}

/// Whether `c` is a character [`neutralise`] replaces (a lone `\r` included).
fn is_control(c: char) -> bool {
    c.is_control() && c != '\n' && c != '\t'
}

fn stand_in(c: char) -> char {
    match u32::from(c) {
        // U+2400 CONTROL PICTURE FOR NULL onwards mirror the C0 range one to one.
        code @ 0..=0x1f => char::from_u32(0x2400 + code).unwrap_or(C1_STAND_IN),
        0x7f => '\u{2421}',
        _ => C1_STAND_IN,
    }
}

/// A writer that [`neutralise`]s what goes through it, for replies streamed to a
/// terminal. It works on bytes, so a character or a `\r\n` split across two writes is
/// still recognised: at most one byte is held back until the next write (or drop).
pub struct Neutralising<W: Write> {
    inner: W,
    /// A `\r` (kept only if `\n` follows) or a `0xC2` lead byte (a C1 control if the
    /// next byte is 0x80..=0x9F) waiting for the next byte.
    held: Option<u8>,
}

impl<W: Write> Neutralising<W> {
    pub fn new(inner: W) -> Self {
        Neutralising { inner, held: None }
    }

    /// Turns `buf` into what the terminal may see, appended to `out`.
    fn translate(&mut self, buf: &[u8], out: &mut Vec<u8>) {
        for &byte in buf {
            match (self.held.take(), byte) {
                (Some(b'\r'), b'\n') => out.extend_from_slice(b"\r\n"),
                (Some(0xc2), 0x80..=0x9f) => push_char(out, C1_STAND_IN),
                (Some(held), _) => {
                    self.release(held, out);
                    self.take_byte(byte, out);
                }
                (None, _) => self.take_byte(byte, out),
            }
        }
    }

    fn take_byte(&mut self, byte: u8, out: &mut Vec<u8>) {
        match byte {
            b'\r' | 0xc2 => self.held = Some(byte),
            b'\n' | b'\t' => out.push(byte),
            0..=0x1f | 0x7f => push_char(out, stand_in(char::from(byte))),
            _ => out.push(byte),
        }
    }

    /// A held byte whose follower did not complete the pair.
    fn release(&self, held: u8, out: &mut Vec<u8>) {
        match held {
            b'\r' => push_char(out, stand_in('\r')),
            _ => out.push(held),
        }
    }
}

fn push_char(out: &mut Vec<u8>, c: char) {
    let mut utf8 = [0u8; 4];
    out.extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
}

impl<W: Write> Write for Neutralising<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut out = Vec::with_capacity(buf.len() + 8);
        self.translate(buf, &mut out);
        self.inner.write_all(&out)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl<W: Write> Drop for Neutralising<W> {
    /// A byte still held at the end is written as what it turned out to be.
    fn drop(&mut self) {
        if let Some(held) = self.held.take() {
            let mut out = Vec::new();
            self.release(held, &mut out);
            let _ = self.inner.write_all(&out).and_then(|()| self.inner.flush());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn through_writer(chunks: &[&[u8]]) -> String {
        let mut bytes = Vec::new();
        {
            let mut writer = Neutralising::new(&mut bytes);
            for chunk in chunks {
                writer.write_all(chunk).unwrap();
            }
        }
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn escape_sequences_become_visible() {
        assert_eq!(
            neutralise("hi\x1b]0;pwned\x07\u{1b}[2J!"),
            "hi␛]0;pwned␇␛[2J!"
        );
        assert_eq!(neutralise("a\u{9b}31mb\x7f"), "a\u{FFFD}31mb␡");
    }

    #[test]
    fn newlines_tabs_and_crlf_stay() {
        assert_eq!(neutralise("a\tb\r\nc\n"), "a\tb\r\nc\n");
        assert_eq!(neutralise("50%\rdone"), "50%␍done");
        assert!(matches!(neutralise("plain text ✓"), Cow::Borrowed(_)));
    }

    #[test]
    fn the_writer_sees_pairs_split_across_writes() {
        assert_eq!(through_writer(&[b"a\r", b"\nb"]), "a\r\nb");
        assert_eq!(through_writer(&[b"a\r", b"b"]), "a␍b");
        assert_eq!(through_writer(&[b"x\xc2", b"\x9b2J"]), "x\u{FFFD}2J");
        assert_eq!(
            through_writer(&["é".as_bytes()[..1].as_ref(), &"é".as_bytes()[1..]]),
            "é"
        );
        assert_eq!(through_writer(&["\u{a0}".as_bytes()]), "\u{a0}");
        assert_eq!(through_writer(&[b"end\r"]), "end␍");
    }

    #[test]
    fn json_and_yaml_escape_control_characters_themselves() {
        let value = serde_json::json!({"id": "m\x1b]0;t\x07\u{9b}"});
        let yaml = serde_yaml::to_string(&value).unwrap();
        let json = escape_json_controls(&value.to_string()).into_owned();
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&json).unwrap(),
            value
        );
        for text in [yaml, json] {
            assert!(!text.chars().any(is_unsafe), "{text:?}");
        }
    }

    fn is_unsafe(c: char) -> bool {
        c.is_control() && c != '\n' && c != '\t' && c != '\r'
    }

    proptest! {
        #[test]
        fn no_control_character_survives(text in "(\\PC|[\\x00-\\x1f\\x7f\\u{80}-\\u{9f}])*") {
            let shown = neutralise(&text);
            prop_assert!(!shown.chars().any(is_unsafe), "{shown:?}");
            prop_assert!(!shown.replace("\r\n", "").contains('\r'));
        }

        #[test]
        fn the_writer_agrees_with_neutralise_however_the_bytes_are_cut(
            text in "(\\PC|[\\x00-\\x1f\\x7f\\u{80}-\\u{9f}])*",
            cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..6),
        ) {
            let bytes = text.as_bytes();
            let mut at: Vec<usize> = cuts.iter().map(|i| i.index(bytes.len() + 1)).collect();
            at.sort_unstable();
            let mut chunks = Vec::new();
            let mut start = 0;
            for end in at {
                chunks.push(&bytes[start..end]);
                start = end;
            }
            chunks.push(&bytes[start..]);
            prop_assert_eq!(through_writer(&chunks), neutralise(&text).into_owned());
        }
    }
}
