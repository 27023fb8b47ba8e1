//! `table`: bordered and fitted to the terminal width on a terminal (colour
//! only when allowed); plain aligned columns when piped, for grep and awk.

use std::io::{self, Write};

use comfy_table::{
    modifiers, presets, Attribute, Cell as GridCell, Color, ContentArrangement, Table as Grid,
};

use crate::output::{Output, Tone};
use crate::registry::{FormatterSpec, RenderOptions};
use crate::terminal_text;

/// One rendered cell: its text and how it should look.
type Styled<'a> = (&'a str, Tone);

fn render(output: &Output, options: &RenderOptions, out: &mut dyn Write) -> io::Result<()> {
    let (header, rows): (Option<Vec<&str>>, Vec<Vec<Styled>>) = match output {
        Output::Table(table) if table.rows.is_empty() => {
            return writeln!(out, "{}", table.empty_message)
        }
        Output::Table(table) => {
            let shown = table.human_columns();
            (
                Some(
                    shown
                        .iter()
                        .map(|&i| table.columns[i].header.as_str())
                        .collect(),
                ),
                table
                    .rows
                    .iter()
                    .map(|row| {
                        shown
                            .iter()
                            .map(|&i| (row[i].text.as_str(), row[i].tone))
                            .collect()
                    })
                    .collect(),
            )
        }
        Output::Record(record) => (
            None,
            record
                .fields
                .iter()
                .map(|f| {
                    vec![
                        (f.label.as_str(), Tone::Plain),
                        (f.cell.text.as_str(), f.cell.tone),
                    ]
                })
                .collect(),
        ),
        Output::Json(value) => {
            let json = format!("{value:#}");
            return writeln!(out, "{}", terminal_text::escape_json_controls(&json));
        }
        Output::Text(text) => return writeln!(out, "{text}"),
        Output::Empty => return Ok(()),
    };
    if options.terminal {
        writeln!(out, "{}", grid(header, rows, options.color))
    } else {
        write_plain(out, header, rows)
    }
}

fn grid(header: Option<Vec<&str>>, rows: Vec<Vec<Styled>>, color: bool) -> Grid {
    let mut grid = Grid::new();
    grid.load_preset(presets::UTF8_FULL_CONDENSED)
        .apply_modifier(modifiers::UTF8_ROUND_CORNERS)
        .set_content_arrangement(ContentArrangement::Dynamic);
    let is_record = header.is_none();
    if let Some(header) = header {
        grid.set_header(header.into_iter().map(|h| {
            let cell = GridCell::new(h);
            if color {
                cell.add_attribute(Attribute::Bold).fg(Color::Cyan)
            } else {
                cell
            }
        }));
    }
    for row in rows {
        grid.add_row(row.into_iter().enumerate().map(|(i, (text, tone))| {
            let cell = GridCell::new(text);
            match (color, tone) {
                (false, _) => cell,
                (true, Tone::Plain) if is_record && i == 0 => cell.fg(Color::Cyan),
                (true, Tone::Plain) => cell,
                (true, Tone::Good) => cell.fg(Color::Green),
                (true, Tone::Warn) => cell.fg(Color::Yellow),
                (true, Tone::Bad) => cell.fg(Color::Red).add_attribute(Attribute::Bold),
                (true, Tone::Dim) => cell.fg(Color::DarkGrey),
            }
        }));
    }
    grid
}

/// Columns padded to a common width, two spaces apart, no trailing blanks.
fn write_plain(
    out: &mut dyn Write,
    header: Option<Vec<&str>>,
    rows: Vec<Vec<Styled>>,
) -> io::Result<()> {
    let all: Vec<Vec<String>> = header
        .into_iter()
        .chain(
            rows.into_iter()
                .map(|row| row.into_iter().map(|(text, _)| text).collect()),
        )
        .map(|row| {
            row.into_iter()
                .map(|cell| cell.replace(['\n', '\r', '\t'], " "))
                .collect()
        })
        .collect();
    let columns = all.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            all.iter()
                .filter_map(|row| row.get(c))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for row in &all {
        let mut line = String::new();
        for (c, cell) in row.iter().enumerate() {
            if c + 1 == row.len() {
                line.push_str(cell);
            } else {
                line.push_str(&format!("{cell:<width$}  ", width = widths[c]));
            }
        }
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}

inventory::submit! {
    FormatterSpec::new("table", "a table for people (the default)", render)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::{Cell, Column, Table};

    fn sample() -> Output {
        let mut table = Table::new(
            vec![Column::new("id", "ID"), Column::new("p", "Provider")],
            "No models found.",
        );
        table.push(vec![Cell::new("gpt-5.4"), Cell::new("OpenAI")]);
        table.push(vec![Cell::new("o1"), Cell::new("OpenAI")]);
        Output::Table(table)
    }

    fn rendered(output: &Output, options: RenderOptions) -> String {
        super::super::rendered(render, output, options)
    }

    #[test]
    fn piped_is_plain_aligned_columns() {
        let text = rendered(
            &sample(),
            RenderOptions {
                color: false,
                terminal: false,
            },
        );
        assert_eq!(
            text,
            "ID       Provider\ngpt-5.4  OpenAI\no1       OpenAI\n"
        );
    }

    #[test]
    fn terminal_draws_borders_and_colours_only_when_allowed() {
        let plain = rendered(
            &sample(),
            RenderOptions {
                color: false,
                terminal: true,
            },
        );
        assert!(plain.contains('╭') && plain.contains("gpt-5.4"));
        assert!(!plain.contains('\x1b'), "no ANSI without colour: {plain}");
    }

    #[test]
    fn empty_table_prints_its_message() {
        let empty = Output::Table(Table::new(
            vec![Column::new("id", "ID")],
            "No models found.",
        ));
        assert_eq!(
            rendered(
                &empty,
                RenderOptions {
                    color: true,
                    terminal: true
                }
            ),
            "No models found.\n"
        );
    }
}
