//! `breves bounces`: read a bounce mailbox and act on what it holds.

use std::path::PathBuf;

use breves::bounce::imap::{self, Mailbox};
use breves::bounce::{self, Action, Options, Outcome, source};
use breves::ledger::{self, Ledger};
use breves::subscribers::List;
use breves::unsubscribe::Signer;
use breves::{ExitStatus, Result};

/// How the outcome is printed.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Sentences, a line per decision.
    Human,
    /// One JSON object: every decision, for scripts.
    Json,
}

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
    /// Record the decisions even when they would take many readers off the
    /// list at once (more than 2 %, or 10 of one domain).
    #[arg(long)]
    yes: bool,
    /// How to print what was read and decided.
    #[arg(long, value_enum, default_value = "human")]
    format: Format,
}

/// Runs `breves bounces`.
pub async fn run(args: Args) -> Result<ExitStatus> {
    let (list, _) = List::load(&args.subscribers)?;
    let ledger = Ledger::open(&args.ledger.unwrap_or_else(ledger::default_path))?;
    let secret = std::env::var("BREVES_UNSUBSCRIBE_SECRET").ok();
    let signer = Signer::from_secret(secret.as_deref()).ok();
    let human = args.format == Format::Human;
    if signer.is_none() && human {
        if list.bounce_address.is_some() {
            say!(
                "BREVES_UNSUBSCRIBE_SECRET is not set: no report can be proved to be about its reader, so none is acted on."
            );
        } else {
            say!(
                "BREVES_UNSUBSCRIBE_SECRET is not set: unsubscription links cannot be checked; reports are matched by the addresses they name."
            );
        }
    }
    let options = Options { yes: args.yes };
    let imap = Mailbox::parse(&args.source).transpose()?;
    let outcome = match &imap {
        Some(mailbox) => {
            let password = std::env::var("BREVES_IMAP_PASSWORD").unwrap_or_default();
            let (ca, signer) = (args.imap_ca.as_deref(), signer.as_ref());
            imap::read(mailbox, &password, ca, &list, &ledger, signer, options).await?
        }
        None => {
            let messages = source::messages(std::path::Path::new(&args.source))?;
            let bar = super::progress::reading(human);
            let counted = messages.inspect(|_| {
                if let Some(bar) = &bar {
                    bar.inc(1);
                }
            });
            let outcome = bounce::process(&list, &ledger, signer.as_ref(), counted, options)?;
            if let Some(bar) = bar {
                bar.finish_and_clear();
            }
            outcome
        }
    };
    if human {
        print_human(&outcome, &args.source, &list.id, imap.is_some());
    } else {
        print_json(&outcome);
    }
    Ok(if outcome.stopped.is_some() {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    })
}

fn print_human(outcome: &Outcome, source: &str, list: &str, imap: bool) {
    say!(
        "Read {} message(s) from {}: {} delivery report(s), {} complaint(s), {} plain bounce(s), {} not a bounce (left alone), {} malformed.",
        outcome.read,
        source,
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
        say!("  {place}: about {whom}, not a member of the list {list}");
    }
    for (place, why) in &outcome.malformed {
        say!("  malformed {place}: {why}");
    }
    let problems = outcome.sender_problems();
    if !problems.is_empty() {
        say!(
            "Refusals of the sender, not of the readers (nobody is taken off the list for them; look into the sending servers, their reputation and authentication):"
        );
        for (domain, reason, readers) in &problems {
            say!("  {readers} reader(s) at {domain}: {}", reason.as_str());
        }
    }
    if let Some(stopped) = &outcome.stopped {
        say!("Stopped before recording anything: {}.", stopped.why);
        let domains: Vec<String> = stopped
            .domains
            .iter()
            .map(|(d, n)| format!("{n} at {d}"))
            .collect();
        say!("  The most: {}.", domains.join(", "));
        say!(
            "  Look at the decisions above; if they are right, run the same command with --yes to record them."
        );
        return;
    }
    say!(
        "{} suppressed, {} unsubscribed, {} counted, {} refusal(s) of the sender, {} unproven, {} already recorded.",
        outcome.count(Action::Suppressed),
        outcome.count(Action::Unsubscribed),
        outcome.count(Action::Counted),
        outcome.count(Action::SenderProblem),
        outcome.count(Action::Unproven),
        outcome.decisions.iter().filter(|d| !d.new).count()
    );
    if imap {
        say!(
            "{} report(s) moved to the folder {}, their decisions recorded.",
            outcome.handled.len(),
            imap::PROCESSED
        );
    }
}

fn print_json(outcome: &Outcome) {
    let decisions: Vec<serde_json::Value> = outcome
        .decisions
        .iter()
        .map(|d| {
            serde_json::json!({
                "place": d.place,
                "address": d.address,
                "reason": d.reason.as_str(),
                "status": d.status,
                "diagnostic": d.diagnostic,
                "action": d.action.as_str(),
                "decision": d.decision,
                "new": d.new,
            })
        })
        .collect();
    let value = serde_json::json!({
        "read": outcome.read,
        "dsn": outcome.dsn,
        "complaints": outcome.arf,
        "plain": outcome.plain,
        "not_bounces": outcome.not_bounces,
        "malformed": outcome.malformed.iter().map(|(p, w)| serde_json::json!({"place": p, "why": w})).collect::<Vec<_>>(),
        "unmatched": outcome.unmatched.iter().map(|(p, w)| serde_json::json!({"place": p, "names": w})).collect::<Vec<_>>(),
        "decisions": decisions,
        "stopped": outcome.stopped.as_ref().map(|s| s.why.clone()),
    });
    say!("{value}");
}
