//! `breves import`: a digest drafted in Word brought in as an issue.

use std::path::PathBuf;

use breves::issue::docx::Options;
use breves::issue::{Issue, Period};
use breves::subscribers::List;
use breves::{ExitStatus, Result};

/// Arguments of `breves import`.
#[derive(clap::Args)]
pub struct Args {
    /// The Word document (.docx, from Word or LibreOffice).
    document: PathBuf,
    /// Where to write the issue in Markdown (by default beside the
    /// document, its name with .md); an existing file is never replaced.
    #[arg(long, value_name = "FILE.md")]
    out: Option<PathBuf>,
    /// The weeks the issue covers, when the document does not say them
    /// ("26 février au 3 avril 2026" before its first heading).
    #[arg(long, value_name = "FROM..TO")]
    period: Option<Period>,
    /// The list whose sections' names give the sections their ids.
    #[arg(long, short = 's', value_name = "LIST")]
    subscribers: Option<PathBuf>,
}

/// Runs `breves import`.
pub fn run(args: Args) -> Result<ExitStatus> {
    let topics = match &args.subscribers {
        Some(list) => List::load(list)?
            .0
            .topics
            .into_iter()
            .map(|t| (t.id, t.label))
            .collect(),
        None => Vec::new(),
    };
    let options = Options {
        period: args.period,
        topics,
    };
    let (out, imported) = Issue::import(&args.document, &options, args.out.as_deref())?;
    say!(
        "Wrote {}: the issue of {}, in Markdown.",
        out.display(),
        args.document.display()
    );
    if !imported.left_out.is_empty() {
        say!(
            "Left out, as an issue cannot hold them ({}):",
            imported.left_out.len()
        );
        for left in &imported.left_out {
            say!("  {left}");
        }
    }
    say!("Next: `breves check {}`.", out.display());
    Ok(ExitStatus::Success)
}
