//! `repl`: an interactive shell in which every command runs without the `cometapi`
//! prefix. Commands, flags and values come from the registry's clap tree; each line
//! runs through `app::main` with a fresh context, so `config set` applies to the next.

mod panics;

use std::ffi::OsString;
use std::io::Write;

use clap::ArgMatches;
use reedline::Signal;

use crate::api::catalog;
use crate::cli::context::{Context, GlobalArgs};
use crate::cli::plugins::{self, Plugin};
use crate::cli::registry::{self, CommandSpec};
use crate::config::{paths, Key};
use crate::error::{CliError, Result};
use crate::output::{Outcome, Output};
use crate::term::interrupt;
use crate::term::shell::{self, completer, completer::Extra};
use crate::term::streams::Streams;

const PROGRAM: &str = "cometapi";

/// Words the shell handles itself, with their one-line help.
const BUILTINS: &[(&str, &str)] = &[
    (
        "help",
        "List commands, or show one command's help (help CMD)",
    ),
    ("exit", "Leave the shell (also quit, Ctrl-D)"),
    ("quit", "Leave the shell (also exit, Ctrl-D)"),
];

enum Flow {
    Continue,
    Exit,
}

fn run(ctx: &Context, _: &ArgMatches) -> Result<Outcome> {
    let streams = ctx.streams();
    if !streams.stdin_is_terminal() || !streams.stdout_is_terminal() {
        return Err(CliError::usage("`repl` needs a terminal")
            .with_hint("run single commands as `cometapi <command>` in scripts"));
    }
    let plugins = plugins::discover();
    let mut extras: Vec<Extra> = plugins
        .iter()
        .map(|p| Extra {
            name: p.name.clone(),
            about: format!("plugin ({})", p.path.display()),
        })
        .collect();
    extras.extend(BUILTINS.iter().map(|(name, about)| Extra {
        name: name.to_string(),
        about: about.to_string(),
    }));
    let mut known: Vec<String> = registry::commands()
        .iter()
        .map(|c| c.name.to_string())
        .collect();
    known.extend(extras.iter().map(|e| e.name.clone()));
    let forwarded = forwarded_globals(&ctx.globals);
    let model_globals = ctx.globals.clone();
    let completer = completer::for_cli(
        extras,
        Box::new(move || catalog::cached_ids(&Context::new(model_globals.clone()))),
    );
    let parts = shell::Parts {
        prompt: PROGRAM.to_string(),
        completer: Box::new(completer),
        lines: shell::Lines::Commands {
            known,
            program: PROGRAM.to_string(),
        },
    };
    let history_path = paths::config_dir().join("repl_history");
    let (mut editor, prompt) = shell::editor(parts, &history_path).map_err(|e| {
        CliError::failure(format!(
            "cannot open the history file {}: {e}",
            history_path.display()
        ))
    })?;
    // A closed stderr is no reason to stop.
    let _ = writeln!(streams.err(), "{}", banner(ctx));
    // Ctrl-C stops the running command, never the shell.
    interrupt::enter_shell();
    panics::report_instead_of_printing();
    loop {
        let signal = editor
            .read_line(&prompt)
            .map_err(|e| CliError::failure(format!("cannot read from the terminal: {e}")))?;
        match signal {
            Signal::Success(line) => {
                if let Flow::Exit = run_line(&line, &forwarded, &plugins, streams)? {
                    break;
                }
            }
            Signal::CtrlD => break,
            _ => continue, // Ctrl-C: the line is cleared, the shell goes on
        }
    }
    Ok(Output::Empty.into())
}

/// The version, and whether a key is configured (masked) and where it comes from.
fn banner(ctx: &Context) -> String {
    let key = match (ctx.api_key(), ctx.settings()) {
        (Ok(key), Ok(settings)) => format!(
            "API key {} ({})",
            key.masked(),
            settings.get(Key::ApiKey).source
        ),
        (_, Err(err)) => format!("config file unreadable: {}", err.message),
        _ => "no API key configured: run `init` or `config set api_key <KEY>`".to_string(),
    };
    format!(
        "{PROGRAM} {} — {key}\nType `help` for commands, Tab to complete, `exit` or Ctrl-D to leave.",
        env!("CARGO_PKG_VERSION")
    )
}

/// The global flags `repl` itself was given, passed on to every line.
fn forwarded_globals(globals: &GlobalArgs) -> Vec<OsString> {
    let mut args = Vec::new();
    if let Some(url) = &globals.base_url {
        args.extend(["--base-url".into(), url.into()]);
    }
    if let Some(path) = &globals.config {
        args.extend([OsString::from("--config"), path.clone().into_os_string()]);
    }
    for _ in 0..globals.verbose {
        args.push("--verbose".into());
    }
    if globals.no_color {
        args.push("--no-color".into());
    }
    if let Some(limit) = &globals.timeout {
        args.extend(["--timeout".into(), limit.into()]);
    }
    args
}

/// Runs one line; the shell's own messages go to `streams`, a command's output to the
/// process's (each line has its own context, see [`panics::run_caught`]).
fn run_line(
    line: &str,
    forwarded: &[OsString],
    plugins: &[Plugin],
    streams: &Streams,
) -> Result<Flow> {
    // A closed stderr is no reason to leave the shell; a failed stdout ends it.
    let note = |text: &str| {
        let _ = writeln!(streams.err(), "{text}");
    };
    let Some(mut words) = shell::split_words(line) else {
        note("error: a quote is not closed, or the line ends in a backslash");
        return Ok(Flow::Continue);
    };
    if words.first().is_some_and(|w| w == PROGRAM) {
        words.remove(0);
    }
    let Some(first) = words.first().cloned() else {
        return Ok(Flow::Continue);
    };
    match first.as_str() {
        "exit" | "quit" => return Ok(Flow::Exit),
        "repl" => {
            note("already in the REPL; type `help` for commands");
            return Ok(Flow::Continue);
        }
        "help" if words.len() == 1 => {
            writeln!(streams.out(), "{}", help_text(plugins)).map_err(CliError::from_output)?;
            return Ok(Flow::Continue);
        }
        "help" => {
            words.remove(0);
            words.push("--help".to_string());
        }
        _ => {}
    }
    let mut args: Vec<OsString> = vec![PROGRAM.into()];
    args.extend(forwarded.iter().cloned());
    args.extend(words.into_iter().map(OsString::from));
    interrupt::clear();
    let code = panics::run_caught(args);
    if code != 0 {
        note(&format!("[exit {code}]"));
    }
    Ok(Flow::Continue)
}

/// The registry's commands, the plugins and the shell's own words.
pub fn help_text(plugins: &[Plugin]) -> String {
    let rows = |items: Vec<(String, String)>| -> String {
        let width = items.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
        items
            .iter()
            .map(|(name, about)| format!("  {name:width$}  {about}"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let commands = registry::commands()
        .iter()
        .map(|c| (c.name.to_string(), c.about.to_string()))
        .collect();
    let mut text = format!("Commands:\n{}", rows(commands));
    if !plugins.is_empty() {
        let listed = plugins
            .iter()
            .map(|p| (p.name.clone(), p.path.display().to_string()))
            .collect();
        text.push_str(&format!("\n\nPlugins:\n{}", rows(listed)));
    }
    let builtins = BUILTINS
        .iter()
        .map(|(n, a)| (n.to_string(), a.to_string()))
        .collect();
    text.push_str(&format!("\n\nShell:\n{}", rows(builtins)));
    text
}

inventory::submit! {
    CommandSpec::new("repl", "Interactive shell: run any command without the `cometapi` prefix", run)
        .with_args(|cmd| cmd.after_help(
            "Tab completes commands, flags, values and model ids (from the cached catalog); \
             Right arrow accepts the grey hint from history; Ctrl-C clears the line, or stops \
             the running command and returns to the prompt; \
             `exit`, `quit` or Ctrl-D leave. History: ~/.config/cometapi/repl_history (0600, \
             secrets masked)."
        ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::term::streams::{Captured, Terminals};

    fn streams_with(stdin: bool, stdout: bool) -> (Streams, Captured) {
        let (streams, captured) = Streams::test();
        let terminals = Terminals {
            stdin,
            stdout,
            stderr: true,
        };
        (streams.with_terminals(terminals, 80), captured)
    }

    #[test]
    fn refuses_to_start_unless_stdin_and_stdout_are_terminals() {
        for (stdin, stdout) in [(false, false), (true, false), (false, true)] {
            let dir = tempfile::tempdir().expect("tempdir");
            let (streams, captured) = streams_with(stdin, stdout);
            let ctx = Context::for_test(streams, dir.path());
            let err = run(&ctx, &ArgMatches::default()).expect_err("needs a terminal");
            assert_eq!(err.exit.code(), 2, "stdin {stdin}, stdout {stdout}");
            assert_eq!(err.message, "`repl` needs a terminal");
            let hint = err.hint.unwrap_or_default();
            assert!(hint.contains("cometapi <command>"), "{hint}");
            assert_eq!(captured.stdout() + &captured.stderr(), "", "no banner");
        }
    }

    /// One line through the shell: whether it leaves, and what the shell wrote.
    fn line(text: &str) -> (bool, Captured) {
        let (streams, captured) = streams_with(true, true);
        let flow = run_line(text, &[], &[], &streams).expect("runs");
        (matches!(flow, Flow::Exit), captured)
    }

    #[test]
    fn exit_quit_and_blank_lines_run_nothing() {
        for leaving in ["exit", "quit", "  quit  ", "cometapi exit"] {
            let (exits, captured) = line(leaving);
            assert!(exits, "{leaving}");
            assert_eq!(captured.stdout() + &captured.stderr(), "", "{leaving}");
        }
        let (exits, captured) = line("   ");
        assert!(!exits);
        assert_eq!(captured.stdout() + &captured.stderr(), "");
    }

    #[test]
    fn help_lists_commands_and_the_shells_words_on_stdout() {
        let (exits, captured) = line("help");
        assert!(!exits);
        let shown = captured.stdout();
        assert!(shown.starts_with("Commands:\n"), "{shown}");
        assert!(
            shown.contains("  repl ") && shown.contains("\n\nShell:\n"),
            "{shown}"
        );
        assert!(
            shown.contains("  exit ") && shown.ends_with('\n'),
            "{shown}"
        );
        assert_eq!(captured.stderr(), "");
    }

    #[test]
    fn repl_inside_the_repl_and_an_unclosed_quote_are_noted_on_stderr() {
        let (exits, captured) = line("repl");
        assert!(!exits);
        assert_eq!(
            captured.stderr(),
            "already in the REPL; type `help` for commands\n"
        );
        let (exits, captured) = line("chat \"never closed");
        assert!(!exits, "a bad line keeps the shell");
        assert_eq!(
            captured.stderr(),
            "error: a quote is not closed, or the line ends in a backslash\n"
        );
        assert_eq!(captured.stdout(), "");
    }

    #[test]
    fn a_failing_line_is_followed_by_its_exit_code() {
        // clap refuses the flag before anything runs; its own error goes to the
        // process's stderr, the shell's note to the captured one.
        let (exits, captured) = line("--no-such-flag");
        assert!(!exits);
        assert_eq!(captured.stderr(), "[exit 2]\n");
    }
}
