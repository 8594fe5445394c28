//! Messages per second to Postfix's smtp-sink on loopback, breves beside
//! smtp-source sending the same message, and lettre's own pooled transport
//! (which leaves Nagle's algorithm on): `cargo bench --bench smtp`.
//!
//! Needs smtp-sink and smtp-source (Debian package postfix). Every figure is
//! the median of several runs in this one process; the same full digest
//! (every section) goes to every recipient.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use breves::address::Key;
use breves::campaign::Campaign;
use breves::deliver::smtp::{Relay, RelayConfig};
use breves::diagnostics::SourceFile;
use breves::dispatch::{self, Journal, Options, Recipients, Retry, Silent};
use breves::issue::Issue;
use breves::ledger::{Ledger, Planned, Resume, Scope};
use breves::subscribers::List;

const RUNS: usize = 5;

struct Sink(Child, u16);

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn sink() -> Sink {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port");
    let root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout.starts_with(b"0"))
        .unwrap_or(false);
    let mut command = Command::new("smtp-sink");
    if root {
        command.args(["-u", "root"]);
    }
    let child = command
        .args([&format!("127.0.0.1:{port}"), "256"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("smtp-sink (apt-get install postfix)");
    for _ in 0..200 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Sink(child, port)
}

fn list(n: usize) -> List {
    let mut text = String::from(
        "[list]\nid = \"bench\"\nfrom = \"SER de Londres <breves@example.fr>\"\ntopics = { spatial = \"S\" }\n",
    );
    for i in 0..n {
        text.push_str(&format!("[[member]]\nemail = \"abonne{i}@example.org\"\n"));
    }
    let (list, problems) = List::parse(&Arc::new(SourceFile::new("bench.toml", text)));
    assert!(!problems.has_errors(), "{problems}");
    list.expect("list")
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let (issue, _) = Issue::load(&root.join("issues/2026-03-royaume-uni.toml")).expect("issue");
    let messages = 2000;
    let members = list(messages);
    let campaign = Campaign::prepare(&issue, &members).expect("campaign");
    let first = campaign
        .recipients(members.members())
        .next()
        .expect("a recipient")
        .expect("readable");
    let letter = campaign
        .letter(&first, issue.default_date())
        .expect("letter");
    println!(
        "message: {} bytes (the full digest), {messages} messages a run",
        letter.bytes.len()
    );
    // As the binary runs it (`src/main.rs`).
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let temp = tempfile::tempdir().expect("temp");

    for concurrency in [1, 8] {
        for with_ledger in [false, true] {
            let mut rates = Vec::new();
            let mut p99 = Vec::new();
            let mut stages = Vec::new();
            for run in 0..RUNS {
                let sink = sink();
                let mut config = RelayConfig::from_url(
                    &format!("smtp://127.0.0.1:{}?tls=none", sink.1),
                    None,
                    None,
                )
                .expect("url");
                config.hello = "example.fr".into();
                let relay = runtime.block_on(Relay::new(config)).expect("relay");
                let options = Options {
                    concurrency,
                    rate: None,
                    retry: Retry::default(),
                    date: issue.default_date(),
                };
                let stop = AtomicBool::new(false);
                let journal = with_ledger.then(|| {
                    let ledger = Arc::new(
                        Ledger::open(&temp.path().join(format!("l-{concurrency}-{run}.sqlite3")))
                            .expect("ledger"),
                    );
                    let scope = Scope::list(&issue.id, "bench");
                    let planned: Vec<Planned> = (0..messages)
                        .map(|i| Planned {
                            recipient: Key::from_text(&format!("abonne{i}@example.org")),
                            sections: String::new(),
                            served: true,
                        })
                        .collect();
                    ledger
                        .begin(&scope, &issue.fingerprint, &planned, Resume::default())
                        .expect("begin");
                    Journal { ledger, scope }
                });
                let report = runtime
                    .block_on(dispatch::run(
                        &campaign,
                        &relay,
                        Recipients::new(messages, campaign.recipients(members.members())),
                        journal.as_ref(),
                        &options,
                        &Silent,
                        &stop,
                    ))
                    .expect("run");
                assert_eq!(report.delivered, messages, "{:?}", report.fatal);
                rates.push(messages as f64 / report.elapsed.as_secs_f64());
                p99.push(report.latency.quantile(0.99).as_secs_f64() * 1000.0);
                let per = |d: Duration| d.as_secs_f64() * 1000.0 / messages as f64;
                if with_ledger && run == 0 {
                    println!(
                        "  {} ledger commits, {} of them flushed, for {messages} messages",
                        report.commits, report.flushes
                    );
                }
                stages.push((
                    per(report.elapsed),
                    per(report.stages.build),
                    per(report.stages.ledger),
                    per(report.stages.hand_over),
                ));
            }
            println!(
                "breves, concurrency {concurrency}, {}: median {:.0} messages/s, p99 per message {:.2} ms",
                if with_ledger {
                    "with the ledger"
                } else {
                    "no ledger"
                },
                median(rates),
                median(p99)
            );
            let m = |f: fn(&(f64, f64, f64, f64)) -> f64| median(stages.iter().map(f).collect());
            println!(
                "  per message (ms, summed over {concurrency} worker(s)): elapsed {:.3}, build {:.3}, ledger {:.3}, hand over {:.3}",
                m(|s| s.0),
                m(|s| s.1),
                m(|s| s.2),
                m(|s| s.3)
            );
        }

        let file = temp.path().join("message.eml");
        std::fs::write(&file, &letter.bytes).expect("write message");
        let mut rates = Vec::new();
        for _ in 0..RUNS {
            let sink = sink();
            let start = Instant::now();
            let status = Command::new("smtp-source")
                .args([
                    "-d",
                    "-s",
                    &concurrency.to_string(),
                    "-m",
                    &messages.to_string(),
                    "-f",
                    "breves@example.fr",
                    "-t",
                    "abonne@example.org",
                    "-F",
                ])
                .arg(&file)
                .arg(format!("127.0.0.1:{}", sink.1))
                .status()
                .expect("smtp-source");
            assert!(status.success());
            rates.push(messages as f64 / start.elapsed().as_secs_f64());
        }
        println!(
            "smtp-source, {concurrency} session(s): median {:.0} messages/s",
            median(rates)
        );
    }

    // The same connection opened by lettre itself, which leaves Nagle's
    // algorithm on, beside breves' (TCP_NODELAY), for the full digest and
    // for a small message, where the last line waits for the relay's
    // delayed acknowledgement.
    let small = {
        let text =
            "From: <breves@example.fr>\r\nTo: <abonne0@example.org>\r\nSubject: court\r\n\r\n";
        let mut bytes = text.as_bytes().to_vec();
        bytes.extend(std::iter::repeat_n(b'x', 1000));
        bytes.extend(b"\r\n");
        bytes
    };
    for (name, bytes) in [
        ("full digest", letter.bytes.clone()),
        ("1 KB message", small),
    ] {
        let few = 200;
        let mut lettre_rates = Vec::new();
        let mut breves_rates = Vec::new();
        for _ in 0..3 {
            let sink = sink();
            let envelope = lettre::address::Envelope::new(
                Some(letter.sender.clone()),
                vec![letter.recipient.clone()],
            )
            .expect("envelope");
            let start = Instant::now();
            runtime.block_on(async {
                let mut connection =
                    lettre::transport::smtp::client::AsyncSmtpConnection::connect_tokio1(
                        ("127.0.0.1", sink.1),
                        Some(Duration::from_secs(10)),
                        &lettre::transport::smtp::extension::ClientId::Domain("example.fr".into()),
                        None,
                        None,
                    )
                    .await
                    .expect("connected");
                for _ in 0..few {
                    connection.send(&envelope, &bytes).await.expect("sent");
                }
            });
            lettre_rates.push(few as f64 / start.elapsed().as_secs_f64());

            let mut config =
                RelayConfig::from_url(&format!("smtp://127.0.0.1:{}?tls=none", sink.1), None, None)
                    .expect("url");
            config.hello = "example.fr".into();
            let relay = runtime.block_on(Relay::new(config)).expect("relay");
            let mut one = letter.clone();
            one.bytes = bytes.clone();
            let start = Instant::now();
            runtime.block_on(async {
                use breves::deliver::Transport;
                let mut session = relay.open().await.expect("open");
                for _ in 0..few {
                    relay
                        .deliver(&mut session, &one, async { true })
                        .await
                        .expect("sent");
                }
            });
            breves_rates.push(few as f64 / start.elapsed().as_secs_f64());
        }
        println!(
            "{name}, one connection: lettre's own socket (Nagle on) median {:.0} messages/s, breves' (TCP_NODELAY) median {:.0}",
            median(lettre_rates),
            median(breves_rates)
        );
    }
}
