//! `image PROMPT`: images from a prompt (`POST /v1/images/generations`), saved as files
//! named after the prompt, the time and the type read from their bytes; `image edit`
//! changes given images (multipart, in `image/edit.rs`). Prints what was saved, never
//! the base64 data.

mod edit;
mod files;

use std::path::PathBuf;

use clap::builder::PossibleValuesParser;
use clap::{value_parser, Arg, ArgMatches};
use serde_json::{json, Map, Value};

use crate::api::message;
use crate::cli::context::Context;
use crate::cli::front;
use crate::cli::registry::{CommandSpec, Credential};
use crate::error::{CliError, Result};
use crate::net::{Auth, KeyHeader, Request};
use crate::output::Outcome;

const DEFAULT_MODEL: &str = "gpt-image-1";
const QUALITIES: [&str; 6] = ["auto", "low", "medium", "high", "standard", "hd"];
const BACKGROUNDS: [&str; 3] = ["auto", "transparent", "opaque"];
const OUTPUT_FORMATS: [&str; 3] = ["png", "jpeg", "webp"];

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
            .value_parser(PossibleValuesParser::new(QUALITIES))
            .ignore_case(true)
            .help("Quality (gpt-image: low, medium, high, auto; dall-e-3: standard, hd)"),
    )
    .arg(
        Arg::new("background")
            .long("background")
            .value_name("BACKGROUND")
            .value_parser(PossibleValuesParser::new(BACKGROUNDS))
            .ignore_case(true)
            .help("Background (GPT image models)"),
    )
    .arg(
        Arg::new("output_format")
            .long("output-format")
            .value_name("FORMAT")
            .value_parser(PossibleValuesParser::new(OUTPUT_FORMATS))
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

/// The request fields the shared options set, as text (multipart needs text; the JSON
/// body turns `n` back into a number).
fn option_fields(m: &ArgMatches) -> Vec<(&'static str, String)> {
    let mut fields = vec![(
        "model",
        m.get_one::<String>("model")
            .map_or(DEFAULT_MODEL, String::as_str)
            .to_string(),
    )];
    if let Some(n) = m.get_one::<u64>("n") {
        fields.push(("n", n.to_string()));
    }
    for (id, field) in [
        ("size", "size"),
        ("quality", "quality"),
        ("background", "background"),
        ("output_format", "output_format"),
    ] {
        if let Some(value) = m.get_one::<String>(id) {
            fields.push((field, value.to_ascii_lowercase()));
        }
    }
    fields
}

fn run(ctx: &Context, m: &ArgMatches) -> Result<Outcome> {
    if let Some(("edit", sub)) = m.subcommand() {
        return edit::run(ctx, sub);
    }
    let arg = m.get_one::<String>("prompt").map(String::as_str);
    if arg.is_none() && std::io::IsTerminal::is_terminal(&std::io::stdin()) {
        return Err(CliError::usage("no prompt given").with_hint(
            "pass a prompt (`cometapi image \"a lighthouse at dusk\"`) or pipe one on stdin",
        ));
    }
    let prompt = message::read(arg, ctx.streams().stdin_is_terminal())?;
    let plan = files::Plan::new(m, &prompt)?;
    let mut body = Map::new();
    body.insert("prompt".into(), json!(prompt));
    for (field, value) in option_fields(m) {
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
    use crate::term::shell::completer::for_cli;

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
