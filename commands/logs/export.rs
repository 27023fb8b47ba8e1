//! `logs --export`: the server's CSV export streamed to stdout as it arrives, refused
//! (with nothing written) when the body is not CSV, and its size so far beside the
//! spinner on a terminal.

use std::io::{self, BufWriter, Write};

use serde_json::Value;

use super::Query;
use crate::api::envelope;
use crate::cli::context::Context;
use crate::error::{CliError, Result};
use crate::net::urls::with_query;
use crate::net::{Auth, Request};
use crate::output::{Outcome, Output};
use crate::term::progress;

/// Streams the server's CSV to stdout as it arrives; nothing else is printed.
pub(super) fn export(ctx: &Context, filters: &Query) -> Result<Outcome> {
    let token = ctx.access_token()?;
    let url = with_query(&ctx.base_url()?.console("log/self/export"), filters);
    let request = Request::get(url.clone(), Auth::AccessToken(&token));
    let mut out = CsvOut::new(BufWriter::with_capacity(64 * 1024, io::stdout().lock()));
    let mut progress = Progress::default();
    ctx.http()?
        .download(&request, &mut out, &mut |bytes| progress.update(bytes))?;
    drop(progress);
    out.finish(&url)?;
    Ok(Output::Empty.into())
}

/// The most of a JSON body kept to report a console error envelope's message.
const ENVELOPE_LIMIT: usize = 64 * 1024;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Sniff {
    /// Only whitespace so far.
    Undecided,
    /// Starts with `{` or `[`: JSON, never CSV; kept (up to [`ENVELOPE_LIMIT`]) for a
    /// console error envelope's message.
    Json,
    /// Starts like something else that is not CSV: the rest is read and dropped.
    Rejected(&'static str),
    Passing,
}

/// The export must be CSV, but any 2xx body arrives here: a console failure as HTTP 200
/// `{"success": false, "message": ...}`, a proxy's HTML login page, gzip that was not
/// decoded. The first non-blank byte decides: CSV starts with a header name, so `{`, `[`,
/// `<` or a control byte mean the body is not CSV; it is an error (exit 1) and nothing of
/// it reaches stdout. Anything else streams straight through.
struct CsvOut<W: Write> {
    inner: W,
    held: Vec<u8>,
    sniff: Sniff,
}

impl<W: Write> CsvOut<W> {
    fn new(inner: W) -> Self {
        CsvOut {
            inner,
            held: Vec::new(),
            sniff: Sniff::Undecided,
        }
    }

    fn decide(&mut self) -> io::Result<()> {
        if self.sniff != Sniff::Undecided {
            return Ok(());
        }
        self.sniff = match self.held.iter().find(|b| !b.is_ascii_whitespace()) {
            None => return Ok(()),
            Some(b'{' | b'[') => Sniff::Json,
            Some(b'<') => Sniff::Rejected("an HTML or XML page"),
            Some(&b) if b < 0x20 || b == 0x7f => Sniff::Rejected("binary data (gzip?)"),
            Some(_) => return self.release(),
        };
        Ok(())
    }

    fn release(&mut self) -> io::Result<()> {
        self.sniff = Sniff::Passing;
        let held = std::mem::take(&mut self.held);
        self.inner.write_all(&held)
    }

    /// Writes what is still held and flushes; a body that is not CSV is an error.
    fn finish(mut self, url: &str) -> Result<()> {
        let not_csv = |what: &str| {
            CliError::failure(format!("the export is {what}, not CSV; nothing was written"))
                .with_hint("check the base URL and the access token: a proxy or a login page may have answered")
        };
        match self.sniff {
            Sniff::Json => {
                // A console failure envelope is reported with the server's own message.
                if let Ok(mut reply) = serde_json::from_slice::<Value>(&self.held) {
                    if reply.get("success") == Some(&Value::Bool(false)) {
                        envelope::unwrap_console(&mut reply, url)?;
                    }
                }
                return Err(not_csv("JSON"));
            }
            Sniff::Rejected(what) => return Err(not_csv(what)),
            Sniff::Undecided | Sniff::Passing => {}
        }
        self.release()
            .and_then(|()| self.inner.flush())
            .map_err(CliError::from_output)
    }
}

impl<W: Write> Write for CsvOut<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self.sniff {
            Sniff::Passing => return self.inner.write(buf),
            Sniff::Rejected(_) => {}
            Sniff::Json => {
                let room = ENVELOPE_LIMIT.saturating_sub(self.held.len());
                self.held.extend_from_slice(&buf[..buf.len().min(room)]);
            }
            Sniff::Undecided => {
                self.held.extend_from_slice(buf);
                self.decide()?;
            }
        }
        Ok(buf.len())
    }

    /// Held bytes stay held: they are not known to be CSV yet.
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// `exporting logs: 12.3 MB` beside the spinner of [`progress`] (on a terminal only),
/// from the first byte on; the spinner goes when this is dropped, so an error message
/// starts on a clean line.
#[derive(Default)]
struct Progress {
    /// Held while shown: the download's own spinner calls leave it alone meanwhile.
    pinned: Option<progress::Pinned>,
    shown: String,
}

impl Progress {
    fn update(&mut self, bytes: u64) {
        let message = format!("exporting logs: {:.1} MB", bytes as f64 / 1e6);
        if message == self.shown {
            return;
        }
        self.shown.clone_from(&message);
        match self.pinned {
            Some(_) => progress::update(message),
            None => self.pinned = Some(progress::pin(message)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_in_export_is_an_error_and_csv_streams_through() {
        let mut out = CsvOut::new(Vec::new());
        out.write_all(b"created_at,type\n").expect("write");
        assert_eq!(out.inner, b"created_at,type\n", "CSV is not held back");
        assert!(out.finish("http://h/api/log/self/export").is_ok());

        let mut out = CsvOut::new(Vec::new());
        out.write_all(b" {\"success\":false,").expect("write");
        out.write_all(b"\"message\":\"export disabled\"}")
            .expect("write");
        assert!(out.inner.is_empty(), "a possible envelope is held");
        let err = out
            .finish("http://h/api/log/self/export")
            .expect_err("fails");
        assert!(err.message.contains("export disabled"), "{}", err.message);
    }

    #[test]
    fn bodies_that_are_not_csv_are_errors_and_write_nothing() {
        let bodies: [(&[u8], &str); 5] = [
            (b"<!doctype html><title>Sign in</title>", "HTML"),
            (b"\n  <html>", "HTML"),
            (b"\x1f\x8b\x08\x00\x00", "binary"),
            (b"[{\"id\":1}]", "JSON"),
            (b"{\"success\":true,\"data\":[1]}", "JSON"),
        ];
        for (body, what) in bodies {
            let mut out = CsvOut::new(Vec::new());
            for piece in body.chunks(3) {
                out.write_all(piece).expect("write");
            }
            assert!(out.inner.is_empty(), "{what}: nothing written");
            let err = out.finish("http://h/api/log/self/export").expect_err(what);
            assert_eq!(err.exit.code(), 1);
            assert!(err.message.contains(what), "{}", err.message);
        }
    }
}
