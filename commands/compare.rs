//! `compare -m A -m B [-m C...] PROMPT`: the same prompt to every model at once, each
//! reply streamed. On a terminal the replies are drawn as they arrive, side by side
//! (stacked when it is too narrow), then shown in full; piped or with `--format`, one
//! section per model once all have finished. Then a table per model: time to first
//! token, total time, tokens, cost, with the fastest and cheapest marked. A model that fails shows
//! its error; the others carry on; exit 1 if any failed.

mod columns;

use std::io::{self, Write};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use clap::{value_parser, Arg, ArgAction, ArgMatches};
use serde_json::{json, Value};

use crate::api::bulk::stats::{tokens_of, Prices};
use crate::api::catalog::{self, CachePolicy};
use crate::api::chat_body::{self, ChatSettings};
use crate::api::message;
use crate::api::money;
use crate::api::stream::{self, Reply, Wire};
use crate::cli::context::Context;
use crate::cli::front;
use crate::cli::registry::{CommandSpec, Credential};
use crate::error::{CliError, ExitCode, Result};
use crate::net::{Auth, KeyHeader, Request};
use crate::output::{Cell, Column, Outcome, Output, Table, Tone};
use crate::term::sanitize;
use crate::term::streams::Streams;
use columns::LiveLanes;

fn args(cmd: clap::Command) -> clap::Command {
    cmd.arg(
        Arg::new("prompt")
            .value_name("PROMPT")
            .num_args(1..)
            .help("The prompt; several words are joined with spaces; - or piped stdin reads it"),
    )
    .arg(
        Arg::new("model")
            .short('m')
            .long("model")
            .value_name("MODEL")
            .action(ArgAction::Append)
            .required(true)
            .value_parser(front::non_blank)
            .help("A model to ask (give two or more)"),
    )
    .arg(
        Arg::new("system")
            .short('s')
            .long("system")
            .value_name("PROMPT")
            .help("System prompt"),
    )
    .arg(
        Arg::new("temperature")
            .short('t')
            .long("temperature")
            .value_name("T")
            .value_parser(value_parser!(f64))
            .help("Sampling temperature, 0.0 to 2.0"),
    )
    .arg(
        Arg::new("max_tokens")
            .long("max-tokens")
            .value_name("N")
            .value_parser(value_parser!(u32).range(1..))
            .help("Most tokens each model may generate"),
    )
}

/// One model's run.
struct Lane {
    model: String,
    text: String,
    first_token: Option<Duration>,
    total: Duration,
    input_tokens: u64,
    output_tokens: u64,
    cost: Option<f64>,
    error: Option<CliError>,
}

/// The replies drawn as they arrive (stdout a terminal, no `--format`), as lane `usize`.
type Live<'a> = Option<(&'a Mutex<LiveLanes>, usize)>;

/// Keeps a reply's text and when its first piece came, and shows it live when asked.
struct Capture<'a> {
    started: Instant,
    first: Option<Duration>,
    text: Vec<u8>,
    live: Live<'a>,
}

impl Write for Capture<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if !buf.is_empty() && self.first.is_none() {
            self.first = Some(self.started.elapsed());
        }
        self.text.extend_from_slice(buf);
        if let Some((live, lane)) = self.live {
            // A terminal that cannot be drawn on must not stop the request; the full
            // replies are printed again at the end.
            let _ = live
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(lane, buf);
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// What `compare` was asked for, read once from its arguments.
#[derive(Debug, PartialEq)]
struct Options {
    /// The words of PROMPT joined with spaces; `None` reads stdin.
    prompt: Option<String>,
    /// Each model once, in the order first given.
    models: Vec<String>,
    system: Option<String>,
    temperature: Option<f64>,
    max_tokens: Option<u32>,
}

impl Options {
    fn from_matches(m: &ArgMatches) -> Options {
        let mut models: Vec<String> = Vec::new();
        for model in m.get_many::<String>("model").into_iter().flatten() {
            if !models.contains(model) {
                models.push(model.clone());
            }
        }
        let words: Option<Vec<&str>> = m
            .get_many::<String>("prompt")
            .map(|w| w.map(String::as_str).collect());
        Options {
            prompt: words.map(|w| w.join(" ")),
            models,
            system: m.get_one::<String>("system").cloned(),
            temperature: m.get_one::<f64>("temperature").copied(),
            max_tokens: m.get_one::<u32>("max_tokens").copied(),
        }
    }
}

fn run(ctx: &Context, m: &ArgMatches) -> Result<Outcome> {
    compare(ctx, &Options::from_matches(m))
}

fn compare(ctx: &Context, options: &Options) -> Result<Outcome> {
    let models = &options.models;
    if models.len() < 2 {
        return Err(CliError::usage(
            "compare needs two or more different models (-m A -m B)",
        ));
    }
    if let Some(t) = options.temperature.filter(|t| !(0.0..=2.0).contains(t)) {
        return Err(CliError::usage(format!(
            "--temperature must be between 0.0 and 2.0, not {t}"
        )));
    }
    let prompt = message::read(options.prompt.as_deref(), ctx.streams().stdin_is_terminal())?;
    if prompt.trim().is_empty() {
        return Err(CliError::usage("the prompt is empty"));
    }
    let key = ctx.api_key()?;
    let url = ctx.base_url()?.v1("chat/completions");
    let http = ctx.http()?;
    let usage = ctx.stream_usage()?;
    let streams = ctx.streams();
    let requests: Vec<Request> = models
        .iter()
        .map(|model| {
            let body = body(options, model, &prompt, usage);
            Request::post_json(url.clone(), Auth::ApiKey(&key, KeyHeader::Bearer), &body)
        })
        .collect();
    let live = (streams.stdout_is_terminal()
        && ctx.globals.format.is_none()
        && !ctx.formatter().structured)
        .then(|| Mutex::new(live_lanes(models, streams.width())));
    let spinner_off = live.as_ref().map(|_| crate::term::progress::silence());
    if let Some(live) = &live {
        let _ = live.lock().unwrap_or_else(PoisonError::into_inner).redraw();
    }
    let mut lanes = ask_all(http, &requests, models, live.as_ref());
    let live = live.map(|l| l.into_inner().unwrap_or_else(PoisonError::into_inner));
    if lanes.iter().any(|l| {
        l.error
            .as_ref()
            .is_some_and(|e| e.exit == ExitCode::Interrupted)
    }) {
        if let Some(mut live) = live {
            let _ = live.leave();
        }
        return Err(crate::term::interrupt::error());
    }
    // The prices load (perhaps from the network) under the live block, without a spinner.
    let mut prices = Prices::new(catalog::models(ctx, CachePolicy::Use).unwrap_or_default());
    for lane in &mut lanes {
        lane.cost = prices.cost(&lane.model, lane.input_tokens, lane.output_tokens);
    }
    if let Some(mut live) = live {
        live.clear().map_err(CliError::from_output)?;
    }
    drop(spinner_off);
    let exit = if lanes.iter().any(|l| l.error.is_some()) {
        ExitCode::Failure
    } else {
        ExitCode::Success
    };
    if ctx.formatter().structured {
        return Ok(Outcome::with_exit(Output::Json(as_json(&lanes)), exit));
    }
    show_replies(streams, &lanes, ctx.globals.format.is_some())?;
    Ok(Outcome::with_exit(Output::Table(summary(&lanes)), exit))
}

/// The streamed chat request for one model.
fn body(options: &Options, model: &str, prompt: &str, usage: bool) -> Value {
    let settings = ChatSettings {
        temperature: options.temperature,
        max_tokens: options.max_tokens,
        streaming: true,
        stream_usage: usage,
    };
    settings.body(
        model,
        chat_body::first_turn(options.system.as_deref(), prompt),
    )
}

/// The live view for stdout's terminal: `width` wide, as tall as the terminal is.
fn live_lanes(models: &[String], width: usize) -> LiveLanes {
    let height = crossterm::terminal::size().map_or(24, |(_, h)| usize::from(h));
    LiveLanes::new(models, width, height)
}

/// Every model asked at once, a thread each on the one client; the lanes in model order.
/// With a live view, one more thread draws the text held back between redraws.
fn ask_all(
    http: &crate::net::Http,
    requests: &[Request],
    models: &[String],
    live: Option<&Mutex<LiveLanes>>,
) -> Vec<Lane> {
    let (running, all_done) = mpsc::channel::<()>();
    std::thread::scope(|scope| {
        let handles: Vec<_> = requests
            .iter()
            .zip(models)
            .enumerate()
            .map(|(i, (request, model))| {
                let live = live.map(|l| (l, i));
                // Dropped when this model is done; the last one ends the drawing thread.
                let running = running.clone();
                scope.spawn(move || {
                    let lane = ask(http, request, model, live);
                    if let Some((live, i)) = live {
                        let error = lane.error.as_ref().map(|e| format!("error: {}", e.message));
                        let _ = live
                            .lock()
                            .unwrap_or_else(PoisonError::into_inner)
                            .finish(i, error.as_deref());
                    }
                    drop(running);
                    lane
                })
            })
            .collect();
        drop(running);
        if let Some(live) = live {
            scope.spawn(move || {
                while let Err(RecvTimeoutError::Timeout) =
                    all_done.recv_timeout(columns::REDRAW_EVERY)
                {
                    let _ = live
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .catch_up();
                }
            });
        }
        handles
            .into_iter()
            .zip(models)
            .map(|(handle, model)| handle.join().unwrap_or_else(|_| failed_lane(model)))
            .collect()
    })
}

/// Streams one model's reply into a [`Lane`]; a failure is kept, not raised.
fn ask(http: &crate::net::Http, request: &Request, model: &str, live: Live<'_>) -> Lane {
    let started = Instant::now();
    let mut capture = Capture {
        started,
        first: None,
        text: Vec::new(),
        live,
    };
    let mut reply = Reply::new(false);
    let result = stream::run(http, request, Wire::Chat, &mut capture, &mut reply);
    let (input_tokens, output_tokens) = reply
        .usage
        .as_ref()
        .map_or((0, 0), |usage| tokens_of(&json!({"usage": usage})));
    Lane {
        model: model.to_string(),
        text: String::from_utf8_lossy(&capture.text).into_owned(),
        first_token: capture.first,
        total: started.elapsed(),
        input_tokens,
        output_tokens,
        cost: None,
        error: result.err(),
    }
}

fn failed_lane(model: &str) -> Lane {
    Lane {
        model: model.to_string(),
        text: String::new(),
        first_token: None,
        total: Duration::ZERO,
        input_tokens: 0,
        output_tokens: 0,
        cost: None,
        error: Some(CliError::failure("the request failed unexpectedly")),
    }
}

/// The replies: side by side on a wide enough terminal, else one section per model.
fn show_replies(streams: &Streams, lanes: &[Lane], format_given: bool) -> Result<()> {
    let terminal = streams.stdout_is_terminal();
    let text_of = |lane: &Lane| match &lane.error {
        Some(err) => format!("error: {}", err.message),
        None => lane.text.trim_end().to_string(),
    };
    let column = columns::column_width(lanes.len(), streams.width());
    let shown = if let Some(column) = column.filter(|_| terminal && !format_given) {
        let texts: Vec<String> = lanes.iter().map(text_of).collect();
        let panes: Vec<(&str, &str)> = lanes
            .iter()
            .zip(&texts)
            .map(|(l, t)| (l.model.as_str(), t.as_str()))
            .collect();
        columns::side_by_side(&panes, column, None).join("\n")
    } else {
        lanes
            .iter()
            .map(|lane| format!("== {} ==\n{}\n", lane.model, text_of(lane)))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let shown = sanitize::for_terminal(&shown, terminal).into_owned();
    let mut out = streams.out();
    writeln!(out, "{shown}")
        .and_then(|()| out.flush())
        .map_err(CliError::from_output)
}

/// The fastest (total time) and cheapest model among those that answered.
fn best(lanes: &[Lane]) -> (Option<usize>, Option<usize>) {
    let ok = || lanes.iter().enumerate().filter(|(_, l)| l.error.is_none());
    let fastest = ok().min_by_key(|(_, l)| l.total).map(|(i, _)| i);
    let cheapest = ok()
        .filter_map(|(i, l)| Some((i, l.cost?)))
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(i, _)| i);
    (fastest, cheapest)
}

fn seconds(duration: Option<Duration>) -> Cell {
    match duration {
        Some(d) => {
            let secs = (d.as_secs_f64() * 1000.0).round() / 1000.0;
            Cell::with_text(json!(secs), format!("{secs:.2}"))
        }
        None => Cell::new(Value::Null),
    }
}

fn summary(lanes: &[Lane]) -> Table {
    let (fastest, cheapest) = best(lanes);
    let mut table = Table::new(
        vec![
            Column::new("model", "Model"),
            Column::new("status", "Status").truncates(),
            Column::new("first_token_secs", "First token (s)"),
            Column::new("total_secs", "Total (s)"),
            Column::new("input_tokens", "In").droppable(2),
            Column::new("output_tokens", "Out").droppable(2),
            Column::new("cost_usd", "Cost").droppable(1),
            Column::new("best", "Best"),
        ],
        "No models.",
    );
    for (i, lane) in lanes.iter().enumerate() {
        let status = match &lane.error {
            Some(err) => Cell::new(err.message.clone()).tone(Tone::Bad),
            None => Cell::new("ok").tone(Tone::Good),
        };
        let marks: Vec<&str> = [
            (fastest == Some(i), "fastest"),
            (cheapest == Some(i), "cheapest"),
        ]
        .into_iter()
        .filter_map(|(yes, mark)| yes.then_some(mark))
        .collect();
        table.push(vec![
            Cell::new(lane.model.clone()),
            status,
            seconds(lane.first_token),
            seconds(lane.error.is_none().then_some(lane.total)),
            Cell::count(json!(lane.input_tokens)),
            Cell::count(json!(lane.output_tokens)),
            lane.cost
                .map_or_else(|| Cell::new(Value::Null), money::usd_cell),
            Cell::new(json!(marks)),
        ]);
    }
    table
}

fn as_json(lanes: &[Lane]) -> Value {
    let (fastest, cheapest) = best(lanes);
    let models: Vec<Value> = lanes
        .iter()
        .enumerate()
        .map(|(i, lane)| {
            json!({
                "model": lane.model,
                "content": lane.error.is_none().then_some(&lane.text),
                "error": lane.error.as_ref().map(|e| &e.message),
                "first_token_ms": lane.first_token.map(|d| d.as_millis() as u64),
                "total_ms": lane.total.as_millis() as u64,
                "input_tokens": lane.input_tokens,
                "output_tokens": lane.output_tokens,
                "cost_usd": lane.cost,
                "fastest": fastest == Some(i),
                "cheapest": cheapest == Some(i),
            })
        })
        .collect();
    json!({"models": models})
}

inventory::submit! {
    CommandSpec::new("compare", "Ask several models the same prompt at once and compare them", run)
        .needs(Credential::ApiKey)
        .with_args(args)
        .model_id_args(&["model"])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::term::streams::{Captured, Terminals};

    fn lane(model: &str, text: &str) -> Lane {
        Lane {
            text: text.to_string(),
            error: None,
            ..failed_lane(model)
        }
    }

    /// The replies shown on test streams, stdout a terminal `width` wide or a pipe.
    fn shown(terminal: Option<usize>, format_given: bool) -> Captured {
        let (streams, captured) = Streams::test();
        let streams = match terminal {
            Some(width) => {
                let all = Terminals {
                    stdin: true,
                    stdout: true,
                    stderr: true,
                };
                streams.with_terminals(all, width)
            }
            None => streams,
        };
        let lanes = [lane("alpha", "one\x1b[2J\n"), failed_lane("beta")];
        show_replies(&streams, &lanes, format_given).expect("shown");
        captured
    }

    #[test]
    fn a_pipe_gets_one_section_per_model_as_it_is() {
        let piped = shown(None, false);
        assert_eq!(
            piped.stdout(),
            "== alpha ==\none\x1b[2J\n\n== beta ==\nerror: the request failed unexpectedly\n\n"
        );
        assert_eq!(piped.stderr(), "");
    }

    #[test]
    fn a_wide_terminal_gets_columns_and_a_narrow_one_sections() {
        let wide = shown(Some(100), false).stdout();
        let first = wide.lines().next().unwrap_or_default();
        assert!(first.contains("alpha") && first.contains("beta"), "{wide}");
        assert!(!wide.contains("== alpha =="), "{wide}");
        assert!(!wide.contains('\x1b'), "escapes neutralised: {wide:?}");
        let narrow = shown(Some(40), false).stdout();
        assert!(narrow.starts_with("== alpha ==\none"), "{narrow}");
        assert!(!narrow.contains('\x1b'), "{narrow:?}");
        let formatted = shown(Some(100), true).stdout();
        assert!(formatted.starts_with("== alpha =="), "--format: sections");
    }

    fn options(argv: &[&str]) -> Result<Options, clap::Error> {
        let m = crate::cli::registry::test_matches(args, argv)?;
        Ok(Options::from_matches(&m))
    }

    #[test]
    fn the_prompt_and_each_model_once_are_read() {
        let argv = [
            "-m",
            "a",
            "-m",
            "b",
            "-m",
            "a",
            "-s",
            "sys",
            "-t",
            "0.2",
            "--max-tokens",
            "7",
            "say",
            "hi",
        ];
        assert_eq!(
            options(&argv).expect("parses"),
            Options {
                prompt: Some("say hi".into()),
                models: vec!["a".into(), "b".into()],
                system: Some("sys".into()),
                temperature: Some(0.2),
                max_tokens: Some(7),
            }
        );
        let piped = options(&["-m", "a", "-m", "a"]).expect("parses");
        assert_eq!((piped.prompt, piped.models.len()), (None, 1));
    }

    #[test]
    fn bad_values_are_rejected() {
        for argv in [
            &["hi"][..],
            &["-m", "", "-m", "b", "hi"],
            &["-m", "a", "-m", "b", "--max-tokens", "0", "hi"],
            &["-m", "a", "-m", "b", "-t", "hot", "hi"],
        ] {
            assert!(options(argv).is_err(), "{argv:?}");
        }
    }
}
