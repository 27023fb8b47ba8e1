//! `embed`'s rows, written batch by batch as they come back in input order, so memory
//! stays flat however many inputs there are. JSON lines when piped with the default
//! format, a short table on a terminal, a JSON array (`json`) or CSV (`csv`) streamed
//! row by row; any other format gets the whole table through its formatter at the end.

use std::io::{self, Write};

use serde::Serialize;
use serde_json::json;

use crate::output::{Cell, Column, Output, Table};

/// Characters of an input shown in the terminal table.
const PREVIEW_CHARS: usize = 30;
/// Leading values of a vector shown in the terminal table.
const PREVIEW_VALUES: usize = 3;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// One `{"index","input","embedding"}` object per line.
    Jsonl,
    /// A JSON array of the same objects, one per line.
    JsonArray,
    /// `index,input,embedding` with the vector as a JSON array.
    Csv,
    /// Index, input preview, dimensions and first values, fixed width (75 columns).
    Terminal,
    /// A [`Table`] collected and given to the formatter in force.
    Formatter,
}

impl Style {
    /// The style for a format name, `terminal` telling whether stdout is one.
    pub fn for_format(format: &str, terminal: bool) -> Style {
        match format {
            "table" if terminal => Style::Terminal,
            "table" => Style::Jsonl,
            "json" => Style::JsonArray,
            "csv" => Style::Csv,
            _ => Style::Formatter,
        }
    }
}

#[derive(Serialize)]
struct Row<'a> {
    index: usize,
    input: &'a str,
    embedding: &'a [f64],
}

pub struct Rows<W: Write> {
    out: W,
    style: Style,
    written: usize,
    table: Option<Table>,
}

impl<W: Write> Rows<W> {
    pub fn new(out: W, style: Style) -> Rows<W> {
        let table = (style == Style::Formatter).then(|| {
            let columns = vec![
                Column::new("index", "Index"),
                Column::new("input", "Input"),
                Column::new("dimensions", "Dimensions"),
                Column::new("embedding", "Embedding").structured_only(),
            ];
            Table::new(columns, "Nothing embedded.")
        });
        Rows {
            out,
            style,
            written: 0,
            table,
        }
    }

    /// Writes one batch's rows (numbered on from the rows before) and flushes them.
    pub fn batch(&mut self, inputs: &[String], vectors: &[Vec<f64>]) -> io::Result<()> {
        for (input, embedding) in inputs.iter().zip(vectors) {
            let index = self.written;
            self.written += 1;
            self.row(&Row {
                index,
                input,
                embedding,
            })?;
        }
        self.out.flush()
    }

    fn row(&mut self, row: &Row) -> io::Result<()> {
        match self.style {
            Style::Jsonl => {
                serde_json::to_writer(&mut self.out, row)?;
                self.out.write_all(b"\n")
            }
            Style::JsonArray => {
                self.out
                    .write_all(if row.index == 0 { b"[\n  " } else { b",\n  " })?;
                serde_json::to_writer(&mut self.out, row).map_err(io::Error::from)
            }
            Style::Csv => self.csv_row(row),
            Style::Terminal => self.terminal_row(row),
            Style::Formatter => {
                if let Some(table) = self.table.as_mut() {
                    table.push(vec![
                        Cell::new(row.index),
                        Cell::new(row.input),
                        Cell::new(row.embedding.len()),
                        Cell::new(json!(row.embedding)),
                    ]);
                }
                Ok(())
            }
        }
    }

    fn csv_row(&mut self, row: &Row) -> io::Result<()> {
        let mut writer = csv::Writer::from_writer(&mut self.out);
        if row.index == 0 {
            writer.write_record(["index", "input", "embedding"])?;
        }
        let vector = serde_json::to_string(row.embedding)?;
        writer.write_record([&row.index.to_string(), row.input, &vector])?;
        writer.flush()
    }

    fn terminal_row(&mut self, row: &Row) -> io::Result<()> {
        if row.index == 0 {
            writeln!(
                self.out,
                "{:>6}  {:<width$}  {:>5}  First values",
                "Index",
                "Input",
                "Dims",
                width = PREVIEW_CHARS
            )?;
        }
        let first: Vec<String> = row
            .embedding
            .iter()
            .take(PREVIEW_VALUES)
            .map(|v| format!("{v:.4}"))
            .collect();
        let more = if row.embedding.len() > PREVIEW_VALUES {
            ", …"
        } else {
            ""
        };
        writeln!(
            self.out,
            "{:>6}  {}  {:>5}  {}{more}",
            row.index,
            preview(row.input),
            row.embedding.len(),
            first.join(", ")
        )
    }

    /// Ends the output: closes the JSON array, or hands the collected table back to
    /// be rendered by the formatter.
    pub fn finish(mut self) -> io::Result<Output> {
        if let Some(table) = self.table.take() {
            return Ok(Output::Table(table));
        }
        if self.style == Style::JsonArray {
            let end: &[u8] = if self.written == 0 { b"[]\n" } else { b"\n]\n" };
            self.out.write_all(end)?;
        }
        self.out.flush()?;
        Ok(Output::Empty)
    }
}

/// The start of an input on one line, padded to [`PREVIEW_CHARS`] characters: control
/// characters become spaces and a longer input ends in `…`.
fn preview(input: &str) -> String {
    let clean: String = input
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let mut shown: String = clean.chars().take(PREVIEW_CHARS).collect();
    if clean.chars().count() > PREVIEW_CHARS {
        shown = shown.chars().take(PREVIEW_CHARS - 1).collect();
        shown.push('…');
    }
    format!("{shown:<PREVIEW_CHARS$}")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two batches of one row each, then the end, as text.
    fn rendered(style: Style) -> String {
        let mut out = Vec::new();
        let mut rows = Rows::new(&mut out, style);
        rows.batch(&["a \"b\"".to_string()], &[vec![0.5, 0.25]])
            .expect("write");
        rows.batch(&["c,d".to_string()], &[vec![1.0, -1.0]])
            .expect("write");
        assert!(matches!(rows.finish(), Ok(Output::Empty)));
        String::from_utf8(out).expect("utf-8")
    }

    #[test]
    fn jsonl_rows_are_numbered_across_batches() {
        assert_eq!(
            rendered(Style::Jsonl),
            "{\"index\":0,\"input\":\"a \\\"b\\\"\",\"embedding\":[0.5,0.25]}\n\
             {\"index\":1,\"input\":\"c,d\",\"embedding\":[1.0,-1.0]}\n"
        );
    }

    #[test]
    fn csv_quotes_and_has_one_header() {
        assert_eq!(
            rendered(Style::Csv),
            "index,input,embedding\n0,\"a \"\"b\"\"\",\"[0.5,0.25]\"\n1,\"c,d\",\"[1.0,-1.0]\"\n"
        );
    }

    #[test]
    fn a_json_array_is_valid_json_empty_or_not() {
        let value: serde_json::Value =
            serde_json::from_str(&rendered(Style::JsonArray)).expect("json");
        assert_eq!(
            value[1],
            json!({"index": 1, "input": "c,d", "embedding": [1.0, -1.0]})
        );
        let mut out = Vec::new();
        Rows::new(&mut out, Style::JsonArray)
            .finish()
            .expect("finish");
        assert_eq!(out, b"[]\n");
    }

    #[test]
    fn the_terminal_table_previews_inputs_and_values() {
        let mut out = Vec::new();
        let mut rows = Rows::new(&mut out, Style::Terminal);
        let long = format!("line\none {}", "x".repeat(60));
        rows.batch(&[long], &[vec![0.123_456, 0.5, 0.25, 1.0]])
            .expect("write");
        rows.finish().expect("finish");
        let text = String::from_utf8(out).expect("utf-8");
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with(" Index  Input"), "{text}");
        assert!(lines[1].contains("line one xxx"), "{text}");
        assert!(
            lines[1].contains("x…      4  0.1235, 0.5000, 0.2500, …"),
            "{text}"
        );
    }

    #[test]
    fn other_formats_get_the_whole_table() {
        let mut rows = Rows::new(Vec::new(), Style::Formatter);
        rows.batch(&["x".to_string()], &[vec![0.5]]).expect("write");
        let Ok(Output::Table(table)) = rows.finish() else {
            panic!("a table");
        };
        assert_eq!(
            table.to_json(),
            json!([{"index": 0, "input": "x", "dimensions": 1, "embedding": [0.5]}])
        );
    }

    #[test]
    fn styles_follow_the_format_and_the_terminal() {
        assert_eq!(Style::for_format("table", true), Style::Terminal);
        assert_eq!(Style::for_format("table", false), Style::Jsonl);
        assert_eq!(Style::for_format("json", true), Style::JsonArray);
        assert_eq!(Style::for_format("csv", false), Style::Csv);
        assert_eq!(Style::for_format("yaml", false), Style::Formatter);
    }
}
