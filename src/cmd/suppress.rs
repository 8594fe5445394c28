//! `breves suppress`: record by hand that addresses leave the list (a
//! `mailto:` request, a bounce, a phone call).

use std::path::PathBuf;

use breves::address::Key;
use breves::ledger::{self, Ledger};
use breves::subscribers::List;
use breves::{ExitStatus, Result};

/// Arguments of `breves suppress`.
#[derive(clap::Args)]
pub struct Args {
    /// The addresses that leave the list.
    #[arg(required = true, value_name = "EMAIL")]
    addresses: Vec<String>,
    /// The subscriber list they leave.
    #[arg(long, short = 's', value_name = "LIST")]
    subscribers: PathBuf,
    /// The ledger [default: $BREVES_LEDGER, else ~/.local/state/breves/ledger.sqlite3].
    #[arg(long, value_name = "FILE")]
    ledger: Option<PathBuf>,
    /// Give these addresses back to the list instead (a bounce or a complaint that was wrong).
    #[arg(long)]
    undo: bool,
}

/// Runs `breves suppress`.
pub fn run(args: Args) -> Result<ExitStatus> {
    let (list, _) = List::load(&args.subscribers)?;
    let ledger = Ledger::open(&args.ledger.unwrap_or_else(ledger::default_path))?;
    for text in &args.addresses {
        let address = super::address_of(text)?;
        if args.undo {
            match ledger.unsuppress(&list.id, &Key::of(&address))? {
                Some(why) => say!(
                    "{address} is on the list {} again (it had left: {why}).",
                    list.id
                ),
                None => say!("{address} had not left the list {}.", list.id),
            }
            continue;
        }
        let new = ledger.suppress(&list.id, &Key::of(&address), "by hand")?;
        let member = if list.member(address.as_ref())?.is_some() {
            ""
        } else {
            " (not a member of the list now)"
        };
        if new {
            say!(
                "{address} will not be mailed again by the list {}{member}.",
                list.id
            );
        } else {
            say!("{address} had already left the list {}.", list.id);
        }
    }
    Ok(ExitStatus::Success)
}
