//! `image edit IMAGE... PROMPT`: changes images (`POST /v1/images/edits`, multipart,
//! the files streamed from disk), with an optional `--mask`; saved like `image`.

use std::path::PathBuf;

use clap::{value_parser, Arg, ArgMatches};

use crate::api::message;
use crate::cli::context::Context;
use crate::cli::front;
use crate::error::Result;
use crate::net::multipart::{FileRules, Form};
use crate::net::{Auth, KeyHeader, Request};
use crate::output::Outcome;

use super::files::Plan;
use super::Shared;

/// Images the edits endpoint takes (GPT image models: each under 50 MB).
const IMAGE: FileRules = FileRules {
    what: "image",
    max_bytes: 50 << 20,
    extensions: &["png", "jpg", "jpeg", "webp"],
};
/// A mask is a PNG whose transparent pixels mark what to change.
const MASK: FileRules = FileRules {
    what: "mask",
    max_bytes: 50 << 20,
    extensions: &["png"],
};

pub fn command() -> clap::Command {
    let cmd = clap::Command::new("edit")
        .about("Edit images from a prompt (several images combine, for GPT image models)")
        .arg(
            Arg::new("images")
                .value_name("IMAGE")
                .value_parser(value_parser!(PathBuf))
                .num_args(1..)
                .required(true)
                .help("Image files to edit (png, jpg, webp)"),
        )
        .arg(
            Arg::new("prompt")
                .value_name("PROMPT")
                .value_parser(front::non_blank)
                .required(true)
                .help("What to change; `-` reads it from stdin"),
        )
        .arg(
            Arg::new("mask")
                .long("mask")
                .value_name("FILE")
                .value_parser(value_parser!(PathBuf))
                .help("A PNG the size of the first image; its transparent pixels are edited"),
        );
    super::options(cmd)
}

/// What `image edit` was asked for, read once from its arguments.
#[derive(Debug, PartialEq)]
pub struct Options {
    images: Vec<PathBuf>,
    /// As given: `-` reads it from stdin.
    prompt: String,
    mask: Option<PathBuf>,
    shared: Shared,
}

impl Options {
    pub fn from_matches(m: &ArgMatches) -> Options {
        Options {
            images: m
                .get_many::<PathBuf>("images")
                .into_iter()
                .flatten()
                .cloned()
                .collect(),
            prompt: m.get_one::<String>("prompt").cloned().unwrap_or_default(),
            mask: m.get_one::<PathBuf>("mask").cloned(),
            shared: Shared::from_matches(m),
        }
    }
}

pub fn run(ctx: &Context, options: &Options) -> Result<Outcome> {
    let prompt = message::read(
        Some(options.prompt.as_str()),
        ctx.streams().stdin_is_terminal(),
    )?;
    let images = &options.images;
    // One image is `image`; several are `image[]`, as the API takes them.
    let field = if images.len() > 1 { "image[]" } else { "image" };
    let mut form = Form::new();
    for image in images {
        form = form.file(field, image, IMAGE)?;
    }
    if let Some(mask) = &options.mask {
        form = form.file("mask", mask, MASK)?;
    }
    form = form.text("prompt", prompt.clone());
    for (name, value) in options.shared.fields() {
        form = form.text(name, value);
    }
    let plan = Plan::new(&options.shared, &prompt)?;
    let key = ctx.api_key()?;
    let request = Request::post_multipart(
        ctx.base_url()?.v1("images/edits"),
        Auth::ApiKey(&key, KeyHeader::Bearer),
        &form,
    )
    .creates();
    let reply = ctx.http()?.send(&request)?.json()?;
    plan.save_all(ctx, &reply)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn its_images_prompt_mask_and_the_shared_options_are_read() {
        let argv = [
            "edit",
            "a.png",
            "b.png",
            "add a hat",
            "--mask",
            "m.png",
            "-n",
            "1",
        ];
        let m = command().try_get_matches_from(argv).expect("parses");
        let options = Options::from_matches(&m);
        assert_eq!(
            options.images,
            [PathBuf::from("a.png"), PathBuf::from("b.png")]
        );
        assert_eq!(options.prompt, "add a hat");
        assert_eq!(options.mask, Some(PathBuf::from("m.png")));
        assert_eq!((options.shared.n, options.shared.force), (Some(1), false));
    }

    #[test]
    fn no_image_or_a_bad_choice_is_rejected() {
        for argv in [
            &["edit", "add a hat"][..],
            &["edit", "a.png", "x", "--background", "green"],
        ] {
            assert!(command().try_get_matches_from(argv).is_err(), "{argv:?}");
        }
    }
}
