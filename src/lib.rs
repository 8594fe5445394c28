//! breves turns one newsletter issue into one personalised email per
//! subscriber.
//!
//! The data flows one way, one module per stage:
//!
//! 1. [`issue`] loads the issue file (TOML) into an [`issue::Issue`]; its
//!    titles and bodies are Markdown, parsed once by [`markdown`] into a
//!    small tree that both renderers read.
//! 2. [`subscribers`] loads the list: its settings and its members, inline
//!    or from a CSV file, every address checked, no one twice.
//! 3. [`select`] turns each member's interests into the sections they
//!    receive and groups members who receive the same sections into
//!    variants: thousands of members, a few dozen variants.
//! 4. [`render`] renders each variant once: [`render::html`] (maud, then
//!    css-inline) and [`render::text`], with French typography.
//! 5. [`message`] wraps a digest for one member as a `multipart/alternative`
//!    message (lettre), with a Message-ID derived from the issue and the
//!    address.
//! 6. [`deliver`] hands each message to a [`deliver::Transport`]: `.eml`
//!    files for a dry run ([`deliver::files`]), an SMTP relay for real
//!    ([`deliver::smtp`]).
//! 7. [`ledger`] records every real delivery durably, so that a send
//!    stopped anyhow resumes without mailing anyone twice.
//!
//! [`campaign`] prepares stages 3 to 5 (each distinct digest rendered and
//! encoded once); [`dispatch`] runs stage 6 with parallel sessions, a rate
//! ceiling and retries, keeping the ledger. Input problems are gathered,
//! with file, line and column, by [`diagnostics`]; the library never
//! prints: the binary does.

pub mod address;
pub mod campaign;
pub mod check;
pub mod deliver;
pub mod diagnostics;
pub mod dispatch;
mod error;
pub mod issue;
pub mod ledger;
pub mod markdown;
pub mod message;
pub mod plan;
pub mod preview;
pub mod render;
pub mod select;
pub mod subscribers;
pub mod unsubscribe;

pub use error::{Error, ExitStatus, Result};
