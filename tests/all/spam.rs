//! What a mailbox provider's filter sees: SpamAssassin (local tests, Bayes
//! off) scores each digest no higher than the same words sent as a plain,
//! unstyled message, so that nothing in breves' own structure (the hidden
//! preview line, the inlined styles, the layout tables) adds to the score.

use crate::common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::{dry_run, eml_files, parse, tempdir};

/// SpamAssassin's score of a message, and the rules it matched.
fn score(message: &[u8]) -> (f64, String) {
    let mut child = Command::new("spamassassin")
        .args(["-L", "--cf", "use_bayes 0", "--cf", "report_safe 0"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spamassassin (Debian package spamassassin; the test command installs it)");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(message)
        .expect("the message given");
    let out = child.wait_with_output().expect("spamassassin ran");
    let text = String::from_utf8_lossy(&out.stdout);
    let status: String = text
        .lines()
        .skip_while(|l| !l.starts_with("X-Spam-Status:"))
        .take_while(|l| l.starts_with("X-Spam-Status:") || l.starts_with(char::is_whitespace))
        .collect::<Vec<_>>()
        .join(" ");
    let score = status
        .split("score=")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no score in spamassassin's output: {text}"));
    (score, status)
}

/// The same message with its HTML part made plain: each paragraph of the
/// text part in a `<p>`, no style, no table, no hidden preview line. The
/// headers and the text part are kept as they are.
fn plain_twin(message: &[u8]) -> Vec<u8> {
    let parsed = parse(message);
    let text = parsed
        .body_text(0)
        .expect("a text part")
        .replace("\r\n", "\n");
    let escaped = text
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    let paragraphs: String = escaped
        .split("\n\n")
        .map(|p| format!("<p>{}</p>\n", p.trim()))
        .collect();
    let html = format!(
        "<!DOCTYPE html>\n<html lang=\"fr\"><head><meta charset=\"utf-8\"><title>{}</title></head><body>\n{paragraphs}</body></html>\n",
        parsed.subject().unwrap_or_default()
    );
    let raw = String::from_utf8_lossy(message);
    let head_end = raw.find("\r\n\r\n").expect("the headers end");
    // The headers but Content-Type (and its folded lines).
    let mut headers = String::new();
    let mut skipping = false;
    for line in raw[..head_end].split("\r\n") {
        if line.starts_with(char::is_whitespace) {
            if !skipping {
                headers.push_str(line);
                headers.push_str("\r\n");
            }
            continue;
        }
        skipping = line.to_ascii_lowercase().starts_with("content-type:");
        if !skipping {
            headers.push_str(line);
            headers.push_str("\r\n");
        }
    }
    let qp = |s: &str| {
        String::from_utf8(quoted_printable::encode(s.replace('\n', "\r\n"))).expect("ASCII")
    };
    format!(
        "{headers}Content-Type: multipart/alternative; boundary=\"=_plain\"\r\n\r\n\
         --=_plain\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n{}\r\n\
         --=_plain\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n{}\r\n\
         --=_plain--\r\n",
        qp(&text),
        qp(&html)
    )
    .into_bytes()
}

#[test]
fn a_digest_scores_no_higher_than_its_words_in_a_plain_message() {
    let dir = tempdir();
    dry_run(dir.path());
    let files = eml_files(dir.path());
    // The largest digest (every section) and the smallest: a full
    // SpamAssassin run takes a second or two.
    let mut by_size: Vec<(u64, &std::path::PathBuf)> = files
        .iter()
        .map(|f| (std::fs::metadata(f).expect("a file").len(), f))
        .collect();
    by_size.sort();
    let chosen = [by_size[0].1, by_size[by_size.len() - 1].1];
    for file in chosen {
        let digest = std::fs::read(file).expect("readable");
        let twin = plain_twin(&digest);
        assert!(
            parse(&twin).body_text(0) == parse(&digest).body_text(0),
            "the twin of {file:?} says the same words"
        );
        let (styled, styled_rules) = score(&digest);
        let (plain, plain_rules) = score(&twin);
        assert!(
            styled <= plain,
            "{file:?} scores {styled} ({styled_rules}) against {plain} for its words in a plain message ({plain_rules})"
        );
        assert!(
            !styled_rules.contains("HTML_FONT_LOW_CONTRAST"),
            "{styled_rules}"
        );
    }
}
