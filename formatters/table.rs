//! `table`: bordered and fitted to the terminal width on a terminal (colour
//! only when allowed); plain aligned columns when piped, for grep and awk.

use std::io::{self, Write};

use comfy_table::{modifiers, presets, Attribute, Cell as GridCell, Color, Table as Grid};

use crate::cli::registry::{FormatterSpec, RenderOptions};
use crate::output::fit::{self, Needs, Plan};
use crate::output::{Fit, Output, Tone};
use crate::term::sanitize;
use crate::term::style::DIM;

/// One rendered cell: its text and how it should look.
type Styled<'a> = (&'a str, Tone);

/// Rows under an optional header, with how each column may be fitted to a terminal.
struct Rows<'a> {
    header: Option<Vec<&'a str>>,
    /// One per column: how its text may be fitted, and when it may be dropped.
    fits: Vec<(Fit, Option<u8>)>,
    rows: Vec<Vec<Styled<'a>>>,
}

fn render(output: &Output, options: &RenderOptions, out: &mut dyn Write) -> io::Result<()> {
    let grid = match output {
        Output::Table(table) if table.rows.is_empty() => {
            return writeln!(out, "{}", table.empty_message)
        }
        Output::Table(table) => {
            let shown = table.human_columns();
            let column = |i: usize| &table.columns[i];
            Rows {
                header: Some(shown.iter().map(|&i| column(i).header.as_str()).collect()),
                fits: shown
                    .iter()
                    .map(|&i| (column(i).fit, column(i).drop_rank))
                    .collect(),
                rows: table
                    .rows
                    .iter()
                    .map(|row| {
                        shown
                            .iter()
                            .map(|&i| (row[i].text.as_str(), row[i].tone))
                            .collect()
                    })
                    .collect(),
            }
        }
        // A record's labels stay whole; its values are wrapped, so nothing is lost.
        Output::Record(record) => Rows {
            header: None,
            fits: vec![(Fit::Whole, None), (Fit::Wrap, None)],
            rows: record
                .fields
                .iter()
                .map(|f| {
                    vec![
                        (f.label.as_str(), Tone::Plain),
                        (f.cell.text.as_str(), f.cell.tone),
                    ]
                })
                .collect(),
        },
        Output::Json(value) => {
            let json = format!("{value:#}");
            return writeln!(out, "{}", sanitize::escape_json_controls(&json));
        }
        Output::Text(text) => return writeln!(out, "{text}"),
        Output::Empty => return Ok(()),
    };
    if options.terminal {
        write_fitted(out, grid, options)
    } else {
        write_plain(out, grid.header, grid.rows)
    }
}

/// The bordered table fitted to the terminal width, then a dim line naming any columns
/// that were left out. It goes to stdout right under the table, because it describes
/// this rendering and exists only when stdout is a terminal.
fn write_fitted(out: &mut dyn Write, grid: Rows, options: &RenderOptions) -> io::Result<()> {
    let plan = plan(&grid, options.width);
    let dropped: Vec<&str> = match &grid.header {
        Some(header) => plan.dropped.iter().map(|&i| header[i]).collect(),
        None => Vec::new(),
    };
    writeln!(out, "{}", bordered(grid, &plan, options.color))?;
    if dropped.is_empty() {
        return Ok(());
    }
    let footer = format!(
        "Not shown at {} columns: {} (widen the terminal, or use --format csv or json for every column)",
        options.width,
        dropped.join(", ")
    );
    let footer = fit::wrap(&footer, options.width);
    writeln!(out, "{}", DIM.paint(footer, options.color))
}

fn plan(grid: &Rows, width: usize) -> Plan {
    let needs: Vec<Needs> = grid
        .fits
        .iter()
        .enumerate()
        .map(|(c, &(fit, drop_rank))| {
            let header = grid.header.as_ref().map_or(0, |h| fit::width(h[c]));
            let cells = grid.rows.iter().filter_map(|row| row.get(c));
            Needs {
                header,
                natural: cells
                    .map(|(text, _)| fit::width(text))
                    .fold(header, usize::max),
                fit,
                drop_rank,
            }
        })
        .collect();
    fit::plan(&needs, width)
}

fn bordered(grid: Rows, plan: &Plan, color: bool) -> Grid {
    let mut table = Grid::new();
    table
        .load_preset(presets::UTF8_FULL_CONDENSED)
        .apply_modifier(modifiers::UTF8_ROUND_CORNERS);
    let is_record = grid.header.is_none();
    if let Some(header) = grid.header {
        table.set_header(plan.kept.iter().map(|&c| {
            let cell = GridCell::new(header[c]);
            if color {
                cell.add_attribute(Attribute::Bold).fg(Color::Cyan)
            } else {
                cell
            }
        }));
    }
    for row in grid.rows {
        table.add_row(plan.kept.iter().zip(&plan.widths).map(|(&c, &width)| {
            let (text, tone) = row.get(c).copied().unwrap_or(("", Tone::Plain));
            let cell = GridCell::new(fit::fitted(text, grid.fits[c].0, width));
            match (color, tone) {
                (false, _) => cell,
                (true, Tone::Plain) if is_record && c == 0 => cell.fg(Color::Cyan),
                (true, Tone::Plain) => cell,
                (true, Tone::Good) => cell.fg(Color::Green),
                (true, Tone::Warn) => cell.fg(Color::Yellow),
                (true, Tone::Bad) => cell.fg(Color::Red).add_attribute(Attribute::Bold),
                (true, Tone::Dim) => cell.fg(Color::DarkGrey),
            }
        }));
    }
    table
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

    fn terminal(width: usize, color: bool) -> RenderOptions {
        RenderOptions {
            color,
            terminal: true,
            width,
        }
    }

    /// A catalog-like table: an id, a droppable column, droppable free text.
    fn wide() -> Output {
        let mut table = Table::new(
            vec![
                Column::new("id", "Model"),
                Column::new("type", "Type").droppable(2),
                Column::new("price", "Pricing"),
                Column::new("endpoints", "Endpoints")
                    .truncates()
                    .droppable(1),
            ],
            "none",
        );
        table.push(vec![
            Cell::new("synthetic-model-00294"),
            Cell::new("text"),
            Cell::new("in $4.44/M, out $17.76/M"),
            Cell::new("openai-chat, openai-responses, anthropic-messages"),
        ]);
        Output::Table(table)
    }

    fn widest_line(text: &str) -> usize {
        text.lines().map(|l| l.chars().count()).max().unwrap_or(0)
    }

    #[test]
    fn wide_terminals_show_every_column_whole() {
        let text = rendered(&wide(), terminal(160, false));
        assert!(
            text.contains("openai-chat, openai-responses, anthropic-messages"),
            "{text}"
        );
        assert!(!text.contains("Not shown"), "{text}");
    }

    #[test]
    fn free_text_is_cut_at_a_space_before_columns_are_dropped() {
        let text = rendered(&wide(), terminal(90, false));
        assert!(widest_line(&text) <= 90, "{text}");
        assert!(
            text.contains("synthetic-model-00294") && text.contains("in $4.44/M, out $17.76/M")
        );
        assert!(
            text.contains("openai-chat,…") || text.contains("openai-chat, openai-responses,…"),
            "{text}"
        );
        assert!(!text.contains("Not shown"), "{text}");
    }

    #[test]
    fn narrow_terminals_drop_low_rank_columns_and_say_so() {
        let text = rendered(&wide(), terminal(60, false));
        assert!(widest_line(&text) <= 60, "{text}");
        assert!(
            text.contains("synthetic-model-00294") && text.contains("in $4.44/M, out $17.76/M"),
            "{text}"
        );
        assert!(!text.contains("openai-chat"), "{text}");
        assert!(
            text.contains("Not shown at 60 columns: Endpoints"),
            "{text}"
        );
        let narrower = rendered(&wide(), terminal(50, true));
        assert!(
            narrower.contains("Not shown at 50 columns: Endpoints, Type"),
            "{narrower}"
        );
        assert!(
            narrower.contains(&format!("{DIM}Not shown")),
            "dim when colour is allowed"
        );
    }

    #[test]
    fn record_values_wrap_at_spaces() {
        let record = crate::output::Record::new().field(
            "d",
            "Description",
            Cell::new("a model for long answers with a context of 400,000 tokens"),
        );
        let text = rendered(&Output::Record(record), terminal(40, false));
        assert!(widest_line(&text) <= 40, "{text}");
        assert!(text.contains("400,000"), "numbers stay whole: {text}");
    }

    #[test]
    fn piped_is_plain_aligned_columns() {
        let text = rendered(&sample(), RenderOptions::PLAIN);
        assert_eq!(
            text,
            "ID       Provider\ngpt-5.4  OpenAI\no1       OpenAI\n"
        );
    }

    #[test]
    fn terminal_draws_borders_and_colours_only_when_allowed() {
        let plain = rendered(&sample(), terminal(80, false));
        assert!(plain.contains('╭') && plain.contains("gpt-5.4"));
        assert!(!plain.contains('\x1b'), "no ANSI without colour: {plain}");
    }

    #[test]
    fn empty_table_prints_its_message() {
        let empty = Output::Table(Table::new(
            vec![Column::new("id", "ID")],
            "No models found.",
        ));
        assert_eq!(rendered(&empty, terminal(80, true)), "No models found.\n");
    }
}
