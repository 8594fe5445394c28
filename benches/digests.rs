//! How long a send takes to prepare, and what rendering once per variant
//! saves: `cargo bench --bench digests`.
//!
//! A list of members with interests drawn from the shipped issue's six
//! sections (a fixed pseudo-random sequence, so every run uses the same
//! list) is prepared and every message built in memory, no disk involved.
//! Each figure is the median of several runs, all in this one process.

use std::hint::black_box;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use breves::campaign::Campaign;
use breves::diagnostics::SourceFile;
use breves::issue::Issue;
use breves::message;
use breves::render::Renderer;
use breves::select::Selection;
use breves::subscribers::List;
use breves::unsubscribe::Signer;

const IDS: [&str; 6] = [
    "economie-numerique",
    "donnees-ia",
    "cybersecurite",
    "spatial",
    "nouvelles-technologies",
    "ecosysteme-tech",
];

/// A list of `n` members; each chooses a pseudo-random subset of sections.
fn list(n: usize) -> List {
    let mut text = String::from(
        "[list]\nid = \"bench\"\nfrom = \"SER de Londres <breves@example.fr>\"\nunsubscribe_url = \"https://breves.example.fr/desabonnement\"\n[list.topics]\n",
    );
    for id in IDS {
        text.push_str(&format!("{id} = \"{id}\"\n"));
    }
    let mut state: u64 = 0x5eed;
    for i in 0..n {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let mask = (state >> 33) % 64; // 0 means every section
        let interests: Vec<String> = IDS
            .iter()
            .enumerate()
            .filter(|(b, _)| mask & (1 << b) != 0)
            .map(|(_, id)| format!("\"{id}\""))
            .collect();
        text.push_str(&format!(
            "[[member]]\nemail = \"abonne{i}@example.org\"\nname = \"Abonné n° {i}\"\ninterests = [{}]\n",
            interests.join(", ")
        ));
    }
    let file = Arc::new(SourceFile::new("bench.toml", text));
    let (list, problems) = List::parse(&file);
    assert!(!problems.has_errors(), "{problems}");
    list.expect("a valid list")
}

fn links<'a>(
    list: &'a List,
    issue: &'a Issue,
    signer: &'a Signer,
    labels: &'a breves::unsubscribe::Labels,
) -> breves::unsubscribe::Links<'a> {
    breves::unsubscribe::Links {
        list,
        issue,
        signer,
        labels,
    }
}

fn median(mut runs: Vec<Duration>) -> Duration {
    runs.sort();
    runs[runs.len() / 2]
}

fn time<T>(runs: usize, mut f: impl FnMut() -> T) -> Duration {
    median(
        (0..runs)
            .map(|_| {
                let start = Instant::now();
                black_box(f());
                start.elapsed()
            })
            .collect(),
    )
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let (issue, _) = Issue::load(&root.join("issues/2026-03-royaume-uni.toml")).expect("issue");
    let date = issue.default_date();
    let renderer = Renderer::new();
    let signer = Signer::test();
    let everything = Selection::for_interests(&issue, &[]);
    // `DIGESTS_ONLY=compose` runs the last figure alone (for a profile).
    let only_compose = std::env::var("DIGESTS_ONLY").is_ok_and(|v| v == "compose");

    if !only_compose {
        figures(&issue, &renderer, &signer, &everything);
    }
    compose(&issue, date);
}

/// Rendering one digest, building one message, and rendering per variant
/// against per member.
fn figures(issue: &Issue, renderer: &Renderer, signer: &Signer, everything: &Selection) {
    let date = issue.default_date();
    let render = time(21, || {
        renderer.render(issue, None, everything).expect("render")
    });
    println!(
        "render one full digest (HTML + text)        median {}",
        ms(render)
    );

    let small = list(1);
    let digest = renderer
        .render(issue, Some(&small), everything)
        .expect("render");
    let digest = message::EncodedDigest::new(&digest);
    let to = small
        .members()
        .next()
        .expect("a member")
        .expect("readable")
        .mailbox();
    let labels = breves::unsubscribe::Labels::new(issue);
    let build = time(201, || {
        message::build(
            &links(&small, issue, signer, &labels),
            &to,
            &digest,
            date,
            None,
        )
        .expect("build")
    });
    println!(
        "build one message from a rendered digest    median {}",
        ms(build)
    );

    // The same list, prepared as breves does (one render per variant) and
    // the naive way (one render per member), in the same run.
    let members = 1_000;
    let bench_list = list(members);
    let grouped = time(5, || {
        let campaign = Campaign::prepare(issue, &bench_list).expect("prepare");
        campaign
            .letters(date)
            .map(|l| l.expect("letter").bytes.len())
            .sum::<usize>()
    });
    let variants = Campaign::prepare(issue, &bench_list)
        .expect("prepare")
        .digests()
        .len();
    let naive = time(3, || {
        bench_list
            .members()
            .map(|m| {
                let m = m.expect("a member");
                let selection = Selection::for_interests(issue, &m.interests);
                let digest = renderer
                    .render(issue, Some(&bench_list), &selection)
                    .expect("render");
                let digest = message::EncodedDigest::new(&digest);
                message::build(
                    &links(&bench_list, issue, signer, &labels),
                    &m.mailbox(),
                    &digest,
                    date,
                    None,
                )
                .expect("build")
                .bytes
                .len()
            })
            .sum::<usize>()
    });
    println!(
        "{members} members, {variants} variants: render per variant median {}, per member median {} ({:.1}x)",
        ms(grouped),
        ms(naive),
        naive.as_secs_f64() / grouped.as_secs_f64()
    );
}

/// Composing on one core, at 100,000 members.
fn compose(issue: &Issue, date: chrono::DateTime<chrono::FixedOffset>) {
    // Composing on one core, as a send of a large list does: every variant
    // rendered once, then each member's message (headers, signed
    // unsubscription links, Message-ID) built from its encoded digest.
    let big = 100_000;
    let big_list = list(big);
    let whole = time(3, || {
        let campaign = Campaign::prepare(issue, &big_list).expect("prepare");
        campaign
            .letters(date)
            .map(|l| l.expect("letter").bytes.len())
            .sum::<usize>()
    });
    println!(
        "{big} members: prepare, then build every message on one core: median {} ({:.0} messages/s)",
        ms(whole),
        big as f64 / whole.as_secs_f64()
    );
}
