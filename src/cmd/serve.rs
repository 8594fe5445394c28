//! `breves serve` (once `breves unsubscribe-server`): answers readers.

use std::path::PathBuf;
use std::sync::Arc;

use breves::http::Limits;
use breves::ledger::{self, Ledger};
use breves::readers::directory::Directory;
use breves::readers::subscribe::{Form, Joining};
use breves::readers::{Service, serve};
use breves::subscribers::List;
use breves::unsubscribe::Signer;
use breves::{Error, ExitStatus, Result};

/// Arguments of `breves serve`.
#[derive(clap::Args)]
pub struct Args {
    /// Where to listen, such as 127.0.0.1:8025 (behind an HTTPS proxy).
    #[arg(long, value_name = "ADDR")]
    listen: String,
    /// The ledger that records who left [default: $BREVES_LEDGER, else
    /// ~/.local/state/breves/ledger.sqlite3].
    #[arg(long, value_name = "FILE")]
    ledger: Option<PathBuf>,
    /// The list the links were sent to: its members are who the links
    /// name, its topics' labels name the sections on the pages.
    #[arg(long, short = 's', value_name = "LIST")]
    subscribers: PathBuf,
    /// A proxy in front of the server (repeatable), such as 127.0.0.1
    /// for nginx on the same machine: from it, `X-Forwarded-For` names
    /// the client whose bad links are slowed down. From any other peer
    /// the header is ignored.
    #[arg(long = "trusted-proxy", value_name = "IP")]
    trusted_proxies: Vec<std::net::IpAddr>,
    /// Connections open at once; when all are taken, a new one closes the
    /// oldest that is not in the middle of a request.
    #[arg(long, value_name = "N", default_value_t = Limits::default().connections)]
    max_connections: usize,
    /// Seconds a client has to send a request's headers, and then the
    /// whole request: a client that sends nothing, or a byte at a time,
    /// is dropped.
    #[arg(long, value_name = "SECONDS", default_value = "10", value_parser = seconds)]
    timeout: std::time::Duration,
    /// The relay that mails the subscription form's confirmation messages
    /// (the same settings as `send`); without it the form is not served.
    #[command(flatten)]
    relay: super::RelayArgs,
}

/// A number of seconds above 0.
fn seconds(text: &str) -> std::result::Result<std::time::Duration, String> {
    text.parse::<f64>()
        .ok()
        .and_then(|s| std::time::Duration::try_from_secs_f64(s).ok())
        .filter(|d| !d.is_zero())
        .ok_or_else(|| "a number of seconds above 0, such as 10 or 0.5".to_owned())
}

/// Runs `breves serve`.
pub async fn run(args: Args) -> Result<ExitStatus> {
    let timeout = args.timeout;
    let secret = std::env::var("BREVES_UNSUBSCRIBE_SECRET").ok();
    let signer = Signer::from_secret(secret.as_deref())?;
    let directory = Directory::open(&args.subscribers, &signer)?;
    let list = directory.list();
    let labels = list
        .topics
        .iter()
        .map(|t| (t.id.clone(), t.label.clone()))
        .collect();
    let ledger = Arc::new(Ledger::open(
        &args.ledger.clone().unwrap_or_else(ledger::default_path),
    )?);
    let joining = joining(&args, &list).await?;
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .map_err(|source| Error::Listen {
            address: args.listen.clone(),
            source,
        })?;
    let address = listener.local_addr().map_err(|source| Error::Listen {
        address: args.listen.clone(),
        source,
    })?;
    say!(
        "Listening on http://{address} (ledger {})",
        ledger.path().display()
    );
    if let Some(joining) = &joining {
        say!("The subscription form is at {}", joining.path);
    }
    serve(
        listener,
        Service {
            signer,
            ledger,
            labels,
            directory: Some(Arc::new(directory)),
            trusted_proxies: args.trusted_proxies,
            joining,
        },
        Limits {
            connections: args.max_connections.max(1),
            header_timeout: timeout,
            request_timeout: timeout,
            ..Limits::default()
        },
    )
    .await
    .map_err(Error::Serve)?;
    Ok(ExitStatus::Success)
}

/// The subscription form's settings, when the list has a form and a
/// relay is given; a word on why not when only one of them is there.
async fn joining(args: &Args, list: &List) -> Result<Option<Joining>> {
    let relay = args
        .relay
        .relay(list, std::time::Duration::from_secs(30))
        .await?;
    let dkim = args.relay.dkim(list)?;
    let on_failure = Arc::new(|reason: String| tell!("{reason}"));
    Ok(match Joining::of(list, relay, dkim, on_failure) {
        Form::Served(joining) => Some(joining),
        Form::NoRelay(url) => {
            tell!(
                "warning: the subscription form ({url}) is not served: give --smtp, the relay that mails its confirmations"
            );
            None
        }
        Form::RelayUnused => {
            tell!(
                "warning: --smtp is of no use: the list has no subscribe_url, so no subscription form"
            );
            None
        }
        Form::None => None,
    })
}
