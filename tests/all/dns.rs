//! `breves check --dns`: the sending domain as a real DNS server (NSD,
//! started by the tests on loopback) publishes it, right and wrong in
//! every way the check knows.

use crate::common;

use std::fs;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use common::dns::{nsd, txt};
use common::{Run, breves, tempdir};

/// An Ed25519 key as `--dkim-key` takes it (the base64 of its seed), and
/// the TXT record that publishes it.
fn ed25519(seed: u8) -> (String, String) {
    let seed = [seed; 32];
    let b64 = base64::engine::general_purpose::STANDARD;
    let public = ed25519_dalek::SigningKey::from_bytes(&seed).verifying_key();
    (
        b64.encode(seed),
        format!("v=DKIM1; k=ed25519; p={}", b64.encode(public.to_bytes())),
    )
}

/// A list sending from `domain`, its bounces to `rebonds@domain`, signed
/// with the selector `s1`.
fn list(dir: &Path, domain: &str) -> PathBuf {
    let path = dir.join(format!("{domain}.toml"));
    fs::write(
        &path,
        format!(
            "[list]\nid = \"essai\"\nfrom = \"Essai <breves@{domain}>\"\nbounce_address = \"rebonds@{domain}\"\nunsubscribe_url = \"https://{domain}/desabonnement\"\ndkim_selector = \"s1\"\ntopics = {{ spatial = \"Spatial\" }}\n\n[[member]]\nemail = \"alice@example.net\"\n"
        ),
    )
    .expect("written");
    path
}

/// `check --dns` of the small issue with `list`, the relay at `smtp`, the
/// key in `key`, and `more`: what it printed, the folders left out.
fn check_dns(
    dns: &common::dns::Dns,
    dir: &Path,
    list: &Path,
    smtp: &str,
    key: &Path,
    more: &[&std::ffi::OsStr],
) -> (Run, String) {
    let mut args: Vec<&std::ffi::OsStr> = vec![
        "check".as_ref(),
        "--subscribers".as_ref(),
        list.as_os_str(),
        "--dns".as_ref(),
        "--smtp".as_ref(),
        smtp.as_ref(),
        "--dkim-key".as_ref(),
        key.as_os_str(),
    ];
    let server = dns.addr.to_string();
    args.extend(["--dns-server".as_ref(), server.as_ref() as &std::ffi::OsStr]);
    let issue = common::root().join("tests/fixtures/small/issue.toml");
    args.push(issue.as_os_str());
    args.extend(more);
    let run = breves(args);
    let shown = run
        .stderr
        .replace(&format!("{}/", dir.display()), "")
        .replace(&format!("{}/", common::root().display()), "");
    (run, shown)
}

/// The lines of what `check` printed that come from the DNS check.
fn dns_problems(shown: &str) -> Vec<&str> {
    shown
        .lines()
        .filter(|l| {
            (l.starts_with("error: ") || l.starts_with("warning: "))
                && ["SPF", "DKIM", "DMARC", "MX", "relay", "aligned"]
                    .iter()
                    .any(|w| l.contains(w))
        })
        .collect()
}

#[test]
fn a_domain_ready_to_send_passes_and_every_shortfall_is_said_with_what_to_publish() {
    let dir = tempdir();
    let (good_key, good_record) = ed25519(7);
    let (other_key, _) = ed25519(9);
    let (_, other_record) = ed25519(11);
    let key = |name: &str, text: &str| {
        let path = dir.path().join(name);
        fs::write(&path, text).expect("key");
        path
    };
    let good = key("good.key", &good_key);
    let other = key("other.key", &other_key);
    // example.fr is right; example.org is wrong in each way but absence;
    // example.com publishes nothing but an SPF record of too many lookups.
    let includes: String = (0..11)
        .map(|i| format!(" include:spf{i}.example.com"))
        .collect();
    let spf_chain: String = (0..11)
        .map(|i| format!("spf{i} IN TXT \"v=spf1 -all\"\n"))
        .collect();
    let dns = nsd(&[
        (
            "example.fr",
            format!(
                "@ IN TXT \"v=spf1 ip4:127.0.0.1 -all\"\n@ IN MX 10 mx.example.fr.\nmx IN A 127.0.0.1\ns1._domainkey IN TXT {}\n_dmarc IN TXT \"v=DMARC1; p=quarantine; rua=mailto:dmarc@example.fr\"\n",
                txt(&good_record)
            ),
        ),
        (
            "example.org",
            format!(
                "@ IN TXT \"v=spf1 ip4:192.0.2.1 -all\"\ns1._domainkey IN TXT {}\n_dmarc IN TXT \"v=DMARC1; p=none\"\n",
                txt(&other_record)
            ),
        ),
        (
            "example.com",
            format!(
                "@ IN TXT {}\n{spf_chain}@ IN MX 10 mx.example.com.\nmx IN A 127.0.0.1\n",
                txt(&format!("v=spf1{includes} -all"))
            ),
        ),
    ]);

    // The relay: TLS from the start, its certificate trusted with
    // --smtp-ca (as a send would be told), not without it.
    let (relay, ca, _certs) = crate::smtp::tls_server("--implicit", &[]);
    let smtps = format!("smtps://127.0.0.1:{}", relay.port);
    let fr = list(dir.path(), "example.fr");
    let (run, shown) = check_dns(
        &dns,
        dir.path(),
        &fr,
        &smtps,
        &good,
        &["--smtp-ca".as_ref(), ca.as_os_str()],
    );
    assert!(run.ok(), "{shown}");
    assert_eq!(dns_problems(&shown), Vec::<&str>::new(), "{shown}");

    let org = list(dir.path(), "example.org");
    let (run, shown) = check_dns(&dns, dir.path(), &org, &smtps, &other, &[]);
    let shown = shown.replace(&relay.port.to_string(), "PORT");
    assert_eq!(run.code, 1, "{shown}");
    insta::assert_snapshot!("wrong_in_each_way", shown);
    // The same problems as GitHub annotations, for a CI job.
    let (run, _) = check_dns(
        &dns,
        dir.path(),
        &org,
        &smtps,
        &other,
        &["--format".as_ref(), "github".as_ref()],
    );
    assert_eq!(run.code, 1, "{run:?}");
    for annotation in [
        "::error::the SPF record of example.org does not let the relay 127.0.0.1 send for it \
         (add ip4:127.0.0.1 to the SPF record of example.org, before its all)",
        "::error::example.org has no MX record: the bounces sent to rebonds@example.org cannot \
         reach it (publish an MX record for example.org, the mailbox that `breves bounces` reads)",
        "::warning::the DMARC policy of example.org is p=none: receivers only report what fails, \
         and still deliver mail forged in its name (once the reports show every message aligned, \
         publish p=quarantine (then p=reject))",
    ] {
        assert!(
            run.stdout.lines().any(|l| l == annotation),
            "{annotation}\n{}",
            run.stdout
        );
    }

    // And a key of RSA too short, made with openssl.
    let short = dir.path().join("short.pem");
    let made = std::process::Command::new("openssl")
        .args(["genrsa", "-traditional", "-out"])
        .arg(&short)
        .arg("1024")
        .output()
        .expect("openssl (the README's test command installs it)");
    assert!(made.status.success(), "{made:?}");
    let com = list(dir.path(), "example.com");
    let nowhere = format!("smtp://127.0.0.1:{}?tls=none", common::smtp::free_port());
    let (run, shown) = check_dns(&dns, dir.path(), &com, &nowhere, &short, &[]);
    let shown = shown.replace(
        nowhere
            .trim_start_matches("smtp://127.0.0.1:")
            .trim_end_matches("?tls=none"),
        "PORT",
    );
    assert!(
        shown.contains(
            "error: the DKIM key is an RSA key of 1024 bits: receivers ask for 2,048 at least\n"
        ),
        "{shown}"
    );
    assert!(
        shown.contains("publish at s1._domainkey.example.com the TXT record \"v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQ"),
        "{shown}"
    );
    let shown = shown
        .lines()
        .filter(|l| !l.contains("RSA key of 1024 bits") && !l.contains("k=rsa"))
        .collect::<Vec<_>>()
        .join("\n");
    assert_eq!(run.code, 1, "{shown}");
    insta::assert_snapshot!("nothing_published_and_too_many_lookups", shown);
}

#[test]
fn a_dns_server_that_does_not_answer_is_said_so_and_nothing_is_taken_as_missing() {
    let dir = tempdir();
    let fr = list(dir.path(), "example.fr");
    let silent = format!("127.0.0.1:{}", common::smtp::free_port());
    let run = breves([
        "check".as_ref(),
        common::root()
            .join("tests/fixtures/small/issue.toml")
            .as_os_str(),
        "--subscribers".as_ref(),
        fr.as_os_str(),
        "--dns".as_ref(),
        "--dns-server".as_ref(),
        silent.as_ref(),
    ]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr
            .ends_with("error: the DNS server does not answer for example.fr (request timed out): nothing was checked\n"),
        "{run:?}"
    );
    assert!(!run.stderr.contains("publishes no"), "{run:?}");
}
