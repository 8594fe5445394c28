//! `breves status`: what the ledger knows of a send.

use std::path::PathBuf;

use breves::ledger::{self, Ledger, Scope};
use breves::{ExitStatus, Result};

/// Arguments of `breves status`.
#[derive(clap::Args)]
pub struct Args {
    /// The issue file.
    issue: PathBuf,
    /// The subscriber list.
    #[arg(long, short = 's', value_name = "LIST")]
    subscribers: PathBuf,
    /// The ledger [default: $BREVES_LEDGER, else ~/.local/state/breves/ledger.sqlite3].
    #[arg(long, value_name = "FILE")]
    ledger: Option<PathBuf>,
    /// The test sends (--only) instead of the send to the list.
    #[arg(long)]
    test: bool,
}

/// Runs `breves status`.
pub fn run(args: Args) -> Result<ExitStatus> {
    let (issue, list, _) = breves::check::load(
        &args.issue,
        &args.subscribers,
        breves::subscribers::Invalid::Stop,
    )?;
    let path = args.ledger.unwrap_or_else(ledger::default_path);
    let ledger = Ledger::open(&path)?;
    let issue = ledger.known_issue(issue, &list.id)?;
    let scope = if args.test {
        Scope::test(&issue.id, &list.id)
    } else {
        Scope::list(&issue.id, &list.id)
    };
    let status = ledger.status(&scope)?;
    let preferences = ledger.preferences(&list.id)?;
    if !preferences.suppressed.is_empty() || !preferences.opted_out.is_empty() {
        say!(
            "The list {}: {} address(es) unsubscribed, {} subscriber(s) who stopped sections:",
            list.id,
            preferences.suppressed.len(),
            preferences.opted_out.len()
        );
        let mut stopped: Vec<_> = preferences.opted_out.iter().collect();
        stopped.sort();
        for (address, sections) in stopped {
            say!("  {address} no longer receives {}", sections.join(", "));
        }
    }
    print_reports(&ledger, &list.id)?;
    if !status.known {
        say!(
            "The ledger {} has no send of {} to {}{}.",
            path.display(),
            issue.id,
            list.id,
            if args.test { " (test)" } else { "" }
        );
        return Ok(ExitStatus::Success);
    }
    say!(
        "{} to {}{}, started {}:",
        issue.id,
        list.id,
        if args.test { " (test sends)" } else { "" },
        status.started.unwrap_or_default()
    );
    for (state, count) in &status.counts {
        say!("  {state:<10} {count}");
    }
    for (recipient, state, reply) in &status.problems {
        say!("  {state} {recipient}: {reply}");
    }
    Ok(ExitStatus::Success)
}

/// The bounces and complaints read for `list`, each with its decision.
fn print_reports(ledger: &Ledger, list: &str) -> Result<()> {
    let reports = ledger.reports(list)?;
    if !reports.is_empty() {
        say!(
            "Bounces and complaints read for the list {} (breves bounces): {}",
            list,
            reports.len()
        );
        for r in &reports {
            let diagnostic: String = r.diagnostic.chars().take(100).collect();
            say!(
                "  {} {} {} ({}): {}; {diagnostic}",
                r.address,
                r.kind,
                r.status,
                r.reported_at.as_deref().unwrap_or("undated"),
                r.decision
            );
        }
        // Refusals of the sender, by receiving domain: what to look into.
        let problems = ledger.sender_problems(list)?;
        if !problems.is_empty() {
            say!("Refusals of the sender, not of the readers, by receiving domain:");
            for (domain, reason, readers) in &problems {
                say!("  {readers} reader(s) at {domain}: {reason}");
            }
        }
    }
    Ok(())
}
