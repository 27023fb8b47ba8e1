//! `transcribe FILE`: an audio file to text with `POST {base}/audio/transcriptions`, or
//! into English with `--translate` (`POST {base}/audio/translations`). The file is
//! checked (type, 25 MB) before anything is sent and streamed into the multipart body.
//! The reply is printed as the server wrote it (text, SRT, VTT) or as JSON, or saved
//! with `-o FILE`. Never sent twice once the server may have it (`Request::creates`).

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::parser::ValueSource;
use clap::{value_parser, Arg, ArgAction, ArgMatches};
use serde_json::{json, Value};

use crate::cli::context::Context;
use crate::cli::front;
use crate::cli::registry::{CommandSpec, Credential};
use crate::error::{CliError, Result};
use crate::net::multipart::{FileRules, Form};
use crate::net::{message_in, Auth, KeyHeader, Request, Response};
use crate::output::{Cell, Outcome, Output, Record};
use crate::store::save;

/// The audio files the API takes, and its 25 MB limit.
const AUDIO: FileRules = FileRules {
    what: "audio file",
    max_bytes: 25 << 20,
    extensions: &[
        "flac", "mp3", "mp4", "mpeg", "mpga", "m4a", "ogg", "wav", "webm",
    ],
};

/// `--response-format`: what the server returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum ResponseFormat {
    Text,
    Json,
    Srt,
    Vtt,
    #[value(name = "verbose_json")]
    VerboseJson,
}

impl ResponseFormat {
    /// The API's spelling.
    fn as_str(self) -> &'static str {
        match self {
            ResponseFormat::Text => "text",
            ResponseFormat::Json => "json",
            ResponseFormat::Srt => "srt",
            ResponseFormat::Vtt => "vtt",
            ResponseFormat::VerboseJson => "verbose_json",
        }
    }

    /// Whether the reply is a JSON document with a `text`.
    fn is_json(self) -> bool {
        matches!(self, ResponseFormat::Json | ResponseFormat::VerboseJson)
    }
}

fn args(cmd: clap::Command) -> clap::Command {
    cmd.arg(
        Arg::new("file")
            .value_name("FILE")
            .required(true)
            .value_parser(value_parser!(PathBuf))
            .help(
                "The audio file (flac, mp3, mp4, mpeg, mpga, m4a, ogg, wav or webm; at most 25 MB)",
            ),
    )
    .arg(front::model_arg("Speech-to-text model").default_value("whisper-1"))
    .arg(
        Arg::new("translate")
            .long("translate")
            .action(ArgAction::SetTrue)
            .help("Translate into English (/audio/translations) instead of transcribing"),
    )
    .arg(
        Arg::new("language")
            .long("language")
            .value_name("LANG")
            .value_parser(front::non_blank)
            .conflicts_with("translate")
            .help("The spoken language as an ISO-639-1 code (en, de, ja); helps accuracy"),
    )
    .arg(
        Arg::new("prompt")
            .short('p')
            .long("prompt")
            .value_name("TEXT")
            .help("Text to guide the style or continue a previous segment"),
    )
    .arg(
        Arg::new("temperature")
            .short('t')
            .long("temperature")
            .value_name("T")
            .value_parser(value_parser!(f64))
            .help("Sampling temperature, 0.0 to 1.0"),
    )
    .arg(
        Arg::new("response_format")
            .long("response-format")
            .value_name("FORMAT")
            .value_parser(value_parser!(ResponseFormat))
            .ignore_case(true)
            .help("What the server returns [default: text; json with --json]"),
    )
    .arg(
        Arg::new("output")
            .short('o')
            .long("output")
            .value_name("FILE")
            .value_parser(value_parser!(PathBuf))
            .help("Save the reply to FILE (as the server sent it) instead of printing it"),
    )
    .arg(front::force_arg("Overwrite the --output file if it exists").requires("output"))
}

/// What `transcribe` was asked for, read once from its arguments.
#[derive(Debug, PartialEq)]
struct Options {
    file: PathBuf,
    model: Option<String>,
    translate: bool,
    language: Option<String>,
    prompt: Option<String>,
    temperature: Option<f64>,
    /// `--response-format`, when given on the command line.
    response_format: Option<ResponseFormat>,
    output: Option<PathBuf>,
    force: bool,
}

impl Options {
    fn from_matches(m: &ArgMatches) -> Result<Options> {
        let text = |id: &str| m.get_one::<String>(id).cloned();
        let given = m.value_source("response_format") == Some(ValueSource::CommandLine);
        Ok(Options {
            file: m
                .get_one::<PathBuf>("file")
                .cloned()
                .ok_or_else(|| CliError::usage("no audio file given"))?,
            model: text("model"),
            translate: m.get_flag("translate"),
            language: text("language"),
            prompt: text("prompt"),
            temperature: m.get_one::<f64>("temperature").copied(),
            response_format: m
                .get_one::<ResponseFormat>("response_format")
                .copied()
                .filter(|_| given),
            output: m.get_one::<PathBuf>("output").cloned(),
            force: m.get_flag("force"),
        })
    }
}

fn run(ctx: &Context, m: &ArgMatches) -> Result<Outcome> {
    transcribe(ctx, &Options::from_matches(m)?)
}

fn transcribe(ctx: &Context, options: &Options) -> Result<Outcome> {
    let structured = ctx.formatter().structured;
    let format = response_format(options.response_format, structured);
    let target = match &options.output {
        Some(path) => Some((path, save::check_target(path, options.force)?)),
        None => None,
    };
    let form = form_of(options, format)?;
    let endpoint = if options.translate {
        "audio/translations"
    } else {
        "audio/transcriptions"
    };
    let key = ctx.api_key()?;
    let url = ctx.base_url()?.v1(endpoint);
    let request =
        Request::post_multipart(url, Auth::ApiKey(&key, KeyHeader::Bearer), &form).creates();
    let reply = ctx.http()?.send(&request)?;
    let text = checked_text(reply, format)?;
    if let Some((path, target)) = target {
        save_to(&target, options.force, text.as_bytes())?;
        return Ok(Output::Record(saved(path, text.len(), format)).into());
    }
    Ok(shown(text, format, structured)?.into())
}

/// `--response-format` as given, else JSON when the output is structured, else text.
fn response_format(given: Option<ResponseFormat>, structured: bool) -> ResponseFormat {
    match given {
        Some(format) => format,
        None if structured => ResponseFormat::Json,
        None => ResponseFormat::Text,
    }
}

/// The multipart body: the file (checked now, before any request), then the options given.
fn form_of(options: &Options, format: ResponseFormat) -> Result<Form> {
    let mut form = Form::new().file("file", &options.file, AUDIO)?;
    if let Some(model) = &options.model {
        form = form.text("model", model.clone());
    }
    if let Some(language) = &options.language {
        form = form.text("language", language.trim().to_string());
    }
    if let Some(prompt) = &options.prompt {
        form = form.text("prompt", prompt.clone());
    }
    if let Some(t) = options.temperature {
        if !(0.0..=1.0).contains(&t) {
            return Err(CliError::usage(format!(
                "--temperature must be between 0.0 and 1.0, not {t}"
            )));
        }
        form = form.text("temperature", t.to_string());
    }
    Ok(form.text("response_format", format.as_str()))
}

/// The reply as text; an error object in a 200 (whatever format was asked) is an error,
/// and so is a JSON format whose reply is not JSON with a `text`.
fn checked_text(reply: Response, format: ResponseFormat) -> Result<String> {
    let text = String::from_utf8(reply.body)
        .map_err(|_| CliError::failure("the transcription is not UTF-8 text"))?;
    let parsed: Option<Value> = serde_json::from_str(&text).ok();
    if let Some(value) = parsed.as_ref().filter(|v| v.get("error").is_some()) {
        let said = message_in(value).unwrap_or_else(|| value["error"].to_string());
        return Err(CliError::failure(format!(
            "the server answered 200 with an error: {said}"
        )));
    }
    let has_text = parsed
        .as_ref()
        .and_then(|v| v.get("text"))
        .is_some_and(Value::is_string);
    if format.is_json() && !has_text {
        return Err(CliError::failure(format!(
            "the server's {} reply is not JSON with a text field",
            format.as_str()
        )));
    }
    Ok(text)
}

/// What is printed: JSON formats as the server's document, text formats as they are
/// (in a structured output format, as `{"text": ...}`).
fn shown(text: String, format: ResponseFormat, structured: bool) -> Result<Output> {
    if format.is_json() {
        let value = serde_json::from_str(&text)
            .map_err(|e| CliError::failure(format!("the server's reply is not JSON: {e}")))?;
        return Ok(Output::Json(value));
    }
    let text = text.trim_end_matches(['\n', '\r']).to_string();
    Ok(if structured {
        Output::Json(json!({ "text": text }))
    } else {
        Output::Text(text)
    })
}

fn save_to(target: &Path, force: bool, bytes: &[u8]) -> Result<()> {
    let mut file = save::temp_file(target)?;
    file.file()
        .write_all(bytes)
        .map_err(|e| save::write_error(target, e))?;
    save::commit(file, target, save::replace_rule(force))
}

fn saved(path: &Path, bytes: usize, format: ResponseFormat) -> Record {
    Record::new()
        .field("path", "Saved to", path.display().to_string())
        .field("bytes", "Bytes", Cell::count(json!(bytes)))
        .field("response_format", "Format", format.as_str())
}

inventory::submit! {
    CommandSpec::new("transcribe", "Turn speech in an audio file into text (or translate it into English)", run)
        .needs(Credential::ApiKey)
        .with_args(args)
        .model_id_args(&["model"])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::term::shell::completer::for_cli;
    use clap::error::ErrorKind;
    use clap::ValueEnum;

    fn parse(argv: &[&str]) -> std::result::Result<Options, clap::Error> {
        let m = crate::cli::registry::test_matches(args, argv)?;
        Ok(Options::from_matches(&m).expect("a file is required by clap"))
    }

    #[test]
    fn options_are_read_from_a_typical_command_line() {
        let argv = [
            "talk.mp3",
            "-m",
            "whisper-2",
            "--language",
            "de",
            "-p",
            "Names: Ada",
            "-t",
            "0.2",
            "--response-format",
            "SRT",
            "-o",
            "talk.srt",
            "--force",
        ];
        let expected = Options {
            file: PathBuf::from("talk.mp3"),
            model: Some("whisper-2".into()),
            translate: false,
            language: Some("de".into()),
            prompt: Some("Names: Ada".into()),
            temperature: Some(0.2),
            response_format: Some(ResponseFormat::Srt),
            output: Some(PathBuf::from("talk.srt")),
            force: true,
        };
        assert_eq!(parse(&argv).expect("parses"), expected);
        let plain = parse(&["talk.mp3", "--translate"]).expect("parses");
        assert!(plain.translate && !plain.force);
        assert_eq!(
            (plain.model.as_deref(), plain.response_format),
            (Some("whisper-1"), None)
        );
    }

    #[test]
    fn the_format_defaults_by_output_and_rejects_other_values() {
        assert_eq!(response_format(None, false), ResponseFormat::Text);
        assert_eq!(response_format(None, true), ResponseFormat::Json);
        let given = Some(ResponseFormat::Vtt);
        assert_eq!(response_format(given, true), ResponseFormat::Vtt);
        let verbose = parse(&["a.mp3", "--response-format", "VERBOSE_JSON"]).expect("any case");
        assert_eq!(verbose.response_format, Some(ResponseFormat::VerboseJson));
        let err = parse(&["a.mp3", "--response-format", "verbose-json"]).expect_err("bad");
        assert_eq!(err.kind(), ErrorKind::InvalidValue);
        assert!(parse(&["a.mp3", "--translate", "--language", "en"]).is_err());
        for format in ResponseFormat::value_variants() {
            let value = format.to_possible_value().expect("listed");
            assert_eq!(value.get_name(), format.as_str());
            assert_eq!(format.is_json(), format.as_str().ends_with("json"));
        }
    }

    /// What the REPL offers for the last word of `line`.
    fn offered(line: &str) -> Vec<String> {
        let completer = for_cli(Vec::new(), Box::new(|| vec!["whisper-1".into()]));
        let mut words: Vec<String> = line.split(' ').map(str::to_string).collect();
        let current = words.pop().unwrap_or_default();
        let offered = completer.complete_words(&words, &current);
        offered.into_iter().map(|(value, _)| value).collect()
    }

    #[test]
    fn the_repl_completes_its_flags_choices_and_models() {
        assert_eq!(offered("transcribe a.mp3 --tr"), ["--translate"]);
        assert_eq!(
            offered("transcribe a.mp3 --response-format "),
            ["text", "json", "srt", "vtt", "verbose_json"]
        );
        assert_eq!(offered("transcribe a.mp3 -m w"), ["whisper-1"]);
    }
}
