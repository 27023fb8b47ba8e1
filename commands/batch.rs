//! `batch INPUT`: thousands of requests from a JSONL, text or CSV file, run on the bulk
//! engine (`src/bulk`) with bounded, adaptive concurrency; one result line per request
//! as it finishes, resumable with the same `-o`.

mod bar;
mod input;
mod results;

use std::cell::RefCell;
use std::collections::HashMap;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use clap::{value_parser, Arg, ArgAction, ArgMatches};
use serde_json::{json, Value};

use crate::api::base_url::BaseUrl;
use crate::api::bulk::engine::{self, Ended, Finished, Flow, Settings};
use crate::api::bulk::stats::{tokens_of, Prices, Totals};
use crate::api::catalog::{self, CachePolicy};
use crate::api::money::usd_text;
use crate::cli::context::Context;
use crate::cli::front;
use crate::cli::registry::{CommandSpec, Credential};
use crate::config::secret::Secret;
use crate::error::{CliError, ExitCode, Result};
use crate::net::{Auth, KeyHeader, Request};
use crate::output::{Outcome, Output, Record};

use input::{Checked, Defaults, Entry, Format};
use results::{ResultLine, Sink};

/// How long requests in flight may finish after Ctrl-C.
const GRACE: Duration = Duration::from_secs(3);
/// `--ordered` keeps at most this many results per `-j` slot waiting for earlier ones.
const REORDER_PER_JOB: usize = 64;

fn args(cmd: clap::Command) -> clap::Command {
    cmd.after_help(
        "Input lines: {custom_id, method, url, body} (OpenAI Batch API; url one of /v1/chat/completions, \
         /v1/responses, /v1/embeddings, /v1/messages), {id?, prompt, model?, system?, temperature?}, or \
         plain text (one prompt a line). Running again with the same -o skips what is already done.",
    )
    .arg(Arg::new("input").value_name("INPUT").required(true).help("The input file; - reads stdin"))
    .arg(Arg::new("output").short('o').long("output").value_name("OUT.jsonl")
        .value_parser(value_parser!(PathBuf))
        .help("Append results here (default stdout); failures also go to OUT.errors.jsonl"))
    .arg(Arg::new("model").short('m').long("model").value_name("MODEL").value_parser(front::non_blank)
        .help("Model for lines that name none (default: the default model)"))
    .arg(Arg::new("system").short('s').long("system").value_name("PROMPT")
        .help("System prompt for lines that give none"))
    .arg(Arg::new("temperature").short('t').long("temperature").value_name("T")
        .value_parser(value_parser!(f64)).help("Sampling temperature, 0.0 to 2.0"))
    .arg(Arg::new("template").long("template").value_name("TEXT")
        .help("Build each prompt from a JSON object or CSV row: {{field}} is replaced by its value"))
    .arg(Arg::new("input_format").long("input-format").value_name("FORMAT")
        .value_parser(value_parser!(Format)).default_value("auto")
        .help("auto: JSON objects or plain text, line by line; text: every line a prompt; csv: rows with a header, for --template"))
    .arg(Arg::new("jobs").short('j').long("jobs").value_name("N")
        .value_parser(value_parser!(u16).range(1..=1024)).default_value("8")
        .help("Requests in flight at most (halved on a 429, grown back after successes)"))
    .arg(Arg::new("rpm").long("rpm").value_name("N").value_parser(value_parser!(u32).range(1..))
        .help("Requests per minute at most"))
    .arg(Arg::new("ordered").long("ordered").action(ArgAction::SetTrue)
        .help("Write results in input order (a bounded reorder buffer) instead of as they finish"))
    .arg(Arg::new("retry_failed").long("retry-failed").action(ArgAction::SetTrue)
        .help("With an existing -o: also run again the requests that failed"))
    .arg(Arg::new("dry_run").long("dry-run").action(ArgAction::SetTrue)
        .help("Check the input and print the request count, estimated input tokens and cost; send nothing"))
    .arg(Arg::new("max_cost").long("max-cost").value_name("USD").value_parser(value_parser!(f64))
        .help("Stop submitting once the cost so far reaches this (catalog prices)"))
}

/// What `batch` was asked for, read once from its arguments.
#[derive(Debug, PartialEq)]
struct Options {
    input: String,
    output: Option<PathBuf>,
    model: Option<String>,
    system: Option<String>,
    temperature: Option<f64>,
    template: Option<String>,
    format: Format,
    jobs: u16,
    rpm: Option<u32>,
    ordered: bool,
    retry_failed: bool,
    dry_run: bool,
    max_cost: Option<f64>,
}

impl Options {
    fn from_matches(m: &ArgMatches) -> Options {
        Options {
            input: m
                .get_one::<String>("input")
                .cloned()
                .unwrap_or_else(|| "-".into()),
            output: m.get_one::<PathBuf>("output").cloned(),
            model: m.get_one::<String>("model").cloned(),
            system: m.get_one::<String>("system").cloned(),
            temperature: m.get_one::<f64>("temperature").copied(),
            template: m.get_one::<String>("template").cloned(),
            format: m
                .get_one::<Format>("input_format")
                .copied()
                .unwrap_or(Format::Auto),
            jobs: m.get_one::<u16>("jobs").copied().unwrap_or(8),
            rpm: m.get_one::<u32>("rpm").copied(),
            ordered: m.get_flag("ordered"),
            retry_failed: m.get_flag("retry_failed"),
            dry_run: m.get_flag("dry_run"),
            max_cost: m.get_one::<f64>("max_cost").copied(),
        }
    }
}

fn run(ctx: &Context, m: &ArgMatches) -> Result<Outcome> {
    run_batch(ctx, &Options::from_matches(m))
}

fn run_batch(ctx: &Context, options: &Options) -> Result<Outcome> {
    let defaults = defaults(ctx, options)?;
    if options.format == Format::Csv && defaults.template.is_none() {
        return Err(CliError::usage("--input-format csv needs a --template"));
    }
    let format = options.format;
    let (path, _spool) = input_path(&options.input)?;
    let checked = input::check(&path, format, &defaults)?;
    if options.dry_run {
        return Ok(dry_run(ctx, &checked).into());
    }
    if let Some(cost) = options.max_cost.filter(|c| !c.is_finite() || *c <= 0.0) {
        return Err(CliError::usage(format!(
            "--max-cost must be above 0, not {cost}"
        )));
    }
    let output = options.output.as_deref();
    let earlier = match output {
        Some(out) => results::resume(out, options.retry_failed)?,
        None => results::Earlier::default(),
    };
    let prices = Prices::new(catalog::models(ctx, CachePolicy::Use).unwrap_or_default());
    let jobs = usize::from(options.jobs);
    let settings = Settings {
        jobs,
        rpm: options.rpm,
        window: options.ordered.then_some(jobs * REORDER_PER_JOB),
        grace: GRACE.min(ctx.timeout()?),
    };
    let plan = Plan {
        path: &path,
        format,
        defaults: &defaults,
        earlier: &earlier,
    };
    let mut batch = Batch {
        sink: Sink::new(output, options.ordered)?,
        totals: Totals::default(),
        prices,
        max_cost: options.max_cost,
        over_budget: false,
        bar: bar::Bar::new(checked.count, ctx.streams().stderr_is_terminal()),
    };
    let started = Instant::now();
    let ended = execute(ctx, &plan, &settings, &mut batch)?;
    batch.bar.finish();
    batch.sink.drain()?;
    finish(ctx, batch, ended, started.elapsed(), output.is_some())
}

/// The lines that do not name them get the command's model, system prompt, temperature.
fn defaults(ctx: &Context, options: &Options) -> Result<Defaults> {
    let temperature = options.temperature;
    if let Some(t) = temperature.filter(|t| !(0.0..=2.0).contains(t)) {
        return Err(CliError::usage(format!(
            "--temperature must be between 0.0 and 2.0, not {t}"
        )));
    }
    Ok(Defaults {
        model: match &options.model {
            Some(model) => model.clone(),
            None => ctx.default_model()?,
        },
        system: options.system.clone(),
        temperature,
        template: options.template.clone(),
    })
}

/// The input as a file: stdin is copied to a private temporary file first (the input
/// is read twice: checked whole, then sent), which lives as long as the guard.
fn input_path(given: &str) -> Result<(PathBuf, Option<tempfile::NamedTempFile>)> {
    if given != "-" {
        crate::store::files::check_regular(Path::new(given))
            .map_err(|e| CliError::usage(format!("cannot read {given}")).caused_by(e))?;
        return Ok((PathBuf::from(given), None));
    }
    let mut spool = tempfile::NamedTempFile::new()
        .map_err(|e| CliError::failure("cannot buffer stdin").caused_by(e))?;
    io::copy(&mut io::stdin().lock(), &mut spool)
        .map_err(|e| CliError::failure("cannot read stdin").caused_by(e))?;
    Ok((spool.path().to_path_buf(), Some(spool)))
}

/// `--dry-run`: what would be sent, and roughly what it would cost.
fn dry_run(ctx: &Context, checked: &Checked) -> Output {
    let mut prices = Prices::new(catalog::models(ctx, CachePolicy::Use).unwrap_or_default());
    let tokens = checked.body_chars.div_ceil(4);
    // Models the catalog does not price are left out; no price at all is unknown.
    let priced: Vec<f64> = checked
        .chars_by_model
        .iter()
        .filter_map(|(model, chars)| prices.cost(model, chars.div_ceil(4), 0))
        .collect();
    let cost = (!priced.is_empty()).then(|| priced.iter().sum::<f64>());
    Output::Record(
        Record::new()
            .field(
                "requests",
                "Requests",
                crate::output::Cell::count(json!(checked.count)),
            )
            .field(
                "estimated_input_tokens",
                "Estimated input tokens",
                crate::output::Cell::count(json!(tokens)),
            )
            .field(
                "estimated_input_cost_usd",
                "Estimated input cost",
                crate::output::Cell::with_text(
                    json!(cost),
                    cost.map_or("unknown (not in the catalog)".into(), usd_text),
                ),
            ),
    )
}

/// What to send: the entries of the input not already done.
struct Plan<'a> {
    path: &'a Path,
    format: Format,
    defaults: &'a Defaults,
    earlier: &'a results::Earlier,
}

impl Plan<'_> {
    fn wanted(&self, entry: &Entry) -> bool {
        let id = input::id_hash(&entry.custom_id);
        !self.earlier.succeeded.contains(&id) && !self.earlier.failed.contains(&id)
    }
}

/// The state of a run that each result updates.
struct Batch {
    sink: Sink,
    totals: Totals,
    prices: Prices,
    max_cost: Option<f64>,
    over_budget: bool,
    bar: bar::Bar,
}

impl Batch {
    /// Writes one result and counts it; says stop once the cost reaches `--max-cost`.
    fn record(&mut self, done: Finished, custom_id: String, model: &str) -> Result<Flow> {
        let body: Value = serde_json::from_slice(&done.body)
            .unwrap_or_else(|_| json!(String::from_utf8_lossy(&done.body)));
        // A 200 that carries an error is an error.
        let error = match done.error {
            Some(err) => Some((error_code(done.status, &body), err.message)),
            None => crate::api::stream::check_whole_reply(&body)
                .err()
                .map(|err| ("error_in_reply".to_string(), err.message)),
        };
        let (input, output) = tokens_of(&body);
        self.totals.input_tokens += input;
        self.totals.output_tokens += output;
        match self.prices.cost(model, input, output) {
            Some(cost) => self.totals.cost += cost,
            None => self.totals.unpriced += 1,
        }
        if error.is_some() {
            self.totals.failed += 1;
        } else {
            self.totals.succeeded += 1;
        }
        self.totals.record_latency(done.latency);
        let line = ResultLine {
            custom_id,
            status: done.status,
            request_id: done.request_id,
            body,
            latency_ms: u64::try_from(done.latency.as_millis()).unwrap_or(u64::MAX),
            attempts: done.attempts,
            error,
        };
        let failed = line.error.is_some();
        self.sink.write(done.seq, &line.to_bytes(), failed)?;
        self.bar.update(&self.totals);
        if self.max_cost.is_some_and(|most| self.totals.cost >= most) {
            self.over_budget = true;
            return Ok(Flow::Stop);
        }
        Ok(Flow::Continue)
    }
}

/// The server's error code or type, else `http_<status>`, else `request_failed`.
fn error_code(status: Option<u16>, body: &Value) -> String {
    ["/error/code", "/error/type"]
        .iter()
        .find_map(|p| body.pointer(p).and_then(Value::as_str))
        .map(str::to_string)
        .or_else(|| status.map(|s| format!("http_{s}")))
        .unwrap_or_else(|| "request_failed".to_string())
}

/// Sends every wanted entry through the engine, writing results as they come.
fn execute(ctx: &Context, plan: &Plan, settings: &Settings, batch: &mut Batch) -> Result<Ended> {
    let key = ctx.api_key()?;
    let base = ctx.base_url()?;
    // Which entry each running request is, by its place in the sequence sent.
    let running: RefCell<HashMap<usize, (String, String)>> = RefCell::new(HashMap::new());
    let skipped = std::cell::Cell::new(0u64);
    let mut seq = 0usize;
    let requests = input::entries(plan.path, plan.format, plan.defaults)?
        .filter_map(|(_, entry)| entry.ok())
        .filter(|entry| {
            let wanted = plan.wanted(entry);
            if !wanted {
                skipped.set(skipped.get() + 1);
            }
            wanted
        })
        .map(|entry| {
            let request = request_of(&base, &key, &entry);
            let model = entry.model().to_string();
            running.borrow_mut().insert(seq, (entry.custom_id, model));
            seq += 1;
            request
        });
    let report = engine::run(ctx.http()?, requests, settings, &mut |done| {
        let (custom_id, model) = running.borrow_mut().remove(&done.seq).unwrap_or_default();
        batch.totals.skipped = skipped.get();
        batch.record(done, custom_id, &model)
    })?;
    batch.totals.skipped = skipped.get();
    Ok(report.ended)
}

fn request_of<'a>(base: &BaseUrl, key: &'a Secret, entry: &Entry) -> Request<'a> {
    let path = entry.url.trim_start_matches('/');
    if entry.url == "/v1/messages" {
        return Request::post_json(
            base.at_root(path),
            Auth::ApiKey(key, KeyHeader::XApiKey),
            &entry.body,
        )
        .header("anthropic-version", super::run::ANTHROPIC_VERSION);
    }
    let under_v1 = path.trim_start_matches("v1/");
    Request::post_json(
        base.v1(under_v1),
        Auth::ApiKey(key, KeyHeader::Bearer),
        &entry.body,
    )
}

/// The summary, and the exit: 130 after Ctrl-C and 1 after `--max-cost` (both with the
/// command that resumes), 1 when any request failed.
fn finish(
    ctx: &Context,
    mut batch: Batch,
    ended: Ended,
    wall: Duration,
    resumable: bool,
) -> Result<Outcome> {
    let summary = batch.totals.summary(wall);
    let json_summary = ctx.wants_json();
    if !json_summary {
        // A closed stderr is no reason to lose the results' exit code.
        let _ = writeln!(ctx.streams().err(), "{}", summary_text(&summary));
    }
    let resume = resume_hint(resumable);
    match ended {
        Ended::Interrupted => {
            return Err(CliError::new(
                ExitCode::Interrupted,
                "interrupted; results so far are written",
            )
            .with_hint(resume));
        }
        Ended::Stopped if batch.over_budget => {
            let most = batch.max_cost.unwrap_or_default();
            return Err(CliError::failure(format!(
                "stopped: the cost reached {} (--max-cost {})",
                usd_text(batch.totals.cost),
                usd_text(most)
            ))
            .with_hint(resume));
        }
        _ => {}
    }
    let exit = if batch.totals.failed > 0 {
        ExitCode::Failure
    } else {
        ExitCode::Success
    };
    let output = if json_summary {
        Output::Json(summary)
    } else {
        Output::Empty
    };
    Ok(Outcome::with_exit(output, exit))
}

fn summary_text(summary: &Value) -> String {
    let n = |k: &str| summary[k].as_u64().unwrap_or(0);
    let cost = summary["cost_usd"]
        .as_f64()
        .map_or("cost unknown".to_string(), usd_text);
    format!(
        "{} succeeded, {} failed, {} skipped · {} tokens in, {} out · {cost} · {}s · {} req/s · p50 {} ms, p95 {} ms",
        n("succeeded"),
        n("failed"),
        n("skipped"),
        n("input_tokens"),
        n("output_tokens"),
        summary["wall_seconds"],
        summary["requests_per_second"],
        n("latency_p50_ms"),
        n("latency_p95_ms"),
    )
}

/// The command line that picks up where this run stopped.
fn resume_hint(resumable: bool) -> String {
    if !resumable {
        return "run again with -o OUT.jsonl to keep results and resume".to_string();
    }
    let words: Vec<String> = std::env::args().collect();
    let line =
        shlex::try_join(words.iter().map(String::as_str)).unwrap_or_else(|_| words.join(" "));
    format!("resume with: {line}")
}

inventory::submit! {
    CommandSpec::new("batch", "Run many requests from a file, concurrently and resumably", run)
        .needs(Credential::ApiKey)
        .with_args(args)
        .model_id_args(&["model"])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(argv: &[&str]) -> Result<Options, clap::Error> {
        let m = crate::cli::registry::test_matches(args, argv)?;
        Ok(Options::from_matches(&m))
    }

    #[test]
    fn the_defaults_and_every_flag_are_read() {
        let plain = options(&["in.jsonl"]).expect("parses");
        assert_eq!(
            plain,
            Options {
                input: "in.jsonl".into(),
                output: None,
                model: None,
                system: None,
                temperature: None,
                template: None,
                format: Format::Auto,
                jobs: 8,
                rpm: None,
                ordered: false,
                retry_failed: false,
                dry_run: false,
                max_cost: None,
            }
        );
        let argv = [
            "-",
            "-o",
            "out.jsonl",
            "-m",
            "m1",
            "-s",
            "be brief",
            "-t",
            "0.5",
            "--template",
            "{{a}}",
            "--input-format",
            "csv",
            "-j",
            "3",
            "--rpm",
            "60",
            "--ordered",
            "--retry-failed",
            "--dry-run",
            "--max-cost",
            "1.5",
        ];
        let full = options(&argv).expect("parses");
        assert_eq!(
            full,
            Options {
                input: "-".into(),
                output: Some(PathBuf::from("out.jsonl")),
                model: Some("m1".into()),
                system: Some("be brief".into()),
                temperature: Some(0.5),
                template: Some("{{a}}".into()),
                format: Format::Csv,
                jobs: 3,
                rpm: Some(60),
                ordered: true,
                retry_failed: true,
                dry_run: true,
                max_cost: Some(1.5),
            }
        );
        let text = options(&["in.txt", "--input-format", "text"]).expect("parses");
        assert_eq!(text.format, Format::Text);
    }

    #[test]
    fn an_unknown_input_format_is_rejected() {
        for bad in ["jsonl", "CSV"] {
            let err = options(&["in", "--input-format", bad]).err();
            assert_eq!(
                err.map(|e| e.kind()),
                Some(clap::error::ErrorKind::InvalidValue),
                "{bad}"
            );
        }
    }
}
