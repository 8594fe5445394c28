//! Every integration test, in one binary: one link after each change of
//! the library instead of one per file, and every test scheduled on both
//! cores at once (see docs/PERFORMANCE.md, "The test suite").

mod common;

mod architecture;
mod archive;
mod bounces;
mod browser;
mod check;
mod content;
mod desk;
mod dkim;
mod dns;
mod dry_run;
mod editors_ci;
mod fuzz_corpus;
mod hostile;
mod images;
mod import;
mod markdown;
mod memory;
mod plan;
mod postgres;
mod preview;
mod readers;
mod smtp;
mod snapshots;
mod spam;
mod text_part;
mod unsubscribe;
mod validators;
