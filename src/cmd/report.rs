//! What `breves send` prints: the plan before a real send, the question
//! asked on a terminal, the summary after. Every figure comes from the
//! library's [`Plan`] and [`Report`].

use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;

use breves::campaign::size;
use breves::deliver::files::MANIFEST;
use breves::dispatch::Report;
use breves::plan::{Idle, Plan, says_yes, worth_confirming};

/// Where the recipients come from (the list file, or their own
/// subscription), and how many the ledger says left the list
/// (unsubscribed, stopped every section, bounced, complained): a send
/// leaves them out.
fn who(plan: &Plan<'_>) {
    if plan.joined > 0 {
        say!(
            "{} recipient(s) from the list file, {} who joined by themselves (breves serve).",
            plan.from_file(),
            plan.joined
        );
    }
    if plan.left_out > 0 {
        let n = plan.left_out;
        say!(
            "{n} subscriber(s) who left the list (unsubscribed, bounced, complained or stopped every section) are left out."
        );
    }
}

/// The summary of a dry run.
pub fn dry_run(plan: &Plan<'_>, dir: &Path, report: &Report) {
    let (issue, list) = (plan.campaign().issue(), plan.campaign().list());
    who(plan);
    say!(
        "Dry run of {} to the list {}: {} message(s) written to {} ({} distinct digest(s)), {} skipped.",
        issue.id,
        list.id,
        report.delivered,
        dir.display(),
        report.variants,
        report.skipped.len()
    );
    for s in &report.skipped {
        say!("  skipped {}: {}", s.recipient, s.reason);
    }
    if report.delivered > 0 {
        if list.unsubscribe_url.is_some() {
            say!(
                "  Unsubscription links are signed with the test secret of dry runs: they work on no real server."
            );
        }
        say!(
            "  {} in all, largest message {}, in {:.2} s; list of files: {}",
            size(report.bytes),
            size(report.largest),
            report.elapsed.as_secs_f64(),
            dir.join(MANIFEST).display()
        );
    }
}

/// What a real send is about to do, before it is confirmed.
pub fn plan(plan: &Plan<'_>) {
    let what = plan.what();
    who(plan);
    let start = &plan.start;
    if let Some(changes) = &start.accepted {
        say!(
            "Going on with the files as they are now (--accept-changes): {} new recipient(s), {} no longer in the list, {} with other sections{}.",
            changes.added.count,
            changes.removed.count,
            changes.resectioned.count,
            if changes.issue_changed {
                "; the issue's content changed"
            } else {
                ""
            }
        );
    }
    if plan.is_joining() {
        say!(
            "Joining the send of {what}: {} still to send, shared with the other senders.",
            plan.to_send
        );
    } else if start.resumed {
        let uncertain = match (plan.uncertain_resent, plan.uncertain_left_alone) {
            (0, 0) => String::new(),
            (n, 0) => format!(
                ", of which {n} of uncertain outcome (in flight when the last run stopped) sent again"
            ),
            (_, n) => format!(", and {n} of uncertain outcome left alone (--skip-uncertain)"),
        };
        let again = match start.failed_again {
            0 => String::new(),
            n => format!(", of which {n} refused for good before sent again (--retry-failed)"),
        };
        say!(
            "Resuming the send of {what}: {} already sent, {} refused for good, {} to send{again}{uncertain}.",
            start.already_sent,
            start.already_failed,
            plan.to_send,
        );
    }
    if plan.held_back > 0 {
        let n = plan.held_back;
        say!("  {n} more held back by --limit for a later run.");
    }
    match plan.idle() {
        None => {}
        Some(Idle::UncertainLeftAlone(n)) => say!(
            "Nothing to send: {n} recipient(s) of uncertain outcome left alone. `breves status` lists them."
        ),
        Some(Idle::RefusedRemain(n)) => say!(
            "Nothing to send: every recipient of {what} has been served, {n} of them refused for good. `breves status` lists them; once the cause is fixed, --retry-failed sends to them again."
        ),
        Some(Idle::AllServed) => say!(
            "Nothing to send: every recipient of {what} has been served. `breves status` tells more."
        ),
    }
}

/// On a terminal, asks before sending to more than a handful; elsewhere
/// (a script, a scheduled job) goes on. Whether to go on.
pub fn confirmed(plan: &Plan<'_>, relay: &str) -> bool {
    let interactive = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    if !interactive || !worth_confirming(plan) {
        return true;
    }
    tell!(
        "About to send {} ({}):\n  {} recipient(s) through {relay}\n  ledger {}",
        plan.what(),
        plan.campaign().issue().subject,
        plan.to_send,
        plan.ledger()
            .map(|l| l.path().display().to_string())
            .unwrap_or_default()
    );
    tell_part!("Send now? [y/N] ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    let yes = std::io::stdin().lock().read_line(&mut answer).is_ok() && says_yes(&answer);
    if !yes {
        tell!("Nothing was sent.");
    }
    yes
}

/// The summary of a real send.
pub fn summary(plan: &Plan<'_>, report: &Report) {
    let secs = report.elapsed.as_secs_f64().max(1e-9);
    say!(
        "Sent {}: {} sent, {} skipped, {} failed, {} uncertain, in {:.2} s ({:.1} messages/s).",
        plan.what(),
        report.delivered,
        report.skipped.len(),
        report.failed.len() + report.gave_up.len(),
        report.uncertain.len(),
        secs,
        report.delivered as f64 / secs
    );
    if report.latency.count() > 0 {
        say!(
            "  Time per message: median {:.2} ms, 99th percentile {:.2} ms.",
            report.latency.quantile(0.5).as_secs_f64() * 1000.0,
            report.latency.quantile(0.99).as_secs_f64() * 1000.0
        );
    }
    if plan.uncertain_resent > 0 {
        let n = plan.uncertain_resent;
        say!("  {n} message(s) of uncertain outcome from an earlier run were sent again.");
    }
    for (recipient, reply) in report.failed.iter().chain(&report.gave_up) {
        say!("  failed {recipient}: {reply}");
    }
    for (recipient, reason) in &report.uncertain {
        say!("  uncertain {recipient}: {reason} (sent again by the next run)");
    }
    if report.retries > 0 {
        say!("  {} transient failure(s) were retried.", report.retries);
    }
    if let Some(fatal) = &report.fatal {
        say!("  stopped: {fatal}");
    }
    if report.not_attempted > 0 {
        say!(
            "  {} recipient(s) not attempted: run the same command again to go on where it stopped.",
            report.not_attempted
        );
    }
}
