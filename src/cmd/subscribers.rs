//! `breves subscribers`: what breves holds about the readers of a list.

use std::path::PathBuf;

use breves::address::Key;
use breves::ledger::{self, Ledger};
use breves::subscribers::List;
use breves::{ExitStatus, Result};

/// Arguments of `breves subscribers`.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    action: Action,
}

/// The list and the ledger every action reads.
#[derive(clap::Args)]
struct Place {
    /// The subscriber list.
    #[arg(long, short = 's', value_name = "LIST")]
    subscribers: PathBuf,
    /// The ledger [default: $BREVES_LEDGER, else ~/.local/state/breves/ledger.sqlite3].
    #[arg(long, value_name = "FILE")]
    ledger: Option<PathBuf>,
}

impl Place {
    /// The list, the ledger, and the ledger's path.
    fn open(self) -> Result<(List, Ledger, PathBuf)> {
        let (list, _) = List::load(&self.subscribers)?;
        let path = self.ledger.unwrap_or_else(ledger::default_path);
        let ledger = Ledger::open(&path)?;
        Ok((list, ledger, path))
    }
}

#[derive(clap::Subcommand)]
enum Action {
    /// Everything held about one reader: their row in the list, whether they joined or left, the sections they chose or stopped, every delivery and every report (a request for access).
    Show {
        /// The reader's address.
        #[arg(value_name = "EMAIL")]
        address: String,
        #[command(flatten)]
        place: Place,
    },
    /// Write the list as the next send would take it, as CSV (email,name,interests): the members less those who left, with the sections they chose or stopped, and those who joined, to fold back into the members file.
    Export {
        #[command(flatten)]
        place: Place,
        /// The CSV file to write (readable by its owner only) [default: standard output].
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Erase a reader from the ledger at their request (deliveries, reports, preferences), keeping only a keyed hash so that no send mails them again.
    Forget {
        /// The reader's address.
        #[arg(value_name = "EMAIL")]
        address: String,
        #[command(flatten)]
        place: Place,
    },
}

/// Runs `breves subscribers`.
pub fn run(args: Args) -> Result<ExitStatus> {
    match args.action {
        Action::Show { address, place } => show(&address, place),
        Action::Forget { address, place } => forget(&address, place),
        Action::Export { place, out } => export(place, out),
    }
}

fn export(place: Place, out: Option<PathBuf>) -> Result<ExitStatus> {
    let (list, ledger, _) = place.open()?;
    let preferences = ledger.preferences(&list.id)?;
    let exported = match &out {
        Some(file) => breves::select::export_file(&list, &preferences, file)?,
        None => breves::select::export(
            &list,
            &preferences,
            std::io::stdout().lock(),
            std::path::Path::new("standard output"),
        )?,
    };
    tell!(
        "{} member(s) written{}; {} left out (they left the list, were forgotten, or stopped every section).",
        exported.written,
        out.as_ref()
            .map_or_else(String::new, |f| format!(" to {}", f.display())),
        exported.left_out
    );
    Ok(ExitStatus::Success)
}

fn forget(text: &str, place: Place) -> Result<ExitStatus> {
    let address = super::address_of(text)?;
    let (list, ledger, path) = place.open()?;
    let key = Key::of(&address);
    let erased = ledger.forget(&list.id, &key)?;
    say!(
        "{key} is forgotten by the ledger {}: {} delivery(ies), {} report(s) and {} preference(s) erased; only a keyed hash is kept, so that no send of the list {} mails them again.",
        path.display(),
        erased.deliveries,
        erased.reports,
        erased.preferences,
        list.id
    );
    if let Some(member) = list.member(address.as_ref())? {
        let place = member.place();
        say!("The address is still in the list file, at {place}: remove it there.");
    }
    Ok(ExitStatus::Success)
}

fn show(text: &str, place: Place) -> Result<ExitStatus> {
    let address = super::address_of(text)?;
    let (list, ledger, path) = place.open()?;
    let key = Key::of(&address);
    let held = ledger.held(&list.id, &key)?;
    say!("{key}, on the list {}:", list.id);
    print_row(&list, address.as_ref())?;
    say!("  in the ledger {}:", path.display());
    if let Some(at) = &held.forgotten {
        say!("    forgotten at their request on {at}: only a keyed hash is kept");
    }
    if held.is_empty() {
        say!("    nothing");
        return Ok(ExitStatus::Success);
    }
    if let Some((how, at)) = &held.left {
        say!("    left the list on {at} ({how})");
    }
    if let Some((asked, confirmed, consent, evidence)) = &held.joined {
        let confirmed = confirmed.as_deref().map_or_else(
            || "not confirmed".to_owned(),
            |at| format!("confirmed on {at}"),
        );
        say!("    asked to join on {asked} ({evidence}), {confirmed}, consenting to: {consent}");
    }
    if let Some((sections, at, evidence)) = &held.chose {
        say!("    chose the sections {sections} on {at} ({evidence})");
    }
    for (section, at) in &held.stopped {
        say!("    stopped the section {section} on {at}");
    }
    for d in &held.deliveries {
        let reply = d
            .reply
            .as_deref()
            .map_or_else(String::new, |r| format!(", reply: {r}"));
        say!(
            "    {} ({}): {}, sections {}, {} attempt(s), on {}{reply}",
            d.issue,
            d.kind,
            d.state,
            d.sections,
            d.attempts,
            d.updated_at
        );
    }
    for r in &held.reports {
        say!(
            "    report {} ({}): {} {} {}: {}; {}",
            r.report,
            r.reported_at.as_deref().unwrap_or("undated"),
            r.kind,
            r.reason.as_deref().unwrap_or("-"),
            r.status,
            r.decision,
            r.diagnostic
        );
    }
    Ok(ExitStatus::Success)
}

/// The reader's row in the list file, if they have one.
fn print_row(list: &List, address: &str) -> Result<()> {
    match list.member(address)? {
        Some(member) => {
            let place = member.place();
            let interests = if member.interests.is_empty() {
                "every section".to_owned()
            } else {
                member.interests.join(", ")
            };
            say!(
                "  in the list file, at {place}: name {}, interests {interests}",
                member.name.as_deref().unwrap_or("(none)")
            );
        }
        None => say!("  not in the list file"),
    }
    Ok(())
}
