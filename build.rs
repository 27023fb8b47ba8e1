//! The module lists of `commands/` and `formatters/` are `automod::dir!`, which reads the
//! directory at compile time. This script makes cargo rebuild when a file is added or
//! removed there (no compiled file names a new one, so cargo would not notice), and hands
//! the files it saw to the registry tests, which check them against the registries.

use std::fs;

/// Directories of drop-in modules inside a command (a provider is one file there).
const NESTED: [&str; 1] = ["commands/video"];

fn main() {
    for dir in NESTED {
        println!("cargo:rerun-if-changed={dir}");
    }
    for dir in ["commands", "formatters"] {
        println!("cargo:rerun-if-changed={dir}");
        let mut stems: Vec<String> = fs::read_dir(dir)
            .map(|entries| {
                entries
                    .filter_map(|entry| {
                        let name = entry.ok()?.file_name().into_string().ok()?;
                        let stem = name.strip_suffix(".rs")?;
                        (stem != "mod").then(|| stem.to_string())
                    })
                    .collect()
            })
            .unwrap_or_default();
        stems.sort();
        let var = format!("COMETAPI_BUILT_{}", dir.to_ascii_uppercase());
        println!("cargo:rustc-env={var}={}", stems.join(","));
    }
}
