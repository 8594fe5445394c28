//! Real SMTP servers for the tests, on loopback ports: Postfix's smtp-sink,
//! and a scriptable aiosmtpd server (tests/support/smtpd.py) for TLS, AUTH
//! and faults on a share of messages. Each is stopped when dropped.

use std::collections::HashMap;
use std::fs;
use std::io::{BufRead, BufReader};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A free port on 127.0.0.1.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

pub fn wait_listening(port: u16, child: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("the test SMTP server exited: {status}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("the test SMTP server is not listening on {port}");
}

pub fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// A server started by a test, and the folder it writes messages to.
pub struct Server {
    child: Child,
    /// The port it listens on.
    pub port: u16,
    /// Where it writes each message it accepts.
    pub dump: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// `smtp://127.0.0.1:PORT?tls=none`
    pub fn plain_url(&self) -> String {
        format!("smtp://127.0.0.1:{}?tls=none", self.port)
    }

    /// The messages received, as (recipient, raw message), in no order.
    pub fn messages(&self) -> Vec<(String, Vec<u8>)> {
        let mut out = Vec::new();
        for entry in fs::read_dir(self.dump.path()).expect("dump folder") {
            let path = entry.expect("entry").path();
            if !path.is_file() || path.extension().is_some_and(|e| e == "jsonl") {
                continue;
            }
            let bytes = fs::read(&path).expect("a dumped message");
            let head = String::from_utf8_lossy(&bytes[..bytes.len().min(2000)]).into_owned();
            let rcpt = head
                .lines()
                .find_map(|l| {
                    l.strip_prefix("X-Rcpt-Args: <")
                        .or_else(|| l.strip_prefix("X-Rcpt-To: <"))
                })
                .and_then(|l| l.split('>').next())
                .unwrap_or_default()
                .to_lowercase();
            out.push((rcpt, bytes));
        }
        out
    }

    /// How many messages each recipient received.
    pub fn counts(&self) -> HashMap<String, usize> {
        let mut counts = HashMap::new();
        for (rcpt, _) in self.messages() {
            *counts.entry(rcpt).or_insert(0) += 1;
        }
        counts
    }

    /// The aiosmtpd server's log (MAIL, RCPT, AUTH, RSET and QUIT events, each
    /// MAIL, RSET and QUIT with its connection's number), one JSON object a line.
    pub fn log(&self) -> Vec<serde_json::Value> {
        fs::read_to_string(self.dump.path().join("log.jsonl"))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }
}

/// Postfix's smtp-sink, writing each message to its own file, with extra
/// options (such as `-r RCPT` for 4xx replies).
pub fn smtp_sink(options: &[&str]) -> Server {
    let binary = ["/usr/sbin/smtp-sink", "/usr/bin/smtp-sink"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .unwrap_or_else(|| {
            panic!(
                "smtp-sink is needed for the SMTP tests: `apt-get install postfix` \
                 (the README's test command does it; no mail system is configured or started)"
            )
        });
    let dump = tempfile::tempdir().expect("dump folder");
    let port = free_port();
    let mut command = Command::new(binary);
    if is_root() {
        command.args(["-u", "root"]);
    }
    command
        .arg("-d")
        .arg(format!("{}/%Y%m%d%H%M%S.", dump.path().display()))
        .args(options)
        .arg(format!("127.0.0.1:{port}"))
        .arg("128")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut child = command.spawn().expect("smtp-sink starts");
    wait_listening(port, &mut child);
    Server { child, port, dump }
}

/// The scriptable aiosmtpd server with these options (see its file).
pub fn smtpd(options: &[&str]) -> Server {
    let script = super::root().join("tests/support/smtpd.py");
    let dump = tempfile::tempdir().expect("dump folder");
    let port = free_port();
    let python = std::env::var("BREVES_PYTHON").unwrap_or_else(|_| "python3".into());
    let mut child = Command::new(&python)
        .arg(&script)
        .args(["--port", &port.to_string(), "--dump"])
        .arg(dump.path())
        .args(options)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("{python} runs tests/support/smtpd.py: {e}"));
    let stdout = child.stdout.take().expect("stdout");
    let mut first = String::new();
    BufReader::new(stdout)
        .read_line(&mut first)
        .expect("a line from smtpd.py");
    assert!(
        first.starts_with("READY"),
        "tests/support/smtpd.py did not start (it needs aiosmtpd: `pip install aiosmtpd`, \
         which the README's test command does): «{first}»"
    );
    wait_listening(port, &mut child);
    Server { child, port, dump }
}

/// A self-signed certificate for 127.0.0.1 and localhost, as PEM files in
/// `dir`: (certificate, key). The certificate is its own authority.
pub fn certificate(dir: &Path) -> (PathBuf, PathBuf) {
    let certified =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()])
            .expect("a certificate");
    let cert = dir.join("cert.pem");
    let key = dir.join("key.pem");
    fs::write(&cert, certified.cert.pem()).expect("write cert");
    fs::write(&key, certified.signing_key.serialize_pem()).expect("write key");
    (cert, key)
}
