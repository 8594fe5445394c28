//! `breves new`: the next issue, started from the last one.

use std::path::PathBuf;

use breves::issue::{Issue, Period};
use breves::{ExitStatus, Result};

/// Arguments of `breves new`.
#[derive(clap::Args)]
pub struct Args {
    /// The last issue (.md or .toml), whose title, sections, colophon and
    /// settings the new one keeps.
    #[arg(long, value_name = "ISSUE")]
    from: PathBuf,
    /// The weeks the new issue covers: 2026-04-04..2026-05-01.
    #[arg(long, value_name = "FROM..TO")]
    period: Period,
    /// Where to write it (by default beside the last one, named for the
    /// month the period covers, in the same form); an existing file is
    /// never replaced.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

/// Runs `breves new`.
pub fn run(args: Args) -> Result<ExitStatus> {
    let next = Issue::next(&args.from, args.period, args.out.as_deref())?;
    say!(
        "Wrote {}: the issue after {}, with one article to write in the highlight and in each section (`breves check` refuses them until they are written or removed).",
        next.path.display(),
        args.from.display()
    );
    for note in &next.notes {
        tell!("note: {note}");
    }
    Ok(ExitStatus::Success)
}
