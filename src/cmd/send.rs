//! `breves send`: the main job, as a dry run or through the relay.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use breves::campaign::Campaign;
use breves::deliver::files::{MANIFEST, Outbox};
use breves::deliver::smtp::{Relay, RelayConfig};
use breves::diagnostics::Problems;
use breves::dispatch::{self, Journal, Options, Report, Retry, Silent};
use breves::issue::Issue;
use breves::ledger::{self, Ledger, LedgerError, Planned, Scope};
use breves::message::Dkim;
use breves::select::Selection;
use breves::subscribers::{List, Member, parse_address};
use breves::unsubscribe::Signer;
use breves::{Error, Result};
use chrono::{DateTime, FixedOffset};

use super::progress::Reporter;

/// Arguments of `breves send`.
#[derive(clap::Args)]
pub struct Args {
    /// The issue file, such as issues/2026-03-royaume-uni.toml.
    issue: PathBuf,
    /// The subscriber list, such as subscribers/londres.toml.
    #[arg(long, short = 's', value_name = "LIST")]
    subscribers: PathBuf,
    /// Write one .eml file per subscriber into DIR instead of sending.
    #[arg(long, value_name = "DIR", conflicts_with = "smtp")]
    dry_run: Option<PathBuf>,
    /// Send through this relay: smtps://host:465, smtp://host:587 (STARTTLS), or
    /// smtp://127.0.0.1:2525?tls=none for a local relay. The password comes from
    /// BREVES_SMTP_PASSWORD, the user from the URL or BREVES_SMTP_USER.
    #[arg(long, value_name = "URL", env = "BREVES_SMTP_URL")]
    smtp: Option<String>,
    /// An extra certificate authority (PEM) to trust for the relay's certificate.
    #[arg(long, value_name = "FILE", env = "BREVES_SMTP_CA")]
    smtp_ca: Option<PathBuf>,
    /// Sign each message with DKIM using this private key (RSA in PKCS#1 PEM,
    /// or an Ed25519 seed in base64); selector and domain from the list.
    #[arg(long, value_name = "FILE", env = "BREVES_DKIM_KEY")]
    dkim_key: Option<PathBuf>,
    /// The DKIM selector, instead of the list's `dkim_selector`.
    #[arg(long, value_name = "NAME")]
    dkim_selector: Option<String>,
    /// The DKIM signing domain, instead of the list's `dkim_domain` (default:
    /// the sender's domain).
    #[arg(long, value_name = "DOMAIN")]
    dkim_domain: Option<String>,
    /// The ledger that records every delivery [default: $BREVES_LEDGER, else
    /// ~/.local/state/breves/ledger.sqlite3].
    #[arg(long, value_name = "FILE")]
    ledger: Option<PathBuf>,
    /// Send only to these addresses (a test send; they need not be members).
    #[arg(long, value_name = "EMAIL", num_args = 1..)]
    only: Vec<String>,
    /// Send to the first N recipients not yet served (a canary).
    #[arg(long, value_name = "N")]
    limit: Option<usize>,
    /// SMTP connections at once.
    #[arg(long, value_name = "N", default_value_t = 4)]
    concurrency: usize,
    /// A ceiling on messages per second, such as 10/s.
    #[arg(long, value_name = "N/s", value_parser = parse_rate)]
    rate: Option<f64>,
    /// Seconds to wait for the relay at any one step.
    #[arg(long, value_name = "SECONDS", default_value_t = 60.0)]
    timeout: f64,
    /// Attempts per recipient when the relay fails for a while.
    #[arg(long, value_name = "N", default_value_t = 6)]
    attempts: u32,
    /// Seconds before the first retry; the wait doubles each time.
    #[arg(long, value_name = "SECONDS", default_value_t = 2.0)]
    retry_delay: f64,
    /// Do not ask for confirmation.
    #[arg(long, short = 'y')]
    yes: bool,
    /// Go on although the issue or the list changed since this send started.
    #[arg(long)]
    accept_changes: bool,
    /// Do not send again to recipients whose earlier delivery is of unknown
    /// outcome (the relay may have it); they stay listed by `breves status`.
    #[arg(long)]
    skip_uncertain: bool,
    /// The Date of the messages (default: now; for a dry run, the issue's `date`).
    #[arg(long, value_parser = super::parse_date)]
    date: Option<DateTime<FixedOffset>>,
}

fn parse_rate(text: &str) -> std::result::Result<f64, String> {
    let number = text.trim().trim_end_matches("/s");
    match number.parse::<f64>() {
        Ok(r) if r > 0.0 && r.is_finite() => Ok(r),
        _ => Err(format!("`{text}` is not a rate: write it as 10/s")),
    }
}

fn seconds(value: f64, what: &str) -> Result<Duration> {
    Duration::try_from_secs_f64(value)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| Error::Usage(format!("{what} must be a positive number of seconds")))
}

/// The members a send is for: the list's, or the `--only` addresses (list
/// members keep their name and sections; others get every section).
fn audience(list: &List, only: &[String]) -> Result<Vec<Member>> {
    if only.is_empty() {
        return Ok(list.members.clone());
    }
    let mut members: Vec<Member> = Vec::new();
    for text in only {
        let address = parse_address(text)
            .map_err(|reason| Error::Usage(format!("--only {text}: {reason}")))?;
        if members
            .iter()
            .any(|m| m.email.to_string().eq_ignore_ascii_case(address.as_ref()))
        {
            continue;
        }
        members.push(match list.member(text) {
            Some(member) => member.clone(),
            None => Member::outsider(address),
        });
    }
    Ok(members)
}

/// The DKIM signer the options ask for, if any.
fn dkim(args: &Args, list: &List) -> Result<Option<Dkim>> {
    let Some(path) = &args.dkim_key else {
        return Ok(None);
    };
    let key = std::fs::read_to_string(path).map_err(|source| Error::Read {
        path: path.clone(),
        source,
    })?;
    let selector = args
        .dkim_selector
        .clone()
        .or_else(|| list.dkim_selector.clone())
        .ok_or_else(|| {
            Error::Usage(
                "a DKIM key needs a selector: dkim_selector under [list], or --dkim-selector"
                    .into(),
            )
        })?;
    let domain = args
        .dkim_domain
        .clone()
        .or_else(|| list.dkim_domain.clone())
        .unwrap_or_else(|| list.from.email.domain().to_owned());
    Dkim::new(&key, &selector, &domain, list)
        .map(Some)
        .map_err(|reason| Error::Usage(format!("{}: {reason}", path.display())))
}

/// Runs `breves send`.
pub async fn run(args: Args) -> Result<ExitCode> {
    if args.dry_run.is_none() && args.smtp.is_none() {
        return Err(Error::Usage(
            "say where the messages go: --dry-run DIR to write them as files, or --smtp URL (or BREVES_SMTP_URL) to send them through the relay".into(),
        ));
    }
    let (issue, list, warnings) = super::load(&args.issue, &args.subscribers)?;
    let members = audience(&list, &args.only)?;
    let dkim = dkim(&args, &list)?;
    let mut warnings = warnings;
    let code = match &args.dry_run {
        Some(dir) => {
            let campaign = Campaign::for_members(&issue, &list, members)?;
            warnings.extend(campaign.check_sizes());
            let campaign = match dkim {
                Some(dkim) => campaign.with_dkim(dkim),
                None => campaign,
            };
            dry_run(&args, dir, &issue, &list, &campaign).await?
        }
        None => relay_send(&args, &issue, &list, members, dkim, &mut warnings).await?,
    };
    if warnings.warning_count() > 0 {
        println!(
            "  {} warning(s) about the input: run `breves check {} --subscribers {}` to see them.",
            warnings.warning_count(),
            args.issue.display(),
            args.subscribers.display()
        );
    }
    Ok(code)
}

async fn dry_run(
    args: &Args,
    dir: &std::path::Path,
    issue: &Issue,
    list: &List,
    campaign: &Campaign<'_>,
) -> Result<ExitCode> {
    let outbox = Outbox::create(dir)?;
    let options = Options {
        // One at a time, so that the manifest is in list order.
        concurrency: 1,
        rate: None,
        retry: Retry::default(),
        date: args.date.unwrap_or_else(|| issue.default_date()),
    };
    let stop = AtomicBool::new(false);
    let report = dispatch::run(campaign, &outbox, None, None, &options, &Silent, &stop).await?;
    outbox.finish(&issue.id, &list.id, report.variants, report.skipped.clone())?;
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
    if report.delivered > 0 && list.unsubscribe_url.is_some() {
        println!(
            "  Unsubscription links are signed with the test secret of dry runs: they work on no real server."
        );
    }
    if report.delivered > 0 {
        println!(
            "  {} in all, largest message {}, in {:.2} s; list of files: {}",
            super::size(report.bytes),
            super::size(report.largest),
            report.elapsed.as_secs_f64(),
            dir.join(MANIFEST).display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Asks on the terminal whether to go on.
fn confirm(question: &str) -> bool {
    eprint!("{question} [y/N] ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer).is_ok()
        && matches!(
            answer.trim().to_lowercase().as_str(),
            "y" | "yes" | "o" | "oui"
        )
}

/// A handful: more than this on a terminal, and `send` asks first.
const HANDFUL: usize = 5;

/// The secret that signs unsubscription links, which a real send needs.
fn signer(list: &List) -> Result<Signer> {
    if list.unsubscribe_url.is_none() {
        return Err(Error::Usage(format!(
            "the list {} has no unsubscribe_url: Gmail and Yahoo require one-click unsubscription from bulk senders; add the address of `breves unsubscribe-server` under [list]",
            list.id
        )));
    }
    let secret = std::env::var("BREVES_UNSUBSCRIBE_SECRET").unwrap_or_default();
    if secret.is_empty() {
        return Err(Error::Usage(
            "set BREVES_UNSUBSCRIBE_SECRET (the secret shared with `breves unsubscribe-server`): without it, unsubscription links cannot be signed".into(),
        ));
    }
    Signer::new(secret.as_bytes()).map_err(Error::Usage)
}

async fn relay_send(
    args: &Args,
    issue: &Issue,
    list: &List,
    members: Vec<Member>,
    dkim: Option<Dkim>,
    warnings: &mut Problems,
) -> Result<ExitCode> {
    let signer = signer(list)?;
    let url = args.smtp.as_deref().unwrap_or_default();
    let mut config = RelayConfig::from_url(
        url,
        std::env::var("BREVES_SMTP_USER").ok(),
        std::env::var("BREVES_SMTP_PASSWORD").ok(),
    )?;
    config.timeout = seconds(args.timeout, "--timeout")?;
    config.extra_ca = args.smtp_ca.clone();
    config.hello = list.from.email.domain().to_owned();
    let relay = Relay::new(config).await?;

    let ledger_path = args.ledger.clone().unwrap_or_else(ledger::default_path);
    let ledger = Arc::new(Ledger::open(&ledger_path)?);
    let scope = if args.only.is_empty() {
        Scope::list(&issue.id, &list.id)
    } else {
        Scope::test(&issue.id, &list.id)
    };
    let _lock = ledger.lock(&scope)?;
    // The audience is frozen as the list writes it; what subscribers asked
    // for since (to leave, to stop a section) is applied on top, and never
    // counts as a change of the list.
    let planned: Vec<Planned> = members
        .iter()
        .filter_map(|m| {
            let selection = Selection::for_interests(issue, &m.interests);
            (!selection.is_empty()).then(|| Planned {
                recipient: m.email.to_string().to_lowercase(),
                sections: selection.ids(issue).join(","),
            })
        })
        .collect();
    let (kept, left_out) = ledger.preferences(&list.id)?.apply(list, members);
    let campaign = Campaign::for_members(issue, list, kept)?.with_signer(signer);
    let campaign = &match dkim {
        Some(dkim) => campaign.with_dkim(dkim),
        None => campaign,
    };
    warnings.extend(campaign.check_sizes());
    let served: std::collections::HashSet<String> = (0..campaign.audience().recipients.len())
        .map(|i| campaign.recipient(i).email.to_string().to_lowercase())
        .collect();
    // A look first, recording nothing until the send is confirmed.
    let start = match ledger.peek(&scope, &issue.fingerprint, &planned, args.accept_changes) {
        Ok(start) => start,
        Err(LedgerError::Changed(changes)) => {
            eprintln!("error: {changes}");
            return Ok(ExitCode::FAILURE);
        }
        Err(e) => return Err(e.into()),
    };
    let (mut to_send, suppressed): (Vec<String>, Vec<String>) = start
        .to_send
        .iter()
        .cloned()
        .partition(|r| served.contains(r));
    if left_out > 0 {
        println!(
            "{left_out} subscriber(s) who unsubscribed (or stopped every section) are left out."
        );
    }
    if args.skip_uncertain {
        to_send.retain(|r| !start.uncertain.contains(r));
    }
    if let Some(limit) = args.limit {
        to_send.truncate(limit);
    }
    let what = if args.only.is_empty() {
        format!("{} to the list {}", issue.id, list.id)
    } else {
        format!("{} to {} test address(es)", issue.id, to_send.len())
    };
    if start.resumed {
        println!(
            "Resuming the send of {what}: {} already sent, {} refused for good, {} to send{}.",
            start.already_sent,
            start.already_failed,
            to_send.len(),
            match (start.uncertain.len(), args.skip_uncertain) {
                (0, _) => String::new(),
                (n, false) => format!(
                    ", of which {n} of uncertain outcome (in flight when the last run stopped) sent again"
                ),
                (n, true) =>
                    format!(", and {n} of uncertain outcome left alone (--skip-uncertain)"),
            }
        );
    }
    if to_send.is_empty() {
        if args.skip_uncertain && !start.uncertain.is_empty() {
            println!(
                "Nothing to send: {} recipient(s) of uncertain outcome left alone. `breves status` lists them.",
                start.uncertain.len()
            );
        } else {
            println!(
                "Nothing to send: every recipient of {what} has been served. `breves status` tells more."
            );
        }
        return Ok(ExitCode::SUCCESS);
    }
    let interactive = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    if interactive && !args.yes && to_send.len() > HANDFUL {
        eprintln!(
            "About to send {what} ({}):\n  {} recipient(s) through {}\n  ledger {}",
            issue.subject,
            to_send.len(),
            relay.config().display(),
            ledger.path().display()
        );
        if !confirm("Send now?") {
            eprintln!("Nothing was sent.");
            return Ok(ExitCode::FAILURE);
        }
    }
    ledger.begin(&scope, &issue.fingerprint, &planned, args.accept_changes)?;
    ledger.mark_suppressed(&scope, &suppressed)?;

    let options = Options {
        concurrency: args.concurrency.max(1),
        rate: args.rate,
        retry: Retry {
            attempts: args.attempts.max(1),
            base: seconds(args.retry_delay, "--retry-delay")?,
            ..Retry::default()
        },
        date: args
            .date
            .unwrap_or_else(|| chrono::Local::now().fixed_offset()),
    };
    let stop = Arc::new(AtomicBool::new(false));
    let stopper = Arc::clone(&stop);
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            stopper.store(true, Ordering::SeqCst);
            eprintln!(
                "\nStopping: the messages in flight finish, no new one starts (Ctrl-C again to quit at once)."
            );
            if tokio::signal::ctrl_c().await.is_ok() {
                std::process::exit(130);
            }
        }
    });
    let journal = Journal {
        ledger: Arc::clone(&ledger),
        scope: scope.clone(),
    };
    let reporter = Reporter::new(to_send.len());
    let report = dispatch::run(
        campaign,
        &relay,
        Some(&to_send),
        Some(&journal),
        &options,
        &reporter,
        &stop,
    )
    .await?;
    reporter.finish();
    let resent = if args.skip_uncertain {
        0
    } else {
        start.uncertain.len()
    };
    print_summary(&what, &report, resent);
    Ok(if report.complete() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(3)
    })
}

fn print_summary(what: &str, report: &Report, resent_uncertain: usize) {
    let secs = report.elapsed.as_secs_f64().max(1e-9);
    println!(
        "Sent {what}: {} sent, {} skipped, {} failed, {} uncertain, in {:.2} s ({:.1} messages/s).",
        report.delivered,
        report.skipped.len(),
        report.failed.len() + report.gave_up.len(),
        report.uncertain.len(),
        secs,
        report.delivered as f64 / secs
    );
    if resent_uncertain > 0 {
        println!(
            "  {resent_uncertain} message(s) of uncertain outcome from an earlier run were sent again."
        );
    }
    for (recipient, reply) in report.failed.iter().chain(&report.gave_up) {
        println!("  failed {recipient}: {reply}");
    }
    for (recipient, reason) in &report.uncertain {
        println!("  uncertain {recipient}: {reason} (sent again by the next run)");
    }
    if report.retries > 0 {
        println!("  {} transient failure(s) were retried.", report.retries);
    }
    if let Some(fatal) = &report.fatal {
        println!("  stopped: {fatal}");
    }
    if report.interrupted || report.not_attempted > 0 {
        println!(
            "  {} recipient(s) not attempted: run the same command again to go on where it stopped.",
            report.not_attempted
        );
    }
}
