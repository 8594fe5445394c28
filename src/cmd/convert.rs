//! `breves convert`: an issue written in the other form.

use std::path::PathBuf;

use breves::issue::{Form, Issue};
use breves::{ExitStatus, Result};

/// The forms an issue can be written in.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum To {
    /// One Markdown file with its front matter.
    Md,
    /// One TOML file.
    Toml,
}

/// Arguments of `breves convert`.
#[derive(clap::Args)]
pub struct Args {
    /// The issue file (.toml or .md).
    issue: PathBuf,
    /// The form to write it in.
    #[arg(long, value_enum)]
    to: To,
    /// Where to write it (by default beside it, with the form's extension);
    /// an existing file is never replaced.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

/// Runs `breves convert`.
pub fn run(args: Args) -> Result<ExitStatus> {
    let form = match args.to {
        To::Md => Form::Markdown,
        To::Toml => Form::Toml,
    };
    let out = Issue::convert_to(&args.issue, form, args.out.as_deref())?;
    say!(
        "Wrote {}: the issue of {}, in its {} form.",
        out.display(),
        args.issue.display(),
        form.extension()
    );
    Ok(ExitStatus::Success)
}
