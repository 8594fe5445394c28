//! Headless Chromium, found on this machine and driven through the Chrome
//! DevTools Protocol: a page opened at an address, and scripts evaluated in
//! it while it lives (to watch a page reload by itself).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// The Chromium binary: `BREVES_CHROMIUM`, or the Debian package's.
pub fn chromium() -> PathBuf {
    if let Some(path) = std::env::var_os("BREVES_CHROMIUM") {
        return PathBuf::from(path);
    }
    for candidate in [
        "/usr/bin/chromium",
        "/usr/bin/chromium-browser",
        "/usr/bin/google-chrome",
    ] {
        if Path::new(candidate).exists() {
            return PathBuf::from(candidate);
        }
    }
    panic!(
        "Chromium is needed to test the HTML part: `apt-get install chromium` \
         (the README's test command does it), or set BREVES_CHROMIUM to a Chrome binary"
    );
}

/// One headless browser with one page, ended when dropped.
pub struct Browser {
    child: Child,
    socket: tungstenite::WebSocket<TcpStream>,
    next: u64,
    _profile: tempfile::TempDir,
}

/// `GET path` from the DevTools HTTP server on `port` (HTTP/1.1 only):
/// the body.
fn get(port: u16, path: &str) -> String {
    let stream = TcpStream::connect(("127.0.0.1", port)).expect("DevTools answers");
    let mut writer = stream.try_clone().expect("a second handle");
    write!(
        writer,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    )
    .expect("request");
    let mut reader = BufReader::new(stream);
    let mut length = 0;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).expect("a header") == 0 || line.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).expect("the body");
    String::from_utf8_lossy(&body).into_owned()
}

impl Browser {
    /// Opens `url` in a new headless Chromium, `width` pixels wide.
    pub fn open(url: &str, width: u32) -> Browser {
        let profile = super::tempdir();
        let child = Command::new(chromium())
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--remote-debugging-port=0",
                &format!("--window-size={width},900"),
                &format!("--user-data-dir={}", profile.path().display()),
            ])
            .arg(url)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("Chromium starts");
        // Chromium writes the port it chose in the profile.
        let active = profile.path().join("DevToolsActivePort");
        let start = Instant::now();
        let port: u16 = loop {
            if let Some(port) = std::fs::read_to_string(&active)
                .ok()
                .and_then(|t| t.lines().next().and_then(|l| l.parse().ok()))
            {
                break port;
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "Chromium never listened"
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        let socket_url = loop {
            let targets: Value = serde_json::from_str(&get(port, "/json/list")).unwrap_or_default();
            let page = targets.as_array().and_then(|t| {
                t.iter()
                    .find(|t| t["type"] == "page")
                    .and_then(|t| t["webSocketDebuggerUrl"].as_str().map(str::to_owned))
            });
            if let Some(page) = page {
                break page;
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "no page in Chromium"
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        let stream = TcpStream::connect(("127.0.0.1", port)).expect("DevTools socket");
        let (socket, _) = tungstenite::client(socket_url.as_str(), stream).expect("WebSocket");
        Browser {
            child,
            socket,
            next: 0,
            _profile: profile,
        }
    }

    /// Evaluates `expression` in the page (a promise is awaited): its
    /// value, or `None` while the page cannot answer (it is loading).
    pub fn eval(&mut self, expression: &str) -> Option<Value> {
        self.next += 1;
        let id = self.next;
        let request = json!({
            "id": id,
            "method": "Runtime.evaluate",
            "params": { "expression": expression, "returnByValue": true, "awaitPromise": true },
        });
        self.socket
            .send(tungstenite::Message::text(request.to_string()))
            .expect("sent to Chromium");
        loop {
            let message = self.socket.read().expect("Chromium answers");
            let Ok(text) = message.to_text() else {
                continue;
            };
            let reply: Value = serde_json::from_str(text).unwrap_or_default();
            if reply["id"] != id {
                continue;
            }
            let result = &reply["result"];
            if reply.get("error").is_some() || result.get("exceptionDetails").is_some() {
                return None;
            }
            return Some(result["result"]["value"].clone());
        }
    }

    /// Evaluates `expression` until it gives something other than
    /// `null`, `false` or nothing, for at most `seconds`: that value.
    pub fn wait_for(&mut self, expression: &str, seconds: u64) -> Value {
        let start = Instant::now();
        loop {
            match self.eval(expression) {
                Some(Value::Null | Value::Bool(false)) | None => {}
                Some(value) => return value,
            }
            assert!(
                start.elapsed() < Duration::from_secs(seconds),
                "after {seconds} s, still nothing for {expression}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
