//! `batch` results: one JSON line per request in the OpenAI batch output shape (plus
//! `attempts` and `latency_ms`), written whole with one write as each finishes, or in
//! input order through a bounded reorder buffer; failures also to `OUT.errors.jsonl`.
//! Resume reads an earlier output back: which ids are done, which failed.

use std::collections::{BTreeMap, HashSet};
use std::fs::File;
use std::io::{self, BufRead, BufReader, Seek, Write};
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use super::input::id_hash;
use crate::error::{CliError, Result};
use crate::store::files;

/// One result as written.
#[derive(Clone)]
pub struct ResultLine {
    pub custom_id: String,
    pub status: Option<u16>,
    pub request_id: Option<String>,
    pub body: Value,
    /// `(code, message)` when the request failed.
    pub error: Option<(String, String)>,
    pub attempts: u32,
    pub latency_ms: u64,
}

impl ResultLine {
    pub fn to_bytes(&self) -> Vec<u8> {
        let id = format!(
            "batch_req_{}",
            self.request_id.as_deref().unwrap_or(&self.custom_id)
        );
        let response = self.status.map(|status| {
            json!({"status_code": status, "request_id": self.request_id, "body": self.body})
        });
        let error = self
            .error
            .as_ref()
            .map(|(code, message)| json!({"code": code, "message": message}));
        let line = json!({
            "id": id,
            "custom_id": self.custom_id,
            "response": response,
            "error": error,
            "attempts": self.attempts,
            "latency_ms": self.latency_ms,
        });
        let mut bytes = line.to_string().into_bytes();
        bytes.push(b'\n');
        bytes
    }
}

/// Where results go: stdout, or `OUT` (appended) with its errors file.
pub struct Sink {
    out: Box<dyn Write>,
    errors: Option<(PathBuf, Option<File>)>,
    /// `--ordered`: lines waiting for the ones before them.
    pending: Option<BTreeMap<usize, (Vec<u8>, bool)>>,
    next: usize,
}

impl Sink {
    pub fn new(output: Option<&Path>, ordered: bool) -> Result<Sink> {
        let (out, errors): (Box<dyn Write>, _) = match output {
            None => (Box::new(io::stdout()), None),
            Some(path) => (Box::new(open(path)?), Some((errors_path(path), None))),
        };
        Ok(Sink {
            out,
            errors,
            pending: ordered.then(BTreeMap::new),
            next: 0,
        })
    }

    /// Writes result `seq` (or keeps it until those before it are written).
    pub fn write(&mut self, seq: usize, line: &[u8], failed: bool) -> Result<()> {
        let Some(pending) = &mut self.pending else {
            return self.emit(line, failed);
        };
        pending.insert(seq, (line.to_vec(), failed));
        while let Some((line, failed)) = self.pending.as_mut().and_then(|p| p.remove(&self.next)) {
            self.next += 1;
            self.emit(&line, failed)?;
        }
        Ok(())
    }

    /// Writes what the reorder buffer still holds (after Ctrl-C or a stop, results
    /// may be missing in between), in order.
    pub fn drain(&mut self) -> Result<()> {
        let rest = self.pending.take().unwrap_or_default();
        for (line, failed) in rest.into_values() {
            self.emit(&line, failed)?;
        }
        Ok(())
    }

    fn emit(&mut self, line: &[u8], failed: bool) -> Result<()> {
        // One write per line, flushed: a crash cuts at most the line being written.
        self.out
            .write_all(line)
            .and_then(|()| self.out.flush())
            .map_err(CliError::from_output)?;
        if let (true, Some((path, file))) = (failed, &mut self.errors) {
            if file.is_none() {
                *file = Some(open(path)?);
            }
            if let Some(file) = file {
                file.write_all(line).map_err(|e| write_error(path, e))?;
            }
        }
        Ok(())
    }
}

/// `OUT.errors.jsonl` beside `OUT.jsonl` (`OUT.errors.jsonl` for any other name too).
pub fn errors_path(output: &Path) -> PathBuf {
    let stem = output.file_stem().unwrap_or_default().to_string_lossy();
    output.with_file_name(format!("{stem}.errors.jsonl"))
}

fn open(path: &Path) -> Result<File> {
    files::open_append_private(path).map_err(|e| write_error(path, e))
}

fn write_error(path: &Path, err: io::Error) -> CliError {
    CliError::failure(format!("cannot write {}", path.display())).caused_by(err)
}

/// What an earlier output says.
#[derive(Default)]
pub struct Earlier {
    pub succeeded: HashSet<u64>,
    pub failed: HashSet<u64>,
}

/// Reads the results already in `path`, first cutting off a last line a kill left
/// unfinished. With `retry_failed`, the failed lines are taken out of `path` and of
/// its errors file (rewritten atomically), so their reruns leave one line per id, and
/// only successes are reported as done.
pub fn resume(path: &Path, retry_failed: bool) -> Result<Earlier> {
    let mut earlier = Earlier::default();
    // Checked before opening: opening a FIFO would block.
    files::check_regular(path).map_err(|e| write_error(path, e))?;
    let file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(earlier),
        Err(e) => {
            return Err(CliError::failure(format!("cannot read {}", path.display())).caused_by(e))
        }
    };
    cut_unfinished_line(path)?;
    for line in BufReader::new(file).lines() {
        let line = line.map_err(|e| write_error(path, e))?;
        let Some((id, ok)) = outcome_of(&line) else {
            continue;
        };
        if ok {
            earlier.succeeded.insert(id_hash(&id));
        } else {
            earlier.failed.insert(id_hash(&id));
        }
    }
    // An id that failed and later succeeded is done.
    earlier.failed.retain(|id| !earlier.succeeded.contains(id));
    if retry_failed && !earlier.failed.is_empty() {
        drop_lines(path, &earlier.failed)?;
        drop_lines(&errors_path(path), &earlier.failed)?;
        earlier.failed.clear();
    }
    Ok(earlier)
}

/// A result line's custom id and whether it succeeded.
fn outcome_of(line: &str) -> Option<(String, bool)> {
    let value: Value = serde_json::from_str(line).ok()?;
    let id = value.get("custom_id")?.as_str()?.to_string();
    let status = value
        .pointer("/response/status_code")
        .and_then(Value::as_u64);
    let ok = value.get("error").is_none_or(Value::is_null)
        && status.is_some_and(|s| (200..300).contains(&s));
    Some((id, ok))
}

/// Truncates `path` after its last newline: a line cut by a kill is dropped (its
/// request runs again).
fn cut_unfinished_line(path: &Path) -> Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .map_err(|e| write_error(path, e))?;
    let len = file.metadata().map_err(|e| write_error(path, e))?.len();
    let mut keep = len;
    let mut byte = [0u8; 1];
    while keep > 0 {
        file.seek(io::SeekFrom::Start(keep - 1))
            .map_err(|e| write_error(path, e))?;
        io::Read::read_exact(&mut file, &mut byte).map_err(|e| write_error(path, e))?;
        if byte[0] == b'\n' {
            break;
        }
        keep -= 1;
    }
    if keep < len {
        file.set_len(keep).map_err(|e| write_error(path, e))?;
    }
    Ok(())
}

/// Rewrites `path` without the lines of the ids in `drop` (temporary file + rename).
fn drop_lines(path: &Path, drop: &HashSet<u64>) -> Result<()> {
    let Ok(file) = File::open(path) else {
        return Ok(());
    };
    let target = files::regular_target(path).map_err(|e| write_error(path, e))?;
    let mut kept = files::AtomicFile::beside(&target, 0o600).map_err(|e| write_error(path, e))?;
    for line in BufReader::new(file).lines() {
        let line = line.map_err(|e| write_error(path, e))?;
        let dropped = outcome_of(&line).is_some_and(|(id, _)| drop.contains(&id_hash(&id)));
        if !dropped {
            writeln!(kept, "{line}").map_err(|e| write_error(path, e))?;
        }
    }
    kept.commit(&target, files::Replace::Yes)
        .map_err(|e| write_error(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cut_last_line_is_dropped_and_outcomes_are_read() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("out.jsonl");
        let ok = ResultLine {
            custom_id: "a".into(),
            status: Some(200),
            request_id: Some("r1".into()),
            body: json!({}),
            error: None,
            attempts: 1,
            latency_ms: 3,
        };
        let bad = ResultLine {
            custom_id: "b".into(),
            status: Some(400),
            error: Some(("400".into(), "no".into())),
            ..ok.clone()
        };
        let mut bytes = ok.to_bytes();
        bytes.extend(bad.to_bytes());
        bytes.extend(b"{\"custom_id\":\"c\",\"resp");
        std::fs::write(&path, &bytes).expect("write");
        let earlier = resume(&path, false).expect("resume");
        assert!(earlier.succeeded.contains(&id_hash("a")));
        assert!(earlier.failed.contains(&id_hash("b")));
        assert!(!earlier.succeeded.contains(&id_hash("c")));
        let text = std::fs::read_to_string(&path).expect("read");
        assert!(text.ends_with('\n') && !text.contains("\"c\""));
        resume(&path, true).expect("retry");
        let text = std::fs::read_to_string(&path).expect("read");
        assert_eq!(text.lines().count(), 1, "the failure is taken out: {text}");
    }

    #[test]
    fn ordered_lines_wait_for_those_before_them() {
        let mut sink = Sink {
            out: Box::new(io::sink()),
            errors: None,
            pending: Some(BTreeMap::new()),
            next: 0,
        };
        sink.write(1, b"b\n", false).expect("write");
        assert_eq!(sink.pending.as_ref().map(BTreeMap::len), Some(1));
        sink.write(0, b"a\n", false).expect("write");
        assert_eq!(sink.pending.as_ref().map(BTreeMap::len), Some(0));
        assert_eq!(sink.next, 2);
    }

    #[test]
    fn errors_file_sits_beside_the_output() {
        assert_eq!(
            errors_path(Path::new("/x/out.jsonl")),
            Path::new("/x/out.errors.jsonl")
        );
        assert_eq!(errors_path(Path::new("res")), Path::new("res.errors.jsonl"));
    }
}
