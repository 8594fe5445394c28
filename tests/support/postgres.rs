//! A real PostgreSQL server for the tests, started once per test run in a
//! temporary folder (Debian's `postgresql` package: `initdb`, then the
//! server itself), listening on loopback only, stopped when the tests end.
//! Each test takes a database of its own ([`database`]).
//!
//! One file for the library's own tests (the ledger's, run on both stores)
//! and the integration tests: each includes it as a module.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Whether the tests run as root.
fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// A free port on loopback.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// A server of this test run: its port, and the folder it lives in.
struct Server {
    port: u16,
    dir: tempfile::TempDir,
    /// The shell that stops the server when the tests end.
    _watch: std::process::Child,
}

/// PostgreSQL's programs: Debian puts them under /usr/lib/postgresql/N/bin.
fn programs() -> PathBuf {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("bin"))
        .filter(|bin| bin.join("initdb").exists())
        .collect();
    found.sort();
    found.pop().unwrap_or_else(|| {
        panic!(
            "PostgreSQL is needed for the tests of the shared ledger: `apt-get install postgresql` \
             (the README's test command does it; no cluster of the machine is used)"
        )
    })
}

/// A command that runs as the `postgres` user when the tests run as root
/// (PostgreSQL refuses to run as root).
fn as_owner(program: &Path) -> Command {
    if is_root() {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(program);
        command
    } else {
        Command::new(program)
    }
}

/// Starts a server; with `tls`, one that takes connections in TLS only,
/// its certificate (`cert.pem` in its folder) its own authority.
fn start(tls: bool) -> Server {
    let bin = programs();
    let dir = tempfile::tempdir().expect("a folder for PostgreSQL");
    let data = dir.path().join("data");
    let mut settings = String::new();
    if tls {
        settings = in_tls_only(dir.path());
    }
    if is_root() {
        let owned = Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(dir.path())
            .status()
            .expect("chown");
        assert!(owned.success());
    }
    let init = as_owner(&bin.join("initdb"))
        .arg("-D")
        .arg(&data)
        .args(["-U", "breves", "--auth=trust", "-E", "UTF8", "--no-locale"])
        .stdout(Stdio::null())
        .output()
        .expect("initdb runs");
    assert!(
        init.status.success(),
        "initdb: {}",
        String::from_utf8_lossy(&init.stderr)
    );
    if tls {
        // TLS or nothing: a connection in the clear is refused.
        std::fs::write(
            data.join("pg_hba.conf"),
            "local all all trust\nhostssl all all 127.0.0.1/32 trust\nhost all all 127.0.0.1/32 reject\n",
        )
        .expect("pg_hba.conf");
    }
    let port = free_port();
    // The server stops when this test run's process does: a shell waits
    // for it, then stops the server fast.
    let script = format!(
        "'{postgres}' -D '{data}' -p {port} -k '{dir}' -c listen_addresses=127.0.0.1 -c fsync=on \
         -c max_connections=200 {settings} >'{dir}/log' 2>&1 & server=$!; \
         while [ -d /proc/{parent} ]; do sleep 0.5; done; kill -INT $server",
        postgres = bin.join("postgres").display(),
        data = data.display(),
        dir = dir.path().display(),
        parent = std::process::id(),
    );
    let mut command = if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--", "sh", "-c", &script]);
        c
    } else {
        let mut c = Command::new("sh");
        c.args(["-c", &script]);
        c
    };
    let watch = command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("PostgreSQL starts");
    // Listening is not ready: until its recovery ends the server answers
    // "the database system is starting up". `pg_isready` says when it
    // accepts connections.
    let start = Instant::now();
    while !ready(&bin, port) {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "PostgreSQL never accepted connections: {}",
            std::fs::read_to_string(dir.path().join("log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    Server {
        port,
        dir,
        _watch: watch,
    }
}

/// Writes a certificate for 127.0.0.1 and its key in `dir`, readable by
/// the server only; the server's settings that use them.
fn in_tls_only(dir: &Path) -> String {
    let certified =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".into()]).expect("a certificate");
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert, certified.cert.pem()).expect("cert.pem");
    std::fs::write(&key, certified.signing_key.serialize_pem()).expect("key.pem");
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).expect("key.pem");
    format!(
        "-c ssl=on -c ssl_cert_file='{}' -c ssl_key_file='{}'",
        cert.display(),
        key.display()
    )
}

/// Whether the server on `port` accepts connections (not only listens).
fn ready(bin: &Path, port: u16) -> bool {
    Command::new(bin.join("pg_isready"))
        .args([
            "-q",
            "-h",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "-U",
            "breves",
        ])
        .stdin(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| start(false))
}

/// The URL of a new, empty database of this test run's server, such as
/// `postgres://breves@127.0.0.1:5433/test_3`.
pub fn database() -> String {
    create(server())
}

/// A new, empty database of this test run's server in TLS only (started
/// when first asked for): its URL, and the certificate that authority
/// of the server's own (PEM).
#[allow(dead_code)]
pub fn database_in_tls() -> (String, PathBuf) {
    static SERVER: OnceLock<Server> = OnceLock::new();
    let server = SERVER.get_or_init(|| start(true));
    (create(server), server.dir.path().join("cert.pem"))
}

/// Creates a database on `server`: its URL.
fn create(server: &Server) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let name = format!("test_{}", NEXT.fetch_add(1, Ordering::SeqCst));
    let created = Command::new(programs().join("psql"))
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &server.port.to_string(),
            "-U",
            "breves",
            "-d",
            "postgres",
            "-v",
            "ON_ERROR_STOP=1",
            "-q",
            "-c",
            &format!("CREATE DATABASE {name}"),
        ])
        .output()
        .expect("psql runs");
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    format!("postgres://breves@127.0.0.1:{}/{name}", server.port)
}
