//! Built-in commands. Each `*.rs` file here is compiled as a module by itself
//! (`automod`, no `mod` line to add) and registers one `CommandSpec`.

automod::dir!("commands");
