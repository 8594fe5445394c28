//! breves turns one newsletter issue into one personalised email per
//! subscriber, and sends them without mailing anyone twice or forgetting
//! anyone.
//!
//! The data flows one way, one module per stage (ARCHITECTURE.md has the
//! map and the invariants):
//!
//! 1. [`issue`] loads the issue file (TOML) into an [`issue::Issue`]; its
//!    titles and bodies are Markdown, parsed once by [`markdown`] into a
//!    small tree that both renderers read; its images are read and checked
//!    by [`image`], and travel inside each message that shows them.
//! 2. [`subscribers`] checks the list: its settings and its members, inline
//!    or from a CSV file read row by row, every address checked by
//!    [`address`], no one twice ([`address::Key`] says who is the same
//!    subscriber; written again with the same interests, they are mailed
//!    once). A member written wrong stops the list, or is left out and
//!    listed ([`subscribers::Invalid`]). The members are read again whenever they are needed,
//!    never held: a list of a million takes no more memory than one of ten.
//! 3. [`select`] turns each member's interests into the sections they
//!    receive, applies what subscribers asked for since (to leave, to stop
//!    sections), and counts members who receive the same sections as one
//!    variant: thousands of members, a few dozen variants.
//! 4. [`render`] renders the issue once, with every section, and puts each
//!    variant together from its pieces ([`render::template`]):
//!    [`render::html`] (maud, then css-inline) and [`render::text`], with
//!    French typography, leaving [`render::slots`] for what differs per
//!    subscriber.
//! 5. [`message`] wraps a digest for one member as a `multipart/alternative`
//!    message (lettre), its slots filled with their signed links by
//!    [`unsubscribe::links`]; lettre formats each variant's message once
//!    ([`message::Skeleton`]), and each member's is written from it with
//!    their headers, boundaries and parts in its holes.
//! 6. [`plan`] plans a send in the order that keeps resends safe, then runs
//!    it: [`dispatch`] hands each message to a [`deliver::Transport`] (`.eml`
//!    files for a dry run, an SMTP relay for real) with parallel sessions,
//!    a rate ceiling and retries, keeping the [`ledger`], which records
//!    every real delivery durably: one writer thread commits the marks and
//!    outcomes of every session together, and a message's final dot waits
//!    for the commit that marks it.
//!
//! [`campaign`] prepares stages 3 to 5 for a send (each distinct digest
//! rendered and encoded once). [`check`] and [`preview`] are the editor's
//! commands ([`preview::server`] serves every digest as the files are
//! saved), and [`archive`] writes the web archive of the issues. After a
//! send, [`bounce`] reads the bounce mailbox (each message's envelope
//! sender names its recipient, [`unsubscribe::Verp`]) and records in the
//! ledger who leaves the list. Input problems are gathered, with file, line and column, by
//! [`diagnostics`]; every error is an [`Error`], and every command ends
//! with an [`ExitStatus`]. The library never prints: the binary does.

pub mod address;
pub mod archive;
pub mod bounce;
pub mod campaign;
pub mod check;
pub mod deliver;
pub mod diagnostics;
pub mod dispatch;
pub mod domain;
mod error;
pub mod folder;
pub mod http;
pub mod image;
pub mod issue;
pub mod ledger;
pub mod markdown;
pub mod message;
pub mod plan;
pub mod preview;
pub mod readers;
pub mod reason;
pub mod render;
pub mod select;
pub mod subscribers;
pub mod summary;
pub mod unsubscribe;

pub use error::{Error, ExitStatus, Result};
