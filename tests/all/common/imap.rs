//! A real IMAP server for the tests: Dovecot (Debian package
//! `dovecot-imapd`, which the test command installs), started on loopback
//! with IMAPS only, one user, and a Maildir holding the messages a test
//! gives. Nothing of the machine's own mail system is used.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use super::smtp::{certificate, free_port, is_root, wait_listening};

/// A running Dovecot, stopped when dropped.
pub struct Imap {
    child: Child,
    /// The port of IMAPS.
    pub port: u16,
    /// The certificate it presents (its own authority).
    pub ca: PathBuf,
    dir: tempfile::TempDir,
}

/// The user and password of the test mailbox.
pub const USER: &str = "rebonds";
pub const PASSWORD: &str = "un mot de passe d'essai";

impl Imap {
    /// Starts Dovecot with `messages` (name, text) in the INBOX.
    pub fn start(messages: &[(String, String)]) -> Imap {
        let binary = ["/usr/sbin/dovecot", "/usr/bin/dovecot"]
            .into_iter()
            .find(|p| Path::new(p).exists())
            .unwrap_or_else(|| {
                panic!(
                    "Dovecot is needed for the IMAP tests: `apt-get install dovecot-imapd` (the README's test command does it)"
                )
            });
        let dir = tempfile::tempdir().expect("a folder");
        let root = dir.path();
        // Dovecot's own processes (as its users, when run by root) read
        // the folder.
        Command::new("chmod")
            .arg("755")
            .arg(root)
            .status()
            .expect("chmod");
        let (cert, key) = certificate(root);
        fs::write(root.join("passwd"), format!("{USER}:{{PLAIN}}{PASSWORD}\n")).expect("passwd");
        let maildir = root.join("home").join(USER).join("Maildir");
        for sub in ["new", "cur", "tmp"] {
            fs::create_dir_all(maildir.join(sub)).expect("Maildir");
        }
        for (name, text) in messages {
            fs::write(maildir.join("new").join(name), text.replace('\n', "\r\n"))
                .expect("a message");
        }
        let (users, uid, gid) = if is_root() {
            let id = |flag: &str| {
                let out = Command::new("id")
                    .args([flag, "dovecot"])
                    .output()
                    .expect("id");
                String::from_utf8_lossy(&out.stdout).trim().to_owned()
            };
            Command::new("chown")
                .args(["-R", "dovecot:dovecot"])
                .arg(root.join("home"))
                .status()
                .expect("chown");
            (String::new(), id("-u"), id("-g"))
        } else {
            let id = |flag: &str| {
                let out = Command::new("id").arg(flag).output().expect("id");
                String::from_utf8_lossy(&out.stdout).trim().to_owned()
            };
            let name = id("-un");
            (
                format!(
                    "default_internal_user = {name}\ndefault_login_user = {name}\ndefault_internal_group = {}\n",
                    id("-gn")
                ),
                id("-u"),
                id("-g"),
            )
        };
        let port = free_port();
        let r = root.display();
        let config = format!(
            "base_dir = {r}/run\nstate_dir = {r}/state\nlog_path = {r}/dovecot.log\n{users}\
             protocols = imap\nlisten = 127.0.0.1\nssl = required\n\
             ssl_cert = <{cert}\nssl_key = <{key}\nauth_mechanisms = plain login\n\
             passdb {{\n  driver = passwd-file\n  args = scheme=PLAIN username_format=%u {r}/passwd\n}}\n\
             userdb {{\n  driver = static\n  args = uid={uid} gid={gid} home={r}/home/%u\n}}\n\
             mail_location = maildir:~/Maildir\nfirst_valid_uid = 1\n\
             service imap-login {{\n  inet_listener imap {{\n    port = 0\n  }}\n  inet_listener imaps {{\n    port = {port}\n    ssl = yes\n  }}\n}}\n",
            cert = cert.display(),
            key = key.display(),
        );
        fs::write(root.join("dovecot.conf"), config).expect("config");
        let mut child = Command::new(binary)
            .arg("-F")
            .arg("-c")
            .arg(root.join("dovecot.conf"))
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("Dovecot starts");
        wait_listening(port, &mut child);
        Imap {
            child,
            port,
            ca: cert,
            dir,
        }
    }

    /// `imaps://rebonds@127.0.0.1:PORT/INBOX`.
    pub fn url(&self) -> String {
        format!("imaps://{USER}@127.0.0.1:{}/INBOX", self.port)
    }

    /// How many messages a folder holds (`""` for the INBOX).
    pub fn count(&self, folder: &str) -> usize {
        let mut maildir = self.dir.path().join("home").join(USER).join("Maildir");
        if !folder.is_empty() {
            maildir = maildir.join(format!(".{folder}"));
        }
        ["new", "cur"]
            .iter()
            .map(|sub| fs::read_dir(maildir.join(sub)).map_or(0, |d| d.count()))
            .sum()
    }

    /// What Dovecot logged.
    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.path().join("dovecot.log")).unwrap_or_default()
    }
}

impl Drop for Imap {
    fn drop(&mut self) {
        // SIGTERM: the master stops the processes it started.
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}
