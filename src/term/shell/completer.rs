//! Tab completion from a clap tree: command names, subcommands, long and short flags,
//! the possible values of flags and positionals, and model ids for the arguments a
//! command declares as taking one (`CommandSpec::model_id_args`; from the cached
//! catalog only, completion never makes a request).

use clap::{Arg, Command};
use reedline::{Completer, Span, Suggestion};

/// One extra top-level name (a plugin, or a word the shell itself handles).
#[derive(Clone, Debug)]
pub struct Extra {
    pub name: String,
    pub about: String,
}

/// Which arguments take a model id, and where the ids come from.
pub struct ModelIds {
    /// `(top-level command, argument id)`: the argument, anywhere under that command,
    /// takes a model id.
    pub args: Vec<(String, String)>,
    /// The ids to offer (the cached catalog).
    pub ids: Box<dyn Fn() -> Vec<String> + Send>,
}

impl ModelIds {
    /// The arguments every registered command declares with `model_id_args`.
    pub fn declared(ids: Box<dyn Fn() -> Vec<String> + Send>) -> ModelIds {
        let args = crate::cli::registry::commands()
            .iter()
            .flat_map(|spec| {
                spec.model_id_args
                    .iter()
                    .map(|arg| (spec.name.to_string(), arg.to_string()))
            })
            .collect();
        ModelIds { args, ids }
    }

    fn takes_model_id(&self, command: Option<&str>, arg: &Arg) -> bool {
        command.is_some_and(|command| {
            self.args
                .iter()
                .any(|(c, a)| c == command && arg.get_id() == a.as_str())
        })
    }
}

pub struct CommandCompleter {
    root: Command,
    extras: Vec<Extra>,
    models: ModelIds,
}

/// The completer for `cometapi`'s own command line: the registry's clap tree, with
/// model ids where the registry declares them.
pub fn for_cli(
    extras: Vec<Extra>,
    model_ids: Box<dyn Fn() -> Vec<String> + Send>,
) -> CommandCompleter {
    CommandCompleter::new(
        crate::cli::front::build(),
        extras,
        ModelIds::declared(model_ids),
    )
}

impl CommandCompleter {
    /// `root` is the clap tree (built here, so global flags show under every command).
    pub fn new(mut root: Command, extras: Vec<Extra>, models: ModelIds) -> CommandCompleter {
        root.build();
        CommandCompleter {
            root,
            extras,
            models,
        }
    }

    /// The top-level names offered on an empty line: commands, then extras.
    pub fn top_level(&self) -> Vec<String> {
        self.complete_words(&[], "")
            .into_iter()
            .map(|(value, _)| value)
            .collect()
    }

    /// `(value, description)` pairs for the word `current`, after `before`.
    pub fn complete_words(&self, before: &[String], current: &str) -> Vec<(String, String)> {
        let before: &[String] = match before.first() {
            Some(first) if first == self.root.get_name() => &before[1..],
            _ => before,
        };
        let mut cmd = &self.root;
        let mut pending: Option<&Arg> = None;
        let mut positionals = 0;
        let mut path: Vec<&str> = Vec::new();
        for word in before {
            if pending.take().is_some() {
                continue;
            }
            if word.starts_with('-') && word.len() > 1 {
                pending = find_flag(cmd, word).filter(|arg| arg.get_action().takes_values());
                continue;
            }
            match cmd.find_subcommand(word) {
                Some(sub) if positionals == 0 => {
                    cmd = sub;
                    path.push(sub.get_name());
                }
                _ => positionals += 1,
            }
        }
        let starts = |value: &str| value.starts_with(current);
        let command = path.first().copied();
        if let Some(arg) = pending {
            return self.values_of(command, arg, current);
        }
        if current.starts_with('-') {
            return flags(cmd)
                .into_iter()
                .filter(|(flag, _)| starts(flag))
                .collect();
        }
        if path.as_slice() == ["help"]
            || (path.is_empty() && before.first().is_some_and(|w| w == "help"))
        {
            return self.commands(&self.root, current);
        }
        if positionals == 0 && cmd.has_subcommands() {
            let mut names = self.commands(cmd, current);
            if path.is_empty() {
                let extras: Vec<(String, String)> = self
                    .extras
                    .iter()
                    .filter(|e| starts(&e.name) && !names.iter().any(|(n, _)| n == &e.name))
                    .map(|e| (e.name.clone(), e.about.clone()))
                    .collect();
                names.extend(extras);
            }
            return names;
        }
        match cmd.get_positionals().nth(positionals) {
            Some(arg) => self.values_of(command, arg, current),
            None => Vec::new(),
        }
    }

    fn commands(&self, cmd: &Command, current: &str) -> Vec<(String, String)> {
        cmd.get_subcommands()
            .filter(|sub| !sub.is_hide_set() && sub.get_name() != "help")
            .filter(|sub| sub.get_name().starts_with(current))
            .map(|sub| (sub.get_name().to_string(), about(sub)))
            .collect()
    }

    fn values_of(&self, command: Option<&str>, arg: &Arg, current: &str) -> Vec<(String, String)> {
        if self.models.takes_model_id(command, arg) {
            return models(&self.models.ids, current);
        }
        arg.get_possible_values()
            .iter()
            .filter(|v| !v.is_hide_set() && v.get_name().starts_with(current))
            .map(|v| {
                let help = v.get_help().map(|h| h.to_string()).unwrap_or_default();
                (v.get_name().to_string(), help)
            })
            .collect()
    }
}

fn about(cmd: &Command) -> String {
    cmd.get_about().map(|a| a.to_string()).unwrap_or_default()
}

fn models(ids: &dyn Fn() -> Vec<String>, current: &str) -> Vec<(String, String)> {
    ids()
        .into_iter()
        .filter(|id| id.starts_with(current))
        .map(|id| (id, String::new()))
        .collect()
}

fn find_flag<'a>(cmd: &'a Command, word: &str) -> Option<&'a Arg> {
    if let Some(long) = word.strip_prefix("--") {
        if long.contains('=') {
            return None;
        }
        return cmd.get_arguments().find(|a| a.get_long() == Some(long));
    }
    let short = word.strip_prefix('-')?;
    let mut chars = short.chars();
    let (Some(c), None) = (chars.next(), chars.next()) else {
        return None;
    };
    cmd.get_arguments().find(|a| a.get_short() == Some(c))
}

/// `--long` then `-s` for every visible flag, with its help line.
fn flags(cmd: &Command) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let visible: Vec<&Arg> = cmd
        .get_arguments()
        .filter(|a| !a.is_hide_set() && !a.is_positional())
        .collect();
    for arg in &visible {
        let help = arg.get_help().map(|h| h.to_string()).unwrap_or_default();
        if let Some(long) = arg.get_long() {
            out.push((format!("--{long}"), help));
        }
    }
    for arg in &visible {
        let help = arg.get_help().map(|h| h.to_string()).unwrap_or_default();
        if let Some(short) = arg.get_short() {
            out.push((format!("-{short}"), help));
        }
    }
    out
}

impl Completer for CommandCompleter {
    fn complete(&mut self, line: &str, pos: usize) -> Vec<Suggestion> {
        let head = line.get(..pos).unwrap_or(line);
        let start = head
            .rfind(char::is_whitespace)
            .map(|i| i + head[i..].chars().next().map_or(1, char::len_utf8))
            .unwrap_or(0);
        let before = super::split_words(&head[..start]).unwrap_or_else(|| {
            head[..start]
                .split_whitespace()
                .map(str::to_string)
                .collect()
        });
        suggestions(self.complete_words(&before, &head[start..]), start, pos)
    }
}

/// `(value, about)` pairs as reedline suggestions replacing `start..pos`; an empty
/// about shows no description.
pub fn suggestions(items: Vec<(String, String)>, start: usize, pos: usize) -> Vec<Suggestion> {
    items
        .into_iter()
        .map(|(value, about)| Suggestion {
            value,
            description: (!about.is_empty()).then_some(about),
            span: Span::new(start, pos),
            append_whitespace: true,
            ..Suggestion::default()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::builder::PossibleValuesParser;

    fn tree() -> Command {
        Command::new("tool")
            .arg(
                Arg::new("format")
                    .short('f')
                    .long("format")
                    .global(true)
                    .value_parser(PossibleValuesParser::new(["json", "table"])),
            )
            .subcommand(
                Command::new("models")
                    .about("List models")
                    .arg(Arg::new("model").short('m').long("model")),
            )
            .subcommand(
                Command::new("model")
                    .about("One model")
                    .subcommand(Command::new("info").arg(Arg::new("id"))),
            )
            .subcommand(
                Command::new("bench")
                    .arg(Arg::new("engine").long("engine"))
                    .arg(Arg::new("model").long("model")),
            )
            .subcommand(
                Command::new("completion").arg(
                    Arg::new("shell").value_parser(PossibleValuesParser::new(["bash", "zsh"])),
                ),
            )
    }

    /// Model ids `gpt-4o` and `claude`, completed for the given `(command, arg)` pairs.
    fn ids(args: &[(&str, &str)]) -> ModelIds {
        ModelIds {
            args: args
                .iter()
                .map(|(c, a)| (c.to_string(), a.to_string()))
                .collect(),
            ids: Box::new(|| vec!["gpt-4o".into(), "claude".into()]),
        }
    }

    fn names(completer: &CommandCompleter, line: &str) -> Vec<String> {
        let words: Vec<String> = line.split_whitespace().map(str::to_string).collect();
        let (before, current) = if line.ends_with(' ') || line.is_empty() {
            (words.as_slice(), "")
        } else {
            (&words[..words.len() - 1], words[words.len() - 1].as_str())
        };
        completer
            .complete_words(before, current)
            .into_iter()
            .map(|(n, _)| n)
            .collect()
    }

    #[test]
    fn completes_commands_flags_and_values() {
        let extras = vec![Extra {
            name: "hello".into(),
            about: "plugin".into(),
        }];
        let completer =
            CommandCompleter::new(tree(), extras, ids(&[("models", "model"), ("model", "id")]));
        assert_eq!(names(&completer, "mod"), ["models", "model"]);
        assert_eq!(
            names(&completer, "tool mod"),
            ["models", "model"],
            "a leading program name is ignored"
        );
        assert_eq!(names(&completer, "he"), ["hello"]);
        assert_eq!(names(&completer, "models --fo"), ["--format"]);
        assert_eq!(names(&completer, "models --format "), ["json", "table"]);
        assert_eq!(names(&completer, "models -f j"), ["json"]);
        assert_eq!(names(&completer, "models -m g"), ["gpt-4o"]);
        assert_eq!(names(&completer, "model info c"), ["claude"]);
        assert_eq!(names(&completer, "model "), ["info"]);
        assert_eq!(names(&completer, "completion z"), ["zsh"]);
        assert_eq!(names(&completer, "help mo"), ["models", "model"]);
    }

    #[test]
    fn model_ids_complete_only_where_a_command_declares_them() {
        let completer = CommandCompleter::new(tree(), Vec::new(), ids(&[("bench", "engine")]));
        assert_eq!(names(&completer, "bench --engine g"), ["gpt-4o"]);
        assert!(
            names(&completer, "bench --model g").is_empty(),
            "an argument named `model` is not special"
        );
        assert!(names(&completer, "model info c").is_empty());
    }

    /// The registry's own declarations: `chat -m`, `run MODEL`, `logs --model` and
    /// `model info ID` complete model ids; other value arguments do not.
    #[test]
    fn registered_commands_declare_their_model_arguments() {
        let completer = for_cli(Vec::new(), Box::new(|| vec!["gpt-4o".into()]));
        for line in [
            "chat -m g",
            "chat --model g",
            "run g",
            "logs --model g",
            "model info g",
        ] {
            assert_eq!(names(&completer, line), ["gpt-4o"], "{line}");
        }
        assert!(names(&completer, "models --search g").is_empty());
    }

    #[test]
    fn suggestions_replace_the_current_word() {
        let mut completer = CommandCompleter::new(tree(), Vec::new(), ids(&[]));
        let suggestions = completer.complete("models --fo", 11);
        assert_eq!(suggestions.len(), 1);
        assert_eq!(suggestions[0].value, "--format");
        assert_eq!(suggestions[0].span, Span::new(7, 11));
    }
}
