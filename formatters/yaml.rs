//! `yaml`: the typed data as YAML.

use std::io::{self, Write};

use crate::cli::registry::{FormatterSpec, RenderOptions};
use crate::output::Output;

fn render(output: &Output, _: &RenderOptions, out: &mut dyn Write) -> io::Result<()> {
    let text = serde_yaml::to_string(&output.to_json()).map_err(io::Error::other)?;
    out.write_all(text.as_bytes())
}

inventory::submit! {
    FormatterSpec::new("yaml", "YAML with typed values", render).structured()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::{Cell, Column, Table};

    #[test]
    fn table_is_a_list_of_mappings() {
        let mut table = Table::new(vec![Column::new("id", "ID"), Column::new("n", "N")], "none");
        table.push(vec![Cell::new("a"), Cell::new(2)]);
        assert_eq!(
            super::super::rendered(render, &Output::Table(table), RenderOptions::PLAIN),
            "- id: a\n  n: 2\n"
        );
    }
}
