//! The main job: a dry run of the shipped issue to the shipped list writes
//! one correct message per receiving subscriber, read back by mail-parser.

use crate::common;

use std::collections::HashSet;
use std::fs;

use common::{dry_run, eml_files, parse, tempdir};
use mail_parser::{MimeHeaders, PartType};

/// The members of the shipped list who receive something, as (address,
/// name, sections) — written out here, independently of the code.
const EXPECTED: &[(&str, &str, &[&str])] = &[
    (
        "helene.durand@example.fr",
        "Hélène Durand",
        &[
            "economie-numerique",
            "donnees-ia",
            "cybersecurite",
            "spatial",
            "nouvelles-technologies",
            "ecosysteme-tech",
        ],
    ),
    (
        "francois.lefevre@example.fr",
        "François Lefèvre",
        &["donnees-ia", "cybersecurite"],
    ),
    ("chloe.oconnor@example.org", "Chloé O'Connor", &["spatial"]),
    (
        "jerome.gaetan@example.com",
        "Jérôme Gaëtan",
        &[
            "economie-numerique",
            "nouvelles-technologies",
            "ecosysteme-tech",
        ],
    ),
    (
        "noemie.moreau@example.org",
        "Noémie « Nono » Moreau",
        &["donnees-ia", "ecosysteme-tech"],
    ),
    (
        "marc.dupont@example.org",
        "Marc Dupont",
        &["cybersecurite", "spatial"],
    ),
    (
        "claire.martin@example.com",
        "Martin, Claire",
        &["economie-numerique", "donnees-ia"],
    ),
    (
        "sophie.bernard@example.fr",
        "Sophie Bernard",
        &[
            "economie-numerique",
            "donnees-ia",
            "cybersecurite",
            "spatial",
            "nouvelles-technologies",
            "ecosysteme-tech",
        ],
    ),
    (
        "oliver.smith@example.org",
        "Smith, Oliver \"Ollie\"",
        &["ecosysteme-tech"],
    ),
    (
        "zoe.lambert@example.fr",
        "Zoé Lambert",
        &["spatial", "nouvelles-technologies"],
    ),
    (
        "ines.garcia@example.com",
        "Inès García",
        &["donnees-ia", "cybersecurite"],
    ),
];

const SECTION_TITLES: &[(&str, &str)] = &[
    ("economie-numerique", "Economie numérique et régulation"),
    ("donnees-ia", "Données et intelligence artificielle"),
    ("cybersecurite", "Cybersécurité"),
    ("spatial", "Spatial"),
    ("nouvelles-technologies", "Nouvelles technologies"),
    ("ecosysteme-tech", "Ecosystème tech"),
];

#[test]
fn one_message_per_receiving_member_and_nobody_else() {
    let dir = tempdir();
    let run = dry_run(dir.path());
    let files = eml_files(dir.path());
    assert_eq!(files.len(), EXPECTED.len(), "{run:?}");

    let mut seen = HashSet::new();
    for file in &files {
        let bytes = fs::read(file).expect("readable");
        let message = parse(&bytes);
        let to = message.to().expect("a To header");
        let recipients: Vec<_> = to.iter().collect();
        assert_eq!(recipients.len(), 1, "exactly one recipient in {file:?}");
        let address = recipients[0].address().expect("an address");
        let (_, name, _) = EXPECTED
            .iter()
            .find(|(a, _, _)| *a == address)
            .unwrap_or_else(|| panic!("{address} should not receive the issue"));
        assert_eq!(recipients[0].name(), Some(*name), "{file:?}");
        assert!(seen.insert(address.to_owned()), "{address} mailed twice");
        assert!(message.cc().is_none() && message.bcc().is_none());
    }
    assert!(!seen.contains("agenda.only@example.com"));
    assert!(
        run.stdout.contains("skipped agenda.only@example.com"),
        "the skipped member is listed: {run:?}"
    );
    assert!(run.stdout.contains("11 message(s) written"), "{run:?}");
    assert!(run.stdout.contains("1 skipped"), "{run:?}");
}

#[test]
fn headers_and_parts_survive_an_independent_parser() {
    let dir = tempdir();
    dry_run(dir.path());
    for file in common::some_eml_files(dir.path()) {
        let bytes = fs::read(&file).expect("readable");
        assert!(
            bytes.iter().all(|b| *b < 0x80),
            "raw 8-bit byte in {file:?}"
        );
        assert!(
            bytes
                .split(|b| *b == b'\n')
                .all(|line| line.len() <= 998 && line.last().is_none_or(|b| *b == b'\r')),
            "lines end in CRLF and stay under 998 bytes in {file:?}"
        );
        // Header lines fold at 78 octets (RFC 5322, 2.1.1), but for the
        // two that hold one unbreakable token: the Message-ID, and
        // List-Unsubscribe, kept on one line because some relays refold it
        // and break DKIM.
        let text = String::from_utf8_lossy(&bytes);
        let head = &text[..text.find("\r\n\r\n").expect("headers end")];
        for line in head.split("\r\n") {
            assert!(
                line.len() <= 78
                    || line.starts_with("Message-ID: <")
                    || line.starts_with("List-Unsubscribe: <"),
                "{} octets in {file:?}: {line}",
                line.len()
            );
        }
        assert!(
            head.contains("\r\nFrom: =?utf-8?b?U0VSIGRlIExvbmRyZXMg4oCTIEJyw6h2ZXMgbnVtw6lyaXF1ZXM=?=\r\n <breves@example.fr>\r\n")
                || head.starts_with("From: =?utf-8?b?U0VSIGRlIExvbmRyZXMg4oCTIEJyw6h2ZXMgbnVtw6lyaXF1ZXM=?=\r\n <breves@example.fr>\r\n"),
            "From folded before the address: {head}"
        );
        let message = parse(&bytes);

        let from = message.from().and_then(|f| f.first()).expect("From");
        assert_eq!(from.address(), Some("breves@example.fr"));
        assert_eq!(from.name(), Some("SER de Londres – Brèves numériques"));
        assert_eq!(
            message
                .reply_to()
                .and_then(|r| r.first())
                .and_then(|a| a.address()),
            Some("londres@example.fr")
        );
        assert_eq!(
            message.subject(),
            Some("Brèves numériques Royaume-Uni, 26 février au 3 avril 2026")
        );
        let date = message.date().expect("Date");
        assert_eq!(
            (date.year, date.month, date.day, date.hour),
            (2026, 4, 7, 8),
            "the issue's date, 09:00 in London"
        );
        assert_eq!(
            message.header_raw("MIME-Version").map(str::trim),
            Some("1.0")
        );

        let id = message.message_id().expect("Message-ID");
        assert!(id.ends_with("@example.fr"), "{id}");
        assert!(id.starts_with("bnru68-260226-260403."), "{id}");
        let to = message
            .to()
            .and_then(|t| t.first())
            .and_then(|a| a.address())
            .expect("To");
        let local = to.split('@').next().expect("local part");
        assert!(
            !id.contains(local),
            "the Message-ID shows the address: {id}"
        );

        let root = message.root_part();
        let ct = root.content_type().expect("Content-Type");
        assert_eq!(
            (ct.ctype(), ct.subtype()),
            ("multipart", Some("alternative"))
        );
        let parts: Vec<_> = message.parts.iter().skip(1).collect();
        assert_eq!(parts.len(), 2, "a text part and an HTML part");
        assert!(matches!(parts[0].body, PartType::Text(_)), "text first");
        assert!(matches!(parts[1].body, PartType::Html(_)), "HTML second");
        for part in &parts {
            let ct = part.content_type().expect("part Content-Type");
            assert_eq!(
                ct.attribute("charset").map(str::to_lowercase).as_deref(),
                Some("utf-8")
            );
            let cte = part
                .content_transfer_encoding()
                .expect("Content-Transfer-Encoding")
                .to_lowercase();
            assert!(cte == "quoted-printable" || cte == "base64", "{cte}");
            assert!(!part.is_encoding_problem);
        }
    }
}

#[test]
fn each_member_gets_the_highlight_and_exactly_their_sections() {
    let dir = tempdir();
    dry_run(dir.path());
    for (address, _, sections) in EXPECTED {
        let name = format!("{}.eml", address.replace('@', "_at_"));
        let bytes = fs::read(dir.path().join(&name)).expect("the member's file");
        let message = parse(&bytes);
        let text = message
            .body_text(0)
            .expect("text part")
            .replace("\r\n", "\n");
        let html = message.body_html(0).expect("html part");
        assert!(text.contains("FAIT MARQUANT"), "{name}");
        assert!(html.contains("Fait marquant"), "{name}");
        for (id, title) in SECTION_TITLES {
            let banner = format!("\n{}\n", title.to_uppercase());
            let anchor = format!("id=\"{id}\"");
            let chosen = sections.contains(id);
            assert_eq!(text.contains(&banner), chosen, "{name}: text, {id}");
            assert_eq!(html.contains(&anchor), chosen, "{name}: html, {id}");
        }
        // The footer names what they receive.
        let footer = common::fold(&text);
        if sections.len() == SECTION_TITLES.len() {
            assert!(
                footer.contains("Vous recevez toutes les rubriques"),
                "{name}"
            );
        } else {
            for (id, title) in SECTION_TITLES {
                let line_start = footer.find("Vous recevez").expect("footer line");
                let line = &footer[line_start
                    ..footer[line_start..]
                        .find('.')
                        .map_or(footer.len(), |e| line_start + e)];
                assert_eq!(
                    line.contains(title),
                    sections.contains(id),
                    "{name}: footer «{line}»"
                );
            }
        }
    }
}

#[test]
fn manifest_lists_every_file() {
    let dir = tempdir();
    let run = dry_run(dir.path());
    let manifest: serde_json::Value =
        serde_json::from_slice(&fs::read(dir.path().join("manifest.json")).expect("manifest.json"))
            .expect("JSON");
    let messages = manifest["messages"].as_array().expect("messages");
    assert_eq!(messages.len(), EXPECTED.len());
    for (entry, (address, _, sections)) in messages.iter().zip(EXPECTED) {
        assert_eq!(entry["recipient"], *address, "list order");
        let file = entry["file"].as_str().expect("file");
        let size = fs::metadata(dir.path().join(file)).expect("the file").len();
        assert_eq!(entry["size"].as_u64(), Some(size));
        let listed: Vec<&str> = entry["sections"]
            .as_array()
            .expect("sections")
            .iter()
            .filter_map(|s| s.as_str())
            .collect();
        assert_eq!(listed, *sections);
        assert_eq!(
            entry["subject"],
            "Brèves numériques Royaume-Uni, 26 février au 3 avril 2026"
        );
    }
    assert_eq!(
        manifest["skipped"][0]["recipient"],
        "agenda.only@example.com"
    );
    assert_eq!(manifest["variants"], 9);
    // What the run says it wrote is what the files weigh: their sum and
    // the largest of them.
    let sizes: Vec<usize> = messages
        .iter()
        .map(|m| m["size"].as_u64().expect("size") as usize)
        .collect();
    let said = format!(
        "  {} in all, largest message {}, in ",
        breves::campaign::size(sizes.iter().sum()),
        breves::campaign::size(*sizes.iter().max().expect("a message"))
    );
    assert!(run.stdout.contains(&said), "{said:?} in {run:?}");
}

#[test]
fn the_same_input_gives_the_same_bytes() {
    let (a, b) = (tempdir(), tempdir());
    dry_run(a.path());
    dry_run(b.path());
    let names = |d: &std::path::Path| -> Vec<_> {
        eml_files(d)
            .iter()
            .map(|p| p.file_name().map(|n| n.to_owned()))
            .collect()
    };
    assert_eq!(names(a.path()), names(b.path()));
    for file in common::some_eml_files(a.path()) {
        let name = file.file_name().expect("name");
        assert_eq!(
            fs::read(&file).expect("a"),
            fs::read(b.path().join(name)).expect("b"),
            "{name:?} differs between two runs"
        );
    }
    assert_eq!(
        fs::read(a.path().join("manifest.json")).expect("a"),
        fs::read(b.path().join("manifest.json")).expect("b")
    );
}

#[test]
fn a_second_run_replaces_the_first() {
    let dir = tempdir();
    fs::write(dir.path().join("old_at_example.org.eml"), "stale").expect("write");
    fs::write(dir.path().join("notes.txt"), "keep me").expect("write");
    dry_run(dir.path());
    assert!(!dir.path().join("old_at_example.org.eml").exists());
    assert!(
        dir.path().join("notes.txt").exists(),
        "other files are left alone"
    );
    assert_eq!(eml_files(dir.path()).len(), EXPECTED.len());
}

#[test]
fn date_flag_sets_the_date_header() {
    let dir = tempdir();
    let run = common::breves([
        "send",
        common::ISSUE,
        "--subscribers",
        common::LIST,
        "--dry-run",
        dir.path().to_str().expect("utf-8"),
        "--date",
        "2026-04-08T07:30:00+00:00",
    ]);
    assert!(run.ok(), "{run:?}");
    let bytes = fs::read(&eml_files(dir.path())[0]).expect("a message");
    let date = *parse(&bytes).date().expect("Date");
    assert_eq!((date.day, date.hour, date.minute), (8, 7, 30));
}

#[test]
fn dry_run_files_are_private() {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempdir();
        dry_run(dir.path());
        for file in common::some_eml_files(dir.path()) {
            let mode = fs::metadata(&file).expect("file").permissions().mode();
            assert_eq!(mode & 0o077, 0, "{file:?} is readable by others");
        }
    }
}

#[test]
fn a_dry_run_writes_through_no_link_planted_in_its_outbox() {
    let dir = tempdir();
    let out = dir.path().join("outbox");
    fs::create_dir_all(&out).expect("outbox");
    // The names of the first run's files, then links planted at each of
    // them and at their partial names, pointing outside.
    dry_run(&out);
    let names: Vec<std::ffi::OsString> = eml_files(&out)
        .iter()
        .map(|p| p.file_name().expect("name").to_owned())
        .collect();
    for p in common::some_eml_files(&out) {
        fs::remove_file(p).expect("clean");
    }
    let victim = dir.path().join("victim.txt");
    fs::write(&victim, "keep me").expect("victim");
    // A link to a file that does not exist yet is not a file: it must
    // not be followed either.
    let gone = |i: usize| dir.path().join(format!("gone-{i}.txt"));
    for (i, name) in names.iter().enumerate() {
        let mut partial = name.clone();
        partial.push(".part");
        std::os::unix::fs::symlink(&victim, out.join(name)).expect("link");
        std::os::unix::fs::symlink(gone(i), out.join(partial)).expect("link");
    }
    std::os::unix::fs::symlink(&victim, out.join("manifest.json.part")).expect("link");
    let run = dry_run(&out);
    assert!(run.ok(), "{run:?}");
    assert_eq!(fs::read_to_string(&victim).expect("victim"), "keep me");
    for i in 0..names.len() {
        assert!(!gone(i).exists(), "nothing is made through a dangling link");
    }
    for file in common::some_eml_files(&out) {
        assert!(
            fs::symlink_metadata(&file).expect("meta").is_file(),
            "{file:?}"
        );
    }
    assert_eq!(eml_files(&out).len(), names.len());
}

#[test]
fn a_full_disk_leaves_no_half_written_message() {
    // No file may grow past 60 KiB: the small digests are written, the
    // first large one fails, and the run stops without leaving part of it.
    let dir = tempdir();
    let out = common::breves_with_file_limit(
        60,
        [
            "send",
            common::ISSUE,
            "--subscribers",
            common::LIST,
            "--dry-run",
            dir.path().to_str().expect("utf-8"),
        ],
        &[],
    );
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stderr.contains("cannot write"), "{out:?}");
    let mut written = 0;
    for entry in fs::read_dir(dir.path()).expect("outbox") {
        let path = entry.expect("entry").path();
        let name = path.file_name().and_then(|n| n.to_str()).expect("name");
        assert!(
            name.ends_with(".eml"),
            "only whole messages are left: {name}"
        );
        let bytes = fs::read(&path).expect("message");
        let message = mail_parser::MessageParser::default()
            .parse(&bytes)
            .expect("a message");
        assert!(
            message.body_html(0).is_some() && message.body_text(0).is_some(),
            "{name} is whole"
        );
        let text = String::from_utf8_lossy(&bytes);
        let boundary = text
            .split("boundary=\"")
            .nth(1)
            .and_then(|b| b.split('"').next())
            .expect("a boundary");
        assert!(
            text.trim_end().ends_with(&format!("--{boundary}--")),
            "{name} ends with its closing boundary"
        );
        written += 1;
    }
    assert!(
        written < 11,
        "the limit stopped the run ({written} written)"
    );
}

#[test]
fn a_reader_that_goes_away_ends_nothing_early() {
    // `breves send … | head`: standard output closed before the plan and
    // the summary are printed. The run still completes, and says nothing
    // of a panic.
    let dir = tempdir();
    let out = dir.path().join("out");
    let script = format!(
        "'{}' send '{}' --subscribers '{}' --dry-run '{}' 2>'{}' | true; echo \"${{PIPESTATUS[0]}}\"",
        env!("CARGO_BIN_EXE_breves"),
        common::ISSUE,
        common::LIST,
        out.display(),
        dir.path().join("stderr").display()
    );
    let run = std::process::Command::new("bash")
        .args(["-c", &script])
        .current_dir(common::root())
        .output()
        .expect("bash runs");
    let code = String::from_utf8_lossy(&run.stdout).trim().to_owned();
    let stderr = fs::read_to_string(dir.path().join("stderr")).expect("stderr");
    assert_eq!(code, "0", "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(out.join("manifest.json").exists(), "the run completed");
}

#[test]
fn the_message_id_fits_its_line_and_the_online_address_one_line_of_text() {
    // The shipped list, its archive at an address of 40 characters.
    let dir = tempdir();
    let address = "https://lettres.example.fr/archive/breve";
    assert_eq!(address.len(), 40);
    let list = fs::read_to_string(common::LIST)
        .expect("the list")
        .replace("https://breves.example.fr/archives", address);
    fs::write(dir.path().join("londres.toml"), list).expect("written");
    fs::copy(
        "subscribers/londres-membres.csv",
        dir.path().join("londres-membres.csv"),
    )
    .expect("copied");
    let out = dir.path().join("outbox");
    common::send(common::ISSUE, dir.path().join("londres.toml"), &out);
    let files = eml_files(&out);
    assert_eq!(files.len(), 11);
    for file in files {
        let bytes = fs::read(&file).expect("message");
        let text = String::from_utf8_lossy(&bytes);
        let id_line = text
            .lines()
            .find(|l| l.starts_with("Message-ID: "))
            .expect("a Message-ID");
        assert!(
            id_line.len() <= 78,
            "{file:?}: {} octets: {id_line}",
            id_line.len()
        );
        let message = parse(&bytes);
        let body = message.body_text(0).expect("text part");
        let online = body
            .lines()
            .find(|l| l.starts_with(address))
            .expect("the online address");
        assert!(
            online.chars().count() <= 76,
            "{file:?}: {} columns: {online}",
            online.chars().count()
        );
    }
}
