//! `breves unsubscribe-server`: answers the unsubscription links.

use std::path::PathBuf;
use std::sync::Arc;

use breves::ledger::{self, Ledger};
use breves::subscribers::List;
use breves::unsubscribe::Signer;
use breves::unsubscribe::server::{Service, serve};
use breves::{Error, ExitStatus, Result};

/// Arguments of `breves unsubscribe-server`.
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
}

/// Runs `breves unsubscribe-server`.
pub async fn run(args: Args) -> Result<ExitStatus> {
    let secret = std::env::var("BREVES_UNSUBSCRIBE_SECRET").ok();
    let signer = Signer::from_secret(secret.as_deref())?;
    let (list, _) = List::load(&args.subscribers)?;
    let labels = list
        .topics
        .iter()
        .map(|t| (t.id.clone(), t.label.clone()))
        .collect();
    let ledger = Arc::new(Ledger::open(
        &args.ledger.unwrap_or_else(ledger::default_path),
    )?);
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
    serve(
        listener,
        Service {
            signer,
            ledger,
            labels,
            list: Some(Arc::new(list)),
        },
    )
    .await
    .map_err(Error::Serve)?;
    Ok(ExitStatus::Success)
}
