//! `speech [TEXT]`: text to spoken audio (`POST /v1/audio/speech`). The audio is
//! streamed to `-o FILE` (a temporary file renamed into place when whole) or to stdout
//! when stdout is not a terminal; it is never written to a terminal.

use std::path::{Path, PathBuf};

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
const SPEED_RANGE: std::ops::RangeInclusive<f64> = 0.25..=4.0;

/// `--voice`: the API's voices.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum Voice {
    Alloy,
    Ash,
    Ballad,
    Coral,
    Echo,
    Fable,
    Onyx,
    Nova,
    Sage,
    Shimmer,
}

/// `--audio-format`: what the API can encode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum AudioFormat {
    Mp3,
    Opus,
    Aac,
    Flac,
    Wav,
    Pcm,
}

impl Voice {
    /// The API's spelling.
    fn as_str(self) -> &'static str {
        match self {
            Voice::Alloy => "alloy",
            Voice::Ash => "ash",
            Voice::Ballad => "ballad",
            Voice::Coral => "coral",
            Voice::Echo => "echo",
            Voice::Fable => "fable",
            Voice::Onyx => "onyx",
            Voice::Nova => "nova",
            Voice::Sage => "sage",
            Voice::Shimmer => "shimmer",
        }
    }
}

impl AudioFormat {
    /// The API's spelling, also the saved file's extension.
    fn as_str(self) -> &'static str {
        match self {
            AudioFormat::Mp3 => "mp3",
            AudioFormat::Opus => "opus",
            AudioFormat::Aac => "aac",
            AudioFormat::Flac => "flac",
            AudioFormat::Wav => "wav",
            AudioFormat::Pcm => "pcm",
        }
    }
}

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
            .value_parser(value_parser!(Voice))
            .ignore_case(true)
            .default_value("alloy")
            .help("Voice"),
    )
    .arg(
        Arg::new("audio_format")
            .long("audio-format")
            .value_name("FORMAT")
            .value_parser(value_parser!(AudioFormat))
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

/// What `speech` was asked for, read once from its arguments.
#[derive(Debug, PartialEq)]
struct Options {
    /// TEXT, `-` or nothing (then piped stdin).
    text: Option<String>,
    model: String,
    voice: Voice,
    format: AudioFormat,
    speed: Option<f64>,
    output: Option<PathBuf>,
    force: bool,
}

impl Options {
    fn from_matches(m: &ArgMatches) -> Options {
        Options {
            text: m.get_one::<String>("text").cloned(),
            model: m
                .get_one::<String>("model")
                .map_or("tts-1", String::as_str)
                .to_string(),
            voice: m.get_one::<Voice>("voice").copied().unwrap_or(Voice::Alloy),
            format: m
                .get_one::<AudioFormat>("audio_format")
                .copied()
                .unwrap_or(AudioFormat::Mp3),
            speed: m.get_one::<f64>("speed").copied(),
            output: m.get_one::<PathBuf>("output").cloned(),
            force: m.get_flag("force"),
        }
    }
}

fn run(ctx: &Context, m: &ArgMatches) -> Result<Outcome> {
    speak(ctx, &Options::from_matches(m))
}

fn speak(ctx: &Context, options: &Options) -> Result<Outcome> {
    let streams = ctx.streams();
    let text = text_of(options.text.as_deref(), streams.stdin_is_terminal())?;
    let format = options.format.as_str();
    let mut sink = Sink::open(
        options.output.as_deref(),
        options.force,
        &format!("speech.{format}"),
        streams,
    )?;
    let model = options.model.as_str();
    let voice = options.voice.as_str();
    let mut body =
        json!({"model": model, "input": text, "voice": voice, "response_format": format});
    if let Some(speed) = options.speed {
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
        Some(path) => Ok(Output::Record(saved(&path, bytes, model, voice, format)?).into()),
        None => Ok(Output::Empty.into()),
    }
}

/// The text to speak: the argument, `-`/piped stdin; at most [`MAX_CHARS`].
fn text_of(arg: Option<&str>, stdin_is_terminal: bool) -> Result<String> {
    if arg.is_none() && stdin_is_terminal {
        return Err(CliError::usage("no text given").with_hint(
            "pass the text (`cometapi speech \"hello\" -o hello.mp3`) or pipe it on stdin",
        ));
    }
    let text = message::read(arg, stdin_is_terminal)?;
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
    use crate::term::streams::{Captured, Streams, Terminals};
    use clap::error::ErrorKind;
    use clap::ValueEnum;

    const ALL: Terminals = Terminals {
        stdin: true,
        stdout: true,
        stderr: true,
    };

    fn parse(argv: &[&str]) -> std::result::Result<Options, clap::Error> {
        let m = crate::cli::registry::test_matches(args, argv)?;
        Ok(Options::from_matches(&m))
    }

    #[test]
    fn options_are_read_from_a_typical_command_line() {
        let argv = [
            "hello",
            "-m",
            "tts-1-hd",
            "--voice",
            "Nova",
            "--audio-format",
            "WAV",
            "--speed",
            "1.5",
            "-o",
            "hi.wav",
            "--force",
        ];
        let expected = Options {
            text: Some("hello".into()),
            model: "tts-1-hd".into(),
            voice: Voice::Nova,
            format: AudioFormat::Wav,
            speed: Some(1.5),
            output: Some(PathBuf::from("hi.wav")),
            force: true,
        };
        assert_eq!(parse(&argv).expect("parses"), expected);
        let plain = parse(&[]).expect("parses");
        assert_eq!(
            (plain.voice, plain.format),
            (Voice::Alloy, AudioFormat::Mp3)
        );
        assert_eq!(
            (plain.model.as_str(), plain.text, plain.speed),
            ("tts-1", None, None)
        );
    }

    #[test]
    fn voices_and_formats_reject_other_values() {
        for argv in [["--voice", "robot"], ["--audio-format", "ogg"]] {
            let err = parse(&argv).expect_err("not a choice");
            assert_eq!(err.kind(), ErrorKind::InvalidValue, "{argv:?}");
        }
        let err = parse(&["--speed", "9"]).expect_err("too fast");
        assert_eq!(err.kind(), ErrorKind::ValueValidation);
    }

    #[test]
    fn the_wire_spelling_is_the_value_clap_takes() {
        for voice in Voice::value_variants() {
            let value = voice.to_possible_value().expect("listed");
            assert_eq!(value.get_name(), voice.as_str());
        }
        for format in AudioFormat::value_variants() {
            let value = format.to_possible_value().expect("listed");
            assert_eq!(value.get_name(), format.as_str());
        }
    }

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

    /// `speech ARGV` on test streams with these terminals: its error, and what it wrote.
    /// Every case here fails before a request (and before stdin would be read).
    fn refused(argv: &[&str], terminals: Terminals) -> (CliError, Captured) {
        let dir = tempfile::tempdir().expect("tempdir");
        let (streams, captured) = Streams::test();
        let ctx = Context::for_test(streams.with_terminals(terminals, 80), dir.path());
        let options = parse(argv).expect("parses");
        (speak(&ctx, &options).expect_err("refused"), captured)
    }

    #[test]
    fn no_text_with_a_terminal_on_stdin_is_a_usage_error() {
        let (err, captured) = refused(&["-o", "hi.mp3"], ALL);
        assert_eq!(err.exit.code(), 2);
        assert_eq!(err.message, "no text given");
        let hint = err.hint.unwrap_or_default();
        assert!(hint.contains("pipe it on stdin"), "{hint}");
        assert_eq!(captured.stdout() + &captured.stderr(), "");
    }

    #[test]
    fn audio_is_never_written_to_a_terminal() {
        let (err, captured) = refused(&["hello", "--audio-format", "wav"], ALL);
        assert_eq!(err.exit.code(), 2);
        assert_eq!(err.message, "refusing to write binary data to the terminal");
        let hint = err.hint.unwrap_or_default();
        assert!(hint.contains("-o speech.wav"), "{hint}");
        assert_eq!(captured.stdout(), "", "not a byte of audio");
    }

    #[test]
    fn text_over_the_limit_is_refused_before_the_terminal_check() {
        let long = "a".repeat(MAX_CHARS + 1);
        let (err, _) = refused(&[long.as_str()], ALL);
        assert_eq!(err.exit.code(), 2);
        assert!(err.message.contains("at most 4096"), "{}", err.message);
    }
}
