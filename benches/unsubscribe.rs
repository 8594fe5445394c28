//! The unsubscription server under load: `cargo bench --bench unsubscribe`.
//!
//! Starts `breves serve` on loopback with a list of 100
//! members and one of 100,000, and measures valid one-click POSTs (each for
//! another member, a connection each, as mailbox providers send them):
//! their rate and median time with nobody else connected, then with 10,000
//! idle connections open and a client sending bad tokens as fast as it
//! can, and the share answered `200` (the target: all of them). Every
//! figure is from this one run.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use breves::address::Key;
use breves::unsubscribe::{Signer, Token};

const SECRET: &str = "the secret of the load benchmark";
const IDLE: usize = 10_000;
const WINDOW: Duration = Duration::from_secs(5);

struct Server(Child, String);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn server(dir: &Path, members: usize) -> Server {
    let csv = dir.join(format!("members-{members}.csv"));
    let mut text = String::from("email,interests\n");
    for i in 0..members {
        text.push_str(&format!("lecteur{i}@example.org,spatial\n"));
    }
    std::fs::write(&csv, text).expect("members");
    let list = dir.join(format!("list-{members}.toml"));
    std::fs::write(
        &list,
        format!(
            "[list]\nid = \"charge\"\nfrom = \"Charge <breves@example.fr>\"\nmembers = \"{}\"\ntopics = {{ spatial = \"Spatial\" }}\n",
            csv.display()
        ),
    )
    .expect("list");
    let mut child = Command::new(env!("CARGO_BIN_EXE_breves"))
        .args(["serve", "--listen", "127.0.0.1:0", "--ledger"])
        .arg(dir.join(format!("ledger-{members}.sqlite3")))
        .arg("--subscribers")
        .arg(&list)
        .env("BREVES_UNSUBSCRIBE_SECRET", SECRET)
        .stdout(Stdio::piped())
        .spawn()
        .expect("breves serve");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("its first line");
    let address = line
        .split_whitespace()
        .find_map(|w| w.strip_prefix("http://"))
        .expect("an address")
        .to_owned();
    Server(child, address)
}

/// One POST on its own connection: its status, or 0 if none came.
fn post(address: &str, path: &str) -> u16 {
    let Ok(mut stream) = TcpStream::connect(address) else {
        return 0;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let body = "List-Unsubscribe=One-Click";
    if write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .is_err()
    {
        return 0;
    }
    let mut reply = Vec::new();
    let _ = stream.read_to_end(&mut reply);
    String::from_utf8_lossy(&reply)
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

struct Figures {
    answered: usize,
    ok: usize,
    per_second: f64,
    median: Duration,
}

/// Valid POSTs for members `from..`, one after another, for [`WINDOW`].
fn valid_posts(address: &str, members: usize, from: usize) -> Figures {
    let signer = Signer::new(SECRET.as_bytes()).expect("secret");
    let started = Instant::now();
    let mut times = Vec::new();
    let mut ok = 0;
    let mut i = from;
    while started.elapsed() < WINDOW {
        let token = signer.sign_short(&Token {
            list: "charge".into(),
            address: Key::from_text(&format!("lecteur{}@example.org", i % members)),
            section: None,
        });
        let one = Instant::now();
        if post(address, &format!("/u/{token}")) == 200 {
            ok += 1;
        }
        times.push(one.elapsed());
        i += 1;
    }
    let elapsed = started.elapsed();
    times.sort();
    Figures {
        answered: times.len(),
        ok,
        per_second: times.len() as f64 / elapsed.as_secs_f64(),
        median: times[times.len() / 2],
    }
}

fn show(what: &str, f: &Figures) {
    println!(
        "{what:<58} {:>7.0} POST/s  median {:>6.2} ms  200: {}/{} ({:.1} %)",
        f.per_second,
        f.median.as_secs_f64() * 1000.0,
        f.ok,
        f.answered,
        100.0 * f.ok as f64 / f.answered.max(1) as f64
    );
}

fn main() {
    let dir = tempfile::tempdir().expect("a folder");
    let small = server(dir.path(), 100);
    let large = server(dir.path(), 100_000);
    let quiet_small = valid_posts(&small.1, 100, 0);
    let quiet_large = valid_posts(&large.1, 100_000, 0);
    show("100 members, nobody else connected", &quiet_small);
    show("100,000 members, nobody else connected", &quiet_large);
    println!(
        "  median at 100,000 members / at 100: {:.2}",
        quiet_large.median.as_secs_f64() / quiet_small.median.as_secs_f64()
    );

    // The attack: idle connections, and bad tokens as fast as one client
    // can send them.
    let idle: Vec<TcpStream> = (0..IDLE)
        .filter_map(|_| TcpStream::connect(&large.1).ok())
        .collect();
    let stop = Arc::new(AtomicBool::new(false));
    let bad = Arc::new(AtomicUsize::new(0));
    let attacker = {
        let (stop, bad, address) = (Arc::clone(&stop), Arc::clone(&bad), large.1.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::SeqCst) {
                post(&address, "/u/AAAAAAAAAAAAAAAAAAAAAAAAAAAA");
                bad.fetch_add(1, Ordering::SeqCst);
            }
        })
    };
    let attacked = valid_posts(&large.1, 100_000, 50_000);
    stop.store(true, Ordering::SeqCst);
    let _ = attacker.join();
    show(
        &format!(
            "100,000 members, {} idle connections, bad tokens",
            idle.len()
        ),
        &attacked,
    );
    println!(
        "  bad tokens sent meanwhile: {}; valid POSTs answered 200 under attack: {:.1} %",
        bad.load(Ordering::SeqCst),
        100.0 * attacked.ok as f64 / attacked.answered.max(1) as f64
    );
    println!(
        "  rate under attack / quiet: {:.2}",
        attacked.per_second / quiet_large.per_second
    );
}
