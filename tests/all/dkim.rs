//! DKIM: every message signed, RSA-SHA256 or Ed25519-SHA256, verified by an
//! independent verifier (dkimpy) with the public key given by the test, not
//! looked up in DNS; and a message changed by one byte fails.

use crate::common;

use std::fs;
use std::path::Path;
use std::process::Command;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use common::{breves, eml_files, tempdir};

fn openssl(args: &[&str]) -> Vec<u8> {
    let out = Command::new("openssl")
        .args(args)
        .output()
        .expect("openssl (Debian package openssl) makes the test's keys");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// An RSA key: (the PKCS#1 PEM file breves reads, the DNS record).
pub(crate) fn rsa_key(dir: &Path) -> (String, String) {
    let key = dir.join("rsa.pem");
    let key_path = key.to_str().expect("utf-8");
    openssl(&["genrsa", "-traditional", "-out", key_path, "2048"]);
    let public = openssl(&["rsa", "-in", key_path, "-pubout", "-outform", "DER"]);
    (
        key_path.to_owned(),
        format!("v=DKIM1; k=rsa; p={}", STANDARD.encode(public)),
    )
}

/// An Ed25519 key: (a file with the base64 of its seed, the DNS record).
fn ed25519_key(dir: &Path) -> (String, String) {
    let pem = dir.join("ed.pem");
    let pem_path = pem.to_str().expect("utf-8");
    openssl(&["genpkey", "-algorithm", "ed25519", "-out", pem_path]);
    let private = openssl(&["pkey", "-in", pem_path, "-outform", "DER"]);
    let public = openssl(&["pkey", "-in", pem_path, "-pubout", "-outform", "DER"]);
    // The DER encodings end with the 32-byte seed and public key.
    let seed = &private[private.len() - 32..];
    let key = dir.join("ed.key");
    fs::write(&key, STANDARD.encode(seed)).expect("write key");
    (
        key.to_str().expect("utf-8").to_owned(),
        format!(
            "v=DKIM1; k=ed25519; p={}",
            STANDARD.encode(&public[public.len() - 32..])
        ),
    )
}

pub(crate) fn verify(message: &Path, record: &str) -> bool {
    let out = Command::new("python3")
        .arg(common::root().join("tests/support/dkim_verify.py"))
        .arg(message)
        .arg(record)
        .output()
        .expect(
            "python3 runs the verifier (it needs dkimpy and pynacl: pip install dkimpy pynacl)",
        );
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains("pass") || said.contains("fail"),
        "the verifier did not run: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.status.success()
}

/// A dry run of the shipped issue and list into `dir`, with `more`.
fn dry_run(dir: &Path, more: &[&str]) {
    let mut args = vec![
        "send",
        common::ISSUE,
        "--subscribers",
        common::LIST,
        "--dry-run",
        dir.to_str().expect("utf-8"),
    ];
    args.extend(more);
    let run = breves(args);
    assert!(run.ok(), "{run:?}");
}

fn signed_dry_run(key: &str, dir: &Path) {
    dry_run(dir, &["--dkim-key", key, "--dkim-selector", "breves2026"]);
}

#[test]
fn the_signing_domain_can_be_given() {
    let keys = tempdir();
    let (key, _) = ed25519_key(keys.path());
    let out = tempdir();
    let run = breves([
        "send",
        common::ISSUE,
        "--subscribers",
        common::LIST,
        "--dry-run",
        out.path().to_str().expect("utf-8"),
        "--dkim-key",
        &key,
        "--dkim-selector",
        "s1",
        "--dkim-domain",
        "lettres.example.fr",
    ]);
    assert!(run.ok(), "{run:?}");
    let text = fs::read_to_string(&eml_files(out.path())[0]).expect("message");
    assert!(text.contains("d=lettres.example.fr;"), "{text}");
}

fn check_all(key: &str, record: &str, algorithm: &str) {
    let out = tempdir();
    signed_dry_run(key, out.path());
    let files = eml_files(out.path());
    assert_eq!(files.len(), 11);
    for file in &files {
        let text = fs::read_to_string(file).expect("message");
        let header_start = text
            .find("DKIM-Signature:")
            .expect("a DKIM-Signature header");
        let header_end = text[header_start..]
            .find("\r\n")
            .map(|e| header_start + e)
            .expect("end");
        let mut header = text[header_start..header_end].to_owned();
        // Unfold continuation lines.
        let mut rest = &text[header_end + 2..];
        while rest.starts_with([' ', '\t']) {
            let end = rest.find("\r\n").expect("end");
            header.push_str(&rest[..end]);
            rest = &rest[end + 2..];
        }
        let header = header.to_lowercase().replace([' ', '\t'], "");
        assert!(
            header.contains(&format!("a={algorithm}-sha256")),
            "{header}"
        );
        assert!(
            header.contains("d=example.fr") && header.contains("s=breves2026"),
            "{header}"
        );
        for signed in [
            "from",
            "subject",
            "date",
            "message-id",
            "list-id",
            "list-unsubscribe",
            "list-unsubscribe-post",
        ] {
            let h = header
                .split("h=")
                .nth(1)
                .expect("h=")
                .split(';')
                .next()
                .expect("list");
            assert!(
                h.split(':').any(|n| n == signed),
                "{signed} is not signed: {h}"
            );
        }
        assert!(verify(file, record), "{file:?} does not verify");
    }
    // One byte of one body changed: the signature no longer holds.
    let file = &files[0];
    let mut bytes = fs::read(file).expect("message");
    let body = bytes
        .windows(4)
        .rposition(|w| w == b"\r\n\r\n")
        .expect("a body");
    let at = bytes[body..]
        .iter()
        .position(|b| b.is_ascii_lowercase())
        .expect("a letter")
        + body;
    bytes[at] = if bytes[at] == b'a' { b'b' } else { b'a' };
    let tampered = out.path().join("tampered.eml");
    fs::write(&tampered, &bytes).expect("write");
    assert!(!verify(&tampered, record), "a changed body still verifies");
}

#[test]
fn rsa_signatures_verify_and_break_when_the_body_changes() {
    let keys = tempdir();
    let (key, record) = rsa_key(keys.path());
    check_all(&key, &record, "rsa");
}

#[test]
fn ed25519_signatures_verify_and_break_when_the_body_changes() {
    let keys = tempdir();
    let (key, record) = ed25519_key(keys.path());
    check_all(&key, &record, "ed25519");
}

#[test]
fn a_key_breves_cannot_read_is_refused_clearly() {
    let keys = tempdir();
    let pkcs8 = keys.path().join("pkcs8.pem");
    openssl(&[
        "genpkey",
        "-algorithm",
        "RSA",
        "-out",
        pkcs8.to_str().expect("utf-8"),
    ]);
    let out = tempdir();
    let run = breves([
        "send",
        common::ISSUE,
        "--subscribers",
        common::LIST,
        "--dry-run",
        out.path().to_str().expect("utf-8"),
        "--dkim-key",
        pkcs8.to_str().expect("utf-8"),
        "--dkim-selector",
        "s",
    ]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("openssl pkey -traditional"), "{run:?}");
    let run = breves([
        "send",
        common::ISSUE,
        "--subscribers",
        common::LIST,
        "--dry-run",
        out.path().to_str().expect("utf-8"),
        "--dkim-key",
        pkcs8.to_str().expect("utf-8"),
    ]);
    assert!(run.stderr.contains("needs a selector"), "{run:?}");
}

#[test]
fn a_signed_letter_is_the_unsigned_one_with_its_signature_before_it() {
    // The same issue and list sent in dry runs unsigned, then signed
    // twice with one RSA key: each signed message is its unsigned twin
    // with one `DKIM-Signature` field before it, and a signed dry run,
    // dated by its issue, gives the same bytes each time.
    let keys = tempdir();
    let (key, record) = rsa_key(keys.path());
    let (unsigned, signed, again) = (tempdir(), tempdir(), tempdir());
    dry_run(unsigned.path(), &[]);
    signed_dry_run(&key, signed.path());
    signed_dry_run(&key, again.path());
    let files = eml_files(unsigned.path());
    assert_eq!(files.len(), 11);
    for file in &files {
        let name = file.file_name().expect("a name");
        let plain = fs::read(file).expect("unsigned");
        let sealed = fs::read(signed.path().join(name)).expect("signed");
        assert_eq!(
            sealed,
            fs::read(again.path().join(name)).expect("signed again"),
            "{name:?} differs between two signed runs"
        );
        let field = sealed
            .strip_suffix(&plain[..])
            .unwrap_or_else(|| panic!("{name:?}: the signed message is not the unsigned one"));
        let field = std::str::from_utf8(field).expect("ASCII");
        assert!(
            field.starts_with("DKIM-Signature: v=1; a=rsa-sha256;"),
            "{field}"
        );
        assert!(
            field
                .split_inclusive("\r\n")
                .skip(1)
                .all(|l| l.starts_with(' ')),
            "one field: {field}"
        );
        assert!(
            field.split("\r\n").all(|l| l.len() <= 78),
            "lines of at most 78 characters: {field}"
        );
    }
    assert!(verify(
        &signed.path().join(files[0].file_name().expect("name")),
        &record
    ));
}
