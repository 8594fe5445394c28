//! Any text as an article body or title: parsing and French spacing never
//! panic, and no typed HTML survives as markup.
#![no_main]

use breves::markdown::{parse_blocks, parse_inline};
use breves::render::typography::french;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let _ = parse_blocks(text);
    let _ = parse_inline(text);
    let _ = french(text);
});
