//! Output formats. Each `*.rs` file here is compiled as a module by itself
//! (`automod`, no `mod` line to add) and registers one `FormatterSpec`.

automod::dir!("formatters");

/// Renders with a formatter's function into a string, for the formatters' unit tests.
#[cfg(test)]
fn rendered(
    render: fn(
        &crate::output::Output,
        &crate::cli::registry::RenderOptions,
        &mut dyn std::io::Write,
    ) -> std::io::Result<()>,
    output: &crate::output::Output,
    options: crate::cli::registry::RenderOptions,
) -> String {
    let mut out = Vec::new();
    render(output, &options, &mut out).expect("render");
    String::from_utf8(out).expect("utf8")
}
