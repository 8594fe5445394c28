//! `breves check`: every problem of an issue and a list, at once.

use std::path::PathBuf;

use breves::check::{Checked, check};
use breves::{ExitStatus, Result};

/// How problems are printed.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Format {
    /// The line shown, the place marked.
    Human,
    /// One GitHub Actions annotation per line.
    Github,
}

/// Arguments of `breves check`.
#[derive(clap::Args)]
pub struct Args {
    /// The issue file.
    issue: PathBuf,
    /// The subscriber list to check with it.
    #[arg(long, short = 's', value_name = "LIST")]
    subscribers: Option<PathBuf>,
    /// How to print the problems.
    #[arg(long, value_enum, default_value = "human")]
    format: Format,
    /// Also count the readers who joined by themselves, as this ledger
    /// records them (with --subscribers).
    #[arg(long, value_name = "FILE", requires = "subscribers")]
    ledger: Option<PathBuf>,
    /// Also check the sending domain in the DNS: SPF for the relay of
    /// --smtp, the DKIM key of --dkim-key, DMARC, the bounce domain's MX
    /// (with --subscribers). Nothing is sent.
    #[arg(long, requires = "subscribers")]
    dns: bool,
    /// The DNS server to ask, instead of the system's (with --dns).
    #[arg(long, value_name = "ADDR", requires = "dns")]
    dns_server: Option<std::net::SocketAddr>,
    #[command(flatten)]
    relay: super::RelayArgs,
}

/// What `--dns` finds about `list`'s sending domain.
async fn dns(args: &Args, list: &std::path::Path) -> Result<breves::diagnostics::Problems> {
    let (list, _) = breves::subscribers::List::load(list)?;
    let dkim = args.relay.dkim(&list)?;
    let relay = args
        .relay
        .smtp
        .as_deref()
        .map(|url| breves::domain::relay_config(url, &list, args.relay.smtp_ca.clone()))
        .transpose()?;
    let setup = breves::domain::Setup {
        relay,
        dkim: dkim.as_ref(),
        server: args.dns_server,
    };
    Ok(breves::domain::check(&list, &setup).await?)
}

/// Runs `breves check`.
pub async fn run(args: Args) -> Result<ExitStatus> {
    let Checked {
        mut problems,
        variants,
    } = check(&args.issue, args.subscribers.as_deref())?;
    if let (true, Some(list)) = (args.dns, &args.subscribers) {
        problems.extend(dns(&args, list).await?);
    }
    match args.format {
        Format::Human => super::print_problems(&problems),
        Format::Github => {
            for p in problems.sorted() {
                say!("{}", p.github_annotation());
            }
        }
    }
    let files = match &args.subscribers {
        Some(list) => format!("{} and {}", args.issue.display(), list.display()),
        None => args.issue.display().to_string(),
    };
    let summary = format!(
        "{files}: {} error(s), {} warning(s){}",
        problems.error_count(),
        problems.warning_count(),
        if variants > 0 {
            format!(", {variants} distinct digest(s)")
        } else {
            String::new()
        }
    );
    if problems.has_errors() {
        tell!("{summary}: fix the errors before sending.");
        return Ok(ExitStatus::Failure);
    }
    tell!("{summary}.");
    if let (Some(ledger), Some(list)) = (&args.ledger, &args.subscribers) {
        let (list, _) = breves::subscribers::List::load(list)?;
        let ledger = breves::ledger::Ledger::open(ledger)?;
        let readers = breves::check::readers(&list, &ledger)?;
        tell!(
            "Readers: {} in the list file, {} who joined by themselves, {} waiting for their confirmation.",
            readers.file,
            readers.joined,
            readers.waiting
        );
    }
    Ok(ExitStatus::Success)
}
