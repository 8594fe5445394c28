//! `breves bounces`: read a bounce mailbox and act on what it holds.

use std::path::PathBuf;

use breves::bounce::{self, source};
use breves::ledger::{self, Ledger};
use breves::subscribers::List;
use breves::unsubscribe::Signer;
use breves::{ExitStatus, Result};

/// Arguments of `breves bounces`.
#[derive(clap::Args)]
pub struct Args {
    /// The bounce mailbox: a Maildir, a folder of .eml files, or an mbox file.
    #[arg(value_name = "SOURCE")]
    source: PathBuf,
    /// The subscriber list whose messages bounced.
    #[arg(long, short = 's', value_name = "LIST")]
    subscribers: PathBuf,
    /// The ledger [default: $BREVES_LEDGER, else ~/.local/state/breves/ledger.sqlite3].
    #[arg(long, value_name = "FILE")]
    ledger: Option<PathBuf>,
}

/// Runs `breves bounces`.
pub fn run(args: Args) -> Result<ExitStatus> {
    let (list, _) = List::load(&args.subscribers)?;
    let ledger = Ledger::open(&args.ledger.unwrap_or_else(ledger::default_path))?;
    let secret = std::env::var("BREVES_UNSUBSCRIBE_SECRET").ok();
    let signer = Signer::from_secret(secret.as_deref()).ok();
    if signer.is_none() {
        say!(
            "BREVES_UNSUBSCRIBE_SECRET is not set: bounce addresses' codes and unsubscription links cannot be checked; reports are matched by the addresses they name."
        );
    }
    let messages = source::messages(&args.source)?;
    let outcome = bounce::process(&list, &ledger, signer.as_ref(), messages)?;
    say!(
        "Read {} message(s) from {}: {} delivery report(s), {} complaint(s), {} plain bounce(s), {} not a bounce (left alone), {} malformed.",
        outcome.read,
        args.source.display(),
        outcome.dsn,
        outcome.arf,
        outcome.plain,
        outcome.not_bounces.len(),
        outcome.malformed.len()
    );
    for d in &outcome.decisions {
        say!("  {} {} ({}): {}", d.address, d.status, d.place, d.decision);
    }
    for (place, whom) in &outcome.unmatched {
        say!(
            "  {place}: about {whom}, not a member of the list {}",
            list.id
        );
    }
    for (place, why) in &outcome.malformed {
        say!("  malformed {place}: {why}");
    }
    say!(
        "{} suppressed, {} unsubscribed, {} counted, {} already recorded.",
        outcome.count("suppressed"),
        outcome.count("unsubscribed"),
        outcome.count("counted"),
        outcome.decisions.iter().filter(|d| !d.new).count()
    );
    Ok(ExitStatus::Success)
}
