//! Any bytes as an issue file: loading never panics, and a file that loads
//! renders, every section, in both parts.
#![no_main]

use std::sync::Arc;

use breves::diagnostics::SourceFile;
use breves::issue::Issue;
use breves::render::Renderer;
use breves::render::text::line_fits;
use breves::select::Selection;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let file = Arc::new(SourceFile::new("fuzz/issue.toml", text.into_owned()));
    let (issue, problems) = Issue::parse(&file);
    for problem in problems.iter() {
        let _ = problem.render(false);
    }
    if let Some(issue) = issue {
        let all = Selection::for_interests(&issue, &[]);
        let digest = Renderer::new()
            .render(&issue, None, &all)
            .expect("a loaded issue renders");
        // A line passes 76 columns (as a terminal shows them) only for a
        // long link kept whole.
        for line in digest.text.lines() {
            assert!(line_fits(line), "{line}");
        }
    }
});
