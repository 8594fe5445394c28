//! Snapshots of both parts of the small fixture's digests (insta): any
//! change to what subscribers see shows up as a reviewed diff.
//!
//! After an intended change: `cargo insta review` (or run the tests with
//! `INSTA_UPDATE=always` and read the diff of `tests/snapshots/`).

use crate::common;

use breves::issue::Issue;
use breves::render::{Digest, Renderer};
use breves::select::{Selection, parse_interests};
use breves::subscribers::List;
use breves::unsubscribe::Signer;
use breves::unsubscribe::{Labels, Links};

fn load() -> (Issue, List) {
    let root = common::root();
    let (issue, _) = Issue::load(&root.join(common::SMALL_ISSUE)).expect("issue");
    let (list, _) = List::load(&root.join(common::SMALL_LIST)).expect("list");
    (issue, list)
}

/// Both parts as Zoé receives them: her links signed with the test secret.
fn personal(issue: &Issue, list: &List, digest: &Digest) -> (String, String) {
    let signer = Signer::test();
    let labels = Labels::new(issue);
    let links = Links {
        list,
        issue,
        signer: &signer,
        labels: &labels,
    };
    let zoe = list
        .member("zoe@example.org")
        .expect("readable")
        .expect("Zoé");
    links.personalise(digest, &zoe.email)
}

/// The HTML with a line break between tags, so that a diff is readable.
fn readable(html: &str) -> String {
    html.replace("><", ">\n<")
}

#[test]
fn full_digest() {
    let (issue, list) = load();
    let all = Selection::for_interests(&issue, &[]);
    let digest = Renderer::new()
        .render(&issue, Some(&list), &all)
        .expect("render");
    let (html, text) = personal(&issue, &list, &digest);
    insta::assert_snapshot!("full_text", text);
    insta::assert_snapshot!("full_html", readable(&html));
}

#[test]
fn one_section_digest() {
    let (issue, list) = load();
    let spatial = parse_interests(&issue, "spatial").expect("spatial");
    let digest = Renderer::new()
        .render(&issue, Some(&list), &spatial)
        .expect("render");
    let (html, text) = personal(&issue, &list, &digest);
    insta::assert_snapshot!("spatial_text", text);
    insta::assert_snapshot!("spatial_html", readable(&html));
}
