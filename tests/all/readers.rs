//! Readers who join, choose and leave by themselves, in a real browser
//! (headless Chromium) against `breves serve`, its confirmation messages
//! caught by a real SMTP server (Postfix's smtp-sink), each step followed
//! by the next send.

use crate::common;

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::browser::Browser;
use common::smtp::{Server, free_port, smtp_sink};
use common::{breves_with, eml_files, parse, tempdir};

use crate::unsubscribe::{Child, http, http_with};

const SECRET: &str = "the secret shared by send and server";
const CONSENT: &str = "J’accepte de recevoir les Brèves numériques à cette adresse.";

/// A list with a subscription form, its server and the relay its
/// confirmations go through.
struct Desk {
    dir: tempfile::TempDir,
    list: PathBuf,
    ledger: PathBuf,
    port: u16,
    sink: Server,
    _server: Child,
}

impl Desk {
    fn start() -> Desk {
        Desk::start_with(|_| Vec::new())
    }

    /// The same, the server given more arguments (made in its folder).
    fn start_with(more: impl FnOnce(&Path) -> Vec<String>) -> Desk {
        Desk::start_on(|dir| dir.join("ledger.sqlite3"), more)
    }

    /// The same, the ledger where `ledger` says (a file of the folder, or
    /// a database).
    fn start_on(
        ledger: impl FnOnce(&Path) -> PathBuf,
        more: impl FnOnce(&Path) -> Vec<String>,
    ) -> Desk {
        let dir = tempdir();
        let port = free_port();
        let list = dir.path().join("list.toml");
        fs::write(
            &list,
            format!(
                "[list]\nid = \"essai\"\nname = \"Brèves d’essai\"\nfrom = \"Essai <breves@example.fr>\"\n\
                 unsubscribe_url = \"http://127.0.0.1:{port}/desabonnement\"\n\
                 subscribe_url = \"http://127.0.0.1:{port}/abonnement\"\n\
                 consent = \"{CONSENT}\"\n\
                 topics = {{ cybersecurite = \"Cybersécurité\", spatial = \"Spatial\", donnees-ia = \"Données et IA\" }}\n\
                 [[member]]\nemail = \"a@example.org\"\n"
            ),
        )
        .expect("list");
        let ledger = ledger(dir.path());
        let sink = smtp_sink(&[]);
        let mut args = vec!["--smtp".to_owned(), sink.plain_url()];
        args.extend(more(dir.path()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let server =
            crate::unsubscribe::unsubscribe_server_with(port, &ledger, &list, SECRET, &args);
        Desk {
            dir,
            list,
            ledger,
            port,
            sink,
            _server: server,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// The confirmation messages `address` received.
    fn confirmations(&self, address: &str) -> Vec<Vec<u8>> {
        self.sink
            .messages()
            .into_iter()
            .filter(|(to, bytes)| {
                to == address
                    && parse(bytes)
                        .subject()
                        .is_some_and(|s| s.starts_with("Confirmez"))
            })
            .map(|(_, bytes)| bytes)
            .collect()
    }

    /// Waits until `address` has received `n` messages.
    fn wait_for_messages(&self, address: &str, n: usize) -> Vec<Vec<u8>> {
        let start = Instant::now();
        loop {
            let messages = self.confirmations(address);
            if messages.len() >= n {
                return messages;
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "{address} received {} message(s), not {n}",
                messages.len()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The next dry run: each recipient's address and the sections of
    /// their digest, by address.
    fn next_send(&self) -> Vec<(String, Vec<String>)> {
        self.next_send_saying().1
    }

    /// The same, with what it printed.
    fn next_send_saying(&self) -> (String, Vec<(String, Vec<String>)>) {
        let out = tempdir();
        let run = self.send(&["--dry-run", out.path().to_str().expect("utf-8")]);
        let sent = eml_files(out.path())
            .iter()
            .map(|file| {
                let bytes = fs::read(file).expect("eml");
                let message = parse(&bytes);
                let to = message
                    .to()
                    .and_then(|t| t.first())
                    .and_then(|a| a.address())
                    .expect("a recipient")
                    .to_owned();
                (to, sections_of(&message.body_html(0).expect("html")))
            })
            .collect();
        (run.stdout, sent)
    }

    /// What `breves check` says of the issue, the list and the ledger.
    fn check(&self) -> String {
        let run = breves_with(
            [
                "check",
                common::ISSUE,
                "--subscribers",
                self.list.to_str().expect("utf-8"),
                "--ledger",
                self.ledger.to_str().expect("utf-8"),
            ],
            &[],
        );
        assert_eq!(run.code, 0, "{run:?}");
        run.stderr
    }
}

/// The ids of a digest's sections, in order.
fn sections_of(html: &str) -> Vec<String> {
    html.split(r#"class="section-title" id=""#)
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(str::to_owned)
        .collect()
}

/// What the browser shows: the page's title, once loaded.
fn title(browser: &mut Browser) -> String {
    browser
        .wait_for(
            "document.readyState === 'complete' && document.querySelector('h1') && document.title",
            20,
        )
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// Goes to `url` and waits for its page.
fn go(browser: &mut Browser, url: &str) -> String {
    browser.eval(&format!("location.href = {url:?}; true"));
    browser.wait_for(&format!("location.href === {url:?}"), 20);
    title(browser)
}

/// Fills the subscription form as a reader would and sends it; the title
/// of the page that answers.
fn subscribe(browser: &mut Browser, email: &str, name: &str, sections: &[&str]) -> String {
    let script = format!(
        "document.querySelectorAll('input[name=section]').forEach(b => b.checked = {sections:?}.includes(b.value));
         document.getElementById('email').value = {email:?};
         document.getElementById('name').value = {name:?};
         document.querySelector('input[name=consent]').checked = true;
         document.querySelector('form button[type=submit]').click();
         true"
    );
    browser.eval(&script);
    browser.wait_for(
        "document.title !== '' && !document.title.startsWith('S’abonner')",
        20,
    );
    title(browser)
}

/// The token of a form page.
fn form_token(page: &str) -> String {
    page.split(r#"name="jeton" value=""#)
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("a form token")
        .to_owned()
}

/// The confirmation link of a message.
fn link_in(message: &[u8]) -> String {
    let text = parse(message).body_text(0).expect("text").into_owned();
    text.lines()
        .find(|l| l.contains("/abonnement/confirmer/"))
        .unwrap_or_else(|| panic!("no link in {text}"))
        .trim()
        .to_owned()
}

/// The lowest contrast of any text on the page against its background.
const LOWEST_CONTRAST: &str = r"(() => {
  const rgba = c => (c.match(/[\d.]+/g) || []).map(Number);
  const lum = c => { const [r, g, b] = rgba(c).slice(0, 3).map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); }); return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  const bg = el => { for (let e = el; e; e = e.parentElement) { const c = getComputedStyle(e).backgroundColor; const a = rgba(c)[3]; if (a === undefined || a > 0) return c; } return 'rgb(255, 255, 255)'; };
  let lowest = 99;
  for (const el of document.querySelectorAll('body *')) {
    if (el.getClientRects().length === 0 || el.closest('[aria-hidden=true]')) continue;
    if (!Array.from(el.childNodes).some(n => n.nodeType === 3 && n.textContent.trim())) continue;
    const [x, y] = [lum(getComputedStyle(el).color), lum(bg(el))].sort((p, q) => q - p);
    lowest = Math.min(lowest, (x + 0.05) / (y + 0.05));
  }
  return lowest;
})()";

#[test]
fn a_reader_joins_in_a_browser_confirms_from_the_message_and_the_next_send_serves_them() {
    let desk = Desk::start();
    // A phone's width.
    let mut browser = Browser::open(&desk.url("/abonnement"), 390);
    assert_eq!(title(&mut browser), "S’abonner à « Brèves d’essai »");
    // Every section ticked by default, the consent sentence shown.
    let ticked = browser.eval("Array.from(document.querySelectorAll('input[name=section]')).map(b => b.value + ':' + b.checked).join(' ')");
    assert_eq!(
        ticked.as_ref().and_then(|v| v.as_str()),
        Some("cybersecurite:true spatial:true donnees-ia:true")
    );
    let body = browser.eval("document.body.innerText").expect("text");
    assert!(body.as_str().is_some_and(|t| t.contains(CONSENT)), "{body}");
    let lowest = browser.eval(LOWEST_CONTRAST).expect("contrast");
    assert!(
        lowest.as_f64().is_some_and(|r| r >= 4.5),
        "contrast {lowest}"
    );
    let overflow = browser.eval("document.documentElement.scrollWidth <= window.innerWidth");
    assert_eq!(
        overflow,
        Some(serde_json::Value::Bool(true)),
        "reads on a phone"
    );

    let answer = subscribe(
        &mut browser,
        "nouvelle@example.org",
        "Nouvelle Lectrice",
        &["cybersecurite", "spatial"],
    );
    assert_eq!(answer, "Vérifiez votre messagerie");
    let messages = desk.wait_for_messages("nouvelle@example.org", 1);
    let message = parse(&messages[0]);
    assert_eq!(
        message
            .from()
            .and_then(|f| f.first())
            .and_then(|a| a.address()),
        Some("breves@example.fr")
    );
    assert_eq!(
        message.subject(),
        Some("Confirmez votre abonnement à « Brèves d’essai »")
    );
    let text = message.body_text(0).expect("text");
    assert!(
        text.replace("\r\n", "\n")
            .contains("  - Cybersécurité\n  - Spatial\n")
            && !text.contains("Données et IA"),
        "{text}"
    );
    let link = link_in(&messages[0]);
    assert!(
        link.starts_with(&desk.url("/abonnement/confirmer/")),
        "{link}"
    );
    assert!(!link.contains("nouvelle"), "no address in a link: {link}");

    // Until confirmed, she is on no list.
    assert_eq!(
        desk.next_send(),
        [("a@example.org".to_owned(), every_section())]
    );
    // Opening the link shows a button; only the button confirms.
    assert_eq!(go(&mut browser, &link), "Confirmer votre abonnement");
    assert_eq!(
        desk.next_send().len(),
        1,
        "opening the link confirms nothing"
    );
    browser.eval("document.querySelector('form button').click(); true");
    browser.wait_for("document.title === 'Vous êtes abonné'", 20);
    let (said, sent) = desk.next_send_saying();
    assert!(
        said.starts_with(
            "1 recipient(s) from the list file, 1 who joined by themselves (breves serve).\n"
        ),
        "{said}"
    );
    assert!(
        desk.check().ends_with("\nReaders: 1 in the list file, 1 who joined by themselves, 0 waiting for their confirmation.\n"),
        "{}",
        desk.check()
    );
    assert_eq!(
        sent,
        [
            ("a@example.org".to_owned(), every_section()),
            (
                "nouvelle@example.org".to_owned(),
                sections(&["cybersecurite", "spatial"])
            ),
        ]
    );

    // Every page passes the Nu HTML checker.
    let form = http("GET", &desk.url("/abonnement"), "").1;
    let token = form_token(&form);
    let mut pages = Vec::new();
    for (name, response) in [
        ("form.html", form),
        ("confirm.html", http("GET", &link, "").1),
        ("confirmed.html", http("POST", &link, "").1),
        (
            "problem.html",
            http("POST", &desk.url("/abonnement"), "email=x%40example.org").1,
        ),
        (
            "check.html",
            http(
                "POST",
                &desk.url("/abonnement"),
                &format!("section=spatial&email=x%40example.org&consent=oui&jeton={token}&site=x"),
            )
            .1,
        ),
    ] {
        let (head, body) = response.split_once("\r\n\r\n").expect("a body");
        // Nothing loaded from elsewhere, no cookie, nothing counted.
        assert!(!head.to_ascii_lowercase().contains("set-cookie"), "{head}");
        assert!(
            !["<script", "<img", "<link", "<iframe", "src="]
                .iter()
                .any(|tag| body.contains(tag)),
            "{body}"
        );
        let path = desk.dir.path().join(name);
        fs::write(&path, body).expect("page");
        pages.push(path);
    }
    assert_eq!(crate::validators::nu_errors(&pages), "");
}

/// The issue's sections, in its order.
const ISSUE_SECTIONS: [&str; 6] = [
    "economie-numerique",
    "donnees-ia",
    "cybersecurite",
    "spatial",
    "nouvelles-technologies",
    "ecosysteme-tech",
];

/// What a member of the file without interests receives.
fn every_section() -> Vec<String> {
    sections(&ISSUE_SECTIONS)
}

/// These sections, in the issue's order.
fn sections(ids: &[&str]) -> Vec<String> {
    ISSUE_SECTIONS
        .iter()
        .filter(|id| ids.contains(id))
        .map(|id| (*id).to_owned())
        .collect()
}

#[test]
fn a_request_is_mailed_once_an_hour_and_a_bad_link_or_form_does_nothing() {
    let desk = Desk::start();
    let mut browser = Browser::open(&desk.url("/abonnement"), 1000);
    title(&mut browser);
    assert_eq!(
        subscribe(&mut browser, "attente@example.org", "", &["spatial"]),
        "Vérifiez votre messagerie"
    );
    desk.wait_for_messages("attente@example.org", 1);
    // A second request within the hour: the same answer, no message.
    assert_eq!(
        go(&mut browser, &desk.url("/abonnement")),
        "S’abonner à « Brèves d’essai »"
    );
    assert_eq!(
        subscribe(&mut browser, "attente@example.org", "", &["cybersecurite"]),
        "Vérifiez votre messagerie"
    );
    // A member of the file asking again: the same answer, no message
    // (nobody learns from the page who is on the list).
    assert_eq!(
        go(&mut browser, &desk.url("/abonnement")),
        "S’abonner à « Brèves d’essai »"
    );
    assert_eq!(
        subscribe(&mut browser, "a@example.org", "", &["spatial"]),
        "Vérifiez votre messagerie"
    );
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(desk.confirmations("attente@example.org").len(), 1);
    assert!(desk.confirmations("a@example.org").is_empty());

    // A forged link (one character changed) and an expired one.
    let link = link_in(&desk.confirmations("attente@example.org")[0]);
    let last = link.chars().last().expect("a token");
    let forged = format!(
        "{}{}",
        &link[..link.len() - 1],
        if last == 'A' { 'B' } else { 'A' }
    );
    let (status, page) = http("POST", &forged, "");
    assert_eq!(status, 400, "{page}");
    let signer = breves::unsubscribe::Signer::new(SECRET.as_bytes()).expect("secret");
    let expired = signer.confirm_token(
        "essai",
        &breves::address::Key::from_text("attente@example.org"),
        std::time::SystemTime::now() - Duration::from_secs(1),
    );
    let (status, page) = http(
        "POST",
        &desk.url(&format!("/abonnement/confirmer/{expired}")),
        "",
    );
    assert_eq!(status, 410, "{page}");
    assert!(page.contains("Ce lien a expiré"), "{page}");
    assert!(
        desk.next_send()
            .iter()
            .all(|(to, _)| to != "attente@example.org")
    );
    assert!(
        desk.check().ends_with("\nReaders: 1 in the list file, 0 who joined by themselves, 1 waiting for their confirmation.\n"),
        "{}",
        desk.check()
    );

    // A form posted from another site, or without the form's token, or
    // by a robot that fills the hidden field: nothing is mailed.
    let token = form_token(&http("GET", &desk.url("/abonnement"), "").1);
    let fields = |email: &str, more: &str| {
        format!("section=spatial&email={email}&consent=oui&jeton={token}{more}")
    };
    let (status, _) = http_with(
        "POST",
        &desk.url("/abonnement"),
        &fields("autre%40example.org", ""),
        "Sec-Fetch-Site: cross-site\r\n",
    );
    assert_eq!(status, 403);
    let (status, page) = http(
        "POST",
        &desk.url("/abonnement"),
        "section=spatial&email=autre%40example.org&consent=oui&jeton=faux",
    );
    assert_eq!(status, 400, "{page}");
    let (status, page) = http(
        "POST",
        &desk.url("/abonnement"),
        &fields(
            "robot%40example.org",
            "&site=https%3A%2F%2Fspam.example.com",
        ),
    );
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Vérifiez votre messagerie"), "{page}");
    // The same form, rightly posted, is taken.
    let (status, _) = http(
        "POST",
        &desk.url("/abonnement"),
        &fields("autre%40example.org", ""),
    );
    assert_eq!(status, 200);
    desk.wait_for_messages("autre@example.org", 1);
    std::thread::sleep(Duration::from_secs(1));
    assert!(desk.confirmations("robot@example.org").is_empty());

    // Five requests so far from this client; the eleventh within the
    // hour is refused, whatever the address.
    for n in 6..=10 {
        let (status, page) = http(
            "POST",
            &desk.url("/abonnement"),
            &fields(&format!("n{n}%40example.org"), "&site=x"),
        );
        assert_eq!(status, 200, "request {n}: {page}");
    }
    let (status, page) = http(
        "POST",
        &desk.url("/abonnement"),
        &fields("n11%40example.org", ""),
    );
    assert_eq!(status, 429, "{page}");
    assert!(
        page.contains("retry-after: ") && page.contains("Trop de demandes"),
        "{page}"
    );
}

/// The line after the first line of `text` that contains `marker`.
fn line_after(text: &str, marker: &str) -> String {
    let mut lines = text.lines().skip_while(|l| !l.contains(marker));
    lines.next();
    lines
        .next()
        .unwrap_or_else(|| panic!("nothing after {marker:?} in {text}"))
        .trim()
        .to_owned()
}

impl Desk {
    /// Joins `address` with `sections` (the form posted as a browser
    /// would, then the confirmation's button).
    fn join(&self, address: &str, sections: &[&str]) {
        let token = form_token(&http("GET", &self.url("/abonnement"), "").1);
        let mut body = format!(
            "email={}&consent=oui&jeton={token}",
            address.replace('@', "%40")
        );
        for section in sections {
            body.push_str(&format!("&section={section}"));
        }
        let (status, page) = http("POST", &self.url("/abonnement"), &body);
        assert_eq!(status, 200, "{page}");
        let link = link_in(&self.wait_for_messages(address, 1)[0]);
        let (status, page) = http("POST", &link, "");
        assert_eq!(status, 200, "{page}");
    }

    /// `breves send` of the issue to the list with the ledger, to
    /// `destination` (a dry run, a relay).
    fn send(&self, destination: &[&str]) -> common::Run {
        let mut args = vec![
            "send",
            common::ISSUE,
            "--subscribers",
            self.list.to_str().expect("utf-8"),
            "--ledger",
            self.ledger.to_str().expect("utf-8"),
        ];
        args.extend(destination);
        let run = breves_with(args, &[("BREVES_UNSUBSCRIBE_SECRET", SECRET)]);
        assert_eq!(run.code, 0, "{run:?}");
        run
    }

    /// A real send, then `address` (who receives Cybersécurité and
    /// Spatial) stops Spatial from its digest's link, and the next send
    /// follows: the text part of that digest.
    fn stops_spatial(&self, address: &str) -> String {
        let text = self.send_to(address);
        let spatial = line_after(
            &text,
            "Ne plus recevoir la rubrique «\u{202f}Spatial\u{202f}»",
        );
        let (status, page) = http("POST", &spatial, "List-Unsubscribe=One-Click");
        assert_eq!(status, 200, "{page}");
        assert_eq!(
            self.next_send()
                .into_iter()
                .find(|(to, _)| to == address)
                .map(|(_, s)| s),
            Some(sections(&["cybersecurite"]))
        );
        text
    }

    /// A real send of the issue through the sink: the text part of the
    /// digest `address` received.
    fn send_to(&self, address: &str) -> String {
        self.send(&["--smtp", &self.sink.plain_url(), "--yes"]);
        let digest = self
            .sink
            .messages()
            .into_iter()
            .find(|(to, bytes)| {
                to == address
                    && parse(bytes)
                        .subject()
                        .is_some_and(|s| !s.starts_with("Confirmez"))
            })
            .unwrap_or_else(|| panic!("no digest for {address}"))
            .1;
        parse(&digest).body_text(0).expect("text").into_owned()
    }
}

#[test]
fn a_reader_changes_their_sections_from_a_digest_then_leaves_and_one_forgotten_leaves_no_trace() {
    let desk = Desk::start();
    desk.join("nouvelle@example.org", &["cybersecurite", "spatial"]);
    desk.join("deuxieme@example.org", &["donnees-ia"]);
    let text = desk.stops_spatial("nouvelle@example.org");

    // Then, on her page: Spatial back, Cybersécurité off, Données et IA on.
    let manage = line_after(&text, "Pour choisir vos rubriques ou vous désabonner");
    assert!(
        manage.ends_with("/gerer") && !manage.contains("nouvelle"),
        "{manage}"
    );
    let mut browser = Browser::open(&manage, 390);
    assert_eq!(title(&mut browser), "Gérer mon abonnement");
    let ticked = browser.eval("Array.from(document.querySelectorAll('input[name=section]')).map(b => b.value + ':' + b.checked).join(' ')");
    assert_eq!(
        ticked.as_ref().and_then(|v| v.as_str()),
        Some("cybersecurite:true spatial:false donnees-ia:false"),
        "the section stopped shows unticked"
    );
    let lowest = browser.eval(LOWEST_CONTRAST).expect("contrast");
    assert!(
        lowest.as_f64().is_some_and(|r| r >= 4.5),
        "contrast {lowest}"
    );
    browser.eval(
        "document.querySelectorAll('input[name=section]').forEach(b => b.checked = b.value !== 'cybersecurite');
         document.querySelector('button[value=choose]').click(); true",
    );
    browser.wait_for("document.title === 'C’est enregistré'", 20);
    assert_eq!(
        desk.next_send(),
        [
            ("a@example.org".to_owned(), every_section()),
            ("deuxieme@example.org".to_owned(), sections(&["donnees-ia"])),
            (
                "nouvelle@example.org".to_owned(),
                sections(&["donnees-ia", "spatial"])
            ),
        ]
    );

    // She leaves from the same page.
    assert_eq!(go(&mut browser, &manage), "Gérer mon abonnement");
    browser.eval("document.querySelector('button[value=leave]').click(); true");
    browser.wait_for("document.title === 'C’est fait'", 20);
    assert!(
        desk.next_send()
            .iter()
            .all(|(to, _)| to != "nouvelle@example.org")
    );

    // The other asks to be forgotten: no byte of her address is left in
    // the ledger's files, and the next send does not mail her.
    let run = breves_with(
        [
            "subscribers",
            "forget",
            "deuxieme@example.org",
            "--subscribers",
            desk.list.to_str().expect("utf-8"),
            "--ledger",
            desk.ledger.to_str().expect("utf-8"),
        ],
        &[],
    );
    assert_eq!(run.code, 0, "{run:?}");
    for entry in fs::read_dir(desk.dir.path()).expect("folder") {
        let path = entry.expect("entry").path();
        if path.to_string_lossy().contains("ledger.sqlite3") {
            let bytes = fs::read(&path).expect("ledger file");
            assert!(
                !bytes.windows(8).any(|w| w == b"deuxieme"),
                "{} still holds her address",
                path.display()
            );
        }
    }
    assert_eq!(
        desk.next_send(),
        [("a@example.org".to_owned(), every_section())]
    );
}

#[test]
fn the_confirmation_is_signed_as_the_digests_are() {
    let mut record = String::new();
    let desk = Desk::start_with(|dir| {
        let (key, published) = crate::dkim::rsa_key(dir);
        record = published;
        vec![
            "--dkim-key".to_owned(),
            key,
            "--dkim-selector".to_owned(),
            "breves2026".to_owned(),
        ]
    });
    let token = form_token(&http("GET", &desk.url("/abonnement"), "").1);
    let (status, _) = http(
        "POST",
        &desk.url("/abonnement"),
        &format!("section=spatial&email=signee%40example.org&consent=oui&jeton={token}"),
    );
    assert_eq!(status, 200);
    let message = desk.wait_for_messages("signee@example.org", 1).remove(0);
    let path = desk.dir.path().join("confirmation.eml");
    fs::write(&path, &message).expect("written");
    assert!(crate::dkim::verify(&path, &record), "dkimpy verifies it");
    let text = String::from_utf8_lossy(&message);
    assert!(
        text.contains("d=example.fr") && text.contains("s=breves2026"),
        "{text}"
    );
    // One byte changed in its body: the signature no longer holds.
    let changed = text.replacen("Bonjour", "Bonsoir", 1);
    fs::write(&path, changed).expect("written");
    assert!(!crate::dkim::verify(&path, &record));
}

#[test]
fn readers_join_and_leave_the_same_with_the_ledger_in_postgresql() {
    let desk = Desk::start_on(
        |_| PathBuf::from(common::postgres::database()),
        |_| Vec::new(),
    );
    desk.join("nouvelle@example.org", &["cybersecurite", "spatial"]);
    assert_eq!(
        desk.next_send(),
        [
            ("a@example.org".to_owned(), every_section()),
            (
                "nouvelle@example.org".to_owned(),
                sections(&["cybersecurite", "spatial"])
            ),
        ]
    );
    // She stops a section, then leaves, from a real send's links.
    let text = desk.stops_spatial("nouvelle@example.org");
    let leave = line_after(&text, "Pour choisir vos rubriques ou vous désabonner");
    let (status, page) = http("POST", &leave, "action=leave");
    assert_eq!(status, 200, "{page}");
    assert_eq!(
        desk.next_send(),
        [("a@example.org".to_owned(), every_section())]
    );
}
