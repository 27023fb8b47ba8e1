//! An incremental Server-Sent Events decoder following the WHATWG EventSource
//! parsing rules.
//!
//! It is fed bytes as they come off the network, in pieces of any size, and calls
//! back once per dispatched event. Lines may end in LF, CR or CRLF, including a CR at
//! the end of one piece and its LF at the start of the next. One leading UTF-8 BOM is
//! skipped. Field values are kept as bytes and decoded (lossily, like a browser) only
//! when a whole event is dispatched, so a multi-byte character split across network
//! reads arrives intact.
//!
//! End of stream: an event that was not terminated by a blank line is discarded, as
//! WHATWG says ([`Decoder::finish`] reports whether anything was left over).
//!
//! A line or an event larger than [`MAX_EVENT_BYTES`] is an error ([`TooLong`]), so a
//! server that never sends a newline cannot fill memory. `id:` and `retry:` are
//! parsed as fields and ignored: the CLI never reconnects.

/// One dispatched event. Borrowed from the decoder: nothing is allocated per event
/// beyond the decoder's own reused buffers.
#[derive(Debug, PartialEq, Eq)]
pub struct Event<'a> {
    /// The `event:` field, or `message` when none was given (or it was empty).
    pub kind: &'a str,
    /// The `data:` lines joined with `\n`.
    pub data: &'a str,
}

/// The most one line, or one event's data, may hold.
pub const MAX_EVENT_BYTES: usize = 16 << 20;

/// A line or an event exceeded [`MAX_EVENT_BYTES`].
#[derive(Debug, PartialEq, Eq)]
pub struct TooLong;

impl From<TooLong> for crate::error::CliError {
    fn from(_: TooLong) -> Self {
        crate::error::CliError::failure(format!(
            "the stream sent a line or event larger than {} MB; stopped reading",
            MAX_EVENT_BYTES >> 20
        ))
    }
}

/// What the callback wants after an event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    Continue,
    Stop,
}

#[derive(Debug, Default)]
pub struct Decoder {
    /// The current, incomplete line.
    line: Vec<u8>,
    data: Vec<u8>,
    kind: Vec<u8>,
    /// The previous piece ended in CR: a leading LF in the next one belongs to it.
    after_cr: bool,
    /// Bytes seen so far while looking for the BOM (at most 3).
    bom_seen: u8,
    bom_done: bool,
    /// Decoded text of an event that was not valid UTF-8.
    text_data: String,
    text_kind: String,
    stopped: bool,
}

const BOM: [u8; 3] = [0xEF, 0xBB, 0xBF];

impl Decoder {
    pub fn new() -> Decoder {
        Decoder::default()
    }

    /// Feeds one piece of the stream, calling `on_event` for each complete event.
    /// Returns [`Flow::Stop`] once the callback has asked to stop.
    pub fn feed<E: From<TooLong>>(
        &mut self,
        mut bytes: &[u8],
        on_event: &mut dyn FnMut(&Event) -> Result<Flow, E>,
    ) -> Result<Flow, E> {
        if self.stopped {
            return Ok(Flow::Stop);
        }
        while !self.bom_done && !bytes.is_empty() {
            let i = self.bom_seen as usize;
            if bytes[0] == BOM[i] {
                self.bom_seen += 1;
                bytes = &bytes[1..];
                if self.bom_seen == 3 {
                    self.bom_done = true;
                }
            } else {
                // Not a BOM after all: the bytes taken so far are part of the first line.
                self.line.extend_from_slice(&BOM[..i]);
                self.bom_done = true;
            }
        }
        if self.after_cr && !bytes.is_empty() {
            self.after_cr = false;
            if bytes[0] == b'\n' {
                bytes = &bytes[1..];
            }
        }
        while let Some((flow, used)) = self.next_line(bytes, on_event)? {
            bytes = &bytes[used..];
            if flow == Flow::Stop {
                self.stopped = true;
                return Ok(Flow::Stop);
            }
        }
        if self.line.len() + bytes.len() > MAX_EVENT_BYTES {
            return Err(TooLong.into());
        }
        self.line.extend_from_slice(bytes);
        Ok(Flow::Continue)
    }

    /// Reads the line at the start of `bytes` when it ends there (a line begun in an
    /// earlier piece completes it): what the callback said, if it was called, and how
    /// many bytes the line took with its end.
    fn next_line<E: From<TooLong>>(
        &mut self,
        bytes: &[u8],
        on_event: &mut dyn FnMut(&Event) -> Result<Flow, E>,
    ) -> Result<Option<(Flow, usize)>, E> {
        if let Some((value, used)) = self.one_line_event(bytes) {
            let data = text(value, &mut self.text_data);
            let flow = on_event(&Event {
                kind: "message",
                data,
            })?;
            return Ok(Some((flow, used)));
        }
        let Some(end) = line_end(bytes) else {
            return Ok(None);
        };
        let flow = if self.line.is_empty() {
            self.process_line(&bytes[..end], on_event)?
        } else if self.line.len() + end > MAX_EVENT_BYTES {
            return Err(TooLong.into());
        } else {
            let mut line = std::mem::take(&mut self.line);
            line.extend_from_slice(&bytes[..end]);
            let flow = self.process_line(&line, on_event);
            line.clear();
            self.line = line;
            flow?
        };
        let mut used = end + 1;
        if bytes[end] == b'\r' {
            match bytes.get(used) {
                Some(b'\n') => used += 1,
                Some(_) => {}
                None => self.after_cr = true,
            }
        }
        Ok(Some((flow, used)))
    }

    /// The common event, one `data:` line and a blank line (`data: …\n\n`), when it is
    /// whole in `bytes` and nothing is pending: its value, borrowed from `bytes` instead
    /// of copied, and how many bytes the event takes. Anything else takes the general
    /// path, which gives the same event.
    fn one_line_event<'b>(&self, bytes: &'b [u8]) -> Option<(&'b [u8], usize)> {
        if !(self.line.is_empty() && self.data.is_empty() && self.kind.is_empty()) {
            return None;
        }
        let rest = bytes.strip_prefix(b"data:")?;
        let end = memchr::memchr2(b'\n', b'\r', rest)?;
        if rest.get(end..end + 2)? != b"\n\n" {
            return None;
        }
        let value = rest.get(..end)?;
        let value = value.strip_prefix(b" ").unwrap_or(value);
        (value.len() <= MAX_EVENT_BYTES).then_some((value, b"data:".len() + end + 2))
    }

    /// The stream ended. An unterminated last event (or line) is discarded, as WHATWG
    /// says; returns true when there was one, so a caller can tell a clean end.
    pub fn finish(&mut self) -> bool {
        let leftover = !self.line.is_empty() || !self.data.is_empty();
        self.line.clear();
        self.data.clear();
        self.kind.clear();
        leftover
    }

    fn process_line<E: From<TooLong>>(
        &mut self,
        line: &[u8],
        on_event: &mut dyn FnMut(&Event) -> Result<Flow, E>,
    ) -> Result<Flow, E> {
        if line.is_empty() {
            return self.dispatch(on_event);
        }
        if line[0] == b':' {
            return Ok(Flow::Continue);
        }
        let (field, value) = match line.iter().position(|&b| b == b':') {
            Some(colon) => {
                let value = &line[colon + 1..];
                (&line[..colon], value.strip_prefix(b" ").unwrap_or(value))
            }
            None => (line, &[][..]),
        };
        match field {
            b"data" => {
                if self.data.len() + value.len() > MAX_EVENT_BYTES {
                    return Err(TooLong.into());
                }
                self.data.extend_from_slice(value);
                self.data.push(b'\n');
            }
            b"event" => {
                self.kind.clear();
                self.kind.extend_from_slice(value);
            }
            _ => {}
        }
        Ok(Flow::Continue)
    }

    fn dispatch<E: From<TooLong>>(
        &mut self,
        on_event: &mut dyn FnMut(&Event) -> Result<Flow, E>,
    ) -> Result<Flow, E> {
        if self.data.is_empty() {
            self.kind.clear();
            return Ok(Flow::Continue);
        }
        self.data.pop(); // the trailing LF
        let data = text(&self.data, &mut self.text_data);
        let kind = match text(&self.kind, &mut self.text_kind) {
            "" => "message",
            kind => kind,
        };
        let flow = on_event(&Event { kind, data });
        self.data.clear();
        self.kind.clear();
        flow
    }
}

/// Where the line at the start of `bytes` ends. Every event ends in a blank line, so
/// a line end at once is looked for before a search, which costs more than a look.
fn line_end(bytes: &[u8]) -> Option<usize> {
    match bytes.first() {
        Some(b'\n' | b'\r') => Some(0),
        _ => memchr::memchr2(b'\n', b'\r', bytes),
    }
}

/// `bytes` as text: borrowed when valid UTF-8 (checked with SIMD: every event's data
/// is checked), else decoded lossily into `spare`, as a browser would.
fn text<'a>(bytes: &'a [u8], spare: &'a mut String) -> &'a str {
    match simdutf8::basic::from_utf8(bytes) {
        Ok(text) => text,
        Err(_) => {
            *spare = String::from_utf8_lossy(bytes).into_owned();
            spare
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::CliError;
    use proptest::prelude::*;

    #[derive(Debug, PartialEq)]
    struct Owned {
        kind: String,
        data: String,
    }

    fn ev(kind: &str, data: &str) -> Owned {
        Owned {
            kind: kind.into(),
            data: data.into(),
        }
    }

    /// Feeds `pieces` in order and collects every event, then finishes.
    fn decode_pieces(pieces: &[&[u8]]) -> (Vec<Owned>, Decoder, bool) {
        let mut decoder = Decoder::new();
        let mut events = Vec::new();
        for piece in pieces {
            let _ = decoder.feed::<CliError>(piece, &mut |e| {
                events.push(ev(e.kind, e.data));
                Ok(Flow::Continue)
            });
        }
        let leftover = decoder.finish();
        (events, decoder, leftover)
    }

    /// As the wpt `message.py` serves it: the message followed by "\n\n".
    fn wpt(message: &str) -> Vec<Owned> {
        let body = format!("{message}\n\n");
        let whole = decode_pieces(&[body.as_bytes()]).0;
        // Every split point gives the same events, one byte at a time included.
        let bytes: Vec<&[u8]> = body.as_bytes().chunks(1).collect();
        assert_eq!(decode_pieces(&bytes).0, whole, "byte by byte: {message:?}");
        whole
    }

    fn data_of(events: &[Owned]) -> Vec<&str> {
        events.iter().map(|e| e.data.as_str()).collect()
    }

    #[test]
    fn format_bom() {
        let events = wpt("\u{feff}data:1\n\n\u{feff}data:2\n\ndata:3");
        assert_eq!(data_of(&events), ["1", "3"]);
    }

    #[test]
    fn format_bom_2() {
        let events = wpt("\u{feff}\u{feff}data:1\n\ndata:2\n\ndata:3");
        assert_eq!(data_of(&events), ["2", "3"]);
    }

    #[test]
    fn format_comments() {
        let long = "x".repeat(2 * 1024);
        let message =
            format!("data:1\r:\0\n:\r\ndata:2\n:{long}\rdata:3\n:data:fail\r:{long}\ndata:4\n");
        assert_eq!(data_of(&wpt(&message)), ["1\n2\n3\n4"]);
    }

    #[test]
    fn format_data_before_final_empty_line() {
        // newline=none: the last event is never terminated and is discarded.
        let (events, _, leftover) =
            decode_pieces(&[b"retry:1000\ndata:test1\n\nid:test\ndata:test2"]);
        assert_eq!(data_of(&events), ["test1"]);
        assert!(leftover, "the unterminated event is reported");
    }

    #[test]
    fn format_field_data() {
        let events = wpt("data:\n\ndata\ndata\n\ndata:test");
        assert_eq!(data_of(&events), ["", "\n", "test"]);
    }

    #[test]
    fn format_field_event() {
        let events = wpt("event:test\ndata:x\n\ndata:x");
        assert_eq!(events, [ev("test", "x"), ev("message", "x")]);
    }

    #[test]
    fn format_field_event_empty() {
        let events = wpt("event: \ndata:data");
        assert_eq!(events, [ev("message", "data")]);
    }

    #[test]
    fn format_field_id_and_retry_are_ignored() {
        let (events, _, _) = decode_pieces(&[b"id: 1\nretry: 500\n\n"]);
        assert!(events.is_empty());
        let events = wpt("id:1\ndata:1\n\nretry:3000\ndata:2\n\nid\ndata:3");
        assert_eq!(data_of(&events), ["1", "2", "3"]);
    }

    #[test]
    fn format_field_parsing() {
        let message = "data:\0\ndata:  2\rData:1\ndata\0:2\ndata:1\r\0data:4\nda-ta:3\rdata_5\ndata:3\rdata:\r\n data:32\ndata:4\n";
        assert_eq!(data_of(&wpt(message)), ["\0\n 2\n1\n3\n\n4"]);
    }

    #[test]
    fn format_field_unknown() {
        let events =
            wpt("data:test\n data\ndata\nfoobar:xxx\njustsometext\n:thisisacommentyay\ndata:test");
        assert_eq!(data_of(&events), ["test\n\ntest"]);
    }

    #[test]
    fn format_leading_space() {
        let events = wpt("data:\ttest\rdata: \ndata:test");
        assert_eq!(data_of(&events), ["\ttest\n\ntest"]);
    }

    #[test]
    fn format_newlines() {
        let events = wpt("data:test\r\ndata\ndata:test\r\n\r");
        assert_eq!(data_of(&events), ["test\n\ntest"]);
    }

    #[test]
    fn format_null_character() {
        assert_eq!(data_of(&wpt("data:\0\n\n\n")), ["\0"]);
    }

    #[test]
    fn format_utf_8() {
        assert_eq!(data_of(&wpt("data:ok\u{2026}")), ["ok\u{2026}"]);
    }

    #[test]
    fn multibyte_character_split_across_pieces() {
        let body = "data: caf\u{e9} \u{1f600}\n\n".as_bytes();
        let cut = body.len() - 4; // inside the four-byte emoji
        let (events, _, _) = decode_pieces(&[&body[..cut], &body[cut..]]);
        assert_eq!(data_of(&events), ["caf\u{e9} \u{1f600}"]);
    }

    #[test]
    fn cr_at_end_of_one_piece_and_lf_at_start_of_next() {
        let (events, _, leftover) = decode_pieces(&[b"data: a\r", b"\ndata: b\r", b"\n\r", b"\n"]);
        assert_eq!(data_of(&events), ["a\nb"]);
        assert!(!leftover);
    }

    #[test]
    fn partial_bom_is_kept_as_data() {
        let (events, _, _) = decode_pieces(&[&[0xEF], b"data:x\n\n"]);
        assert!(events.is_empty(), "the first line's field is not `data`");
        let (events, _, _) = decode_pieces(&[&[0xEF, 0xBB], &[0xBF], b"data:x\n\n"]);
        assert_eq!(data_of(&events), ["x"]);
    }

    #[test]
    fn invalid_utf8_becomes_replacement_characters() {
        let (events, _, _) = decode_pieces(&[b"data: a\xff\xfeb\n\n"]);
        assert_eq!(data_of(&events), ["a\u{fffd}\u{fffd}b"]);
    }

    #[test]
    fn stop_ignores_the_rest() {
        let mut decoder = Decoder::new();
        let mut seen = Vec::new();
        let flow = decoder
            .feed::<CliError>(b"data: 1\n\ndata: [DONE]\n\ndata: 2\n\n", &mut |e| {
                seen.push(e.data.to_string());
                Ok(if e.data == "[DONE]" {
                    Flow::Stop
                } else {
                    Flow::Continue
                })
            })
            .expect("feed");
        assert_eq!(flow, Flow::Stop);
        assert_eq!(seen, ["1", "[DONE]"]);
        let later = decoder.feed::<CliError>(b"data: 3\n\n", &mut |_| Ok(Flow::Continue));
        assert_eq!(
            later.ok(),
            Some(Flow::Stop),
            "input after a stop is ignored"
        );
    }

    #[test]
    fn callback_errors_propagate() {
        let mut decoder = Decoder::new();
        let result = decoder.feed(b"data: x\n\n", &mut |_| Err(CliError::failure("boom")));
        assert_eq!(result.map_err(|e| e.message).err().as_deref(), Some("boom"));
    }

    #[test]
    fn a_line_or_event_past_the_limit_is_an_error() {
        let piece = vec![b'x'; 1 << 20];
        let mut decoder = Decoder::new();
        let mut result = Ok(Flow::Continue);
        for _ in 0..=(MAX_EVENT_BYTES >> 20) {
            result = decoder.feed::<CliError>(&piece, &mut |_| Ok(Flow::Continue));
            if result.is_err() {
                break;
            }
        }
        let err = result.expect_err("a 17 MB line is refused");
        assert!(err.message.contains("larger than 16 MB"), "{}", err.message);
        // Short lines, one unending event: the data is capped too.
        let mut decoder = Decoder::new();
        let mut line = b"data: ".to_vec();
        line.extend_from_slice(&piece);
        line.push(b'\n');
        let refused = (0..=(MAX_EVENT_BYTES >> 20))
            .map(|_| decoder.feed::<CliError>(&line, &mut |_| Ok(Flow::Continue)))
            .any(|r| r.is_err());
        assert!(refused);
    }

    /// Every event, fed `bytes` in pieces of `size` (0: all at once).
    fn events_in_pieces(bytes: &[u8], size: usize) -> Vec<Owned> {
        let size = if size == 0 { bytes.len().max(1) } else { size };
        let pieces: Vec<&[u8]> = bytes.chunks(size).collect();
        decode_pieces(&pieces).0
    }

    fn adversarial_piece() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            Just(b"data:".to_vec()),
            Just(b"data: ".to_vec()),
            Just(b"event:".to_vec()),
            Just(b"id:".to_vec()),
            Just(b"retry:".to_vec()),
            Just(b":".to_vec()),
            Just(b"\r".to_vec()),
            Just(b"\n".to_vec()),
            Just(b"\r\n".to_vec()),
            Just(vec![0xEF, 0xBB, 0xBF]),
            Just(vec![0xEF, 0xBB]),
            Just(vec![0xFF, 0xFE]),
            Just(vec![0]),
            Just("é😀".as_bytes().to_vec()),
            Just("😀".as_bytes()[..2].to_vec()),
            proptest::collection::vec(any::<u8>(), 0..16),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]

        #[test]
        fn random_bytes_never_panic_and_split_anywhere_alike(
            bytes in proptest::collection::vec(any::<u8>(), 0..400),
            size in 0usize..7,
        ) {
            let whole = events_in_pieces(&bytes, 0);
            prop_assert_eq!(&whole, &events_in_pieces(&bytes, 1));
            prop_assert_eq!(&whole, &events_in_pieces(&bytes, size));
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1000))]

        #[test]
        fn adversarial_streams_never_panic_and_split_anywhere_alike(
            pieces in proptest::collection::vec(adversarial_piece(), 0..40),
            size in 0usize..5,
        ) {
            let bytes = pieces.concat();
            let whole = events_in_pieces(&bytes, 0);
            prop_assert_eq!(&whole, &events_in_pieces(&bytes, 1));
            prop_assert_eq!(&whole, &events_in_pieces(&bytes, size));
        }
    }
}
