//! The `breves` command: parses arguments, calls the library, prints.

/// `println!` for what a command says on standard output: a reader that
/// went away (`breves send … | head`) is not the command's failure, so
/// nothing ends early and nothing panics; what is not read is dropped.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

/// `eprintln!` for what a command tells on standard error (progress,
/// questions, problems), and for the same reason: a closed pipe or
/// terminal ends the printing, never the work (`eprintln!` panics).
macro_rules! tell {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

/// `eprint!`, without the line end, as [`tell!`].
macro_rules! tell_part {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let mut err = std::io::stderr();
        let _ = write!(err, $($arg)*);
        let _ = err.flush();
    }};
}

mod cmd;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Compose and send a personalised newsletter: one issue file, one digest
/// per subscriber.
#[derive(Parser)]
#[command(name = "breves", version, about, max_term_width = 100)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Send an issue to a list through the relay (--smtp URL), or write it as .eml files (--dry-run DIR).
    Send(cmd::send::Args),
    /// Write one subscriber's digest as .html, .txt and .eml, to look at before sending.
    Preview(cmd::preview::Args),
    /// Check an issue (and a list) and print every problem, with its line.
    Check(cmd::check::Args),
    /// Bring in a digest drafted in Word (.docx) as an issue in Markdown.
    Import(cmd::import::Args),
    /// Start the next issue from the last one: the same sections and settings, the period moved on.
    New(cmd::new::Args),
    /// Write an issue in its other form: Markdown from TOML, or TOML from Markdown.
    Convert(cmd::convert::Args),
    /// Write the web archive of some issues: a page each, an index and an Atom feed.
    Archive(cmd::archive::Args),
    /// What the ledger knows of a send: counts by state, failures with their replies.
    Status(cmd::status::Args),
    /// Read a bounce mailbox: suppress addresses that fail for good or complain, count the rest.
    Bounces(cmd::bounces::Args),
    /// Record that addresses leave the list (a mailto request, a bounce): no send mails them again.
    Suppress(cmd::suppress::Args),
    /// What breves holds about a reader (`subscribers show EMAIL`).
    Subscribers(cmd::subscribers::Args),
    /// The ledger itself: `ledger copy --from FILE --to postgres://…` moves it.
    Ledger(cmd::ledger::Args),
    /// Serve readers: the unsubscription links, each reader's page, and the subscription form with its confirmations.
    #[command(alias = "unsubscribe-server")]
    Serve(cmd::serve::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // One thread: every connection of a send runs in one task anyway, and
    // a runtime of several threads waits for the relay's replies on one
    // thread and hands each to the task on another, a switch of threads
    // per reply (a send at one connection went from 1,210-1,485 to
    // 1,562-1,887 messages/s, four pairs; `docs/PERFORMANCE.md`). What
    // blocks (SQLite, files) runs on threads of its own.
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            tell!("error: cannot start: {e}");
            return ExitCode::from(breves::ExitStatus::Failure.code());
        }
    };
    let outcome = runtime.block_on(async {
        match cli.command {
            Command::Send(args) => cmd::send::run(args).await,
            Command::Preview(args) => cmd::preview::run(args).await,
            Command::Check(args) => cmd::check::run(args).await,
            Command::Import(args) => cmd::import::run(args),
            Command::New(args) => cmd::new::run(args),
            Command::Convert(args) => cmd::convert::run(args),
            Command::Archive(args) => cmd::archive::run(args),
            Command::Status(args) => cmd::status::run(args),
            Command::Bounces(args) => cmd::bounces::run(args).await,
            Command::Suppress(args) => cmd::suppress::run(args),
            Command::Serve(args) => cmd::serve::run(args).await,
            Command::Subscribers(args) => cmd::subscribers::run(args),
            Command::Ledger(args) => cmd::ledger::run(args),
        }
    });
    let status = outcome.unwrap_or_else(|e| {
        cmd::print_error(&e);
        breves::ExitStatus::Failure
    });
    ExitCode::from(status.code())
}
