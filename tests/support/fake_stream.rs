//! How the fake server writes streamed (SSE) replies: by hand, one HTTP chunk per
//! event, so a test's [`StreamMode`] decides the exact write boundaries, cuts, stalls
//! and broken framing the client has to survive.

use std::io::Write;
use std::sync::Mutex;
use std::thread;
use std::time::Duration;

use super::{hang, Events, FakeServer, Reply, State};

/// How streamed (SSE) replies are written. Every streaming route (chat with
/// `"stream": true`, Responses and Anthropic with `"stream": true`, Gemini
/// `:streamGenerateContent?alt=sse`) follows it. Each event is one write (one HTTP
/// chunk) unless the mode says otherwise.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum StreamMode {
    #[default]
    Normal,
    /// End the body cleanly after this many events, before the reply finished.
    CutAfter(usize),
    /// After this many events, break the chunked framing: the client sees a transport error.
    BreakAfter(usize),
    /// After this many events, `data: {"error":{"message":"upstream provider failed",...}}`.
    ErrorAfter(usize),
    /// After this many events, `event: error` with a JSON error payload.
    ErrorEventAfter(usize),
    /// After this many events, a `data:` line that is not JSON.
    NotJsonAfter(usize),
    /// Every write ends inside a multi-byte UTF-8 character where there is one.
    SplitUtf8,
    /// Lines end in CR only.
    CrOnly,
    /// Lines end in CRLF, and each event's last LF starts the next write.
    Crlf,
    /// A `: keep-alive` comment line before every event.
    Comments,
    /// Every byte its own write, this long after the one before (a trickling server).
    Trickle(Duration),
    /// After this many events, send nothing more and keep the connection open.
    StallAfter(usize),
}

/// The stream knobs.
#[derive(Default)]
pub(super) struct Stream {
    mode: Mutex<StreamMode>,
    first_byte_delay: Mutex<Duration>,
}

impl FakeServer {
    /// How streamed replies are written from now on (see [`StreamMode`]).
    pub fn set_stream_mode(&self, mode: StreamMode) {
        *self.state.stream.mode.lock().expect("stream mutex") = mode;
    }

    /// Wait this long after the request before the first byte of a streamed reply.
    pub fn set_stream_first_byte_delay(&self, delay: Duration) {
        *self
            .state
            .stream
            .first_byte_delay
            .lock()
            .expect("delay mutex") = delay;
    }
}

/// Writes a streamed reply by hand (status line, headers, then each piece as one HTTP
/// chunk, flushed), so the [`StreamMode`] decides the exact write boundaries and cuts.
pub(super) fn write_sse(state: &State, request: tiny_http::Request, reply: Reply, id: u64) {
    let mode = state.stream.mode.lock().expect("stream mutex").clone();
    let delay = *state.stream.first_byte_delay.lock().expect("delay mutex");
    let Some(events) = reply.events else { return };
    let mut head = format!(
        "HTTP/1.1 {} OK\r\nContent-Type: {}\r\nTransfer-Encoding: chunked\r\nX-Cometapi-Request-Id: req-{id}\r\n",
        reply.status, reply.content_type
    );
    for (name, value) in &reply.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    if !delay.is_zero() {
        thread::sleep(delay);
    }
    let mut out = request.into_writer();
    let _ = sse_body(&mut out, &mode, events, &head);
}

const STREAM_ERROR: &str = r#"{"error":{"message":"upstream provider failed","type":"upstream_error","code":"upstream_error"}}"#;

fn sse_body(
    out: &mut dyn Write,
    mode: &StreamMode,
    events: Events,
    head: &str,
) -> std::io::Result<()> {
    out.write_all(head.as_bytes())?;
    out.flush()?;
    for (i, event) in events.enumerate() {
        match mode {
            StreamMode::CutAfter(n) if i == *n => break,
            StreamMode::BreakAfter(n) if i == *n => {
                out.write_all(b"zz\r\n")?;
                return out.flush();
            }
            StreamMode::ErrorAfter(n) if i == *n => {
                write_chunk(out, format!("data: {STREAM_ERROR}\n\n").as_bytes())?;
                break;
            }
            StreamMode::ErrorEventAfter(n) if i == *n => {
                write_chunk(
                    out,
                    format!("event: error\ndata: {STREAM_ERROR}\n\n").as_bytes(),
                )?;
                break;
            }
            StreamMode::NotJsonAfter(n) if i == *n => {
                write_chunk(out, b"data: <html>bad gateway</html>\n\n")?;
                break;
            }
            _ => {}
        }
        if let StreamMode::StallAfter(n) = mode {
            if i == *n {
                hang();
            }
        }
        for piece in pieces(mode, event) {
            if let StreamMode::Trickle(gap) = mode {
                thread::sleep(*gap);
            }
            write_chunk(out, &piece)?;
        }
    }
    out.write_all(b"0\r\n\r\n")?;
    out.flush()
}

/// One event as the writes the mode asks for.
fn pieces(mode: &StreamMode, event: String) -> Vec<Vec<u8>> {
    match mode {
        StreamMode::Comments => vec![format!(": keep-alive\n{event}").into_bytes()],
        StreamMode::CrOnly => vec![event.replace('\n', "\r").into_bytes()],
        StreamMode::Trickle(_) => event.into_bytes().into_iter().map(|b| vec![b]).collect(),
        StreamMode::Crlf => {
            let crlf = event.replace('\n', "\r\n").into_bytes();
            let (head, lf) = crlf.split_at(crlf.len() - 1);
            vec![head.to_vec(), lf.to_vec()]
        }
        StreamMode::SplitUtf8 => {
            // Cut right after the lead byte of every multi-byte character.
            let mut pieces = vec![Vec::new()];
            for byte in event.into_bytes() {
                if let Some(last) = pieces.last_mut() {
                    last.push(byte);
                }
                if byte >= 0xC0 {
                    pieces.push(Vec::new());
                }
            }
            pieces.retain(|p| !p.is_empty());
            pieces
        }
        _ => vec![event.into_bytes()],
    }
}

fn write_chunk(out: &mut dyn Write, bytes: &[u8]) -> std::io::Result<()> {
    if bytes.is_empty() {
        return Ok(());
    }
    write!(out, "{:x}\r\n", bytes.len())?;
    out.write_all(bytes)?;
    out.write_all(b"\r\n")?;
    out.flush()
}
