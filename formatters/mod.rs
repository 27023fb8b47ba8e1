//! Output formats. Each module registers one `FormatterSpec`; adding a format
//! means adding a module here and its `mod` line, nothing else.

mod csv;
mod json;
mod markdown;
mod table;
mod yaml;

/// Renders with a formatter's function into a string, for the formatters' unit tests.
#[cfg(test)]
fn rendered(
    render: fn(
        &crate::output::Output,
        &crate::registry::RenderOptions,
        &mut dyn std::io::Write,
    ) -> std::io::Result<()>,
    output: &crate::output::Output,
    options: crate::registry::RenderOptions,
) -> String {
    let mut out = Vec::new();
    render(output, &options, &mut out).expect("render");
    String::from_utf8(out).expect("utf8")
}
