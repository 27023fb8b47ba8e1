//! `csv`: a header row, then one row per record, RFC 4180 quoting. Numbers are
//! written as numbers (`400000`, not `400,000`; no float noise) so spreadsheets and
//! scripts can add them up, and a missing value is an empty field.

use std::borrow::Cow;
use std::io::{self, Write};

use serde_json::Value;

use crate::cli::registry::{FormatterSpec, RenderOptions};
use crate::output::{trimmed_decimal, Cell, Output};

fn render(output: &Output, _: &RenderOptions, out: &mut dyn Write) -> io::Result<()> {
    let mut writer = ::csv::Writer::from_writer(out);
    match output {
        Output::Table(table) => {
            let shown = table.human_columns();
            writer
                .write_record(shown.iter().map(|&i| &table.columns[i].header))
                .map_err(into_io)?;
            for row in &table.rows {
                writer
                    .write_record(shown.iter().map(|&i| field(&row[i]).into_owned()))
                    .map_err(into_io)?;
            }
        }
        Output::Record(record) => {
            writer
                .write_record(record.fields.iter().map(|f| &f.label))
                .map_err(into_io)?;
            writer
                .write_record(record.fields.iter().map(|f| field(&f.cell).into_owned()))
                .map_err(into_io)?;
        }
        Output::Json(value) => writer.write_record([value.to_string()]).map_err(into_io)?,
        Output::Text(text) => writer.write_record([text]).map_err(into_io)?,
        Output::Empty => {}
    }
    writer.flush()
}

/// The most decimals a fractional number keeps: enough for a quota unit in dollars.
const MAX_DECIMALS: usize = 10;

/// A number or boolean as its plain value; nothing for a missing value; anything else
/// as the text people read.
fn field(cell: &Cell) -> Cow<'_, str> {
    match &cell.value {
        Value::Number(n) if n.is_f64() => Cow::Owned(trimmed_decimal(
            n.as_f64().unwrap_or_default(),
            MAX_DECIMALS,
        )),
        Value::Number(_) | Value::Bool(_) => Cow::Owned(cell.value.to_string()),
        _ if cell.is_missing() => Cow::Borrowed(""),
        _ => Cow::Borrowed(&cell.text),
    }
}

/// Keeps the I/O error kind, so a closed pipe is still recognised as one.
fn into_io(err: ::csv::Error) -> io::Error {
    match err.into_kind() {
        ::csv::ErrorKind::Io(io) => io,
        other => io::Error::other(format!("{other:?}")),
    }
}

inventory::submit! {
    FormatterSpec::new("csv", "CSV with a header row (RFC 4180)", render)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::{Cell, Column, Table};

    #[test]
    fn quotes_per_rfc_4180_and_skips_structured_only_columns() {
        let mut table = Table::new(
            vec![
                Column::new("id", "ID"),
                Column::new("note", "Note"),
                Column::new("raw", "Raw").structured_only(),
            ],
            "none",
        );
        table.push(vec![
            Cell::new("a,b"),
            Cell::new("say \"hi\"\nbye"),
            Cell::new(1),
        ]);
        assert_eq!(
            super::super::rendered(render, &Output::Table(table), RenderOptions::PLAIN),
            "ID,Note\n\"a,b\",\"say \"\"hi\"\"\nbye\"\n"
        );
    }

    #[test]
    fn numbers_stay_plain_numbers() {
        let mut table = Table::new(
            vec![Column::new("ctx", "Context"), Column::new("p", "Price")],
            "none",
        );
        table.push(vec![
            Cell::count(serde_json::json!(400000)),
            Cell::with_text(serde_json::json!({"input": 1}), "in $1/M"),
        ]);
        assert_eq!(
            super::super::rendered(render, &Output::Table(table), RenderOptions::PLAIN),
            "Context,Price\n400000,in $1/M\n"
        );
    }

    #[test]
    fn missing_is_empty_and_floats_have_no_noise() {
        let mut table = Table::new(
            vec![
                Column::new("a", "A"),
                Column::new("b", "B"),
                Column::new("c", "C"),
            ],
            "none",
        );
        table.push(vec![
            Cell::new(serde_json::Value::Null),
            Cell::new(0.1 + 0.2),
            Cell::with_text(serde_json::Value::Null, "Never"),
        ]);
        assert_eq!(
            super::super::rendered(render, &Output::Table(table), RenderOptions::PLAIN),
            "A,B,C\n,0.3,Never\n"
        );
    }
}
