//! The local conversation log: every chat and run exchange, kept in SQLite at
//! `$XDG_DATA_HOME/cometapi/conversations.db` (see `store.rs`). Commands build an
//! [`Exchange`] after the reply was shown and call [`record`], which never fails the
//! command: a locked, unreadable or corrupt file is one warning on stderr. Nothing here
//! is opened by commands that do not log or read conversations.

mod ids;
mod query;
mod schema;
mod store;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use clap::{Arg, ArgAction};
use serde_json::{json, Value};

use crate::api::stream::Reply;
use crate::cli::context::Context;
use crate::config::paths;
use crate::error::{CliError, ExitCode, Result};

pub use ids::normalise as normalise_id;

/// The most bytes of one reply the log keeps (256 KiB, beyond a usual reply), so that
/// logging a huge stream costs neither memory nor indexing time in proportion to it.
pub const REPLY_CAP: usize = 256 << 10;

/// Ends a reply the log kept only the start of.
pub const CUT_NOTE: &str = "\n[the conversation log keeps the first 256 KiB of a reply]";
pub use store::{Filter, Found, Store, Stored, StoredExchange, Summary};

/// How an exchange ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Completed,
    /// Stopped part way (Ctrl-C, a dropped stream): the reply is what was shown.
    Cut,
    /// No reply: the request failed.
    Failed,
    /// Completed, then replaced by a new reply to the same prompt (the REPL's `/retry`).
    Replaced,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Completed => "completed",
            Status::Cut => "cut",
            Status::Failed => "failed",
            Status::Replaced => "replaced",
        }
    }

    /// From a request's result and how much of the reply was shown.
    pub fn of<T>(result: &Result<T>, reply: &Reply) -> Status {
        match result {
            Ok(_) => Status::Completed,
            Err(err) if reply.chars > 0 || err.exit == ExitCode::Interrupted => Status::Cut,
            Err(_) => Status::Failed,
        }
    }
}

/// One request and its reply, as recorded.
#[derive(Clone, Debug)]
pub struct Exchange {
    /// The conversation it continues; `None` starts a new one.
    pub conversation: Option<String>,
    /// What made it (the command's name), for readers of the file.
    pub source: &'static str,
    pub model: String,
    pub system: Option<String>,
    pub prompt: String,
    /// `[{"name", "sha256"}]` of the files sent with the prompt (never their bytes).
    pub attachments: Value,
    pub reply: String,
    pub usage: Option<Value>,
    pub prompt_tokens: Option<u64>,
    pub completion_tokens: Option<u64>,
    pub cost_usd: Option<f64>,
    pub first_token_ms: Option<u64>,
    pub total_ms: Option<u64>,
    pub status: Status,
}

impl Exchange {
    /// An exchange whose reply is in `reply` (its text kept), started at `started`, with
    /// the model asked for (a catalog id, which prices the cost from the cached catalog).
    pub fn of_reply(
        ctx: &Context,
        source: &'static str,
        model: &str,
        prompt: &str,
        reply: &Reply,
        status: Status,
        started: Instant,
    ) -> Exchange {
        let (prompt_tokens, completion_tokens) = tokens(reply.usage.as_ref());
        let cost_usd = prompt_tokens
            .zip(completion_tokens)
            .and_then(|(p, c)| crate::api::catalog::cost(ctx, model, p, c));
        let millis = |at: Instant| u64::try_from(at.duration_since(started).as_millis()).ok();
        Exchange {
            conversation: None,
            source,
            system: None,
            prompt: prompt.to_string(),
            attachments: json!([]),
            reply: logged_text(reply),
            usage: reply.usage.clone(),
            prompt_tokens,
            completion_tokens,
            cost_usd,
            first_token_ms: reply.first_text_at.and_then(millis),
            total_ms: millis(Instant::now()),
            status,
            model: model.to_string(),
        }
    }

    fn imported(model: &str, prompt: &str, reply: &str) -> Exchange {
        Exchange {
            conversation: None,
            source: "import",
            model: model.to_string(),
            system: None,
            prompt: prompt.to_string(),
            attachments: json!([]),
            reply: reply.to_string(),
            usage: None,
            prompt_tokens: None,
            completion_tokens: None,
            cost_usd: None,
            first_token_ms: None,
            total_ms: None,
            status: Status::Completed,
        }
    }
}

/// The reply's text as the log keeps it: at most [`REPLY_CAP`] bytes, with a note
/// when more was shown.
fn logged_text(reply: &Reply) -> String {
    let content = reply.content.as_deref().unwrap_or_default();
    let mut end = content.len().min(REPLY_CAP);
    while !content.is_char_boundary(end) {
        end -= 1;
    }
    let mut text = content.get(..end).unwrap_or_default().to_string();
    if reply.content_cut || end < content.len() {
        text.push_str(CUT_NOTE);
    }
    text
}

/// Prompt and completion tokens of any wire format's usage object.
pub fn tokens(usage: Option<&Value>) -> (Option<u64>, Option<u64>) {
    let first = |keys: &[&str]| {
        keys.iter()
            .find_map(|k| usage.and_then(|u| u.get(*k)).and_then(Value::as_u64))
    };
    (
        first(&["prompt_tokens", "input_tokens", "promptTokenCount"]),
        first(&["completion_tokens", "output_tokens", "candidatesTokenCount"]),
    )
}

/// `--no-log`, declared by every command that logs.
pub fn no_log_arg() -> Arg {
    Arg::new("no_log")
        .long("no-log")
        .action(ArgAction::SetTrue)
        .help("Do not record this exchange in the conversation log (config `log false` for good)")
}

/// Whether this run records: no `--no-log` (`no_log`, the flag read by the command)
/// and config `log` not false.
pub fn enabled(ctx: &Context, no_log: bool) -> bool {
    let configured = ctx
        .settings()
        .ok()
        .and_then(|s| s.get("log").enabled())
        .unwrap_or(true);
    !no_log && configured
}

pub fn path() -> PathBuf {
    paths::data_dir().join("conversations.db")
}

/// Records `exchange` and returns its conversation's id; on any failure warns once on
/// stderr and returns `None`. Call it after the reply was shown.
pub fn record(exchange: &Exchange) -> Option<String> {
    let written = Store::open(&path())
        .and_then(|mut store| store.record(exchange, now_ms()).map_err(|e| e.to_string()));
    written.map_err(|why| warn_once(&why)).ok()
}

/// Marks the completed exchange before the last one of conversation `id` as replaced
/// (after `/retry` answered its prompt again); a failure warns once, like [`record`].
pub fn mark_replaced(id: &str) {
    let marked = Store::open(&path())
        .and_then(|mut store| store.mark_replaced(id).map_err(|e| e.to_string()));
    if let Err(why) = marked {
        warn_once(&why);
    }
}

/// The log for commands that read it: a failure is exit 1 naming the file.
pub fn open() -> Result<Store> {
    Store::open(&path()).map_err(|why| {
        CliError::failure(format!(
            "cannot open the conversation log {}: {why}",
            path().display()
        ))
    })
}

/// A read or write of the log that failed, as exit 1 naming the file.
pub fn failed(err: &rusqlite::Error) -> CliError {
    CliError::failure(format!(
        "the conversation log {} failed: {err}",
        path().display()
    ))
}

/// The id `typed` names in `store` (a unique start of one is enough).
pub fn resolve(store: &Store, typed: &str) -> Result<String> {
    let not_found = || {
        CliError::failure(format!("no conversation {typed}"))
            .with_hint("`cometapi conversations list` shows the ids")
    };
    let normal = normalise_id(typed).ok_or_else(not_found)?;
    match store.resolve(&normal).map_err(|e| failed(&e))? {
        Found::One(id) => Ok(id),
        Found::None => Err(not_found()),
        Found::Several => Err(CliError::usage(format!(
            "`{typed}` starts more than one conversation id; give more of it"
        ))),
    }
}

pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

static WARNED: AtomicBool = AtomicBool::new(false);

fn warn_once(why: &str) {
    if !WARNED.swap(true, Ordering::Relaxed) {
        eprintln!(
            "warning: this exchange was not recorded in the conversation log {}: {why}",
            path().display()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_huge_reply_is_kept_up_to_the_cap_with_a_note() {
        let mut reply = Reply::new(true);
        reply.content = Some("é".repeat(REPLY_CAP));
        let text = logged_text(&reply);
        assert!(text.ends_with(CUT_NOTE), "noted");
        assert_eq!(
            text.len(),
            REPLY_CAP + CUT_NOTE.len(),
            "whole characters up to the cap"
        );
        reply.content = Some("short".into());
        assert_eq!(logged_text(&reply), "short");
        reply.content_cut = true;
        assert_eq!(logged_text(&reply), format!("short{CUT_NOTE}"));
    }

    #[test]
    fn tokens_of_every_wire_format() {
        let chat = json!({"prompt_tokens": 3, "completion_tokens": 2});
        let anthropic = json!({"input_tokens": 4, "output_tokens": 5});
        let gemini = json!({"promptTokenCount": 6, "candidatesTokenCount": 7});
        assert_eq!(tokens(Some(&chat)), (Some(3), Some(2)));
        assert_eq!(tokens(Some(&anthropic)), (Some(4), Some(5)));
        assert_eq!(tokens(Some(&gemini)), (Some(6), Some(7)));
        assert_eq!(tokens(None), (None, None));
    }

    #[test]
    fn records_lists_searches_loads_and_deletes() {
        let dir = tempfile::tempdir().expect("dir");
        let mut store = Store::open(&dir.path().join("c.db")).expect("open");
        let mut exchange = Exchange::imported("m1", "hello there", "general kenobi");
        exchange.source = "test";
        let id = store.record(&exchange, 1_000).expect("record");
        exchange.conversation = Some(id.clone());
        exchange.prompt = "second".into();
        assert_eq!(store.record(&exchange, 2_000).expect("again"), id);
        store.mark_replaced(&id).expect("mark");
        let statuses: Vec<String> = store
            .load(&id)
            .expect("load")
            .expect("found")
            .exchanges
            .into_iter()
            .map(|e| e.status)
            .collect();
        assert_eq!(statuses, ["replaced", "completed"]);
        let other = store.import("m2", Some("sys"), &[("a".into(), "b".into())], 3_000);
        let other = other.expect("import");
        let found = store
            .list(&Filter {
                search: Some("KENOBI".into()),
                limit: 10,
                ..Filter::default()
            })
            .expect("search");
        assert_eq!(found.len(), 1);
        assert_eq!(
            (found[0].turns, found[0].first_prompt.as_str()),
            (2, "hello there")
        );
        assert_eq!(store.latest().expect("latest"), Some(other.clone()));
        let loaded = store.load(&other).expect("load").expect("found");
        assert_eq!(loaded.system.as_deref(), Some("sys"));
        assert_eq!(store.delete(&[id.clone(), "nope".into()]).expect("rm"), 1);
        assert!(store.load(&id).expect("load").is_none());
        let all = store
            .list(&Filter {
                limit: 10,
                ..Filter::default()
            })
            .expect("list");
        assert_eq!(all.len(), 1);
        let none = Filter {
            search: Some("kenobi".into()),
            limit: 10,
            ..Filter::default()
        };
        assert!(
            store.list(&none).expect("search").is_empty(),
            "index follows deletes"
        );
    }
}
