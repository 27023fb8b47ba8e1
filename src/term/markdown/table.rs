//! Markdown tables, drawn once their last row has come (a table's column widths depend
//! on every row) with `comfy-table`, as the table formatter draws its tables.

use comfy_table::{presets, Attribute, Cell, CellAlignment, ContentArrangement, Table};

use super::inline;

/// Whether `line` is a table row (`| a | b |`).
pub fn is_row(line: &str) -> bool {
    line.trim_start().starts_with('|')
}

/// The rows drawn as a table, or `None` when they are not one (no `|---|` line second).
pub fn draw(rows: &[String]) -> Option<String> {
    let (header, rest) = rows.split_first()?;
    let (delimiter, body) = rest.split_first()?;
    let alignments: Vec<CellAlignment> = cells(delimiter)
        .iter()
        .map(|cell| alignment(cell))
        .collect::<Option<_>>()?;
    let mut table = Table::new();
    table
        .load_preset(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(u16::try_from(crate::output::fit::terminal_width()).unwrap_or(u16::MAX))
        .enforce_styling();
    table.set_header(
        cells(header)
            .iter()
            .map(|c| Cell::new(inline::plain(c)).add_attribute(Attribute::Bold)),
    );
    for row in body {
        table.add_row(cells(row).iter().map(|c| inline::plain(c)));
    }
    for (index, align) in alignments.into_iter().enumerate() {
        if let Some(column) = table.column_mut(index) {
            column.set_cell_alignment(align);
        }
    }
    Some(table.to_string())
}

/// `| a | b\|c |` → `["a", "b|c"]`.
fn cells(row: &str) -> Vec<String> {
    let row = row.trim();
    let row = row.strip_prefix('|').unwrap_or(row);
    let row = row
        .strip_suffix('|')
        .filter(|r| !r.ends_with('\\'))
        .unwrap_or(row);
    let mut cells = vec![String::new()];
    let mut chars = row.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '|' => cells.push(String::new()),
            c => {
                // `\|` is a `|` inside a cell.
                let c = if c == '\\' && chars.next_if_eq(&'|').is_some() {
                    '|'
                } else {
                    c
                };
                if let Some(cell) = cells.last_mut() {
                    cell.push(c);
                }
            }
        }
    }
    cells.into_iter().map(|c| c.trim().to_string()).collect()
}

/// `---` left, `:--:` centre, `--:` right; `None` when the cell is no delimiter.
fn alignment(cell: &str) -> Option<CellAlignment> {
    let dashes = cell.trim_matches(':');
    if dashes.is_empty() || !dashes.chars().all(|c| c == '-') {
        return None;
    }
    Some(match (cell.starts_with(':'), cell.ends_with(':')) {
        (true, true) => CellAlignment::Center,
        (false, true) => CellAlignment::Right,
        _ => CellAlignment::Left,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(lines: &[&str]) -> Vec<String> {
        lines.iter().map(|l| l.to_string()).collect()
    }

    #[test]
    fn a_table_is_drawn_with_its_cells() {
        let drawn =
            draw(&rows(&["| name | `n` |", "|:--|--:|", "| a\\|b | **2** |"])).expect("a table");
        let text = crate::term::markdown::inline::tests::strip(&drawn);
        assert!(
            text.contains("a|b") && text.contains(" 2 ") && text.contains("name"),
            "{text}"
        );
        assert!(text.contains('─'), "{text}");
    }

    #[test]
    fn rows_without_a_delimiter_are_no_table() {
        assert!(draw(&rows(&["| a |", "| b |"])).is_none());
        assert!(draw(&rows(&["| a |"])).is_none());
        assert_eq!(cells("|a|b|"), ["a", "b"]);
    }
}
