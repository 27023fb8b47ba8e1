//! `markdown`: a GitHub table; a record renders as Field | Value.

use std::io::{self, Write};

use crate::cli::registry::{FormatterSpec, RenderOptions};
use crate::output::Output;
use crate::term::sanitize;

fn render(output: &Output, _: &RenderOptions, out: &mut dyn Write) -> io::Result<()> {
    match output {
        Output::Table(table) if table.rows.is_empty() => writeln!(out, "{}", table.empty_message),
        Output::Table(table) => {
            let shown = table.human_columns();
            write_row(out, shown.iter().map(|&i| table.columns[i].header.as_str()))?;
            write_row(out, shown.iter().map(|_| "---"))?;
            for row in &table.rows {
                write_row(out, shown.iter().map(|&i| row[i].text.as_str()))?;
            }
            Ok(())
        }
        Output::Record(record) => {
            write_row(out, ["Field", "Value"].into_iter())?;
            write_row(out, ["---", "---"].into_iter())?;
            for field in &record.fields {
                write_row(
                    out,
                    [field.label.as_str(), field.cell.text.as_str()].into_iter(),
                )?;
            }
            Ok(())
        }
        Output::Json(value) => {
            let json = format!("{value:#}");
            let json = sanitize::escape_json_controls(&json);
            writeln!(out, "```json\n{json}\n```")
        }
        Output::Text(text) => writeln!(out, "{text}"),
        Output::Empty => Ok(()),
    }
}

fn write_row<'a>(out: &mut dyn Write, cells: impl Iterator<Item = &'a str>) -> io::Result<()> {
    let cells: Vec<String> = cells.map(escape).collect();
    writeln!(out, "| {} |", cells.join(" | "))
}

/// A pipe would end the cell and a newline the row.
fn escape(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace("\r\n", "<br>")
        .replace('\n', "<br>")
}

inventory::submit! {
    FormatterSpec::new("markdown", "GitHub-flavoured Markdown table", render)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::{Cell, Record};

    #[test]
    fn record_is_field_value_with_escaping() {
        let record = Record::new().field("a", "Name", Cell::new("x|y\nz"));
        assert_eq!(
            super::super::rendered(render, &Output::Record(record), RenderOptions::PLAIN),
            "| Field | Value |\n| --- | --- |\n| Name | x\\|y<br>z |\n"
        );
    }
}
