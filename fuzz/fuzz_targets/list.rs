//! Any bytes as a subscriber list: loading never panics, and every problem
//! renders with its place.
#![no_main]

use std::sync::Arc;

use breves::diagnostics::SourceFile;
use breves::subscribers::List;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    // A members file named inside is looked for in a folder that does not
    // exist: the fuzzer reads nothing from the disk.
    let file = Arc::new(SourceFile::new(
        "/nonexistent-breves-fuzz/list.toml",
        text.into_owned(),
    ));
    let (_, problems) = List::parse(&file);
    for problem in problems.iter() {
        let _ = problem.render(false);
    }
});
