//! Progress of a send: a bar on a terminal, a plain line now and then in a
//! log.

use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use breves::dispatch::Progress;
use indicatif::{ProgressBar, ProgressStyle};

/// How often a log gets a line.
const LOG_EVERY: Duration = Duration::from_secs(5);

/// Reports a send's progress where it is watched.
pub struct Reporter {
    bar: Option<ProgressBar>,
    total: usize,
    sent: AtomicUsize,
    failed: AtomicUsize,
    started: Instant,
    last_line: Mutex<Instant>,
}

impl Reporter {
    /// A bar when standard error is a terminal, lines otherwise.
    pub fn new(total: usize) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(total as u64);
            let style = ProgressStyle::with_template(
                "{bar:30} {pos}/{len} sent, {msg} {per_sec} ~{eta} left",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar.set_style(style);
            bar.set_message("0 failed,");
            bar
        });
        Reporter {
            bar,
            total,
            sent: AtomicUsize::new(0),
            failed: AtomicUsize::new(0),
            started: Instant::now(),
            last_line: Mutex::new(Instant::now()),
        }
    }

    fn line(&self, force: bool) {
        let mut last = self.last_line.lock().unwrap_or_else(|e| e.into_inner());
        if !force && last.elapsed() < LOG_EVERY {
            return;
        }
        *last = Instant::now();
        let sent = self.sent.load(Ordering::Relaxed);
        let failed = self.failed.load(Ordering::Relaxed);
        let secs = self.started.elapsed().as_secs_f64().max(1e-9);
        let rate = sent as f64 / secs;
        let left = self.total.saturating_sub(sent + failed);
        let eta = if rate > 0.0 {
            format!(", about {:.0} s left", left as f64 / rate)
        } else {
            String::new()
        };
        tell!(
            "sent {sent}/{}, failed {failed}, {rate:.1} messages/s{eta}",
            self.total
        );
    }

    /// Ends the bar (or writes the last line).
    pub fn finish(&self) {
        match &self.bar {
            Some(bar) => bar.finish_and_clear(),
            None => self.line(true),
        }
    }

    fn tick(&self) {
        match &self.bar {
            Some(bar) => {
                bar.set_position(self.sent.load(Ordering::Relaxed) as u64);
                bar.set_message(format!("{} failed,", self.failed.load(Ordering::Relaxed)));
            }
            None => self.line(false),
        }
    }
}

impl Progress for Reporter {
    fn delivered(&self, _recipient: &str) {
        self.sent.fetch_add(1, Ordering::Relaxed);
        self.tick();
    }

    fn failed(&self, recipient: &str, reason: &str) {
        self.failed.fetch_add(1, Ordering::Relaxed);
        if let Some(bar) = &self.bar {
            bar.println(format!("failed {recipient}: {reason}"));
        }
        self.tick();
    }

    fn uncertain(&self, recipient: &str, reason: &str) {
        self.failed.fetch_add(1, Ordering::Relaxed);
        if let Some(bar) = &self.bar {
            bar.println(format!("uncertain {recipient}: {reason}"));
        }
        self.tick();
    }
}

/// The first Ctrl-C lets the messages in flight finish; the second quits.
pub fn stop_on_ctrl_c(stop: Arc<AtomicBool>) {
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            stop.store(true, Ordering::SeqCst);
            tell!(
                "\nStopping: the messages in flight finish, no new one starts (Ctrl-C again to quit at once)."
            );
            if tokio::signal::ctrl_c().await.is_ok() {
                std::process::exit(130);
            }
        }
    });
}

/// A count of the messages read, on a terminal: a mailbox can be long to
/// read.
pub fn reading(human: bool) -> Option<ProgressBar> {
    (human && std::io::IsTerminal::is_terminal(&std::io::stderr())).then(|| {
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} {pos} message(s) read, {per_sec}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar
    })
}
