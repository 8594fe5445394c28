//! The library's error type, [`Error`]: what stops a command. The stages
//! that need finer cases have errors of their own (`LedgerError`,
//! `DeliveryError`, `TokenError`, `RelayError`, `DocxError`), each carried by
//! a variant of it.

use std::io;
use std::path::PathBuf;

use crate::diagnostics::Problems;

/// Everything that can stop breves, typed so that the binary can choose a
/// message and an exit status.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An input file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The input files have errors, each with its file, line and column.
    #[error("{0}")]
    Invalid(#[from] Problems),
    /// An output file could not be written.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        /// The file or folder.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The stylesheet could not be applied to the HTML.
    #[error("cannot inline the stylesheet: {0}")]
    Style(String),
    /// lettre refused to build a message.
    #[error("cannot build the message to {recipient}: {reason}")]
    Message {
        /// Whom it was for.
        recipient: String,
        /// lettre's reason.
        reason: String,
    },
    #[error(
        "{} changed while breves was reading it: nothing more was read from it; run the command again",
        path.display()
    )]
    /// A members file was saved again between two readings of it (the
    /// check, then the send): what was read since is not trusted.
    ListChanged {
        /// The members file.
        path: std::path::PathBuf,
    },
    /// The ledger has a recipient to send whom the list, read again, no
    /// longer has (it changed since the send was planned).
    #[error(
        "the ledger has {recipient} still to send, but the list no longer has them: it changed since the send was planned; run the command again"
    )]
    NotInList {
        /// The recipient's address, as the ledger knows it.
        recipient: String,
    },
    /// `send --join` with a ledger in a file: only a database is shared.
    #[error(
        "--join splits one send between machines that share its ledger: give --ledger postgres://… (the one of the send started elsewhere)"
    )]
    JoinNeedsDatabase,
    /// `send --join` where no send of the issue to the list started.
    #[error(
        "no send of {issue} to {list} has started in this ledger: start it with `breves send` (without --join), then join it from other machines"
    )]
    NothingToJoin {
        /// The issue's id.
        issue: String,
        /// The list's id.
        list: String,
    },
    /// `send --join` with an issue file other than the send's.
    #[error(
        "the send of {issue} started with another content of the issue file: join it with the same file"
    )]
    JoinChanged {
        /// The issue's id.
        issue: String,
    },
    /// Two issue files given to the archive have the same id.
    #[error(
        "{first} and {second} are both the issue {id}: give each issue once, or an `id` of its own"
    )]
    SameIssueTwice {
        /// The id.
        id: String,
        /// The first file.
        first: PathBuf,
        /// The second.
        second: PathBuf,
    },
    /// The archive's feed could not be written.
    #[error("cannot write the archive's feed: {0}")]
    Feed(String),
    /// An address given for the archive is not one it can be published at.
    #[error("`{0}` is not an https:// address without a query (or http:// on this machine)")]
    NotAWebAddress(String),
    /// A file breves would write exists already.
    #[error(
        "{} exists already: breves never writes over an issue file; give another --out, or move it away",
        path.display()
    )]
    Exists {
        /// The file.
        path: PathBuf,
    },
    /// `import` was asked to write another form than Markdown.
    #[error(
        "breves import writes an issue in Markdown: give --out a .md file ({} is not one), then `breves convert` for TOML",
        path.display()
    )]
    ImportToMarkdown {
        /// The file asked for.
        path: PathBuf,
    },
    /// The DNS cannot be asked (`check --dns`).
    #[error(transparent)]
    Resolver(#[from] crate::domain::ResolverError),
    /// A Word document could not be brought in.
    #[error(transparent)]
    Docx(#[from] crate::issue::docx::DocxError),
    /// A preview was asked for while the files have errors.
    #[error("the files have errors: run `breves check`")]
    Preview,
    /// The bounce mailbox could not be read over IMAP.
    #[error("IMAP: {0}")]
    Imap(String),
    /// A subscriber asked for by address is not in the list.
    #[error("{0} is not a member of the list")]
    NoSuchMember(String),
    /// The ledger could not record or answer.
    #[error(transparent)]
    Ledger(#[from] crate::ledger::LedgerError),
    /// A ledger could not be copied to another.
    #[error(transparent)]
    Copy(Box<crate::ledger::copy::CopyError>),
    /// The relay's URL or setup is refused.
    #[error(transparent)]
    Relay(#[from] crate::deliver::smtp::RelayError),
    /// An address given on the command line is not valid.
    #[error("{text}: {reason}")]
    InvalidAddress {
        /// The address as given.
        text: String,
        /// Why it is refused.
        reason: String,
    },
    /// A DKIM key was given, but no selector.
    #[error("a DKIM key needs a selector: dkim_selector under [list], or --dkim-selector")]
    DkimSelector,
    /// The DKIM key cannot be used.
    #[error("{}: {reason}", path.display())]
    DkimKey {
        /// The key file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A real send needs the address of the unsubscription server.
    #[error(
        "the list {list} has no unsubscribe_url: Gmail and Yahoo require one-click unsubscription from bulk senders; add the address of `breves serve` under [list]"
    )]
    NoUnsubscribeUrl {
        /// The list's id.
        list: String,
    },
    /// The secret that signs unsubscription links is not set.
    #[error(
        "set BREVES_UNSUBSCRIBE_SECRET (the secret shared by `breves send` and `breves serve`): without it, unsubscription links cannot be signed or checked"
    )]
    NoSecret,
    /// The secret that signs unsubscription links is too short to be safe.
    #[error("the unsubscription secret must be at least {min} bytes long")]
    WeakSecret {
        /// The shortest length accepted.
        min: usize,
    },
    /// A member asked to be previewed receives nothing from the issue.
    #[error(
        "{address} receives nothing from this issue: none of their interests ({interests}) is one of its sections"
    )]
    ReceivesNothing {
        /// The member's address.
        address: String,
        /// Their interests.
        interests: String,
    },
    /// A section asked for by id is not in the issue.
    #[error("this issue has no section `{id}`; its sections are: {sections}")]
    NoSuchSection {
        /// The id asked for.
        id: String,
        /// The issue's section ids.
        sections: String,
    },
    /// The unsubscription server cannot listen where it was told to.
    #[error("cannot listen on {address}: {source}")]
    Listen {
        /// The address.
        address: String,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The unsubscription server stopped on an error.
    #[error("the unsubscription server stopped: {0}")]
    Serve(#[source] io::Error),
    /// A task of the library's stopped unexpectedly.
    #[error("{what} stopped unexpectedly: {reason}")]
    Task {
        /// Which task.
        what: &'static str,
        /// Why.
        reason: String,
    },
}

/// How a command ends, as its exit status: every command of `breves` ends
/// with one of these (and clap's 2 for arguments it cannot read).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// Everything asked was done (or there was nothing to do).
    Success,
    /// Nothing was done: bad input, a refused or declined send, an error.
    Failure,
    /// A send began but did not serve everyone it was for: failures,
    /// uncertain outcomes, or a stop. The same command goes on.
    Incomplete,
}

impl ExitStatus {
    /// The number the process exits with.
    pub fn code(self) -> u8 {
        match self {
            ExitStatus::Success => 0,
            ExitStatus::Failure => 1,
            ExitStatus::Incomplete => 3,
        }
    }
}

/// The library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<crate::ledger::copy::CopyError> for Error {
    fn from(error: crate::ledger::copy::CopyError) -> Error {
        Error::Copy(Box::new(error))
    }
}
