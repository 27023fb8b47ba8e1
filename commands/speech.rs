//! `speech [TEXT]`: text to spoken audio (`POST /v1/audio/speech`). The audio is
//! streamed to `-o FILE` (a temporary file renamed into place when whole) or to stdout
//! when stdout is not a terminal; it is never written to a terminal.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use clap::builder::PossibleValuesParser;
use clap::{value_parser, Arg, ArgMatches};
use serde_json::{json, Value};

use crate::api::message;
use crate::cli::context::Context;
use crate::cli::front;
use crate::cli::registry::{CommandSpec, Credential};
use crate::error::{CliError, Result};
use crate::net::{Auth, KeyHeader, Request};
use crate::output::{Cell, Outcome, Output, Record};
use crate::store::save::Sink;
use crate::store::sniff;

/// The API's limit on `input`, in characters.
const MAX_CHARS: usize = 4096;
const VOICES: [&str; 10] = [
    "alloy", "ash", "ballad", "coral", "echo", "fable", "onyx", "nova", "sage", "shimmer",
];
const FORMATS: [&str; 6] = ["mp3", "opus", "aac", "flac", "wav", "pcm"];
const SPEED_RANGE: std::ops::RangeInclusive<f64> = 0.25..=4.0;

fn args(cmd: clap::Command) -> clap::Command {
    cmd.arg(
        Arg::new("text")
            .value_name("TEXT")
            .value_parser(front::non_blank)
            .help("The text to speak (at most 4096 characters); `-` or piped stdin reads it"),
    )
    .arg(front::model_arg("Speech model (tts-1, tts-1-hd, gpt-4o-mini-tts)").default_value("tts-1"))
    .arg(
        Arg::new("voice")
            .long("voice")
            .value_name("VOICE")
            .value_parser(PossibleValuesParser::new(VOICES))
            .ignore_case(true)
            .default_value("alloy")
            .help("Voice"),
    )
    .arg(
        Arg::new("audio_format")
            .long("audio-format")
            .value_name("FORMAT")
            .value_parser(PossibleValuesParser::new(FORMATS))
            .ignore_case(true)
            .default_value("mp3")
            .help("Audio format (pcm: raw 24 kHz 16-bit mono samples)"),
    )
    .arg(
        Arg::new("speed")
            .long("speed")
            .value_name("SPEED")
            .value_parser(speed)
            .help("Speaking speed, 0.25 to 4.0 (default 1.0)"),
    )
    .arg(
        Arg::new("output")
            .short('o')
            .long("output")
            .value_name("FILE")
            .value_parser(value_parser!(PathBuf))
            .help("Write the audio to FILE (default: stdout, which must not be a terminal)"),
    )
    .arg(front::force_arg("Overwrite FILE if it exists"))
}

/// `--speed`: a number from 0.25 to 4.0.
fn speed(value: &str) -> std::result::Result<f64, String> {
    match value.trim().parse::<f64>() {
        Ok(speed) if SPEED_RANGE.contains(&speed) => Ok(speed),
        _ => Err("must be a number from 0.25 to 4.0".to_string()),
    }
}

fn run(ctx: &Context, m: &ArgMatches) -> Result<Outcome> {
    let text = text_of(m.get_one::<String>("text").map(String::as_str))?;
    let format = m
        .get_one::<String>("audio_format")
        .map_or("mp3", String::as_str)
        .to_ascii_lowercase();
    let output = m.get_one::<PathBuf>("output");
    let mut sink = Sink::open(
        output.map(PathBuf::as_path),
        m.get_flag("force"),
        &format!("speech.{format}"),
    )?;
    let model = m.get_one::<String>("model").map_or("tts-1", String::as_str);
    let voice = m
        .get_one::<String>("voice")
        .map_or("alloy", String::as_str)
        .to_ascii_lowercase();
    let mut body =
        json!({"model": model, "input": text, "voice": voice, "response_format": format});
    if let Some(speed) = m.get_one::<f64>("speed") {
        body["speed"] = json!(speed);
    }
    let key = ctx.api_key()?;
    let request = Request::post_json(
        ctx.base_url()?.v1("audio/speech"),
        Auth::ApiKey(&key, KeyHeader::Bearer),
        &body,
    )
    .creates()
    .binary();
    let bytes = ctx.http()?.download(&request, &mut sink, &mut |_| {})?;
    if bytes == 0 {
        return Err(CliError::failure(
            "the server sent no audio (an empty reply)",
        ));
    }
    match sink.finish()? {
        Some(path) => Ok(Output::Record(saved(&path, bytes, model, &voice, &format)?).into()),
        None => Ok(Output::Empty.into()),
    }
}

/// The text to speak: the argument, `-`/piped stdin; at most [`MAX_CHARS`].
fn text_of(arg: Option<&str>) -> Result<String> {
    if arg.is_none() && std::io::stdin().is_terminal() {
        return Err(CliError::usage("no text given").with_hint(
            "pass the text (`cometapi speech \"hello\" -o hello.mp3`) or pipe it on stdin",
        ));
    }
    let text = message::read(arg)?;
    check_length(&text)?;
    Ok(text)
}

fn check_length(text: &str) -> Result<()> {
    let chars = text.chars().count();
    if chars > MAX_CHARS {
        return Err(CliError::usage(format!(
            "the text is {chars} characters; speech takes at most {MAX_CHARS}"
        ))
        .with_hint("split it and run `cometapi speech` on each part"));
    }
    Ok(())
}

/// What was saved: path, size, the type read from the bytes, model and voice.
fn saved(path: &Path, bytes: u64, model: &str, voice: &str, format: &str) -> Result<Record> {
    let mut file =
        std::fs::File::open(path).map_err(|e| crate::store::save::write_error(path, e))?;
    let head = sniff::head_of(&mut file).map_err(|e| crate::store::save::write_error(path, e))?;
    let kind = sniff::kind(&head).map_or(Value::Null, |k| json!(k.mime));
    Ok(Record::new()
        .field("path", "Path", path.display().to_string())
        .field("bytes", "Bytes", Cell::count(json!(bytes)))
        .field("type", "Type", kind)
        .field("format", "Format", format)
        .field("model", "Model", model)
        .field("voice", "Voice", voice))
}

inventory::submit! {
    CommandSpec::new("speech", "Turn text into spoken audio (to a file or a pipe)", run)
        .needs(Credential::ApiKey)
        .with_args(args)
        .model_id_args(&["model"])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn speed_is_checked() {
        assert_eq!(speed("0.25"), Ok(0.25));
        assert_eq!(speed("4"), Ok(4.0));
        for bad in ["0.2", "4.01", "nan", "inf", "-1", "", "fast"] {
            assert!(speed(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_length_limit_counts_characters() {
        assert!(check_length(&"é".repeat(MAX_CHARS)).is_ok());
        let err = check_length(&"a".repeat(MAX_CHARS + 1)).expect_err("too long");
        assert_eq!(err.exit.code(), 2);
    }
}
