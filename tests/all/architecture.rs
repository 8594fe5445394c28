//! The invariants of ARCHITECTURE.md that are about the code's shape,
//! checked on the source itself, parsed (syn) rather than searched: the
//! library never prints; data flows one way between the stages; the binary
//! stays thin.

use crate::common;

use std::fs;
use std::path::{Path, PathBuf};

use syn::visit::Visit;

/// Every `.rs` file under `dir`, with its text.
fn sources(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).expect("a source folder") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            out.extend(sources(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = fs::read_to_string(&path).expect("source");
            out.push((path, text));
        }
    }
    out.sort();
    out
}

/// Whether `attrs` mark an item compiled for the tests only.
fn for_tests(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path().is_ident("cfg")
            && a.parse_args::<syn::Meta>()
                .is_ok_and(|m| m.path().is_ident("test"))
    })
}

/// The library's files: everything in src/ but the binary, parsed, their
/// tests left out.
fn library() -> Vec<(String, syn::File)> {
    let src = common::root().join("src");
    sources(&src)
        .into_iter()
        .filter_map(|(path, text)| {
            let name = path
                .strip_prefix(&src)
                .expect("under src")
                .to_string_lossy()
                .into_owned();
            if name == "main.rs" || name.starts_with("cmd/") {
                return None;
            }
            let mut file = syn::parse_file(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
            file.items.retain(|item| !for_tests(item_attrs(item)));
            Some((name, file))
        })
        .collect()
}

fn item_attrs(item: &syn::Item) -> &[syn::Attribute] {
    match item {
        syn::Item::Mod(m) => &m.attrs,
        syn::Item::Fn(f) => &f.attrs,
        syn::Item::Impl(i) => &i.attrs,
        syn::Item::Use(u) => &u.attrs,
        syn::Item::Struct(s) => &s.attrs,
        syn::Item::Enum(e) => &e.attrs,
        syn::Item::Const(c) => &c.attrs,
        syn::Item::Static(s) => &s.attrs,
        _ => &[],
    }
}

/// What a file does that prints, or ends the process: the print macros,
/// the standard streams, `process::exit`.
#[derive(Default)]
struct Printing(Vec<String>);

impl<'a> Visit<'a> for Printing {
    fn visit_macro(&mut self, mac: &'a syn::Macro) {
        if let Some(last) = mac.path.segments.last() {
            let name = last.ident.to_string();
            if ["println", "eprintln", "print", "eprint", "dbg"].contains(&name.as_str()) {
                self.0.push(format!("{name}!"));
            }
        }
        syn::visit::visit_macro(self, mac);
    }

    fn visit_path(&mut self, path: &'a syn::Path) {
        let names: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        if let Some(last) = names.last()
            && (["stdout", "stderr"].contains(&last.as_str())
                || (last == "exit" && names.iter().any(|n| n == "process")))
        {
            self.0.push(names.join("::"));
        }
        syn::visit::visit_path(self, path);
    }

    fn visit_use_tree(&mut self, tree: &'a syn::UseTree) {
        if let syn::UseTree::Name(name) = tree
            && ["stdout", "stderr", "exit"].contains(&name.ident.to_string().as_str())
        {
            self.0.push(format!("use … {}", name.ident));
        }
        syn::visit::visit_use_tree(self, tree);
    }
}

#[test]
fn the_library_never_prints() {
    let printing: Vec<String> = library()
        .into_iter()
        .filter_map(|(name, file)| {
            let mut found = Printing::default();
            found.visit_file(&file);
            (!found.0.is_empty()).then(|| format!("{name}: {:?}", found.0))
        })
        .collect();
    assert!(
        printing.is_empty(),
        "these library files print: {printing:#?}"
    );
    // The check itself sees what a grep would miss.
    let mut found = Printing::default();
    found.visit_file(
        &syn::parse_file(
            "use std::io::Write;\nfn f() { let _ = std::io::stderr().write_all(b\"x\"); }\nuse std::io::{self, stdout};",
        )
        .expect("parsed"),
    );
    assert_eq!(found.0, ["std::io::stderr", "use … stdout"]);
}

/// The modules of `crate::` a file uses: in `use` trees, grouped or not,
/// and in paths anywhere.
#[derive(Default)]
struct Uses(Vec<String>);

impl Uses {
    fn tree(&mut self, tree: &syn::UseTree, crate_root: bool) {
        match tree {
            syn::UseTree::Path(p) if crate_root => self.0.push(p.ident.to_string()),
            syn::UseTree::Path(p) => self.tree(&p.tree, p.ident == "crate"),
            syn::UseTree::Name(n) if crate_root => self.0.push(n.ident.to_string()),
            syn::UseTree::Group(g) => {
                for t in &g.items {
                    self.tree(t, crate_root);
                }
            }
            _ => {}
        }
    }
}

impl<'a> Visit<'a> for Uses {
    fn visit_item_use(&mut self, item: &'a syn::ItemUse) {
        self.tree(&item.tree, false);
    }

    fn visit_path(&mut self, path: &'a syn::Path) {
        let mut segments = path.segments.iter();
        if segments.next().is_some_and(|s| s.ident == "crate")
            && let Some(module) = segments.next()
        {
            self.0.push(module.ident.to_string());
        }
        syn::visit::visit_path(self, path);
    }
}

/// The stage of each library module, in the order data flows. A module may
/// use modules of its own stage or earlier ones, never later ones.
const STAGES: &[(&str, usize)] = &[
    ("error", 0),
    ("diagnostics", 0),
    ("folder", 0),
    ("http", 0),
    ("address", 1),
    ("reason", 1),
    ("markdown", 1),
    ("image", 1),
    ("issue", 2),
    ("subscribers", 2),
    ("select", 3),
    ("render", 4),
    ("unsubscribe", 5),
    ("message", 6),
    ("deliver", 7),
    ("campaign", 7),
    ("check", 8),
    ("domain", 8),
    ("preview", 8),
    ("archive", 8),
    ("ledger", 8),
    ("dispatch", 9),
    ("plan", 10),
    ("bounce", 9),
    ("summary", 11),
    ("readers", 12),
];

fn stage(module: &str) -> Option<usize> {
    STAGES.iter().find(|(m, _)| *m == module).map(|(_, s)| *s)
}

#[test]
fn data_flows_one_way_between_the_stages() {
    let mut backwards = Vec::new();
    for (name, file) in library() {
        let module = name
            .trim_end_matches(".rs")
            .split('/')
            .next()
            .unwrap_or_default()
            .to_owned();
        if module == "lib" {
            continue;
        }
        // The one error type wraps the errors of every stage.
        if name == "error.rs" {
            continue;
        }
        let own = stage(&module).unwrap_or_else(|| panic!("{name}: add {module} to STAGES"));
        let mut uses = Uses::default();
        uses.visit_file(&file);
        for used in uses.0 {
            if let Some(theirs) = stage(&used)
                && theirs > own
            {
                backwards.push(format!("{name} (stage {own}) uses {used} (stage {theirs})"));
            }
        }
    }
    assert!(backwards.is_empty(), "{backwards:#?}");
    // The check itself sees a grouped import.
    let mut uses = Uses::default();
    uses.visit_file(&syn::parse_file("use crate::{plan::Plan, ledger};").expect("parsed"));
    assert_eq!(uses.0, ["plan", "ledger"]);
}

/// The functions of a file longer than `most` lines, any visibility, in
/// an `impl` too.
#[derive(Default)]
struct Long(Vec<String>, usize);

impl Long {
    fn measure(&mut self, name: &syn::Ident, block: &syn::Block) {
        use syn::spanned::Spanned as _;
        let span = block.span();
        let lines = span.end().line - span.start().line + 1;
        if lines > self.1 {
            self.0.push(format!("{name}: {lines} lines"));
        }
    }
}

impl<'a> Visit<'a> for Long {
    fn visit_item_fn(&mut self, f: &'a syn::ItemFn) {
        self.measure(&f.sig.ident, &f.block);
        syn::visit::visit_item_fn(self, f);
    }

    fn visit_impl_item_fn(&mut self, f: &'a syn::ImplItemFn) {
        self.measure(&f.sig.ident, &f.block);
        syn::visit::visit_impl_item_fn(self, f);
    }
}

/// The most lines a function of `src/cmd/` may have.
const CMD_LINES: usize = 60;

/// The most lines a function of the library may have (its tests aside):
/// those longer were split into steps of their own (reading a list,
/// checking an issue, a worker's loop, deciding bounces, reading a report).
/// The longest left, 130 to 136 lines, read as one sequence each (a
/// Word document's paragraphs, an issue written back, a connection to the
/// relay opened, a plain report read).
const LIBRARY_LINES: usize = 140;

#[test]
fn the_librarys_functions_stay_short() {
    let mut long = Vec::new();
    for (name, file) in library() {
        let mut found = Long(Vec::new(), LIBRARY_LINES);
        found.visit_file(&file);
        long.extend(found.0.into_iter().map(|f| format!("src/{name}: {f}")));
    }
    assert!(
        long.is_empty(),
        "functions of the library over {LIBRARY_LINES} lines: {long:#?}"
    );
}

#[test]
fn the_binary_stays_thin() {
    let cmd = common::root().join("src/cmd");
    let send = fs::read_to_string(cmd.join("send.rs")).expect("send.rs");
    assert!(
        send.lines().count() < 200,
        "src/cmd/send.rs has {} lines",
        send.lines().count()
    );
    let mut long = Vec::new();
    for (path, text) in sources(&cmd) {
        let file = syn::parse_file(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let mut found = Long(Vec::new(), CMD_LINES);
        found.visit_file(&file);
        long.extend(
            found
                .0
                .into_iter()
                .map(|f| format!("{}: {f}", path.display())),
        );
    }
    assert!(
        long.is_empty(),
        "functions of the binary over {CMD_LINES} lines: {long:#?}"
    );
    // The check itself measures a `pub(crate)` function in an `impl`.
    let mut found = Long(Vec::new(), 3);
    let text = "impl A { pub(crate) fn f() {\n a();\n b();\n c();\n} }";
    found.visit_file(&syn::parse_file(text).expect("parsed"));
    assert_eq!(found.0, ["f: 5 lines"]);
}

/// The names of every test function in src/ and tests/ (`#[test]`,
/// `#[tokio::test]`), parsed.
fn test_names() -> std::collections::HashSet<String> {
    struct Tests(std::collections::HashSet<String>);
    impl<'ast> Visit<'ast> for Tests {
        fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
            let is_test = f
                .attrs
                .iter()
                .any(|a| a.path().segments.last().is_some_and(|s| s.ident == "test"));
            if is_test {
                self.0.insert(f.sig.ident.to_string());
            }
            syn::visit::visit_item_fn(self, f);
        }
    }
    let mut tests = Tests(Default::default());
    for dir in ["src", "tests"] {
        for (path, text) in sources(&common::root().join(dir)) {
            let file = syn::parse_file(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            tests.visit_file(&file);
        }
    }
    tests.0
}

#[test]
fn every_test_the_invariants_name_exists() {
    // A name in backquotes that reads as a sentence (four words or more,
    // joined by `_`), with or without its module's path, is a test's.
    let text = fs::read_to_string(common::root().join("ARCHITECTURE.md")).expect("ARCHITECTURE.md");
    let invariants = &text[text.find("## Invariants").expect("an Invariants section")..];
    let tests = test_names();
    let mut named = 0;
    let mut missing = Vec::new();
    for quoted in invariants.split('`').skip(1).step_by(2) {
        if !quoted
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == ':')
        {
            continue;
        }
        let name = quoted.rsplit("::").next().unwrap_or_default();
        if name.split('_').filter(|w| !w.is_empty()).count() < 4 {
            continue;
        }
        named += 1;
        if !tests.contains(name) {
            missing.push(quoted.to_owned());
        }
    }
    assert!(
        named > 100,
        "only {named} tests named: is the section read?"
    );
    assert!(
        missing.is_empty(),
        "ARCHITECTURE.md names tests that do not exist: {missing:#?}"
    );
}
