//! `image PROMPT`: images from a prompt (`POST /v1/images/generations`), saved as files
//! named after the prompt, the time and the type read from their bytes; `image edit`
//! changes given images (multipart, in `image/edit.rs`). Prints what was saved, never
//! the base64 data.

mod edit;
mod files;

use std::path::PathBuf;

use clap::{value_parser, Arg, ArgMatches, ValueEnum};
use serde_json::{json, Map, Value};

use crate::api::message;
use crate::cli::context::Context;
use crate::cli::front;
use crate::cli::registry::{CommandSpec, Credential};
use crate::error::{CliError, Result};
use crate::net::{Auth, KeyHeader, Request};
use crate::output::Outcome;

const DEFAULT_MODEL: &str = "gpt-image-1";

/// `--quality`: gpt-image's low, medium, high, auto; dall-e-3's standard, hd.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Quality {
    Auto,
    Low,
    Medium,
    High,
    Standard,
    Hd,
}

/// `--background` (GPT image models).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Background {
    Auto,
    Transparent,
    Opaque,
}

/// `--output-format`: the image type to ask for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum ImageFormat {
    Png,
    Jpeg,
    Webp,
}

/// A choice as the API spells it: its name on the command line.
fn wire_name(value: impl ValueEnum) -> String {
    value
        .to_possible_value()
        .map(|v| v.get_name().to_string())
        .unwrap_or_default()
}

fn args(cmd: clap::Command) -> clap::Command {
    let cmd = cmd
        .args_conflicts_with_subcommands(true)
        .arg(
            Arg::new("prompt")
                .value_name("PROMPT")
                .value_parser(front::non_blank)
                .help("What to draw; `-` or piped stdin reads it"),
        )
        .subcommand(edit::command());
    options(cmd)
}

/// The options `image` and `image edit` share: model, count, size, quality,
/// background, format, where to save, overwriting.
fn options(cmd: clap::Command) -> clap::Command {
    cmd.arg(
        front::model_arg("Image model (gpt-image-1, dall-e-3, dall-e-2, ...)")
            .default_value(DEFAULT_MODEL),
    )
    .arg(
        Arg::new("n")
            .short('n')
            .value_name("COUNT")
            .value_parser(value_parser!(u64).range(1..=10))
            .help("How many images, 1 to 10 (some models make only 1)"),
    )
    .arg(
        Arg::new("size")
            .long("size")
            .value_name("WxH")
            .value_parser(front::non_blank)
            .help("Image size: 1024x1024, 1536x1024, 1024x1536, auto, ... (the model's own list)"),
    )
    .arg(
        Arg::new("quality")
            .long("quality")
            .value_name("QUALITY")
            .value_parser(value_parser!(Quality))
            .ignore_case(true)
            .help("Quality (gpt-image: low, medium, high, auto; dall-e-3: standard, hd)"),
    )
    .arg(
        Arg::new("background")
            .long("background")
            .value_name("BACKGROUND")
            .value_parser(value_parser!(Background))
            .ignore_case(true)
            .help("Background (GPT image models)"),
    )
    .arg(
        Arg::new("output_format")
            .long("output-format")
            .value_name("FORMAT")
            .value_parser(value_parser!(ImageFormat))
            .ignore_case(true)
            .help(
                "Image format to ask for (GPT image models); file names follow the bytes received",
            ),
    )
    .arg(
        Arg::new("output")
            .short('o')
            .long("output")
            .value_name("PATH")
            .value_parser(value_parser!(PathBuf))
            .help("A file for one image, a directory for several (default: the current directory)"),
    )
    .arg(front::force_arg("Overwrite existing files"))
}

/// The options `image` and `image edit` share, read from either's arguments.
#[derive(Debug, PartialEq)]
struct Shared {
    model: String,
    n: Option<u64>,
    size: Option<String>,
    quality: Option<Quality>,
    background: Option<Background>,
    output_format: Option<ImageFormat>,
    output: Option<PathBuf>,
    force: bool,
}

impl Shared {
    fn from_matches(m: &ArgMatches) -> Shared {
        Shared {
            model: m
                .get_one::<String>("model")
                .cloned()
                .unwrap_or_else(|| DEFAULT_MODEL.into()),
            n: m.get_one::<u64>("n").copied(),
            size: m.get_one::<String>("size").cloned(),
            quality: m.get_one::<Quality>("quality").copied(),
            background: m.get_one::<Background>("background").copied(),
            output_format: m.get_one::<ImageFormat>("output_format").copied(),
            output: m.get_one::<PathBuf>("output").cloned(),
            force: m.get_flag("force"),
        }
    }

    /// The request fields these options set, as text (multipart needs text; the JSON
    /// body turns `n` back into a number).
    fn fields(&self) -> Vec<(&'static str, String)> {
        let mut fields = vec![("model", self.model.clone())];
        if let Some(n) = self.n {
            fields.push(("n", n.to_string()));
        }
        let choices = [
            ("size", self.size.clone()),
            ("quality", self.quality.map(wire_name)),
            ("background", self.background.map(wire_name)),
            ("output_format", self.output_format.map(wire_name)),
        ];
        for (field, value) in choices {
            if let Some(value) = value {
                fields.push((field, value.to_ascii_lowercase()));
            }
        }
        fields
    }
}

/// What `image` was asked to do, read once from its arguments.
#[derive(Debug, PartialEq)]
enum Action {
    /// `image [PROMPT]`: no prompt reads it from stdin.
    Generate {
        prompt: Option<String>,
        shared: Shared,
    },
    Edit(edit::Options),
}

impl Action {
    fn from_matches(m: &ArgMatches) -> Action {
        match m.subcommand() {
            Some(("edit", sub)) => Action::Edit(edit::Options::from_matches(sub)),
            _ => Action::Generate {
                prompt: m.get_one::<String>("prompt").cloned(),
                shared: Shared::from_matches(m),
            },
        }
    }
}

fn run(ctx: &Context, m: &ArgMatches) -> Result<Outcome> {
    match Action::from_matches(m) {
        Action::Edit(options) => edit::run(ctx, &options),
        Action::Generate { prompt, shared } => generate(ctx, prompt.as_deref(), &shared),
    }
}

fn generate(ctx: &Context, arg: Option<&str>, shared: &Shared) -> Result<Outcome> {
    if arg.is_none() && ctx.streams().stdin_is_terminal() {
        return Err(CliError::usage("no prompt given").with_hint(
            "pass a prompt (`cometapi image \"a lighthouse at dusk\"`) or pipe one on stdin",
        ));
    }
    let prompt = message::read(arg, ctx.streams().stdin_is_terminal())?;
    let plan = files::Plan::new(shared, &prompt)?;
    let mut body = Map::new();
    body.insert("prompt".into(), json!(prompt));
    for (field, value) in shared.fields() {
        let value = match field {
            "n" => value.parse::<u64>().map_or(json!(value), |n| json!(n)),
            _ => json!(value),
        };
        body.insert(field.into(), value);
    }
    let key = ctx.api_key()?;
    let request = Request::post_json(
        ctx.base_url()?.v1("images/generations"),
        Auth::ApiKey(&key, KeyHeader::Bearer),
        &Value::Object(body),
    )
    .creates();
    let reply = ctx.http()?.send(&request)?.json()?;
    plan.save_all(ctx, &reply)
}

inventory::submit! {
    CommandSpec::new("image", "Make images from a prompt, or edit images (`image edit`)", run)
        .needs(Credential::ApiKey)
        .with_args(args)
        .model_id_args(&["model"])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_prompt_with_a_terminal_on_stdin_is_refused_before_any_request() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (streams, captured) = crate::term::streams::Streams::test();
        let all = crate::term::streams::Terminals {
            stdin: true,
            stdout: true,
            stderr: true,
        };
        let ctx = Context::for_test(streams.with_terminals(all, 80), dir.path());
        let Ok(Action::Generate { shared, .. }) = action(&[]) else {
            panic!("a generate action");
        };
        let err = generate(&ctx, None, &shared).expect_err("no prompt");
        assert_eq!(err.exit.code(), 2);
        assert_eq!(err.message, "no prompt given");
        let hint = err.hint.unwrap_or_default();
        assert!(hint.contains("pipe one on stdin"), "{hint}");
        assert_eq!(captured.stdout() + &captured.stderr(), "");
    }
    use crate::term::shell::completer::for_cli;

    fn action(argv: &[&str]) -> Result<Action, clap::Error> {
        let m = crate::cli::registry::test_matches(args, argv)?;
        Ok(Action::from_matches(&m))
    }

    fn shared() -> Shared {
        Shared {
            model: DEFAULT_MODEL.into(),
            n: None,
            size: None,
            quality: None,
            background: None,
            output_format: None,
            output: None,
            force: false,
        }
    }

    #[test]
    fn a_prompt_and_the_shared_options_are_read_in_any_case() {
        assert_eq!(
            action(&[]).expect("parses"),
            Action::Generate {
                prompt: None,
                shared: shared()
            }
        );
        let argv = [
            "a fox",
            "-m",
            "dall-e-3",
            "-n",
            "2",
            "--size",
            "1024X1024",
            "--quality",
            "HD",
            "--background",
            "Transparent",
            "--output-format",
            "WEBP",
            "-o",
            "out",
            "--force",
        ];
        let full = Shared {
            model: "dall-e-3".into(),
            n: Some(2),
            size: Some("1024X1024".into()),
            quality: Some(Quality::Hd),
            background: Some(Background::Transparent),
            output_format: Some(ImageFormat::Webp),
            output: Some(PathBuf::from("out")),
            force: true,
        };
        let Action::Generate { prompt, shared } = action(&argv).expect("parses") else {
            panic!("not an edit");
        };
        assert_eq!(prompt.as_deref(), Some("a fox"));
        assert_eq!(
            shared.fields(),
            [
                ("model", "dall-e-3".to_string()),
                ("n", "2".into()),
                ("size", "1024x1024".into()),
                ("quality", "hd".into()),
                ("background", "transparent".into()),
                ("output_format", "webp".into()),
            ]
        );
        assert_eq!(shared, full);
    }

    #[test]
    fn a_choice_outside_each_list_is_rejected() {
        for argv in [
            &["x", "--quality", "ultra"][..],
            &["x", "--background", "green"],
            &["x", "--output-format", "gif"],
            &["edit", "a.png", "x", "--quality", "best"],
        ] {
            let err = action(argv).err().map(|e| e.kind());
            assert_eq!(err, Some(clap::error::ErrorKind::InvalidValue), "{argv:?}");
        }
    }

    /// What the REPL offers after `before` for the word `current`.
    fn offered(before: &[&str], current: &str) -> Vec<String> {
        let completer = for_cli(Vec::new(), Box::new(|| vec!["gpt-image-1".into()]));
        let before: Vec<String> = before.iter().map(|w| w.to_string()).collect();
        let words = completer.complete_words(&before, current);
        words.into_iter().map(|(word, _)| word).collect()
    }

    #[test]
    fn the_repl_completes_flags_choices_and_model_ids() {
        assert_eq!(
            offered(&["image"], "--outp"),
            ["--output-format", "--output"]
        );
        assert_eq!(offered(&["image", "--output-format"], "w"), ["webp"]);
        assert_eq!(offered(&["image", "--background"], "t"), ["transparent"]);
        assert_eq!(offered(&["image"], "ed"), ["edit"]);
        assert_eq!(offered(&["image", "edit"], "--ma"), ["--mask"]);
        assert_eq!(
            offered(&["image", "edit", "--quality"], "h"),
            ["high", "hd"]
        );
        assert_eq!(offered(&["image", "-m"], "gpt-i"), ["gpt-image-1"]);
        assert_eq!(offered(&["speech", "--voice"], "s"), ["sage", "shimmer"]);
        assert_eq!(offered(&["speech", "--audio-format"], "f"), ["flac"]);
    }
}
