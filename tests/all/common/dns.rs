//! A real authoritative DNS server for the tests: Debian's NSD, started on
//! loopback in a temporary folder with the zones a test gives, stopped
//! when the test ends.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running NSD and the address it answers on.
pub struct Dns {
    pub addr: SocketAddr,
    child: Child,
    _dir: tempfile::TempDir,
}

impl Drop for Dns {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A TXT record's data as a zone file writes it: strings of at most 255
/// characters, quoted.
pub fn txt(value: &str) -> String {
    let chunks: Vec<String> = value
        .as_bytes()
        .chunks(250)
        .map(|c| format!("\"{}\"", String::from_utf8_lossy(c)))
        .collect();
    chunks.join(" ")
}

/// Starts NSD serving `zones`: each an origin (`example.fr`) and its
/// records, one a line (`@ IN TXT "v=spf1 -all"`), beside the SOA and NS
/// records every zone needs.
pub fn nsd(zones: &[(&str, String)]) -> Dns {
    let binary = ["/usr/sbin/nsd", "/usr/bin/nsd"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .unwrap_or_else(|| panic!("NSD is needed for the DNS tests: `apt-get install nsd` (the README's test command does it)"));
    let dir = tempfile::tempdir().expect("a folder for NSD");
    let port = super::smtp::free_port();
    let path = dir.path().display().to_string();
    let mut conf = format!(
        "server:\n  ip-address: 127.0.0.1@{port}\n  port: {port}\n  do-ip6: no\n  username: \"\"\n  chroot: \"\"\n  zonesdir: \"{path}\"\n  database: \"\"\n  pidfile: \"{path}/nsd.pid\"\n  xfrdfile: \"{path}/xfrd.state\"\n  zonelistfile: \"{path}/zone.list\"\n  logfile: \"{path}/nsd.log\"\n  verbosity: 1\nremote-control:\n  control-enable: no\n"
    );
    for (origin, records) in zones {
        let zone = format!(
            "$ORIGIN {origin}.\n$TTL 60\n@ IN SOA ns.{origin}. hostmaster.{origin}. 1 3600 900 604800 60\n@ IN NS ns.{origin}.\nns IN A 127.0.0.1\n{records}\n"
        );
        std::fs::write(dir.path().join(format!("{origin}.zone")), zone).expect("a zone");
        let _ = write!(conf, "zone:\n  name: {origin}\n  zonefile: {origin}.zone\n");
    }
    std::fs::write(dir.path().join("nsd.conf"), conf).expect("nsd.conf");
    let child = Command::new(binary)
        .args(["-d", "-c"])
        .arg(dir.path().join("nsd.conf"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("NSD starts");
    let log = dir.path().join("nsd.log");
    let start = Instant::now();
    while !std::fs::read_to_string(&log).is_ok_and(|l| l.contains("nsd started")) {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "NSD did not start: {}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    Dns {
        addr: SocketAddr::from(([127, 0, 0, 1], port)),
        child,
        _dir: dir,
    }
}
