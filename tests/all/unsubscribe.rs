//! Unsubscription in every message: RFC 2369 and RFC 8058 headers, List-Id,
//! the footer's and each section's signed links, and nothing that tracks.

use crate::common;

use std::collections::HashSet;
use std::fs;

use breves::subscribers::List;
use breves::unsubscribe::{Read, Signer};
use common::{breves_with, dry_run, eml_files, parse, tempdir};

const BASE: &str = "https://breves.example.fr/desabonnement/";

/// The raw header lines named `name` (unfolded lines only).
fn raw_headers<'a>(bytes: &'a [u8], name: &str) -> Vec<&'a str> {
    let text = std::str::from_utf8(bytes).expect("ASCII message");
    // CRLF in a message, LF in smtp-sink's dump files.
    let end = text
        .find("\r\n\r\n")
        .or_else(|| text.find("\n\n"))
        .expect("headers end");
    text[..end]
        .lines()
        .filter(|l| {
            l.len() > name.len()
                && l[..name.len()].eq_ignore_ascii_case(name)
                && l[name.len()..].starts_with(':')
        })
        .collect()
}

/// Who a link's token names: a short one is looked up in the shipped list,
/// as the server does.
fn named(signer: &Signer, text: &str) -> breves::unsubscribe::Token {
    match signer.read(text).expect("a valid token") {
        Read::Full(token) => token,
        Read::Short(short) => {
            let (list, _) = List::load(&common::root().join(common::LIST)).expect("the list");
            signer
                .resolve(&short, &list)
                .expect("readable")
                .expect("a member")
        }
    }
}

#[test]
fn every_message_offers_one_click_unsubscription() {
    let dir = tempdir();
    let run = dry_run(dir.path());
    assert!(
        run.stdout.contains("signed with the test secret"),
        "{run:?}"
    );
    let signer = Signer::test();
    let mut urls = HashSet::new();
    for file in common::some_eml_files(dir.path()) {
        let bytes = fs::read(&file).expect("message");
        let message = parse(&bytes);
        let to = message
            .to()
            .and_then(|t| t.first())
            .and_then(|a| a.address())
            .expect("To")
            .to_lowercase();

        let list_unsubscribe = raw_headers(&bytes, "List-Unsubscribe");
        assert_eq!(list_unsubscribe.len(), 1, "{file:?}");
        let value = list_unsubscribe[0]
            .trim_start_matches("List-Unsubscribe:")
            .trim();
        // On one line, as a DKIM signature over it expects.
        assert!(bytes.windows(value.len()).any(|w| w == value.as_bytes()));
        let (url, mailto) = value.split_once(", ").expect("two addresses");
        let url = url.trim_matches(['<', '>']);
        assert!(url.starts_with(BASE), "{url}");
        assert_eq!(
            mailto,
            "<mailto:desabonnement@example.fr?subject=unsubscribe>"
        );
        assert_eq!(
            raw_headers(&bytes, "List-Unsubscribe-Post"),
            vec!["List-Unsubscribe-Post: List-Unsubscribe=One-Click"]
        );
        assert_eq!(
            raw_headers(&bytes, "List-Id"),
            vec!["List-Id: <londres.example.fr>"],
            "the list's name is not ASCII, so only its id is given"
        );

        // The token names this subscriber, this list, the whole list, and
        // nobody can read the address from it.
        let token = named(&signer, &url[BASE.len()..]);
        assert_eq!(
            (token.list.as_str(), token.address.as_str(), token.section),
            ("londres", to.as_str(), None)
        );
        let local = to.split('@').next().expect("local part");
        assert!(!url.contains(local), "{url}");
        assert!(url.len() - BASE.len() <= 23, "{url}");
        assert!(
            urls.insert(url.to_owned()),
            "each subscriber has their own link"
        );

        // The footer repeats it in words, in both parts.
        let html = message.body_html(0).expect("html").into_owned();
        let text = message.body_text(0).expect("text").into_owned();
        assert!(
            html.contains(&format!(
                "<a href=\"{url}\" style=\"color: #4a4a4a;\">Se désabonner de cette lettre</a>"
            )),
            "{file:?}"
        );
        assert!(
            text.contains(&format!(
                "Pour vous désabonner de cette lettre\u{a0}:\r\n{url}"
            )),
            "{file:?}"
        );
        // Every unsubscription line of the text part fits in 76 columns,
        // links too (the base URL is 39 characters; one of 40 leaves 12 to
        // spare); text_part.rs checks the others.
        for line in text.lines().filter(|l| l.contains(BASE)) {
            use unicode_width::UnicodeWidthStr;
            assert!(line.width() <= 76, "{file:?}: {line}");
        }
    }
}

#[test]
fn each_section_has_its_own_signed_link() {
    let dir = tempdir();
    dry_run(dir.path());
    let bytes = fs::read(dir.path().join("marc.dupont_at_example.org.eml")).expect("Marc's digest");
    let message = parse(&bytes);
    let html = message.body_html(0).expect("html").into_owned();
    let signer = Signer::test();
    let mut sections = Vec::new();
    for chunk in html.split(&format!("href=\"{BASE}")).skip(1) {
        let link = &chunk[..chunk.find('"').expect("end of link")];
        // The reader's own page is their link followed by `/gerer`.
        let (token, page) = match link.strip_suffix("/gerer") {
            Some(token) => (token, "page"),
            None => (link, "link"),
        };
        let token = named(&signer, token);
        assert_eq!(token.address.as_str(), "marc.dupont@example.org");
        sections.push((page, token.section));
    }
    assert_eq!(
        sections,
        vec![
            ("link", Some("cybersecurite".to_owned())),
            ("link", Some("spatial".to_owned())),
            ("page", None),
            ("link", None)
        ],
        "one link per section received, then the reader's page, then the list's link"
    );
    assert!(html.contains("Ne plus recevoir la rubrique «\u{202f}Spatial\u{202f}»"));
}

/// The shipped issue's page in the list's web archive.
const ARCHIVE_PAGE: &str = "https://breves.example.fr/archives/bnru68-260226-260403/";

#[test]
fn nothing_in_a_message_tracks_its_reader() {
    let dir = tempdir();
    dry_run(dir.path());
    let issue = fs::read_to_string(common::root().join(common::ISSUE)).expect("issue");
    for file in common::some_eml_files(dir.path()) {
        let bytes = fs::read(&file).expect("message");
        let html = parse(&bytes).body_html(0).expect("html").into_owned();
        assert!(
            !html.contains("<img"),
            "no image, so no tracking pixel: {file:?}"
        );
        assert!(
            !html.contains("<link") && !html.contains("@import") && !html.contains("url("),
            "no remote style or font"
        );
        assert!(!html.contains("src="), "nothing is loaded from anywhere");
        for chunk in html.split("href=\"").skip(1) {
            let href = &chunk[..chunk.find('"').expect("end")];
            // The issue's page in the web archive is the same for everyone.
            let allowed = href.starts_with('#')
                || href.starts_with("mailto:")
                || href.starts_with(BASE)
                || href == ARCHIVE_PAGE
                || issue.contains(&format!("]({href})"));
            assert!(allowed, "{file:?}: a link that is not the editor's: {href}");
        }
    }
}

#[test]
fn a_real_send_needs_the_secret_and_the_unsubscription_address() {
    let sink = common::smtp::smtp_sink(&[]);
    let ledger = tempdir();
    let args = |list: &str| {
        vec![
            "send".to_owned(),
            common::ISSUE.to_owned(),
            "--subscribers".to_owned(),
            list.to_owned(),
            "--smtp".to_owned(),
            sink.plain_url(),
            "--ledger".to_owned(),
            ledger.path().join("l.sqlite3").display().to_string(),
        ]
    };
    let out = breves_with(args(common::LIST), &[]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr.contains("set BREVES_UNSUBSCRIBE_SECRET"),
        "{out:?}"
    );
    let out = breves_with(
        args(common::LIST),
        &[("BREVES_UNSUBSCRIBE_SECRET", "short")],
    );
    assert!(out.stderr.contains("at least 16 bytes"), "{out:?}");

    let list = ledger.path().join("list.toml");
    let text = fs::read_to_string(common::root().join(common::LIST)).expect("list");
    let text = text
        .lines()
        .filter(|l| !l.starts_with("unsubscribe_url") && !l.starts_with("members"))
        .collect::<Vec<_>>()
        .join("\n");
    fs::write(&list, text).expect("write");
    let out = breves_with(
        args(&list.display().to_string()),
        &[("BREVES_UNSUBSCRIBE_SECRET", "a long enough secret, surely")],
    );
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stderr.contains("has no unsubscribe_url"), "{out:?}");
    assert!(sink.messages().is_empty());
}

/// A tiny HTTP/1.1 client over a socket: (status, body).
pub(crate) fn http(method: &str, url: &str, body: &str) -> (u16, String) {
    http_with(method, url, body, "")
}

/// The same, with more header lines (each ending in CRLF).
pub(crate) fn http_with(method: &str, url: &str, body: &str, headers: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let rest = url.strip_prefix("http://").expect("http URL");
    let (host, path) = rest.split_once('/').expect("a path");
    let mut stream = std::net::TcpStream::connect(host).expect("the server answers");
    write!(
        stream,
        "{method} /{path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n{headers}Connection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("request");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("response");
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status");
    (status, response)
}

pub(crate) struct Child(std::process::Child);
impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `breves serve` on `port`, once it listens.
fn unsubscribe_server(
    port: u16,
    ledger: &std::path::Path,
    list: &std::path::Path,
    secret: &str,
) -> Child {
    unsubscribe_server_with(port, ledger, list, secret, &[])
}

/// The same, with more arguments.
pub(crate) fn unsubscribe_server_with(
    port: u16,
    ledger: &std::path::Path,
    list: &std::path::Path,
    secret: &str,
    more: &[&str],
) -> Child {
    use std::io::BufRead;
    let mut server = common::command()
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--ledger",
        ])
        .arg(ledger)
        .arg("--subscribers")
        .arg(list)
        .args(more)
        .env("BREVES_UNSUBSCRIBE_SECRET", secret)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("the server starts");
    let mut line = String::new();
    std::io::BufReader::new(server.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("a line");
    assert!(line.starts_with("Listening on http://127.0.0.1:"), "{line}");
    Child(server)
}

#[test]
fn one_click_is_taken_as_curl_and_mailbox_providers_post_it_never_on_a_get() {
    const SECRET: &str = "the secret shared by send and server";
    let dir = tempdir();
    let ledger = dir.path().join("ledger.sqlite3");
    let port = common::smtp::free_port();
    let list = dir.path().join("list.toml");
    let members: String = (0..6)
        .map(|i| format!("[[member]]\nemail = \"m{i}@example.org\"\n"))
        .collect();
    fs::write(
        &list,
        format!(
            "[list]\nid = \"essai\"\nfrom = \"Essai <breves@example.fr>\"\n\
             unsubscribe_url = \"http://127.0.0.1:{port}/desabonnement\"\n\
             topics = {{ spatial = \"Spatial\" }}\n{members}"
        ),
    )
    .expect("list");
    let _server = unsubscribe_server(port, &ledger, &list, SECRET);
    let signer = Signer::new(SECRET.as_bytes()).expect("secret");
    let url = |i: usize| {
        let address: lettre::Address = format!("m{i}@example.org").parse().expect("address");
        let token = signer.sign(&breves::unsubscribe::Token {
            list: "essai".into(),
            address: breves::address::Key::of(&address),
            section: None,
        });
        format!("http://127.0.0.1:{port}/desabonnement/{token}")
    };
    let curl = |args: &[&str], url: &str| -> String {
        let out = std::process::Command::new("curl")
            .args(["--silent", "--show-error", "--write-out", "\n%{http_code}"])
            .args(args)
            .arg(url)
            .output()
            .expect("curl (Debian package curl)");
        assert!(out.status.success(), "{out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let done = "Vous ne recevrez plus cette lettre";
    // RFC 8058's own example, multipart/form-data, as `curl -F` sends it.
    let page = curl(&["-F", "List-Unsubscribe=One-Click"], &url(0));
    assert!(page.ends_with("\n200") && page.contains(done), "{page}");
    // With another field before it.
    let page = curl(
        &["-F", "source=gmail", "-F", "List-Unsubscribe=One-Click"],
        &url(1),
    );
    assert!(page.ends_with("\n200") && page.contains(done), "{page}");
    // application/x-www-form-urlencoded, as Gmail and Yahoo post it, with a
    // trailing line end.
    let page = curl(
        &["--data-binary", "List-Unsubscribe=One-Click\r\n"],
        &url(2),
    );
    assert!(page.ends_with("\n200") && page.contains(done), "{page}");
    let page = curl(&["--data", "x=1&List-Unsubscribe=One-Click"], &url(3));
    assert!(page.ends_with("\n200") && page.contains(done), "{page}");
    // Anything else is refused, and a GET (a link scanner following it)
    // only shows the page.
    let page = curl(&["--data", "List-Unsubscribe=Yes"], &url(4));
    assert!(page.ends_with("\n400"), "{page}");
    let page = curl(&["-F", "Unsubscribe=One-Click"], &url(4));
    assert!(page.ends_with("\n400"), "{page}");
    let page = curl(&["--get", "--data", "List-Unsubscribe=One-Click"], &url(5));
    assert!(
        page.ends_with("\n200") && page.contains("<form method=\"post\""),
        "{page}"
    );
    let status = common::status(&list, &ledger);
    assert!(
        status.stdout.contains("4 address(es) unsubscribed"),
        "m0 to m3 only: {status:?}"
    );
}

#[test]
fn one_click_and_section_links_work_end_to_end() {
    const SECRET: &str = "the secret shared by send and server";
    let dir = tempdir();
    let ledger = dir.path().join("ledger.sqlite3");
    let port = common::smtp::free_port();
    let list = dir.path().join("list.toml");
    fs::write(
        &list,
        format!(
            "[list]\nid = \"essai\"\nfrom = \"Essai <breves@example.fr>\"\nunsubscribe = \"desabonnement@example.fr\"\n\
             unsubscribe_url = \"http://127.0.0.1:{port}/desabonnement\"\n\
             topics = {{ spatial = \"Spatial\", cybersecurite = \"Cybersécurité\" }}\n\
             [[member]]\nemail = \"a0@example.org\"\ninterests = [\"spatial\"]\n\
             [[member]]\nemail = \"a1@example.org\"\ninterests = [\"spatial\"]\n\
             [[member]]\nemail = \"a2@example.org\"\ninterests = [\"spatial\", \"cybersecurite\"]\n\
             [[member]]\nemail = \"a3@example.org\"\ninterests = [\"spatial\"]\n"
        ),
    )
    .expect("list");
    let _server = unsubscribe_server(port, &ledger, &list, SECRET);

    let sink = common::smtp::smtp_sink(&[]);
    let send = |issue: &str| {
        breves_with(
            [
                "send",
                issue,
                "--subscribers",
                &list.display().to_string(),
                "--smtp",
                &sink.plain_url(),
                "--ledger",
                &ledger.display().to_string(),
            ],
            &[("BREVES_UNSUBSCRIBE_SECRET", SECRET)],
        )
    };
    let out = send(common::ISSUE);
    assert_eq!(out.code, 0, "{out:?}");
    let link = |rcpt: &str| -> (String, String) {
        let (_, bytes) = sink
            .messages()
            .into_iter()
            .find(|(r, _)| r == rcpt)
            .expect("their message");
        let header = raw_headers(&bytes, "List-Unsubscribe")[0].to_owned();
        let url = header[header.find('<').expect("<") + 1..header.find('>').expect(">")].to_owned();
        let html = parse(&bytes).body_html(0).expect("html").into_owned();
        let signer = Signer::new(SECRET.as_bytes()).expect("secret");
        let (members, _) = List::load(&list).expect("the list");
        let section = html
            .split("href=\"")
            .map(|c| &c[..c.find('"').unwrap_or(0)])
            .find(|h| {
                h.starts_with("http://127.0.0.1")
                    && match signer.read(h.rsplit('/').next().unwrap_or_default()) {
                        Ok(Read::Short(short)) => signer
                            .resolve(&short, &members)
                            .ok()
                            .flatten()
                            .is_some_and(|t| t.section.as_deref() == Some("spatial")),
                        _ => false,
                    }
            })
            .expect("the Spatial section's link")
            .to_owned();
        (url, section)
    };

    // a0: the one-click POST of RFC 8058.
    let (url, _) = link("a0@example.org");
    let (status, page) = http("POST", &url, "List-Unsubscribe=One-Click");
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("Vous ne recevrez plus cette lettre"),
        "{page}"
    );
    // a1: a plain GET only shows a page; nothing is recorded.
    let (url1, _) = link("a1@example.org");
    let (status, page) = http("GET", &url1, "");
    assert_eq!(status, 200);
    assert!(
        page.contains("<form method=\"post\"") && page.contains("lang=\"fr\""),
        "{page}"
    );
    // Someone else in a link (a0's code with a1's tag): refused, nothing
    // recorded.
    let bytes = |u: &str| {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(u.rsplit('/').next().expect("token"))
            .expect("base64")
    };
    let encode = |b: &[u8]| {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
    };
    let (base, _) = url1.rsplit_once('/').expect("token");
    let member_len = breves::unsubscribe::MEMBER_LEN;
    let forged = {
        let mut b = bytes(&url1);
        b[..member_len].copy_from_slice(&bytes(&url)[..member_len]);
        format!("{base}/{}", encode(&b))
    };
    assert_eq!(http("POST", &forged, "List-Unsubscribe=One-Click").0, 400);
    assert_eq!(http("POST", &url1, "something else").0, 400);
    // a2: stops the Spatial section only.
    let (_, section) = link("a2@example.org");
    let (status, page) = http("POST", &section, "List-Unsubscribe=One-Click");
    assert_eq!(status, 200);
    assert!(page.contains("la rubrique « Spatial »"), "{page}");
    // a3: by hand.
    let out = breves_with(
        [
            "suppress",
            "a3@example.org",
            "--subscribers",
            &list.display().to_string(),
            "--ledger",
            &ledger.display().to_string(),
        ],
        &[],
    );
    assert!(out.stdout.contains("will not be mailed again"), "{out:?}");

    let status = common::status(&list, &ledger);
    assert!(
        status
            .stdout
            .contains("2 address(es) unsubscribed, 1 subscriber(s) who stopped sections"),
        "{status:?}"
    );
    assert!(
        status
            .stdout
            .contains("a2@example.org no longer receives spatial"),
        "{status:?}"
    );

    // The next issue: a0 and a3 are left out, a2 gets Cybersécurité alone.
    let next = dir.path().join("2026-04.toml");
    let text = fs::read_to_string(common::root().join(common::ISSUE)).expect("issue");
    fs::write(
        &next,
        text.replacen("[issue]\n", "[issue]\nid = \"2026-04\"\n", 1),
    )
    .expect("next issue");
    let before = sink.messages().len();
    let out = send(&next.display().to_string());
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stdout.contains("2 subscriber(s) who left the list (unsubscribed, bounced, complained or stopped every section) are left out."),
        "{out:?}"
    );
    let fresh: Vec<(String, Vec<u8>)> = {
        let mut all = sink.messages();
        all.retain(|(_, b)| String::from_utf8_lossy(b).contains("Message-ID: <2026-04."));
        all
    };
    assert_eq!(fresh.len(), 2, "a1 and a2 only ({before} before)");
    let a2 = fresh
        .iter()
        .find(|(r, _)| r == "a2@example.org")
        .expect("a2");
    let text = parse(&a2.1).body_text(0).expect("text").into_owned();
    assert!(
        text.contains("CYBERSÉCURITÉ") && !text.contains("\nSPATIAL\r\n"),
        "{text}"
    );
    // a1's genuine link, its tag cut short, then every other first byte
    // of its tag: none unsubscribes a1, and the client's bad links are
    // slowed down (429) once it used up its allowance; a genuine link from
    // the same client is still honoured.
    let genuine = bytes(&url1);
    let tag_at = genuine.len() - breves::unsubscribe::SHORT_TAG_LEN;
    let mut answers = vec![
        http(
            "POST",
            &format!("{base}/{}", encode(&genuine[..genuine.len() - 1])),
            "List-Unsubscribe=One-Click",
        )
        .0,
    ];
    for byte in (0..=255u8).filter(|b| *b != genuine[tag_at]) {
        let mut guess = genuine.clone();
        guess[tag_at] = byte;
        answers.push(
            http(
                "POST",
                &format!("{base}/{}", encode(&guess)),
                "List-Unsubscribe=One-Click",
            )
            .0,
        );
    }
    assert!(!answers.contains(&200), "{answers:?}");
    // One forged link was presented earlier in this test.
    let allowance = breves::readers::BAD_TOKEN_ALLOWANCE;
    assert!(
        answers[..allowance - 1].iter().all(|&s| s == 400),
        "{answers:?}"
    );
    assert!(
        answers[allowance - 1..].iter().all(|&s| s == 429),
        "{answers:?}"
    );
    let (status, response) = http(
        "POST",
        &format!("{base}/{}", encode(&genuine[..genuine.len() - 1])),
        "List-Unsubscribe=One-Click",
    );
    assert_eq!(status, 429, "{response}");
    assert!(
        response.to_lowercase().contains("retry-after:"),
        "{response}"
    );
    let (status, response) = http("POST", &url1, "List-Unsubscribe=One-Click");
    assert_eq!(status, 200, "{response}");
    assert!(response.contains("C’est fait"), "{response}");
}

#[test]
fn bad_links_slow_down_only_their_client_and_only_a_named_proxy_names_it() {
    const SECRET: &str = "the secret shared by send and server";
    let dir = tempdir();
    let list = dir.path().join("list.toml");
    let members: String = (0..3)
        .map(|i| format!("[[member]]\nemail = \"m{i}@example.org\"\n"))
        .collect();
    fs::write(
        &list,
        format!(
            "[list]\nid = \"essai\"\nfrom = \"Essai <breves@example.fr>\"\n\
             topics = {{ spatial = \"Spatial\" }}\n{members}"
        ),
    )
    .expect("list");
    let signer = Signer::new(SECRET.as_bytes()).expect("secret");
    let link = |port: u16, i: usize| {
        let token = signer.sign_short(&breves::unsubscribe::Token {
            list: "essai".into(),
            address: breves::address::Key::from_text(&format!("m{i}@example.org")),
            section: None,
        });
        format!("http://127.0.0.1:{port}/u/{token}")
    };
    let bad = |port: u16| format!("http://127.0.0.1:{port}/u/AAAAAAAAAAAAAAAAAAAAAAAA");
    let allowance = breves::readers::BAD_TOKEN_ALLOWANCE;
    let one_click = "List-Unsubscribe=One-Click";

    // Behind a proxy the operator names, each client is the address the
    // proxy forwards: one client's bad links do not slow another's.
    let port = common::smtp::free_port();
    let ledger = dir.path().join("behind.sqlite3");
    let _server = unsubscribe_server_with(
        port,
        &ledger,
        &list,
        SECRET,
        &["--trusted-proxy", "127.0.0.1"],
    );
    let from = |ip: &str| format!("X-Forwarded-For: {ip}\r\n");
    for _ in 0..allowance {
        assert_eq!(
            http_with("POST", &bad(port), one_click, &from("198.51.100.1")).0,
            400
        );
    }
    assert_eq!(
        http_with("POST", &bad(port), one_click, &from("198.51.100.1")).0,
        429
    );
    assert_eq!(
        http_with("POST", &bad(port), one_click, &from("198.51.100.2")).0,
        400
    );
    // The slowed-down client's genuine link is honoured all the same.
    let (status, page) = http_with("POST", &link(port, 0), one_click, &from("198.51.100.1"));
    assert_eq!(status, 200, "{page}");

    // Without --trusted-proxy, the header is nobody's word: a client
    // cannot dodge the limit by naming another address, nor aim it at
    // someone else's.
    let port = common::smtp::free_port();
    let ledger = dir.path().join("direct.sqlite3");
    let _direct = unsubscribe_server(port, &ledger, &list, SECRET);
    for i in 0..allowance {
        let ip = format!("198.51.100.{}", 10 + i);
        assert_eq!(http_with("POST", &bad(port), one_click, &from(&ip)).0, 400);
    }
    assert_eq!(
        http_with("POST", &bad(port), one_click, &from("203.0.113.99")).0,
        429
    );
    // And every reader behind that one address still leaves in one click.
    for i in 1..3 {
        let (status, page) = http("POST", &link(port, i), one_click);
        assert_eq!(status, 200, "{page}");
    }
    let prefs = breves::ledger::Ledger::open(&ledger)
        .expect("ledger")
        .preferences("essai")
        .expect("read");
    for i in 1..3 {
        let key = breves::address::Key::from_text(&format!("m{i}@example.org"));
        assert!(prefs.suppressed.contains(&key), "m{i}");
    }
}

#[test]
fn idle_slow_and_oversized_clients_cannot_keep_a_reader_from_leaving() {
    use std::io::{BufRead, Read, Write};
    use std::time::Duration;
    const SECRET: &str = "the secret shared by send and server";
    let dir = tempdir();
    let list = dir.path().join("list.toml");
    fs::write(
        &list,
        "[list]\nid = \"essai\"\nfrom = \"Essai <breves@example.fr>\"\n\
         topics = { spatial = \"Spatial\" }\n[[member]]\nemail = \"m0@example.org\"\n",
    )
    .expect("list");
    let port = common::smtp::free_port();
    // 256 file descriptors: the idle connections below use them all up.
    let script = format!(
        "ulimit -n 256; exec '{}' unsubscribe-server --listen 127.0.0.1:{port} --ledger '{}' --subscribers '{}' --timeout 1",
        env!("CARGO_BIN_EXE_breves"),
        dir.path().join("ledger.sqlite3").display(),
        list.display()
    );
    let mut server = std::process::Command::new("sh")
        .args(["-c", &script])
        .env("BREVES_UNSUBSCRIBE_SECRET", SECRET)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("the server starts");
    let mut line = String::new();
    std::io::BufReader::new(server.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("a line");
    let _server = Child(server);
    let address = format!("127.0.0.1:{port}");

    // A client that sends part of its headers, then nothing: dropped.
    let mut slow = std::net::TcpStream::connect(&address).expect("connects");
    write!(slow, "POST /u/x HTTP/1.1\r\nHost: {address}\r\n").expect("sent");
    slow.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let started = std::time::Instant::now();
    let mut rest = Vec::new();
    let _ = slow.read_to_end(&mut rest);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "closed by the server, not by the client's patience"
    );

    // 400 connections that send nothing, more than the server has file
    // descriptors for.
    let idle: Vec<std::net::TcpStream> = (0..400)
        .map(|_| std::net::TcpStream::connect(&address).expect("connects"))
        .collect();
    let signer = Signer::new(SECRET.as_bytes()).expect("secret");
    let token = signer.sign_short(&breves::unsubscribe::Token {
        list: "essai".into(),
        address: breves::address::Key::from_text("m0@example.org"),
        section: None,
    });
    let url = format!("http://{address}/u/{token}");
    let (status, page) = http("POST", &url, "List-Unsubscribe=One-Click");
    assert_eq!(status, 200, "{page}");
    drop(idle);

    // A body larger than any form, and headers larger than any browser's.
    let huge = "x".repeat(100_000);
    let (status, _) = http("POST", &url, &huge);
    assert_eq!(status, 413);
    let (status, _) = http_with(
        "GET",
        &url,
        "",
        &format!("X-Pad: {}\r\n", "y".repeat(20_000)),
    );
    assert_eq!(status, 431);
}

#[test]
fn a_reader_chooses_their_sections_on_their_own_page_and_the_next_send_follows() {
    const SECRET: &str = "the secret shared by send and server";
    let dir = tempdir();
    let list = dir.path().join("list.toml");
    fs::write(
        &list,
        "[list]\nid = \"essai\"\nfrom = \"Essai <breves@example.fr>\"\n\
         unsubscribe_url = \"https://breves.example.fr/desabonnement\"\n\
         topics = { cybersecurite = \"Cybersécurité\", spatial = \"Spatial\" }\n\
         [[member]]\nemail = \"a@example.org\"\ninterests = [\"spatial\"]\n\
         [[member]]\nemail = \"b@example.org\"\ninterests = [\"spatial\"]\n",
    )
    .expect("list");
    let ledger = dir.path().join("ledger.sqlite3");
    let port = common::smtp::free_port();
    let _server = unsubscribe_server(port, &ledger, &list, SECRET);
    let signer = Signer::new(SECRET.as_bytes()).expect("secret");
    let page_of = |address: &str| {
        let token = signer.sign_short(&breves::unsubscribe::Token {
            list: "essai".into(),
            address: breves::address::Key::from_text(address),
            section: None,
        });
        format!("http://127.0.0.1:{port}/desabonnement/{token}/gerer")
    };
    // The page shows the sections as the next send would serve them.
    let (status, page) = http("GET", &page_of("a@example.org"), "");
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains(r#"<input type="checkbox" name="section" value="cybersecurite">"#)
            && page.contains(r#"<input type="checkbox" name="section" value="spatial" checked>"#),
        "{page}"
    );
    // The reader's page and the unsubscription page are valid HTML.
    let unsubscribe_page = http(
        "GET",
        page_of("a@example.org").trim_end_matches("/gerer"),
        "",
    )
    .1;
    let mut pages = Vec::new();
    for (name, response) in [
        ("manage.html", &page),
        ("unsubscribe.html", &unsubscribe_page),
    ] {
        let body = response.split_once("\r\n\r\n").expect("a body").1;
        let path = dir.path().join(name);
        fs::write(&path, body).expect("page");
        pages.push(path);
    }
    assert_eq!(crate::validators::nu_errors(&pages), "");
    // A browser's request from another site is refused.
    let (status, _) = http_with(
        "POST",
        &page_of("a@example.org"),
        "section=cybersecurite&action=choose",
        "Sec-Fetch-Site: cross-site\r\n",
    );
    assert_eq!(status, 403);
    // a takes cybersecurity on; b leaves.
    let (status, page) = http(
        "POST",
        &page_of("a@example.org"),
        "section=cybersecurite&section=spatial&action=choose",
    );
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("C’est enregistré"), "{page}");
    let (status, page) = http("POST", &page_of("b@example.org"), "action=leave");
    assert_eq!(status, 200, "{page}");
    let (status, page) = http("GET", &page_of("b@example.org"), "");
    assert_eq!(status, 200);
    assert!(page.contains("Vous n’êtes plus abonné"), "{page}");
    // The next dry run follows: a's digest has both sections, b gets none.
    let out = tempdir();
    let run = breves_with(
        [
            "send",
            common::ISSUE,
            "--subscribers",
            list.to_str().expect("utf-8"),
            "--dry-run",
            out.path().to_str().expect("utf-8"),
            "--ledger",
            ledger.to_str().expect("utf-8"),
        ],
        &[],
    );
    assert_eq!(run.code, 0, "{run:?}");
    let files = eml_files(out.path());
    assert_eq!(files.len(), 1, "{files:?}");
    let bytes = fs::read(&files[0]).expect("eml");
    let text = parse(&bytes).body_text(0).expect("text").into_owned();
    assert!(
        text.contains("CYBERSÉCURITÉ") && text.contains("SPATIAL"),
        "{text}"
    );
}

#[test]
fn a_reader_who_joined_and_confirmed_is_served_their_sections_and_their_consent_is_kept() {
    use breves::address::Key;
    use breves::ledger::subscriptions::Request;
    let dir = tempdir();
    let list = dir.path().join("list.toml");
    fs::write(
        &list,
        "[list]\nid = \"essai\"\nfrom = \"Essai <breves@example.fr>\"\n\
         topics = { cybersecurite = \"Cybersécurité\", spatial = \"Spatial\" }\n\
         [[member]]\nemail = \"a@example.org\"\ninterests = [\"spatial\"]\n",
    )
    .expect("list");
    let ledger_path = dir.path().join("ledger.sqlite3");
    let ledger = breves::ledger::Ledger::open(&ledger_path).expect("ledger");
    let sections = ["cybersecurite".to_owned()];
    let consent = "J’accepte de recevoir Brèves numériques à cette adresse.";
    for (address, confirm) in [
        ("nouvelle@example.org", true),
        ("attente@example.org", false),
    ] {
        let key = Key::from_text(address);
        let request = Request {
            name: Some("Nouvelle Lectrice"),
            sections: &sections,
            consent,
            evidence: "https://breves.example.fr/desabonnement/abonnement",
            code: "c0de",
        };
        assert!(
            ledger
                .request_subscription("essai", &key, &request)
                .expect("request")
        );
        if confirm {
            assert!(ledger.confirm_subscription("essai", &key).expect("confirm"));
        }
    }
    drop(ledger);
    let path = |p: &std::path::Path| p.to_str().expect("utf-8").to_owned();
    // The next dry run serves the file's member and the confirmed reader,
    // with the section she chose; the unconfirmed request is on no list.
    let out = tempdir();
    let run = breves_with(
        [
            "send".to_owned(),
            common::ISSUE.to_owned(),
            "--subscribers".to_owned(),
            path(&list),
            "--dry-run".to_owned(),
            path(out.path()),
            "--ledger".to_owned(),
            path(&ledger_path),
        ],
        &[],
    );
    assert_eq!(run.code, 0, "{run:?}");
    let names: Vec<String> = eml_files(out.path())
        .iter()
        .map(|p| p.file_name().expect("name").to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        ["a_at_example.org.eml", "nouvelle_at_example.org.eml"],
        "{run:?}"
    );
    let bytes = fs::read(out.path().join("nouvelle_at_example.org.eml")).expect("eml");
    let message = parse(&bytes);
    let text = message.body_text(0).expect("text").into_owned();
    assert!(
        text.contains("CYBERSÉCURITÉ") && !text.contains("\nSPATIAL\r\n"),
        "{text}"
    );
    assert!(
        message
            .to()
            .and_then(|t| t.first())
            .and_then(|a| a.name())
            .is_some_and(|n| n == "Nouvelle Lectrice")
    );
    // What is held about her says when and how she consented.
    let show = breves_with(
        [
            "subscribers".to_owned(),
            "show".to_owned(),
            "nouvelle@example.org".to_owned(),
            "--subscribers".to_owned(),
            path(&list),
            "--ledger".to_owned(),
            path(&ledger_path),
        ],
        &[],
    );
    assert!(
        show.stdout.contains("  not in the list file\n")
            && show
                .stdout
                .contains("(https://breves.example.fr/desabonnement/abonnement), confirmed on ")
            && show.stdout.contains(&format!("consenting to: {consent}\n")),
        "{show:?}"
    );
    // The export folds her into the file.
    let export = breves_with(
        [
            "subscribers".to_owned(),
            "export".to_owned(),
            "--subscribers".to_owned(),
            path(&list),
            "--ledger".to_owned(),
            path(&ledger_path),
        ],
        &[],
    );
    assert_eq!(
        export.stdout,
        "email,name,interests\na@example.org,,spatial\nnouvelle@example.org,Nouvelle Lectrice,cybersecurite\n",
        "{export:?}"
    );
}
