//! `json`: the typed data, pretty-printed.

use std::io::{self, Write};

use crate::cli::registry::{FormatterSpec, RenderOptions};
use crate::output::Output;
use crate::term::sanitize;

fn render(output: &Output, _: &RenderOptions, out: &mut dyn Write) -> io::Result<()> {
    let json = serde_json::to_string_pretty(&output.to_json())?;
    writeln!(out, "{}", sanitize::escape_json_controls(&json))
}

inventory::submit! {
    FormatterSpec::new("json", "pretty JSON with typed values", render).structured()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::{Cell, Record};

    #[test]
    fn numbers_stay_numbers() {
        let record = Record::new().field("usd", "USD", Cell::with_text(1.5, "$1.50"));
        assert_eq!(
            super::super::rendered(render, &Output::Record(record), RenderOptions::PLAIN),
            "{\n  \"usd\": 1.5\n}\n"
        );
    }
}
