//! The sending domain, checked in the DNS before the day of sending
//! (`breves check --dns`): what Gmail and Yahoo ask of bulk senders since
//! 2024, read from the records the domain publishes.
//!
//! - **SPF** of the envelope's domain (the list's `bounce_address`, else its
//!   `From`): a record exists, can be evaluated (RFC 7208's limit of ten
//!   lookups included), and lets the relay's addresses send.
//! - **DKIM**: the selector's record exists, holds the public key of the key
//!   given (a message signed with it verifies against the record), and an
//!   RSA key has at least 2,048 bits.
//! - **DMARC**: a record at `_dmarc` of the `From` domain or of a domain
//!   above it; `From` aligned with the DKIM domain and the envelope's;
//!   `p=none` says what it means.
//! - **Bounces**: the `bounce_address` domain has MX records.
//!
//! The records are read with mail-auth over hickory's resolver, the
//! system's or the server given. Nothing is sent.

use std::net::{IpAddr, SocketAddr};

use lettre::message::{Mailbox, Message};
use mail_auth::hickory_resolver::config::{NameServerConfigGroup, ResolverConfig, ResolverOpts};
use mail_auth::spf::verify::SpfParameters;
use mail_auth::{AuthenticatedMessage, DkimResult, MessageAuthenticator, SpfResult};

use crate::deliver::Transport as _;
use crate::deliver::smtp::{Relay, RelayConfig, Security};
use crate::diagnostics::{Problem, ProblemKind, Problems};
use crate::message::Dkim;
use crate::subscribers::List;

/// What the domain check is given.
#[derive(Debug, Default)]
pub struct Setup<'a> {
    /// The relay of `--smtp`: SPF must let its addresses send, and it must
    /// offer TLS with a certificate a send trusts.
    pub relay: Option<RelayConfig>,
    /// The key the digests are signed with (`--dkim-key`).
    pub dkim: Option<&'a Dkim>,
    /// The DNS server to ask (`--dns-server`); the system's otherwise.
    pub server: Option<SocketAddr>,
}

/// The relay of `url` as `send` reaches it for `list` (its user and
/// password from the environment, as `send` takes them), trusting
/// `extra_ca` too.
pub fn relay_config(
    url: &str,
    list: &List,
    extra_ca: Option<std::path::PathBuf>,
) -> crate::Result<RelayConfig> {
    Ok(RelayConfig::for_list(
        url,
        std::env::var("BREVES_SMTP_USER").ok(),
        std::env::var("BREVES_SMTP_PASSWORD").ok(),
        list,
    )?
    .with(std::time::Duration::from_secs(30), extra_ca))
}

/// Why the DNS cannot be asked at all.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ResolverError(String);

fn problem(error: bool, message: String, hint: String) -> Problem {
    let kind = ProblemKind::Dns(message);
    let problem = match error {
        true => Problem::error(kind),
        false => Problem::warning(kind),
    };
    problem.hint(hint)
}

/// The organisational domain of `domain`, as near as one can without the
/// public suffix list: its last two labels (`lettres.example.fr` gives
/// `example.fr`).
fn organisational(domain: &str) -> String {
    let labels: Vec<&str> = domain.trim_end_matches('.').split('.').collect();
    labels[labels.len().saturating_sub(2)..]
        .join(".")
        .to_lowercase()
}

/// Checks `list`'s domain as the DNS publishes it: every problem found,
/// each with what to publish.
pub async fn check(list: &List, setup: &Setup<'_>) -> Result<Problems, ResolverError> {
    let authenticator = match setup.server {
        Some(server) => {
            let group = NameServerConfigGroup::from_ips_clear(&[server.ip()], server.port(), true);
            let mut options = ResolverOpts::default();
            options.attempts = 1;
            options.timeout = std::time::Duration::from_secs(3);
            MessageAuthenticator::new(ResolverConfig::from_parts(None, vec![], group), options)
        }
        None => MessageAuthenticator::new_system_conf(),
    }
    .map_err(|e| ResolverError(format!("the DNS resolver cannot start: {e}")))?;
    let from = list.from.email.domain().to_lowercase();
    // A DNS that does not answer is said as such, never read as records
    // that are not there.
    if let Err(mail_auth::Error::DnsError(e)) =
        authenticator.txt_raw_lookup(format!("{from}.")).await
    {
        return Err(ResolverError(format!(
            "the DNS server does not answer for {from} ({e}): nothing was checked"
        )));
    }
    let from = list.from.email.domain().to_lowercase();
    // A DNS that does not answer is said as such, never read as records
    // that are not there.
    if let Err(mail_auth::Error::DnsError(e)) =
        authenticator.txt_raw_lookup(format!("{from}.")).await
    {
        return Err(ResolverError(format!(
            "the DNS server does not answer for {from} ({e}): nothing was checked"
        )));
    }
    let mut problems = Problems::new();
    let sender = list
        .bounce_address
        .as_ref()
        .map_or_else(|| list.from.email.to_string(), ToString::to_string);
    let envelope = sender
        .rsplit_once('@')
        .map_or(from.clone(), |(_, d)| d.to_lowercase());
    spf(&authenticator, setup, &sender, &envelope, &mut problems).await;
    if let Some(relay) = &setup.relay {
        tls(relay, &mut problems).await;
    }
    if let Some(dkim) = setup.dkim {
        check_dkim(&authenticator, list, dkim, &mut problems).await;
    }
    dmarc(&authenticator, &from, &envelope, setup.dkim, &mut problems).await;
    if list.bounce_address.is_some() {
        let has_mx = authenticator
            .mx_lookup(
                format!("{envelope}."),
                None::<
                    &mail_auth::common::cache::NoCache<String, std::sync::Arc<Vec<mail_auth::MX>>>,
                >,
            )
            .await
            .is_ok_and(|mx| !mx.is_empty());
        if !has_mx {
            problems.push(problem(
                true,
                format!(
                    "{envelope} has no MX record: the bounces sent to {sender} cannot reach it"
                ),
                format!(
                    "publish an MX record for {envelope}, the mailbox that `breves bounces` reads"
                ),
            ));
        }
    }
    Ok(problems)
}

/// The addresses of the relay `host` (itself when it is an address).
async fn addresses(authenticator: &MessageAuthenticator, host: &str) -> Vec<IpAddr> {
    if let Ok(ip) = host.trim_matches(['[', ']']).parse::<IpAddr>() {
        return vec![ip];
    }
    authenticator
        .resolver()
        .lookup_ip(format!("{host}."))
        .await
        .map(|found| found.iter().collect())
        .unwrap_or_default()
}

async fn spf(
    authenticator: &MessageAuthenticator,
    setup: &Setup<'_>,
    sender: &str,
    envelope: &str,
    problems: &mut Problems,
) {
    let Some(relay) = setup.relay.as_ref().map(|r| &r.host) else {
        problems.push(problem(
            false,
            format!(
                "the SPF record of {envelope} is not checked against the relay: none was given"
            ),
            "give the relay with --smtp, as to `breves send`".into(),
        ));
        return;
    };
    let ips = addresses(authenticator, relay).await;
    if ips.is_empty() {
        problems.push(problem(
            true,
            format!("the relay {relay} has no address in the DNS"),
            "check the host of --smtp".into(),
        ));
        return;
    }
    for ip in ips {
        let named = match relay.trim_matches(['[', ']']) == ip.to_string() {
            true => relay.clone(),
            false => format!("{relay} ({ip})"),
        };
        let mechanism = match ip {
            IpAddr::V4(_) => format!("ip4:{ip}"),
            IpAddr::V6(_) => format!("ip6:{ip}"),
        };
        let output = authenticator
            .verify_spf(SpfParameters::verify_mail_from(ip, relay, relay, sender))
            .await;
        let (error, message, hint) = match output.result() {
            SpfResult::Pass => continue,
            SpfResult::None => (
                true,
                format!(
                    "{envelope} publishes no SPF record: receivers cannot tell that the relay {named} may send for it"
                ),
                format!(
                    "publish at {envelope} the TXT record \"v=spf1 {mechanism} -all\" (or add {mechanism} to the record it should have)"
                ),
            ),
            SpfResult::PermError => (
                true,
                format!(
                    "the SPF record of {envelope} cannot be evaluated: it is malformed, or needs more than 10 DNS lookups (RFC 7208)"
                ),
                format!(
                    "write it again with fewer include:, a:, mx: and redirect= terms, and {mechanism} for the relay"
                ),
            ),
            SpfResult::TempError => (
                true,
                format!("the SPF record of {envelope} could not be read (a DNS failure)"),
                "try again; if it lasts, check the domain's name servers".into(),
            ),
            SpfResult::Fail | SpfResult::SoftFail | SpfResult::Neutral => (
                true,
                format!("the SPF record of {envelope} does not let the relay {named} send for it"),
                format!("add {mechanism} to the SPF record of {envelope}, before its all"),
            ),
        };
        problems.push(problem(error, message, hint));
    }
}

/// Whether the relay is reached as a send would reach it: over TLS (its
/// STARTTLS, or TLS from the start), its certificate trusted. Nothing is
/// sent: the connection is closed once it is ready.
async fn tls(config: &RelayConfig, problems: &mut Problems) {
    let shown = config.display();
    if config.security == Security::None {
        problems.push(problem(
            false,
            format!(
                "the relay {shown} is reached without TLS (allowed to a relay on this machine only)"
            ),
            "a relay on another machine is reached with smtps:// or smtp:// (STARTTLS)".into(),
        ));
    }
    let opened = match Relay::new(config.clone()).await {
        Ok(relay) => relay.open().await.map(drop).map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    if let Err(reason) = opened {
        problems.push(problem(
            true,
            format!("the relay {shown} cannot be reached as a send would reach it: {reason}"),
            "check the address of --smtp, and give --smtp-ca for a certificate authority of your own".into(),
        ));
    }
}

async fn check_dkim(
    authenticator: &MessageAuthenticator,
    list: &List,
    dkim: &Dkim,
    problems: &mut Problems,
) {
    let name = dkim.record_name();
    if let Some(bits) = dkim.bits().filter(|b| *b < 2048) {
        problems.push(problem(
            true,
            format!("the DKIM key is an RSA key of {bits} bits: receivers ask for 2,048 at least"),
            "make a new key (`openssl genrsa -traditional 2048`), or an Ed25519 one, and publish it".into(),
        ));
    }
    let published = authenticator.txt_raw_lookup(format!("{name}.")).await;
    let publish = format!("publish at {name} the TXT record \"{}\"", dkim.record());
    if published.as_ref().map_or(true, Vec::is_empty) {
        problems.push(problem(
            true,
            format!(
                "{name} publishes no DKIM key: the signatures of the digests cannot be verified"
            ),
            publish,
        ));
        return;
    }
    // A message signed with the key given verifies against the record,
    // or the record holds another key.
    let from: Mailbox = list.from.clone();
    let message = Message::builder()
        .from(from.clone())
        .to(from)
        .subject("breves check --dns")
        .body("Une vérification de la clé DKIM.\r\n".to_owned());
    let Ok(mut message) = message else {
        return;
    };
    dkim.sign_plain(&mut message);
    let bytes = message.formatted();
    let Some(parsed) = AuthenticatedMessage::parse(&bytes) else {
        return;
    };
    let outputs = authenticator.verify_dkim(&parsed).await;
    let passed = outputs
        .iter()
        .any(|o| matches!(o.result(), DkimResult::Pass));
    if !passed {
        let why = outputs.first().map_or_else(
            || "no signature was read".to_owned(),
            |o| match o.result() {
                DkimResult::Fail(e)
                | DkimResult::PermError(e)
                | DkimResult::Neutral(e)
                | DkimResult::TempError(e) => e.to_string(),
                DkimResult::Pass | DkimResult::None => "no result".to_owned(),
            },
        );
        problems.push(problem(
            true,
            format!("the DKIM record at {name} does not hold the key given: a message signed with it does not verify ({why})"),
            publish,
        ));
    }
}

async fn dmarc(
    authenticator: &MessageAuthenticator,
    from: &str,
    envelope: &str,
    dkim: Option<&Dkim>,
    problems: &mut Problems,
) {
    // The record of the From domain, else of its organisational domain.
    let organisation = organisational(from);
    let mut found = None;
    for domain in [from.to_owned(), organisation.clone()] {
        let record = authenticator
            .txt_raw_lookup(format!("_dmarc.{domain}."))
            .await
            .ok()
            .filter(|r| !r.is_empty());
        if let Some(record) = record {
            found = Some((domain, record));
            break;
        }
    }
    let Some((at, record)) = found else {
        problems.push(problem(
            true,
            format!("{from} publishes no DMARC record: Gmail and Yahoo refuse or junk bulk mail without one"),
            format!("publish at _dmarc.{organisation} the TXT record \"v=DMARC1; p=none; rua=mailto:dmarc@{organisation}\", then p=quarantine once the reports show every message aligned"),
        ));
        return;
    };
    let text = String::from_utf8_lossy(&record).into_owned();
    let parsed =
        <mail_auth::dmarc::Dmarc as mail_auth::common::parse::TxtRecordParser>::parse(&record);
    match parsed {
        Err(e) => problems.push(problem(
            true,
            format!("the DMARC record at _dmarc.{at} cannot be read ({e}): \"{text}\""),
            format!("write it as \"v=DMARC1; p=none; rua=mailto:dmarc@{organisation}\""),
        )),
        Ok(dmarc) if dmarc.p == mail_auth::dmarc::Policy::None => problems.push(problem(
            false,
            format!("the DMARC policy of {from} is p=none: receivers only report what fails, and still deliver mail forged in its name"),
            "once the reports show every message aligned, publish p=quarantine (then p=reject)".into(),
        )),
        Ok(_) => {}
    }
    if let Some(dkim) = dkim
        && organisational(dkim.domain()) != organisation
    {
        problems.push(problem(
            true,
            format!("From ({from}) is not aligned with the DKIM domain ({}): DMARC does not count the signature", dkim.domain()),
            format!("sign for {from} or a domain under {organisation} (dkim_domain under [list])"),
        ));
    }
    if organisational(envelope) != organisation {
        problems.push(problem(
            false,
            format!("From ({from}) is not aligned with the envelope's domain ({envelope}): DMARC counts SPF only when they are"),
            format!("a bounce_address under {organisation} aligns them"),
        ));
    }
}
