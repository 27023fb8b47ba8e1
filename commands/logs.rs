//! `logs`: usage logs with filters (`GET /api/log/self`), one request's detail card
//! (`--request-id`), and the server's CSV export streamed to stdout (`--export`).

use std::io::{self, BufWriter, IsTerminal, Write};
use std::time::{Duration, Instant};

use clap::builder::PossibleValuesParser;
use clap::{Arg, ArgAction, ArgMatches};
use serde_json::{Map, Value};

use crate::api::envelope;
use crate::api::money::{self, quota_cell};
use crate::api::web_console;
use crate::cli::context::Context;
use crate::cli::registry::{CommandSpec, Credential};
use crate::error::{CliError, ExitCode, Result};
use crate::net::urls::with_query;
use crate::net::{Auth, Request};
use crate::output::dates;
use crate::output::{Cell, Column, Outcome, Output, Record, Table};

/// Query parameters; `None` values are not sent.
type Query = Vec<(&'static str, Option<String>)>;

/// Log type names and the numbers the server uses, in the order the help lists them.
const TYPES: [(&str, i64); 7] = [
    ("consume", 2),
    ("topup", 1),
    ("error", 5),
    ("refund", 6),
    ("system", 4),
    ("manage", 3),
    ("unknown", 0),
];

/// Entries `--request-id` scans when the indexed operator lookup is not available.
const SCAN_PAGE_SIZE: &str = "100";

fn args(cmd: clap::Command) -> clap::Command {
    cmd.arg(Arg::new("model").short('m').long("model").value_name("MODEL").help("Only this model (exact name)"))
        .arg(Arg::new("token_name").long("token-name").value_name("NAME").help("Only requests made with the API key of this name"))
        .arg(Arg::new("type").long("type").value_name("TYPE").value_parser(PossibleValuesParser::new(TYPES.map(|(name, _)| name))).ignore_case(true).help("Only this type"))
        .arg(Arg::new("start").long("start").value_name("DATE").help("From this time (UTC): YYYY-MM-DD (start of the day), ISO 8601 or Unix seconds"))
        .arg(Arg::new("end").long("end").value_name("DATE").help("Until this time (UTC): YYYY-MM-DD (end of the day), ISO 8601 or Unix seconds"))
        .arg(Arg::new("group").short('g').long("group").value_name("GROUP").help("Only this group"))
        .args(web_console::page_args())
        .arg(Arg::new("detail").long("detail").action(ArgAction::SetTrue).help("Add the request id and pricing ratio columns"))
        .arg(Arg::new("request_id").long("request-id").value_name("ID").help("Show one request's detail card (ids are in the X-Cometapi-Request-Id header)"))
        .arg(
            Arg::new("export")
                .long("export")
                .action(ArgAction::SetTrue)
                .conflicts_with_all(["request_id", "page", "page_size"])
                .help("Stream the server's CSV export of the matching logs to stdout (all pages; --format does not apply)"),
        )
}

fn run(ctx: &Context, m: &ArgMatches) -> Result<Outcome> {
    let filters = filters(m)?;
    if m.get_flag("export") {
        return export(ctx, &filters);
    }
    if let Some(id) = m.get_one::<String>("request_id") {
        return by_request_id(ctx, id, &filters);
    }
    let mut query: Query = web_console::page_query(m).into();
    query.extend(filters);
    let (logs, total) = web_console::page(web_console::get(ctx, "log/self", &query)?);
    let table = table(&logs, m.get_flag("detail")).listed(total, web_console::page_of(m));
    Ok(Output::Table(table).into())
}

/// The filter parameters shared by the list, the request-id lookup and the export.
fn filters(m: &ArgMatches) -> Result<Query> {
    let text = |id: &str| {
        m.get_one::<String>(id)
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
    };
    let kind = text("type").map(|t| type_number(&t)).transpose()?;
    let (start, end) = dates::range(m)?;
    Ok(vec![
        ("type", kind.map(|k| k.to_string())),
        ("model_name", text("model")),
        ("token_name", text("token_name")),
        ("start_timestamp", start.map(|s| s.to_string())),
        ("end_timestamp", end.map(|e| e.to_string())),
        ("group", text("group")),
    ])
}

/// `consume` → 2, case-insensitive; anything else is exit 2 naming the valid names.
fn type_number(name: &str) -> Result<i64> {
    let wanted = name.to_ascii_lowercase();
    TYPES
        .iter()
        .find(|(known, _)| *known == wanted)
        .map(|(_, number)| *number)
        .ok_or_else(|| {
            let names: Vec<&str> = TYPES.iter().map(|(known, _)| *known).collect();
            CliError::usage(format!(
                "invalid --type `{name}`: use one of {}",
                names.join(", ")
            ))
        })
}

fn type_name(number: i64) -> String {
    TYPES
        .iter()
        .find(|(_, n)| *n == number)
        .map(|(name, _)| name.to_string())
        .unwrap_or_else(|| number.to_string())
}

// ---------------------------------------------------------------------------
// One log entry as typed fields
// ---------------------------------------------------------------------------

/// Where a field shows: in every format, in human formats only with `--detail`,
/// or only in json and yaml.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Shown {
    Always,
    Detail,
    Structured,
}

struct LogField {
    key: &'static str,
    header: &'static str,
    shown: Shown,
    cell: Cell,
}

fn field(key: &'static str, header: &'static str, shown: Shown, cell: Cell) -> LogField {
    LogField {
        key,
        header,
        shown,
        cell,
    }
}

/// Every field of a log entry, in json order. The table's columns are the fields
/// of an empty entry (`Value::Null`), so columns and cells cannot drift apart.
fn fields(log: &Value) -> Vec<LogField> {
    use Shown::*;
    let other = decode_other(log.get("other"));
    let get = |key: &str| log.get(key).cloned().unwrap_or(Value::Null);
    let extra = |key: &str| other.get(key).cloned().unwrap_or(Value::Null);
    vec![
        field("time", "Time", Always, time_cell(log.get("created_at"))),
        field("type", "Type", Always, type_cell(log.get("type"))),
        field("model", "Model", Always, Cell::new(get("model_name"))),
        field("token_name", "Token", Always, Cell::new(get("token_name"))),
        field("group", "Group", Structured, Cell::new(get("group"))),
        field(
            "request_id",
            "Request ID",
            Detail,
            Cell::new(get("request_id")),
        ),
        field(
            "response_id",
            "Response ID",
            Structured,
            Cell::new(get("response_id")),
        ),
        field(
            "prompt_tokens",
            "Prompt",
            Always,
            Cell::count(get("prompt_tokens")),
        ),
        field(
            "completion_tokens",
            "Completion",
            Always,
            Cell::count(get("completion_tokens")),
        ),
        field("cost_usd", "Cost", Always, quota_cell(log.get("quota"))),
        field("quota", "Quota", Structured, Cell::count(get("quota"))),
        field(
            "duration_secs",
            "Duration (s)",
            Always,
            seconds_cell(duration_ms(log, &other)),
        ),
        field(
            "stream",
            "Stream",
            Always,
            stream_cell(log.get("is_stream")),
        ),
        field(
            "first_token_ms",
            "First token (ms)",
            Structured,
            first_token_cell(extra("frt").as_f64()),
        ),
        field(
            "cache_tokens",
            "Cache tokens",
            Structured,
            Cell::count(extra("cache_tokens")),
        ),
        field(
            "cache_ratio",
            "Cache ratio",
            Structured,
            ratio_cell(extra("cache_ratio")),
        ),
        field(
            "model_ratio",
            "Model ratio",
            Detail,
            ratio_cell(extra("model_ratio")),
        ),
        field(
            "completion_ratio",
            "Completion ratio",
            Detail,
            ratio_cell(extra("completion_ratio")),
        ),
        field(
            "group_ratio",
            "Group ratio",
            Detail,
            ratio_cell(extra("group_ratio")),
        ),
        field(
            "model_price",
            "Price",
            Detail,
            price_cell(extra("model_price")),
        ),
        field(
            "endpoint",
            "Endpoint",
            Structured,
            Cell::new(extra("request_path")),
        ),
        field("content", "Content", Structured, Cell::new(get("content"))),
    ]
}

/// `other` is a JSON object encoded as a string; "" or anything unparsable is empty.
/// An object sent as such is taken as it is.
fn decode_other(other: Option<&Value>) -> Map<String, Value> {
    match other {
        Some(Value::String(text)) => match serde_json::from_str(text) {
            Ok(Value::Object(map)) => map,
            _ => Map::new(),
        },
        Some(Value::Object(map)) => map.clone(),
        _ => Map::new(),
    }
}

/// `other.total_ms` when the server measured it, else `use_time` (whole seconds).
fn duration_ms(log: &Value, other: &Map<String, Value>) -> Option<f64> {
    other.get("total_ms").and_then(Value::as_f64).or_else(|| {
        log.get("use_time")
            .and_then(Value::as_f64)
            .map(|s| s * 1000.0)
    })
}

fn time_cell(created_at: Option<&Value>) -> Cell {
    match created_at.and_then(Value::as_i64) {
        Some(unix) => Cell::with_text(dates::format_iso(unix), dates::format_datetime(unix)),
        None => Cell::new(Value::Null),
    }
}

fn type_cell(kind: Option<&Value>) -> Cell {
    Cell::new(kind.and_then(Value::as_i64).map(type_name))
}

/// Seconds to the millisecond, `6.21` to read: the one unit of every Duration column
/// (its header says `(s)`). None or zero is missing.
fn seconds_cell(ms: Option<f64>) -> Cell {
    match ms.filter(|ms| ms.is_finite() && ms.round() >= 1.0) {
        Some(ms) => {
            let secs = ms.round() / 1000.0;
            Cell::with_text(secs, format!("{secs:.2}"))
        }
        None => Cell::new(Value::Null),
    }
}

/// Whole milliseconds to the first token (json and yaml only; the key names the unit).
fn first_token_cell(ms: Option<f64>) -> Cell {
    match ms.filter(|ms| ms.is_finite() && *ms >= 0.0) {
        Some(ms) => Cell::new(ms.round() as i64),
        None => Cell::new(Value::Null),
    }
}

/// A pricing ratio as the server sent it; `4` rather than `4.0`, and no float noise, to read.
fn ratio_cell(ratio: Value) -> Cell {
    match ratio.as_f64() {
        Some(r) => Cell::with_text(ratio, crate::output::trimmed_decimal(r, 6)),
        None => Cell::new(ratio),
    }
}

fn stream_cell(is_stream: Option<&Value>) -> Cell {
    match is_stream.and_then(Value::as_bool) {
        Some(stream) => Cell::with_text(stream, if stream { "Yes" } else { "No" }),
        None => Cell::new(Value::Null),
    }
}

/// A fixed per-request price in USD; −1 (any negative) means the token ratios apply.
fn price_cell(price: Value) -> Cell {
    match price.as_f64() {
        Some(p) if p < 0.0 => Cell::with_text(Value::Null, "ratio"),
        Some(p) => money::usd_cell(p),
        None => Cell::new(Value::Null),
    }
}

/// The columns a narrow terminal loses first, in that order; the others always show.
const DROP_ORDER: [&str; 11] = [
    "stream",
    "group_ratio",
    "completion_ratio",
    "model_ratio",
    "model_price",
    "duration_secs",
    "token_name",
    "completion_tokens",
    "prompt_tokens",
    "type",
    "request_id",
];

fn table(logs: &[Value], detail: bool) -> Table {
    let columns = fields(&Value::Null)
        .into_iter()
        .map(|f| {
            let column = match DROP_ORDER.iter().position(|key| *key == f.key) {
                Some(at) => Column::new(f.key, f.header).droppable(at as u8 + 1),
                None => Column::new(f.key, f.header),
            };
            match f.shown {
                Shown::Always => column,
                Shown::Detail if detail => column,
                _ => column.structured_only(),
            }
        })
        .collect();
    let mut table = Table::new(columns, "No logs found.");
    for log in logs {
        table.push(fields(log).into_iter().map(|f| f.cell).collect());
    }
    table
}

/// Every field, labelled; json and yaml get the same typed record as a list row.
fn card(log: &Value) -> Record {
    fields(log).into_iter().fold(Record::new(), |record, f| {
        record.field(f.key, f.header, f.cell)
    })
}

// ---------------------------------------------------------------------------
// --request-id
// ---------------------------------------------------------------------------

fn by_request_id(ctx: &Context, id: &str, filters: &Query) -> Result<Outcome> {
    let found = match indexed_lookup(ctx, id, filters)? {
        Some(log) => Some(log),
        None => recent_scan(ctx, id, filters)?,
    };
    match found {
        Some(log) => Ok(Output::Record(card(&log)).into()),
        None => Err(
            CliError::failure(format!("no log found for request id {id}")).with_hint(format!(
                "only the newest {SCAN_PAGE_SIZE} log entries matching the filters were searched \
                 (the indexed lookup needs operator access); narrow the time range with \
                 --start/--end, or add --model or --type"
            )),
        ),
    }
}

/// The operator endpoint `GET /api/log/` indexes request ids. Ordinary accounts are
/// refused there (401/403 or `success: false`): that is not an error, only a miss.
/// An unreachable service is an error, so it is not tried twice.
fn indexed_lookup(ctx: &Context, id: &str, filters: &Query) -> Result<Option<Value>> {
    let mut query: Query = vec![
        ("request_id", Some(id.to_string())),
        ("p", Some("1".to_string())),
        ("page_size", Some("1".to_string())),
    ];
    query.extend(filters.iter().cloned());
    match web_console::get(ctx, "log/", &query) {
        Ok(data) => Ok(exact_match(web_console::items(data), id)),
        Err(err) if matches!(err.exit, ExitCode::AuthRejected | ExitCode::Failure) => Ok(None),
        Err(err) => Err(err),
    }
}

/// One bounded page of the account's own logs, newest first.
fn recent_scan(ctx: &Context, id: &str, filters: &Query) -> Result<Option<Value>> {
    let mut query: Query = vec![
        ("p", Some("1".to_string())),
        ("page_size", Some(SCAN_PAGE_SIZE.to_string())),
    ];
    query.extend(filters.iter().cloned());
    let logs = web_console::items(web_console::get(ctx, "log/self", &query)?);
    Ok(exact_match(logs, id))
}

fn exact_match(logs: Vec<Value>, id: &str) -> Option<Value> {
    logs.into_iter()
        .find(|log| log.get("request_id").and_then(Value::as_str) == Some(id))
}

// ---------------------------------------------------------------------------
// --export
// ---------------------------------------------------------------------------

/// Streams the server's CSV to stdout as it arrives; nothing else is printed.
fn export(ctx: &Context, filters: &Query) -> Result<Outcome> {
    let token = ctx.access_token()?;
    let url = with_query(&ctx.base_url()?.console("log/self/export"), filters);
    let request = Request::get(url.clone(), Auth::AccessToken(&token));
    let mut out = CsvOut::new(BufWriter::with_capacity(64 * 1024, io::stdout().lock()));
    let mut progress = Progress::new(io::stderr().is_terminal());
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

/// How often the byte count on stderr is rewritten.
const PROGRESS_EVERY: Duration = Duration::from_millis(200);

/// `exporting logs: 12.3 MB` on stderr, rewritten in place, only on a terminal;
/// cleared when dropped, so an error message starts on a clean line.
struct Progress {
    enabled: bool,
    last: Instant,
    shown: bool,
}

impl Progress {
    fn new(enabled: bool) -> Self {
        Progress {
            enabled,
            last: Instant::now(),
            shown: false,
        }
    }

    fn update(&mut self, bytes: u64) {
        if !self.enabled || self.last.elapsed() < PROGRESS_EVERY {
            return;
        }
        self.last = Instant::now();
        self.shown = true;
        let mb = bytes as f64 / 1e6;
        let _ = write!(io::stderr(), "\rexporting logs: {mb:.1} MB");
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if self.shown {
            let _ = write!(io::stderr(), "\r\x1b[2K");
        }
    }
}

inventory::submit! {
    CommandSpec::new("logs", "Usage logs: filter, export as CSV, or look up one request", run)
        .needs(Credential::AccessToken)
        .with_args(args)
        .model_id_args(&["model"])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn types_map_to_server_numbers_case_insensitively() {
        assert_eq!(type_number("Consume").ok(), Some(2));
        assert_eq!(type_number("TOPUP").ok(), Some(1));
        assert_eq!(type_number("unknown").ok(), Some(0));
        let err = type_number("spend").expect_err("invalid");
        assert_eq!(err.exit.code(), 2);
        assert!(err
            .message
            .contains("consume, topup, error, refund, system, manage, unknown"));
        assert_eq!(type_name(6), "refund");
        assert_eq!(type_name(9), "9");
    }

    #[test]
    fn other_may_be_empty_invalid_or_an_object() {
        assert!(decode_other(Some(&json!(""))).is_empty());
        assert!(decode_other(Some(&json!("{not json"))).is_empty());
        assert!(decode_other(Some(&json!("[1]"))).is_empty());
        assert!(decode_other(None).is_empty());
        assert_eq!(decode_other(Some(&json!("{\"frt\":5}")))["frt"], 5);
        assert_eq!(decode_other(Some(&json!({"frt": 6})))["frt"], 6);
    }

    #[test]
    fn duration_prefers_total_ms_over_use_time() {
        let log = json!({"use_time": 3});
        assert_eq!(duration_ms(&log, &Map::new()), Some(3000.0));
        let other = decode_other(Some(&json!("{\"total_ms\": 2840}")));
        assert_eq!(duration_ms(&log, &other), Some(2840.0));
        assert_eq!(seconds_cell(Some(2840.0)).text, "2.84");
        assert_eq!(seconds_cell(Some(2840.0)).value, json!(2.84));
        assert_eq!(seconds_cell(Some(480.0)).text, "0.48");
        assert!(seconds_cell(Some(0.0)).is_missing());
        assert!(seconds_cell(Some(f64::NAN)).is_missing());
        assert_eq!(first_token_cell(Some(612.4)).value, json!(612));
    }

    #[test]
    fn costs_keep_small_amounts_visible() {
        let cost = |quota: Value| quota_cell(Some(&quota)).text;
        assert_eq!(cost(json!(500_000)), "$1.00");
        assert_eq!(cost(json!(1980)), "$0.00396");
        assert_eq!(cost(json!(1)), "$0.000002");
        assert_eq!(cost(json!(0)), "$0.00");
        assert_eq!(quota_cell(Some(&json!(1980))).value, json!(0.00396));
    }

    #[test]
    fn ratio_pricing_reads_as_ratio() {
        let cell = price_cell(json!(-1));
        assert_eq!((cell.value, cell.text.as_str()), (Value::Null, "ratio"));
        assert_eq!(price_cell(json!(0.04)).text, "$0.04");
    }

    #[test]
    fn columns_follow_detail() {
        let headers = |detail: bool| -> Vec<String> {
            let table = table(&[], detail);
            table
                .human_columns()
                .into_iter()
                .map(|i| table.columns[i].header.clone())
                .collect()
        };
        assert_eq!(
            headers(false),
            [
                "Time",
                "Type",
                "Model",
                "Token",
                "Prompt",
                "Completion",
                "Cost",
                "Duration (s)",
                "Stream"
            ]
        );
        assert_eq!(headers(true).len(), 14);
        assert_eq!(table(&[], false).columns.len(), 22);
    }

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
