//! `breves ledger copy`: moves a ledger from one store to another.

use std::path::PathBuf;

use breves::ledger::Ledger;
use breves::ledger::copy::copy;
use breves::{ExitStatus, Result};

/// Arguments of `breves ledger`.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    action: Action,
}

#[derive(clap::Subcommand)]
enum Action {
    /// Copy every row of a ledger into an empty one (an SQLite file into
    /// PostgreSQL), then check the two row for row.
    Copy {
        /// The ledger to copy, such as ~/.local/state/breves/ledger.sqlite3.
        #[arg(long, value_name = "FILE")]
        from: PathBuf,
        /// The ledger to copy it to, such as postgres://breves@db.example.fr/breves
        /// (the password from PGPASSWORD).
        #[arg(long, value_name = "URL")]
        to: PathBuf,
    },
}

/// Runs `breves ledger`.
pub fn run(args: Args) -> Result<ExitStatus> {
    match args.action {
        Action::Copy { from, to } => {
            let (source, target) = (Ledger::open(&from)?, Ledger::open(&to)?);
            let copied = copy(&source, &target)?;
            say!(
                "Copied {} row(s) from {} to {}, and checked them row for row:",
                copied.rows(),
                source.path().display(),
                target.path().display()
            );
            for (table, rows) in &copied.tables {
                say!("  {table}: {rows}");
            }
            Ok(ExitStatus::Success)
        }
    }
}
