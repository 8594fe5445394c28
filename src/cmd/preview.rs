//! `breves preview`: one digest as files an editor can open.

use std::path::{Path, PathBuf};

use breves::issue::Issue;
use breves::preview::desk::Files;
use breves::preview::{Whom, preview, server};
use breves::subscribers::List;
use breves::{Error, ExitStatus, Result};
use chrono::{DateTime, FixedOffset};

/// Arguments of `breves preview`.
#[derive(clap::Args)]
#[command(group = clap::ArgGroup::new("who").required(true).args(["subscriber", "interests", "serve"]))]
pub struct Args {
    /// The issue file.
    issue: PathBuf,
    /// The subscriber list (needed with --subscriber; gives the sender with --interests).
    #[arg(long, short = 's', value_name = "LIST")]
    subscribers: Option<PathBuf>,
    /// Preview the digest of this member of the list.
    #[arg(long, value_name = "EMAIL", requires = "subscribers")]
    subscriber: Option<String>,
    /// Preview the digest of these sections (ids separated by commas; empty for all).
    #[arg(long, value_name = "ID,ID,…")]
    interests: Option<String>,
    /// Serve every digest of the list on a local web page that follows the files as they are saved.
    #[arg(long, requires = "subscribers")]
    serve: bool,
    /// Where --serve listens.
    #[arg(
        long,
        value_name = "ADDR",
        default_value = "127.0.0.1:8026",
        requires = "serve"
    )]
    listen: String,
    /// The folder to write the .html, .txt and .eml files into.
    #[arg(long, value_name = "DIR", default_value = "preview")]
    out: PathBuf,
    /// The Date of the message (default: the issue's `date`).
    #[arg(long, value_parser = super::parse_date)]
    date: Option<DateTime<FixedOffset>>,
}

/// Runs `breves preview`.
pub async fn run(args: Args) -> Result<ExitStatus> {
    if let (true, Some(list)) = (args.serve, &args.subscribers) {
        return serve(&args.issue, list, &args.listen).await;
    }
    let (issue, list, warnings) = match &args.subscribers {
        Some(list) => breves::check::load(&args.issue, list, breves::subscribers::Invalid::Stop)?,
        None => {
            let (issue, warnings) = Issue::load(&args.issue)?;
            (issue, List::preview(), warnings)
        }
    };
    let whom = match (&args.subscriber, &args.interests) {
        (Some(email), _) => Whom::Member(email),
        (None, ids) => Whom::Interests(ids.as_deref().unwrap_or_default()),
    };
    let date = args.date.unwrap_or_else(|| issue.default_date());
    let preview = preview(&issue, &list, whom, date)?;
    let written = preview.write(&args.out)?;
    let sections = if preview.sections.is_empty() {
        "the highlight only".to_owned()
    } else {
        format!("the highlight and {}", preview.sections.join(", "))
    };
    say!("Preview of {} for {}: {sections}.", issue.id, preview.to);
    for path in &written {
        say!("  {}", path.display());
    }
    say!(
        "  HTML part {} as it travels, whole message {}.",
        breves::campaign::size(breves::message::encoded_len(&preview.html)),
        breves::campaign::size(preview.letter.bytes.len())
    );
    if warnings.warning_count() > 0 {
        say!(
            "  {} warning(s) about the input: run `breves check` to see them.",
            warnings.warning_count()
        );
    }
    Ok(ExitStatus::Success)
}

/// Runs `breves preview --serve` until interrupted.
async fn serve(issue: &Path, list: &Path, listen: &str) -> Result<ExitStatus> {
    let listen_error = |source| Error::Listen {
        address: listen.to_owned(),
        source,
    };
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(listen_error)?;
    let address = listener.local_addr().map_err(listen_error)?;
    say!(
        "Preview of {} for {} on http://{address}/",
        issue.display(),
        list.display()
    );
    say!("  Pages reload by themselves when a file is saved. Ctrl-C to stop.");
    if let Some(warning) = server::exposure(address) {
        tell!("{warning}");
    }
    let files = Files {
        issue: issue.to_path_buf(),
        list: list.to_path_buf(),
    };
    server::serve(listener, files).await.map_err(Error::Serve)?;
    Ok(ExitStatus::Success)
}
