//! What a `chat` run starts from: a new conversation or a logged one continued
//! (`-c/--continue`, `--cid ID`), with its model, system prompt and temperature taken
//! from, in order, the command line (`-s @FILE` reads a file), the role (`--role`),
//! the continued conversation, and the defaults.

use clap::{Arg, ArgAction};

use super::conversation::Conversation;
use super::Options;
use crate::cli::context::Context;
use crate::cli::front;
use crate::error::{CliError, Result};
use crate::store::chatlog;
use crate::store::roles;

pub fn args(cmd: clap::Command) -> clap::Command {
    cmd.arg(
        Arg::new("continue")
            .short('c')
            .long("continue")
            .action(ArgAction::SetTrue)
            .conflicts_with("cid")
            .help("Continue the latest logged conversation (model and system prompt carried over unless given)"),
    )
    .arg(
        Arg::new("cid")
            .long("cid")
            .value_name("ID")
            .value_parser(front::non_blank)
            .help("Continue the logged conversation ID (or a unique start of it; `conversations list` shows them)"),
    )
    .arg(
        Arg::new("role")
            .long("role")
            .value_name("NAME")
            .value_parser(front::non_blank)
            .help("Use the saved role ~/.config/cometapi/roles/NAME.md (system prompt; its front matter may set model and temperature)"),
    )
    .arg(chatlog::no_log_arg())
}

pub struct Start {
    pub conversation: Conversation,
    pub temperature: Option<f64>,
}

pub fn start(ctx: &Context, options: &Options) -> Result<Start> {
    let role = options.role.as_deref().map(roles::load).transpose()?;
    let role = role.unwrap_or_default();
    let system = match &options.system {
        Some(value) => Some(roles::system_prompt(value)?),
        None => Some(role.prompt).filter(|p| !p.is_empty()),
    };
    let model = options.model.clone().or(role.model);
    let temperature = options.temperature.or(role.temperature);
    if let Some(t) = temperature.filter(|t| !(0.0..=2.0).contains(t)) {
        return Err(CliError::usage(format!(
            "--temperature must be between 0.0 and 2.0, not {t}"
        )));
    }
    let conversation = match continued(options)? {
        Some(mut logged) => {
            if let Some(model) = model {
                logged.model = model;
            }
            if system.is_some() {
                logged.system = system;
            }
            logged
        }
        None => Conversation::new(
            match model {
                Some(model) => model,
                None => ctx.default_model()?,
            },
            system,
        ),
    };
    Ok(Start {
        conversation,
        temperature,
    })
}

/// The logged conversation `-c` or `--cid` asks for, its completed exchanges as turns.
fn continued(options: &Options) -> Result<Option<Conversation>> {
    let cid = options.cid.as_ref();
    if cid.is_none() && !options.continue_latest {
        return Ok(None);
    }
    let store = chatlog::open()?;
    let id = match cid {
        Some(typed) => chatlog::resolve(&store, typed)?,
        None => store
            .latest()
            .map_err(|e| chatlog::failed(&e))?
            .ok_or_else(|| {
                CliError::failure("there is no logged conversation to continue")
                    .with_hint("start one with `cometapi chat MESSAGE`")
            })?,
    };
    let stored = store
        .load(&id)
        .map_err(|e| chatlog::failed(&e))?
        .ok_or_else(|| CliError::failure(format!("no conversation {id}")))?;
    Ok(Some(Conversation::from_log(&stored)))
}
