//! The console (`/api/...`) side shared by the account and usage commands:
//! authenticated GETs with the access token, list shapes, and paging options.

use clap::{value_parser, Arg, ArgMatches};
use serde_json::Value;

use crate::api::envelope::console_get;
use crate::cli::context::Context;
use crate::error::Result;
use crate::net::urls::with_query;
use crate::net::Auth;

/// GET `{root}/api/{path}` with the access token and return the reply's `data`.
pub fn get(ctx: &Context, path: &str, query: &[(&str, Option<String>)]) -> Result<Value> {
    let token = ctx.access_token()?;
    let url = with_query(&ctx.base_url()?.console(path), query);
    console_get(ctx.http()?, &url, Auth::AccessToken(&token))
}

/// The entries of a list reply, which comes as `data: [...]` or `data: {"items": [...]}`.
pub fn items(data: Value) -> Vec<Value> {
    match data {
        Value::Array(items) => items,
        Value::Object(mut map) => match map.remove("items").or_else(|| map.remove("data")) {
            Some(Value::Array(items)) => items,
            _ => Vec::new(),
        },
        _ => Vec::new(),
    }
}

/// A list reply's entries and, when the server says (`{"items", "total"}`), how many
/// match in all.
pub fn page(data: Value) -> (Vec<Value>, Option<u64>) {
    let total = data.get("total").and_then(Value::as_u64);
    (items(data), total)
}

/// The page shown and its size, from [`page_args`], for a table's `Listing`.
pub fn page_of(m: &ArgMatches) -> Option<(u32, u32)> {
    Some((*m.get_one::<u32>("page")?, *m.get_one::<u32>("page_size")?))
}

/// A field of a console record, `null` when absent.
pub fn field(record: &Value, name: &str) -> Value {
    record.get(name).cloned().unwrap_or(Value::Null)
}

/// An integer field of a console record (codes, timestamps), 0 when absent.
pub fn int_field(record: &Value, name: &str) -> i64 {
    record.get(name).and_then(Value::as_i64).unwrap_or(0)
}

/// `--page` (1-based; no short flag: `-p` means prompt across commands) and `--page-size`
/// (also `-l/--limit`).
pub fn page_args() -> [Arg; 2] {
    [
        Arg::new("page")
            .long("page")
            .value_name("N")
            .value_parser(value_parser!(u32).range(1..))
            .default_value("1")
            .help("Page number, from 1"),
        Arg::new("page_size")
            .long("page-size")
            .visible_alias("limit")
            .short('l')
            .value_name("N")
            .value_parser(value_parser!(u32).range(1..=1000))
            .default_value("20")
            .help("Entries per page"),
    ]
}

/// The `p` and `page_size` query parameters from [`page_args`].
pub fn page_query(m: &ArgMatches) -> [(&'static str, Option<String>); 2] {
    [
        ("p", m.get_one::<u32>("page").map(u32::to_string)),
        (
            "page_size",
            m.get_one::<u32>("page_size").map(u32::to_string),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn items_come_from_either_list_shape() {
        assert_eq!(items(json!([1, 2])), vec![json!(1), json!(2)]);
        assert_eq!(items(json!({"items": [3], "total": 1})), vec![json!(3)]);
        assert_eq!(items(json!({"data": [4]})), vec![json!(4)]);
        assert!(items(json!(null)).is_empty());
        assert_eq!(
            page(json!({"items": [3], "total": 250})),
            (vec![json!(3)], Some(250))
        );
        assert_eq!(page(json!([1])), (vec![json!(1)], None));
    }
}
