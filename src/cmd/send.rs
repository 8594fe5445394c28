//! `breves send`: the main job.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use breves::campaign::Campaign;
use breves::deliver::files::Outbox;
use breves::{Error, Result};
use chrono::{DateTime, FixedOffset};

/// Arguments of `breves send`.
#[derive(clap::Args)]
pub struct Args {
    /// The issue file, such as issues/2026-03-royaume-uni.toml.
    issue: PathBuf,
    /// The subscriber list, such as subscribers/londres.toml.
    #[arg(long, short = 's', value_name = "LIST")]
    subscribers: PathBuf,
    /// Write one .eml file per subscriber into DIR instead of sending.
    #[arg(long, value_name = "DIR")]
    dry_run: Option<PathBuf>,
    /// The Date of the messages (default: the issue's `date`), as 2026-04-07T09:00:00+01:00.
    #[arg(long, value_parser = super::parse_date)]
    date: Option<DateTime<FixedOffset>>,
}

/// Runs `breves send`.
pub async fn run(args: Args) -> Result<ExitCode> {
    let Some(dir) = args.dry_run else {
        return Err(Error::Usage(
            "breves cannot send over SMTP yet: give --dry-run DIR to write the messages as files"
                .into(),
        ));
    };
    let started = Instant::now();
    let (issue, list, warnings) = super::load(&args.issue, &args.subscribers)?;
    let campaign = Campaign::prepare(&issue, &list)?;
    let mut warnings = warnings;
    warnings.extend(campaign.check_sizes());
    let outbox = Outbox::create(&dir)?;
    let date = args.date.unwrap_or_else(|| issue.default_date());
    let report = campaign.deliver(&outbox, date).await?;
    let manifest = outbox.finish(&issue.id, &list.id, report.variants, report.skipped.clone())?;
    let elapsed = started.elapsed();

    println!(
        "Dry run of {} to the list {}: {} message(s) written to {} ({} distinct digest(s)), {} skipped.",
        issue.id,
        list.id,
        report.delivered,
        dir.display(),
        report.variants,
        report.skipped.len()
    );
    for s in &report.skipped {
        println!("  skipped {}: {}", s.recipient, s.reason);
    }
    if report.delivered > 0 {
        println!(
            "  {} in all, largest message {}, in {:.2} s; list of files: {}",
            super::size(report.bytes),
            super::size(report.largest),
            elapsed.as_secs_f64(),
            dir.join(breves::deliver::files::MANIFEST).display()
        );
    }
    debug_assert_eq!(manifest.messages.len(), report.delivered);
    let warning_count = warnings.warning_count();
    if warning_count > 0 {
        println!(
            "  {warning_count} warning(s) about the input: run `breves check {} --subscribers {}` to see them.",
            args.issue.display(),
            args.subscribers.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}
