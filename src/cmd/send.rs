//! `breves send`: the main job, as a dry run or through the relay. The
//! library plans and runs the send ([`breves::plan`]); this file reads the
//! arguments, asks before a real send, shows progress and prints.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use breves::diagnostics::Problems;
use breves::dispatch::{Options, Report, Retry};
use breves::issue::Issue;
use breves::ledger::{self, Ledger};
use breves::message::Dkim;
use breves::plan::{Plan, Request};
use breves::subscribers::{Invalid, List};
use breves::summary;
use breves::unsubscribe::Signer;
use breves::{ExitStatus, Result};
use chrono::{DateTime, FixedOffset};

use super::progress::Reporter;
use super::report;

/// Arguments of `breves send`.
#[derive(clap::Args)]
#[command(group(clap::ArgGroup::new("destination").required(true).args(["dry_run", "smtp"])))]
pub struct Args {
    /// The issue file, such as issues/2026-03-royaume-uni.toml.
    issue: PathBuf,
    /// The subscriber list, such as subscribers/londres.toml.
    #[arg(long, short = 's', value_name = "LIST")]
    subscribers: PathBuf,
    /// Write one .eml file per subscriber into DIR instead of sending.
    #[arg(long, value_name = "DIR", conflicts_with = "smtp")]
    dry_run: Option<PathBuf>,
    #[command(flatten)]
    relay: super::RelayArgs,
    /// The ledger that records every delivery [default: $BREVES_LEDGER, else
    /// ~/.local/state/breves/ledger.sqlite3]; a dry run reads it only if given.
    #[arg(long, value_name = "FILE")]
    ledger: Option<PathBuf>,
    /// Send only to these addresses (a test send; they need not be members).
    #[arg(long, value_name = "EMAIL", num_args = 1..)]
    only: Vec<String>,
    /// Send to the first N recipients not yet served (a canary).
    #[arg(long, value_name = "N")]
    limit: Option<usize>,
    /// Join the send of this issue to this list started on another machine
    /// (its ledger in PostgreSQL): take the recipients still to send that
    /// no other sender took, so that several machines split one send.
    #[arg(long, conflicts_with_all = ["dry_run", "only", "limit", "accept_changes", "retry_failed"])]
    join: bool,
    /// SMTP connections at once.
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..))]
    concurrency: u16,
    /// A ceiling on messages per second, such as 10/s.
    #[arg(long, value_name = "N/s", value_parser = super::parse_rate)]
    rate: Option<f64>,
    /// Seconds to wait for the relay at any one step.
    #[arg(long, value_name = "SECONDS", default_value = "60", value_parser = super::parse_seconds)]
    timeout: Duration,
    /// Attempts per recipient when the relay fails for a while.
    #[arg(long, value_name = "N", default_value_t = 6, value_parser = clap::value_parser!(u32).range(1..))]
    attempts: u32,
    /// Seconds before the first retry; the wait doubles each time.
    #[arg(long, value_name = "SECONDS", default_value = "2", value_parser = super::parse_seconds)]
    retry_delay: Duration,
    /// Do not ask for confirmation.
    #[arg(long, short = 'y')]
    yes: bool,
    /// Go on although the issue or the list changed since this send started.
    #[arg(long)]
    accept_changes: bool,
    /// Send again to the recipients an earlier run recorded as refused for
    /// good, once the cause is fixed (a relay setting, an address corrected).
    #[arg(long)]
    retry_failed: bool,
    /// Do not send again to recipients whose earlier delivery is of unknown
    /// outcome (the relay may have it); they stay listed by `breves status`.
    #[arg(long)]
    skip_uncertain: bool,
    /// Send to every member written right, leaving out (and listing) those
    /// written wrong; without it, one wrong member stops the send.
    #[arg(long)]
    skip_invalid: bool,
    /// With --dry-run, add a summary in Markdown to this file (for a CI job's
    /// page: $GITHUB_STEP_SUMMARY).
    #[arg(long, value_name = "FILE", requires = "dry_run")]
    summary: Option<PathBuf>,
    /// The Date of the messages (default: now; for a dry run, the issue's `date`).
    #[arg(long, value_parser = super::parse_date)]
    date: Option<DateTime<FixedOffset>>,
}

impl Args {
    fn options(&self, default_date: DateTime<FixedOffset>) -> Options {
        Options {
            concurrency: usize::from(self.concurrency),
            rate: self.rate,
            retry: Retry {
                attempts: self.attempts,
                base: self.retry_delay,
                ..Retry::default()
            },
            date: self.date.unwrap_or(default_date),
        }
    }
}

/// Runs `breves send`.
pub async fn run(args: Args) -> Result<ExitStatus> {
    let invalid = Invalid::skip_if(args.skip_invalid);
    let (issue, list, mut warnings) = breves::check::load(&args.issue, &args.subscribers, invalid)?;
    super::print_left_out(&list.left_out);
    let dkim = args.relay.dkim(&list)?;
    let status = match &args.dry_run {
        Some(dir) => {
            let preferences = super::preferences(args.ledger.as_deref(), &list)?;
            let plan = Plan::dry_run_with(&issue, &list, &args.only, dkim, preferences)?;
            warnings.extend(plan.warnings.clone());
            let options = args.options(issue.default_date());
            let (report, _) = plan.write(dir, &options, &AtomicBool::new(false)).await?;
            report::dry_run(&plan, dir, &report);
            if let Some(path) = &args.summary {
                summary::append(path, &summary::dry_run(&plan, &report, &warnings))?;
            }
            ExitStatus::Success
        }
        None => relay_send(&args, &issue, &list, dkim, &mut warnings).await?,
    };
    super::input_warnings(&warnings, &args.issue, &args.subscribers);
    Ok(status)
}

async fn relay_send(
    args: &Args,
    issue: &Issue,
    list: &List,
    dkim: Option<Dkim>,
    warnings: &mut Problems,
) -> Result<ExitStatus> {
    let secret = std::env::var("BREVES_UNSUBSCRIBE_SECRET").ok();
    let signer = Signer::for_send(list, secret.as_deref())?;
    let Some(relay) = args.relay.relay(list, args.timeout).await? else {
        // clap asks for --smtp or --dry-run.
        return Ok(ExitStatus::Failure);
    };
    let ledger_path = args.ledger.clone().unwrap_or_else(ledger::default_path);
    let ledger = Arc::new(Ledger::open(&ledger_path)?);
    let issue = &ledger.known_issue(issue.clone(), &list.id)?;
    let request = Request {
        only: args.only.clone(),
        limit: args.limit,
        skip_uncertain: args.skip_uncertain,
        accept_changes: args.accept_changes,
        retry_failed: args.retry_failed,
    };
    let plan = match args.join {
        true => Plan::join(issue, list, Arc::clone(&ledger), signer, dkim)?,
        false => Plan::prepare(issue, list, Arc::clone(&ledger), &request, signer, dkim)?,
    };
    warnings.extend(plan.warnings.clone());
    report::plan(&plan);
    if plan.is_empty() {
        return Ok(ExitStatus::Success);
    }
    if !args.yes && !report::confirmed(&plan, &relay.config().display()) {
        return Ok(ExitStatus::Failure);
    }
    let stop = Arc::new(AtomicBool::new(false));
    super::progress::stop_on_ctrl_c(Arc::clone(&stop));
    let reporter = Reporter::new(plan.to_send);
    let options = args.options(chrono::Local::now().fixed_offset());
    let outcome: Report = plan.run(&relay, &options, &reporter, &stop).await?;
    reporter.finish();
    report::summary(&plan, &outcome);
    Ok(outcome.exit_status())
}
