//! `breves bounces`: read a bounce mailbox and act on what it holds.

use std::path::PathBuf;

use breves::bounce::imap::{self, Mailbox};
use breves::bounce::{self, source};
use breves::ledger::{self, Ledger};
use breves::subscribers::List;
use breves::unsubscribe::Signer;
use breves::{ExitStatus, Result};

/// Arguments of `breves bounces`.
#[derive(clap::Args)]
pub struct Args {
    /// The bounce mailbox: a Maildir, a folder of .eml files, an mbox file, or
    /// imaps://user@host/INBOX (the password from BREVES_IMAP_PASSWORD).
    #[arg(value_name = "SOURCE")]
    source: String,
    /// An extra certificate authority (PEM) to trust for the IMAP server's certificate.
    #[arg(long, value_name = "FILE", env = "BREVES_IMAP_CA")]
    imap_ca: Option<PathBuf>,
    /// The subscriber list whose messages bounced.
    #[arg(long, short = 's', value_name = "LIST")]
    subscribers: PathBuf,
    /// The ledger [default: $BREVES_LEDGER, else ~/.local/state/breves/ledger.sqlite3].
    #[arg(long, value_name = "FILE")]
    ledger: Option<PathBuf>,
}

/// Runs `breves bounces`.
pub async fn run(args: Args) -> Result<ExitStatus> {
    let (list, _) = List::load(&args.subscribers)?;
    let ledger = Ledger::open(&args.ledger.unwrap_or_else(ledger::default_path))?;
    let secret = std::env::var("BREVES_UNSUBSCRIBE_SECRET").ok();
    let signer = Signer::from_secret(secret.as_deref()).ok();
    if signer.is_none() {
        say!(
            "BREVES_UNSUBSCRIBE_SECRET is not set: bounce addresses' codes and unsubscription links cannot be checked; reports are matched by the addresses they name."
        );
    }
    let outcome = match Mailbox::parse(&args.source) {
        Some(mailbox) => {
            let password = std::env::var("BREVES_IMAP_PASSWORD").unwrap_or_default();
            let (ca, signer) = (args.imap_ca.as_deref(), signer.as_ref());
            imap::read(&mailbox?, &password, ca, &list, &ledger, signer).await?
        }
        None => {
            let messages = source::messages(std::path::Path::new(&args.source))?;
            bounce::process(&list, &ledger, signer.as_ref(), messages)?
        }
    };
    say!(
        "Read {} message(s) from {}: {} delivery report(s), {} complaint(s), {} plain bounce(s), {} not a bounce (left alone), {} malformed.",
        outcome.read,
        args.source,
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
    if Mailbox::parse(&args.source).is_some() {
        say!(
            "{} report(s) moved to the folder {}, their decisions recorded.",
            outcome.handled.len(),
            imap::PROCESSED
        );
    }
    Ok(ExitStatus::Success)
}
