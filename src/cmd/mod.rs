//! One file per subcommand: its arguments and a call into the library.

pub mod archive;
pub mod bounces;
pub mod check;
pub mod convert;
pub mod import;
pub mod ledger;
pub mod new;
pub mod preview;
pub mod progress;
pub mod report;
pub mod send;
pub mod serve;
pub mod status;
pub mod subscribers;
pub mod suppress;

use std::io::IsTerminal;
use std::path::Path;

use breves::Error;
use breves::diagnostics::Problems;
use breves::subscribers::List;
use chrono::{DateTime, FixedOffset};

/// How to reach the relay and sign for the list: what `send` and `serve`
/// share.
#[derive(clap::Args)]
pub struct RelayArgs {
    /// Send through this relay: smtps://host:465, smtp://host:587 (STARTTLS), or
    /// smtp://127.0.0.1:2525?tls=none for a local relay. The password comes from
    /// BREVES_SMTP_PASSWORD, the user from the URL or BREVES_SMTP_USER.
    #[arg(long, value_name = "URL", env = "BREVES_SMTP_URL")]
    pub smtp: Option<String>,
    /// An extra certificate authority (PEM) to trust for the relay's certificate.
    #[arg(long, value_name = "FILE", env = "BREVES_SMTP_CA")]
    pub smtp_ca: Option<std::path::PathBuf>,
    /// Sign each message with DKIM using this private key (RSA in PKCS#1 PEM,
    /// or an Ed25519 seed in base64); selector and domain from the list.
    #[arg(long, value_name = "FILE", env = "BREVES_DKIM_KEY")]
    pub dkim_key: Option<std::path::PathBuf>,
    /// The DKIM selector, instead of the list's `dkim_selector`.
    #[arg(long, value_name = "NAME")]
    pub dkim_selector: Option<String>,
    /// The DKIM signing domain, instead of the list's `dkim_domain` (default:
    /// the sender's domain).
    #[arg(long, value_name = "DOMAIN")]
    pub dkim_domain: Option<String>,
}

impl RelayArgs {
    /// The DKIM signer of `list`'s messages, if a key is given.
    pub fn dkim(&self, list: &List) -> breves::Result<Option<breves::message::Dkim>> {
        let (selector, domain) = (self.dkim_selector.as_deref(), self.dkim_domain.as_deref());
        self.dkim_key
            .as_ref()
            .map(|path| breves::message::Dkim::for_list(path, selector, domain, list))
            .transpose()
    }

    /// The relay of `--smtp` (`None` without it), greeted as the list's
    /// domain, waiting `timeout` at any one step.
    pub async fn relay(
        &self,
        list: &List,
        timeout: std::time::Duration,
    ) -> breves::Result<Option<breves::deliver::smtp::Relay>> {
        use breves::deliver::smtp::{Relay, RelayConfig};
        let Some(url) = &self.smtp else {
            return Ok(None);
        };
        let config = RelayConfig::for_list(
            url,
            std::env::var("BREVES_SMTP_USER").ok(),
            std::env::var("BREVES_SMTP_PASSWORD").ok(),
            list,
        )?
        .with(timeout, self.smtp_ca.clone());
        Ok(Some(Relay::new(config).await?))
    }
}

/// The address typed, checked.
pub fn address_of(text: &str) -> breves::Result<lettre::Address> {
    breves::address::parse_address(text).map_err(|reason| Error::InvalidAddress {
        text: text.to_owned(),
        reason,
    })
}

/// Whether to colour what goes to standard error.
pub fn color() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

/// Prints each problem with its line shown: the errors first, then the
/// warnings, each in file order.
pub fn print_problems(problems: &Problems) {
    let color = color();
    let sorted = problems.sorted();
    let (errors, warnings): (Vec<_>, Vec<_>) = sorted.into_iter().partition(|p| p.is_error());
    // A blank line after each problem, as compilers print them.
    for problem in &errors {
        tell!("{}\n", problem.render(color).trim_end());
    }
    if !warnings.is_empty() && !errors.is_empty() {
        tell!("── warnings: the digests can be sent despite these ──\n");
    }
    for problem in &warnings {
        tell!("{}\n", problem.render(color).trim_end());
    }
    if problems.warnings_not_kept() > 0 {
        tell!(
            "… and {} more warning(s), not shown: fix those above, then run `breves check` again.\n",
            problems.warnings_not_kept()
        );
    }
}

/// The members a `--skip-invalid` send leaves out, each error with its
/// place, before anything is sent.
pub fn print_left_out(left_out: &Problems) {
    if left_out.is_empty() {
        return;
    }
    print_problems(left_out);
    tell!(
        "{} error(s) in the list: the members they concern are left out (--skip-invalid); every other member is sent to.\n",
        left_out.error_count()
    );
}

/// Prints an error that stopped a command.
pub fn print_error(error: &Error) {
    match error {
        Error::Invalid(problems) => {
            print_problems(problems);
            tell!(
                "{} error(s), {} warning(s): nothing was written. `breves check` lists them all.",
                problems.error_count(),
                problems.warning_count()
            );
        }
        other => tell!("error: {other}"),
    }
}

/// What the ledger at `path`, when one is given, says the list's members
/// asked for (a dry run leaves out those who left, as a send would).
pub fn preferences(path: Option<&Path>, list: &List) -> Result<breves::select::Preferences, Error> {
    match path {
        Some(path) => Ok(breves::ledger::Ledger::open(path)?.preferences(&list.id)?),
        None => Ok(Default::default()),
    }
}

/// A line pointing to `breves check` when the input has warnings.
pub fn input_warnings(warnings: &Problems, issue: &Path, list: &Path) {
    if warnings.warning_count() > 0 {
        say!(
            "  {} warning(s) about the input: run `breves check {} --subscribers {}` to see them.",
            warnings.warning_count(),
            issue.display(),
            list.display()
        );
    }
}

/// Parses `--date`.
pub fn parse_date(text: &str) -> Result<DateTime<FixedOffset>, String> {
    DateTime::parse_from_rfc3339(text)
        .map_err(|e| format!("{e}: write it as 2026-04-07T09:00:00+01:00"))
}

/// Parses `--rate 10/s`.
pub fn parse_rate(text: &str) -> Result<f64, String> {
    let number = text.trim().trim_end_matches("/s");
    match number.parse::<f64>() {
        Ok(r) if r > 0.0 && r.is_finite() => Ok(r),
        _ => Err(format!("`{text}` is not a rate: write it as 10/s")),
    }
}

/// Parses a positive number of seconds, such as `--timeout 30`.
pub fn parse_seconds(text: &str) -> Result<std::time::Duration, String> {
    text.trim()
        .parse::<f64>()
        .ok()
        .and_then(|s| std::time::Duration::try_from_secs_f64(s).ok())
        .filter(|d| !d.is_zero())
        .ok_or_else(|| format!("`{text}` is not a positive number of seconds"))
}
