//! The neutral data model between commands and formatters.
//!
//! A command builds an [`Output`]; a formatter renders it. Every cell keeps a
//! typed value (for json and yaml) and the text people read (for table,
//! markdown and csv), so money can be `1.5` in json and `$1.50` in a table.

use serde_json::{Map, Value};

use crate::error::ExitCode;

#[derive(Clone, Debug, PartialEq)]
pub enum Output {
    /// One object: rendered as Field | Value.
    Record(Record),
    /// Rows under named columns.
    Table(Table),
    /// A document with no fixed shape, passed through as it is.
    Json(Value),
    /// A line of text (`config path`).
    Text(String),
    /// Nothing to print: the command wrote as it went, or had nothing to say.
    Empty,
}

/// What a command's run function returns: the data and the exit code to end with
/// (non-zero only for commands such as `doctor` that report and still fail).
#[derive(Debug)]
pub struct Outcome {
    pub output: Output,
    pub exit: ExitCode,
}

impl Outcome {
    pub fn with_exit(output: Output, exit: ExitCode) -> Self {
        Outcome { output, exit }
    }
}

impl From<Output> for Outcome {
    fn from(output: Output) -> Self {
        Outcome {
            output,
            exit: ExitCode::Success,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Cell {
    pub value: Value,
    pub text: String,
    pub tone: Tone,
}

/// What a cell means at a glance; the table formatter colours it when colour is allowed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Tone {
    #[default]
    Plain,
    Good,
    Warn,
    Bad,
    Dim,
}

impl Cell {
    /// A cell whose text is derived from its value (`null` reads as `-`).
    pub fn new(value: impl Into<Value>) -> Self {
        let value = value.into();
        let text = display(&value);
        Cell::with_text(value, text)
    }

    /// A cell whose text people read differs from its typed value.
    pub fn with_text(value: impl Into<Value>, text: impl Into<String>) -> Self {
        Cell {
            value: value.into(),
            text: text.into(),
            tone: Tone::Plain,
        }
    }

    /// A count people read with thousands separators (`400,000`); the value stays a number.
    pub fn count(value: Value) -> Self {
        match value.as_u64() {
            Some(n) => Cell::with_text(value, group_thousands(&n.to_string())),
            None => Cell::new(value),
        }
    }

    pub fn tone(mut self, tone: Tone) -> Self {
        self.tone = tone;
        self
    }

    /// No value at all: shown as [`MISSING`] to people and left empty in csv.
    /// Text a command chose for a null (`Unlimited`, `Never`) is not missing.
    pub fn is_missing(&self) -> bool {
        let empty = match &self.value {
            Value::Null => true,
            Value::String(s) => s.is_empty(),
            Value::Array(items) => items.is_empty(),
            _ => false,
        };
        empty && self.text == MISSING
    }
}

/// The one placeholder for a value that is not there, in every human format but csv.
pub const MISSING: &str = "-";

/// `1234567` → `1,234,567`: commas between groups of three digits, for a run of ASCII
/// digits (a whole number's or a money amount's integer part).
pub fn group_thousands(digits: &str) -> String {
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A decimal without float noise: at most `decimals` places, trailing zeros dropped
/// (`0.30000000000000004` → `0.3`, `4.0` → `4`).
pub fn trimmed_decimal(value: f64, decimals: usize) -> String {
    let fixed = format!("{value:.decimals$}");
    let trimmed = if fixed.contains('.') {
        fixed.trim_end_matches('0').trim_end_matches('.')
    } else {
        &fixed
    };
    match trimmed {
        "-0" => "0".to_string(),
        other => other.to_string(),
    }
}

impl<T: Into<Value>> From<T> for Cell {
    fn from(value: T) -> Self {
        Cell::new(value)
    }
}

/// How a JSON value reads in a table: strings bare, lists comma-joined, null as `-`.
pub fn display(value: &Value) -> String {
    match value {
        Value::Null => MISSING.to_string(),
        Value::String(s) if s.is_empty() => MISSING.to_string(),
        Value::String(s) => s.clone(),
        Value::Array(items) if items.is_empty() => MISSING.to_string(),
        Value::Array(items) => items.iter().map(display).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    pub key: String,
    pub label: String,
    pub cell: Cell,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Record {
    pub fields: Vec<Field>,
    /// The server's own record, which json and yaml show instead of the fields.
    pub raw: Option<Value>,
}

impl Record {
    pub fn new() -> Self {
        Record::default()
    }

    pub fn field(mut self, key: &str, label: &str, cell: impl Into<Cell>) -> Self {
        self.fields.push(Field {
            key: key.to_string(),
            label: label.to_string(),
            cell: cell.into(),
        });
        self
    }

    pub fn with_raw(mut self, raw: Value) -> Self {
        self.raw = Some(raw);
        self
    }

    /// The typed form: the raw record if there is one, else `{key: value, ...}` in field order.
    pub fn to_json(&self) -> Value {
        if let Some(raw) = &self.raw {
            return raw.clone();
        }
        let map: Map<String, Value> = self
            .fields
            .iter()
            .map(|f| (f.key.clone(), f.cell.value.clone()))
            .collect();
        Value::Object(map)
    }
}

/// How a column's text may be fitted to a narrow terminal.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Fit {
    /// Never split or shortened: ids, dates, numbers, money (the default).
    #[default]
    Whole,
    /// Free text: cut at a space and ended with `…`, so each row stays one line.
    Truncate,
    /// Free text: wrapped at spaces onto more lines, so nothing is lost.
    Wrap,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Column {
    pub key: String,
    pub header: String,
    /// Shown only in structured formats (json, yaml): detail too wide for a table row.
    pub structured_only: bool,
    /// How the column's text may be fitted to the terminal width.
    pub fit: Fit,
    /// When a terminal is too narrow for every column, the droppable ones are left out,
    /// lowest rank first, until the rest fit; `None` is never dropped.
    pub drop_rank: Option<u8>,
}

impl Column {
    pub fn new(key: &str, header: &str) -> Self {
        Column {
            key: key.to_string(),
            header: header.to_string(),
            structured_only: false,
            fit: Fit::Whole,
            drop_rank: None,
        }
    }

    pub fn structured_only(mut self) -> Self {
        self.structured_only = true;
        self
    }

    /// Free text, cut with `…` at a space to fit (see [`Fit::Truncate`]).
    pub fn truncates(mut self) -> Self {
        self.fit = Fit::Truncate;
        self
    }

    /// Free text, wrapped at spaces to fit (see [`Fit::Wrap`]).
    pub fn wraps(mut self) -> Self {
        self.fit = Fit::Wrap;
        self
    }

    /// May be left out of a table on a narrow terminal; rank 1 goes first.
    pub fn droppable(mut self, rank: u8) -> Self {
        self.drop_rank = Some(rank);
        self
    }
}

/// How many entries a list shows out of how many there are, and which page:
/// `showing 20 of 250, page 1/13`. Commands fill it in; the app prints it on a terminal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Listing {
    pub shown: usize,
    /// All the entries that match, when the server (or the command) knows.
    pub total: Option<u64>,
    /// The page shown and the page size, for paged lists.
    pub page: Option<(u32, u32)>,
}

impl std::fmt::Display for Listing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "showing {}", self.shown)?;
        if let Some(total) = self.total {
            write!(f, " of {total}")?;
        }
        match (self.page, self.total) {
            (Some((page, size)), Some(total)) => {
                let pages = total.div_ceil(u64::from(size.max(1))).max(1);
                write!(f, ", page {page}/{pages}")
            }
            (Some((page, _)), None) => write!(f, ", page {page}"),
            (None, _) => Ok(()),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<Cell>>,
    /// What people see instead of an empty table ("No models found.").
    pub empty_message: String,
    /// How many of how many, for lists that are cut or paged.
    pub listing: Option<Listing>,
}

impl Table {
    pub fn new(columns: Vec<Column>, empty_message: &str) -> Self {
        Table {
            columns,
            rows: Vec::new(),
            empty_message: empty_message.to_string(),
            listing: None,
        }
    }

    /// Says how many rows are shown of how many (see [`Listing`]); `shown` is the rows pushed.
    pub fn listed(mut self, total: Option<u64>, page: Option<(u32, u32)>) -> Self {
        self.listing = Some(Listing {
            shown: self.rows.len(),
            total,
            page,
        });
        self
    }

    pub fn push(&mut self, row: Vec<Cell>) {
        debug_assert_eq!(
            row.len(),
            self.columns.len(),
            "row width must match columns"
        );
        self.rows.push(row);
    }

    /// Indices of the columns shown in human formats (table, markdown, csv).
    pub fn human_columns(&self) -> Vec<usize> {
        (0..self.columns.len())
            .filter(|&i| !self.columns[i].structured_only)
            .collect()
    }

    /// The typed form: an array of `{key: value}` objects with every column.
    pub fn to_json(&self) -> Value {
        let rows = self
            .rows
            .iter()
            .map(|row| {
                let map: Map<String, Value> = self
                    .columns
                    .iter()
                    .zip(row)
                    .map(|(col, cell)| (col.key.clone(), cell.value.clone()))
                    .collect();
                Value::Object(map)
            })
            .collect();
        Value::Array(rows)
    }
}

impl Output {
    /// The typed form used by json and yaml.
    pub fn to_json(&self) -> Value {
        match self {
            Output::Record(record) => record.to_json(),
            Output::Table(table) => table.to_json(),
            Output::Json(value) => value.clone(),
            Output::Text(text) => Value::String(text.clone()),
            Output::Empty => Value::Null,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn table_json_keeps_every_column_typed() {
        let mut table = Table::new(
            vec![
                Column::new("id", "ID"),
                Column::new("usd", "USD").structured_only(),
            ],
            "none",
        );
        table.push(vec![Cell::new("a"), Cell::with_text(1.5, "$1.50")]);
        assert_eq!(table.to_json(), json!([{"id": "a", "usd": 1.5}]));
        assert_eq!(table.human_columns(), vec![0]);
    }

    #[test]
    fn counts_get_thousands_separators() {
        assert_eq!(Cell::count(json!(1_048_576)).text, "1,048,576");
        assert_eq!(Cell::count(json!(999)).text, "999");
        assert_eq!(Cell::count(json!(1000)).value, json!(1000));
        assert_eq!(Cell::count(Value::Null).text, "-");
    }

    #[test]
    fn listings_say_how_many_of_how_many() {
        let listing = |shown, total, page| Listing { shown, total, page }.to_string();
        assert_eq!(
            listing(20, Some(250), Some((1, 20))),
            "showing 20 of 250, page 1/13"
        );
        assert_eq!(
            listing(0, Some(0), Some((1, 20))),
            "showing 0 of 0, page 1/1"
        );
        assert_eq!(listing(5, Some(301), None), "showing 5 of 301");
        assert_eq!(listing(3, None, Some((2, 3))), "showing 3, page 2");
    }

    #[test]
    fn missing_is_a_null_shown_as_the_placeholder() {
        assert!(Cell::new(Value::Null).is_missing());
        assert!(Cell::new("").is_missing());
        assert!(!Cell::new("-").is_missing(), "a real dash is a value");
        assert!(!Cell::with_text(Value::Null, "Never").is_missing());
    }

    #[test]
    fn decimals_lose_float_noise() {
        assert_eq!(trimmed_decimal(0.1 + 0.2, 6), "0.3");
        assert_eq!(trimmed_decimal(4.0, 6), "4");
        assert_eq!(trimmed_decimal(-0.000_000_1, 6), "0");
        assert_eq!(group_thousands("1234567"), "1,234,567");
    }

    #[test]
    fn display_reads_like_a_person_expects() {
        assert_eq!(display(&Value::Null), "-");
        assert_eq!(display(&json!(["a", "b"])), "a, b");
        assert_eq!(display(&json!(3)), "3");
        assert_eq!(display(&json!(true)), "true");
    }
}
