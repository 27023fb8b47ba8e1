//! One log entry as typed fields: which show where (every format, `--detail`, json
//! and yaml only), how each is read from the server's record (`other` is JSON in a
//! string), and the list table and the detail card built from them.

use serde_json::{Map, Value};

use super::type_name;
use crate::api::money::{self, quota_cell};
use crate::output::dates;
use crate::output::{Cell, Column, Record, Table};

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
    let other = decode_other(log.get("other"));
    let mut fields = request_fields(log, &other);
    fields.extend(pricing_fields(log, &other));
    fields
}

/// Who asked for what, what it used and cost, how long it took.
fn request_fields(log: &Value, other: &Map<String, Value>) -> Vec<LogField> {
    use Shown::*;
    let get = |key: &str| log.get(key).cloned().unwrap_or(Value::Null);
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
            seconds_cell(duration_ms(log, other)),
        ),
        field(
            "stream",
            "Stream",
            Always,
            stream_cell(log.get("is_stream")),
        ),
    ]
}

/// The first token's time, caching, the pricing ratios, the endpoint and the content.
fn pricing_fields(log: &Value, other: &Map<String, Value>) -> Vec<LogField> {
    use Shown::*;
    let get = |key: &str| log.get(key).cloned().unwrap_or(Value::Null);
    let extra = |key: &str| other.get(key).cloned().unwrap_or(Value::Null);
    vec![
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

pub(super) fn table(logs: &[Value], detail: bool) -> Table {
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
pub(super) fn card(log: &Value) -> Record {
    fields(log).into_iter().fold(Record::new(), |record, f| {
        record.field(f.key, f.header, f.cell)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
}
