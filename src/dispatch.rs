//! Handing a campaign's letters to a transport: sessions in parallel, a
//! rate ceiling, retries with back-off, and the ledger kept as it goes.
//!
//! `concurrency` workers run side by side, each with its own session (SMTP
//! connection). Each takes the next recipient, waits for its turn under the
//! rate ceiling, records in the ledger that the letter is about to leave,
//! hands it over, and records how it ended. The mark goes to the ledger's
//! writer with the connection's previous outcome and is committed with
//! what the other connections have waiting ([`crate::ledger::Writer`]);
//! meanwhile the letter is built and the transport sends the envelope and
//! the content, and the final dot waits until the commit is written. Each
//! worker takes its next recipient while the current message is on the
//! wire and sets it aside in a flushed commit, which takes the written ones
//! to the disk ([`crate::ledger::Durability`]). A refusal with a 4xx reply or a
//! connection lost before the message was complete is tried again later,
//! with exponential back-off and jitter, within a number of attempts and a
//! time; a 5xx reply at RCPT about the recipient, or after their message
//! (whatever it says: one message refused is that recipient's), is final
//! for them; a connection lost after the message's last line is
//! *uncertain* and left for the next run. One recipient's failure never
//! stops the others.
//!
//! What is not about one recipient stops the run, leaving everyone not yet
//! served *not attempted* (sent by the next run, once the cause is fixed):
//! a refusal of the sender or of the message before it is sent (too large
//! for the relay's EHLO `SIZE`, DATA refused), a problem no retry can fix
//! (TLS that does not verify, credentials refused), a relay that cannot be
//! reached within the retry window, a ledger that cannot record; the same
//! refusal for [`RELAY_STREAK`] recipients in a row, across domains or,
//! when its reason is the sender's or the message's, at one (which are
//! then set back to be sent); and [`UNCERTAIN_STREAK`] connections in a
//! row lost after the message, a relay that takes messages and drops them
//! (those stay uncertain).
//!
//! Setting the `stop` flag (Ctrl-C) lets in-flight letters finish and
//! starts no new one.

use std::collections::{HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, FixedOffset};

use crate::address::Key;
use crate::campaign::{Campaign, Recipient};
use crate::deliver::files::Skipped;
use crate::deliver::{DeliveryError, Transport};
use crate::ledger::{Durability, Entry, Ledger, LedgerError, Outcome, Pending, Scope, Writer};
use crate::message::Built;
use crate::{Error, Result};
use futures_util::FutureExt;

/// How hard to try before giving up on a recipient.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retry {
    /// Attempts in all, the first included.
    pub attempts: u32,
    /// The wait before the second attempt; it doubles each time.
    pub base: Duration,
    /// The longest wait between two attempts.
    pub max_delay: Duration,
    /// No new attempt after this long since the first.
    pub give_up_after: Duration,
}

impl Default for Retry {
    fn default() -> Self {
        Retry {
            attempts: 6,
            base: Duration::from_secs(2),
            max_delay: Duration::from_secs(120),
            give_up_after: Duration::from_secs(15 * 60),
        }
    }
}

impl Retry {
    /// The wait before attempt `next` (2 or more): doubling from `base`,
    /// capped, then spread by ±50 % so that retries do not come in waves.
    pub fn delay(&self, next: u32) -> Duration {
        let doubling = 2u32.saturating_pow(next.saturating_sub(2).min(20));
        let plain = self.base.saturating_mul(doubling).min(self.max_delay);
        plain.mul_f64(0.5 + fastrand::f64())
    }
}

/// How a run is carried out.
#[derive(Debug, Clone)]
pub struct Options {
    /// Sessions at once.
    pub concurrency: usize,
    /// A ceiling on letters handed over per second.
    pub rate: Option<f64>,
    /// The retry policy.
    pub retry: Retry,
    /// The Date of the messages.
    pub date: DateTime<FixedOffset>,
}

/// What a run tells as it goes, for a progress bar or a log.
pub trait Progress: Sync {
    /// The run starts with this many letters to hand over.
    fn started(&self, _total: usize) {}
    /// One letter was accepted.
    fn delivered(&self, _recipient: &str) {}
    /// One recipient failed for good (or was given up on).
    fn failed(&self, _recipient: &str, _reason: &str) {}
    /// One letter's fate is unknown.
    fn uncertain(&self, _recipient: &str, _reason: &str) {}
    /// One letter will be tried again.
    fn retrying(&self, _recipient: &str, _reason: &str, _delay: Duration) {}
}

/// A [`Progress`] that tells nothing.
pub struct Silent;
impl Progress for Silent {}

/// The ledger and the send it records, for a real send.
pub struct Journal {
    /// The ledger.
    pub ledger: Arc<Ledger>,
    /// The send.
    pub scope: Scope,
}

/// What a run did.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Letters accepted.
    pub delivered: usize,
    /// Recipients refused for good, with the reply.
    pub failed: Vec<(Key, String)>,
    /// Recipients given up on after transient failures, with the last one.
    pub gave_up: Vec<(Key, String)>,
    /// Recipients whose letter's fate is unknown, with why.
    pub uncertain: Vec<(Key, String)>,
    /// Recipients not attempted because the run stopped (Ctrl-C, or a
    /// problem that is not one recipient's).
    pub not_attempted: usize,
    /// Members who received nothing from this issue.
    pub skipped: Vec<Skipped>,
    /// Distinct digests.
    pub variants: usize,
    /// Bytes of the letters accepted.
    pub bytes: usize,
    /// The largest letter accepted.
    pub largest: usize,
    /// How long each accepted letter took to hand over: a histogram, so
    /// that a run of a million keeps a few kilobytes, not a list.
    pub latency: Latency,
    /// Where the workers' time went, summed over every worker.
    pub stages: Stages,
    /// Ledger commits made, each covering the marks and outcomes every
    /// connection had waiting.
    pub commits: usize,
    /// How many of them were flushed to the disk.
    pub flushes: usize,
    /// Transient failures met along the way.
    pub retries: usize,
    /// Why the run stopped early, when a problem no retry can fix stopped it.
    pub fatal: Option<String>,
    /// Connections lost after the message since the last delivery.
    pub uncertain_in_a_row: usize,
    /// How long the run took.
    pub elapsed: Duration,
}

impl Report {
    /// How the command that ran this ends: a run that did not serve
    /// everyone it was for is incomplete.
    pub fn exit_status(&self) -> crate::ExitStatus {
        if self.complete() {
            crate::ExitStatus::Success
        } else {
            crate::ExitStatus::Incomplete
        }
    }

    /// Whether everyone the run was for has been served.
    pub fn complete(&self) -> bool {
        self.failed.is_empty()
            && self.gave_up.is_empty()
            && self.uncertain.is_empty()
            && self.not_attempted == 0
            && self.fatal.is_none()
    }
}

/// Where the workers' time went, summed over every worker: the profile of
/// a run (`cargo bench --bench smtp` prints it per message).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stages {
    /// Building letters (headers, links, DKIM) from the encoded digests.
    pub build: Duration,
    /// Letters waiting, before they could be completed, for the ledger to
    /// make their marks (and the previous outcomes) durable.
    pub ledger: Duration,
    /// Handing letters to the transport, until its answer.
    pub hand_over: Duration,
}

/// How long letters took to hand over, to the microsecond within 1 %, in
/// constant memory whatever the number of letters.
#[derive(Debug, Clone)]
pub struct Latency(hdrhistogram::Histogram<u64>);

impl Default for Latency {
    fn default() -> Self {
        // One microsecond to an hour, two significant digits.
        Latency(
            hdrhistogram::Histogram::new_with_bounds(1, 3_600_000_000, 2)
                .expect("bounds of 1 and 3.6e9 with 2 digits are valid"),
        )
    }
}

impl Latency {
    /// Adds one letter's time.
    pub fn record(&mut self, time: Duration) {
        let micros = u64::try_from(time.as_micros()).unwrap_or(u64::MAX);
        self.0.saturating_record(micros.max(1));
    }

    /// How many letters were timed.
    pub fn count(&self) -> u64 {
        self.0.len()
    }

    /// The time within which a share `q` (0 to 1) of the letters were
    /// handed over; zero when none was.
    pub fn quantile(&self, q: f64) -> Duration {
        if self.0.is_empty() {
            return Duration::ZERO;
        }
        Duration::from_micros(self.0.value_at_quantile(q))
    }
}

/// A delivery's end, waiting to be recorded: recipient, outcome, attempts.
type Finished = (Key, Outcome, u32);

/// One recipient's place in the run.
#[derive(Debug, Clone)]
struct Job {
    recipient: Recipient,
    attempts: u32,
    first_try: Option<Instant>,
}

impl Job {
    fn new(recipient: Recipient) -> Job {
        Job {
            recipient,
            attempts: 0,
            first_try: None,
        }
    }
}

/// The recipients of a run, in order, read as they are needed: a list of
/// a million is never held in memory.
pub struct Recipients<'a> {
    /// How many the source gives.
    total: usize,
    source: Box<dyn Iterator<Item = Result<Recipient>> + Send + 'a>,
}

impl<'a> Recipients<'a> {
    /// The `total` recipients that `source` gives.
    pub fn new(
        total: usize,
        source: impl Iterator<Item = Result<Recipient>> + Send + 'a,
    ) -> Recipients<'a> {
        Recipients {
            total,
            source: Box::new(source),
        }
    }
}

impl Iterator for Recipients<'_> {
    type Item = Result<Recipient>;

    fn next(&mut self) -> Option<Result<Recipient>> {
        self.source.next()
    }
}

#[derive(Default)]
struct Queue<'a> {
    /// Taken but not attempted: they go first.
    fresh: VecDeque<Job>,
    later: Vec<(Instant, Job)>,
    source: Option<Recipients<'a>>,
    /// Recipients the source has not given yet.
    unread: usize,
}

enum Next {
    Job(Job),
    Wait(Instant),
    Done,
    /// The source of recipients failed (the list changed since it was
    /// checked): nothing more is taken from it.
    Failed(Error),
}

impl<'a> Queue<'a> {
    fn of(recipients: Recipients<'a>) -> Queue<'a> {
        Queue {
            unread: recipients.total,
            source: Some(recipients),
            ..Queue::default()
        }
    }

    fn next(&mut self, now: Instant) -> Next {
        if let Some(i) = self
            .later
            .iter()
            .enumerate()
            .filter(|(_, (at, _))| *at <= now)
            .min_by_key(|(_, (at, _))| *at)
            .map(|(i, _)| i)
        {
            return Next::Job(self.later.swap_remove(i).1);
        }
        if let Some(job) = self.fresh.pop_front() {
            return Next::Job(job);
        }
        match self.source.as_mut().map(|s| s.source.next()) {
            Some(Some(Ok(recipient))) => {
                self.unread = self.unread.saturating_sub(1);
                return Next::Job(Job::new(recipient));
            }
            Some(Some(Err(e))) => {
                self.source = None;
                return Next::Failed(e);
            }
            Some(None) => {
                self.source = None;
                self.unread = 0;
            }
            None => {}
        }
        match self.later.iter().map(|(at, _)| *at).min() {
            Some(at) => Next::Wait(at),
            None => Next::Done,
        }
    }

    /// How many are left: set back, waiting for a retry, or not read.
    fn len(&self) -> usize {
        self.fresh.len() + self.later.len() + self.unread
    }
}

/// A shared ceiling on letters per second (on tokio's clock, so that tests
/// can run it on a paused one).
struct Pace {
    interval: Option<Duration>,
    next: Mutex<tokio::time::Instant>,
}

impl Pace {
    fn new(rate: Option<f64>) -> Self {
        Pace {
            interval: rate
                .filter(|r| r.is_finite() && *r > 0.0)
                .map(|r| Duration::from_secs_f64(1.0 / r)),
            next: Mutex::new(tokio::time::Instant::now()),
        }
    }

    async fn wait(&self) {
        let Some(interval) = self.interval else {
            return;
        };
        let slot = {
            let mut next = self.next.lock().unwrap_or_else(|e| e.into_inner());
            let slot = (*next).max(tokio::time::Instant::now());
            *next = slot + interval;
            slot
        };
        tokio::time::sleep_until(slot).await;
    }
}

struct Shared<'a, T: Transport> {
    campaign: &'a Campaign<'a>,
    transport: &'a T,
    /// Commits the journal's records in batches.
    writer: Option<Writer>,
    options: &'a Options,
    progress: &'a dyn Progress,
    stop: &'a AtomicBool,
    queue: Mutex<Queue<'a>>,
    pace: Pace,
    report: Mutex<Report>,
    halt: AtomicBool,
    streak: Mutex<Streak>,
    /// Recipients recorded as refused whose refusal turned out to be the
    /// relay's: set back to be sent once every worker has stopped.
    reopen: Mutex<Vec<Key>>,
}

impl<T: Transport> Shared<'_, T> {
    fn stopped(&self) -> bool {
        self.stop.load(Ordering::SeqCst) || self.halt.load(Ordering::SeqCst)
    }

    fn report(&self) -> std::sync::MutexGuard<'_, Report> {
        self.report.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Hands the writer how a connection's previous delivery ended (if
    /// not yet recorded) and that the next one starts; they are committed
    /// with whatever the other connections submitted meanwhile, and
    /// answered once `durability` is reached. The recipient after it, if
    /// already taken, is set aside in the same commit: that answer comes
    /// once flushed.
    fn submit(
        &self,
        finished: Option<Finished>,
        starting: Option<&Key>,
        durability: Durability,
        next: Option<&Key>,
    ) -> (Pending, Option<Pending>) {
        let Some(writer) = &self.writer else {
            return (Pending::ready(), next.map(|_| Pending::ready()));
        };
        let mut entries = Vec::with_capacity(3);
        if let Some((recipient, outcome, attempts)) = finished {
            entries.push(Entry::Ended(recipient, outcome, attempts));
        }
        if let Some(recipient) = starting {
            entries.push(Entry::Leaving(recipient.clone()));
        }
        match (next, entries.is_empty(), durability) {
            (Some(next), _, _) => {
                let (done, held) = writer.submit_holding(entries, durability, next.clone());
                (done, Some(held))
            }
            (None, true, _) => (Pending::ready(), None),
            (None, false, Durability::Written) => (writer.submit(entries), None),
            (None, false, Durability::Flushed) => (writer.flush(entries), None),
        }
    }

    /// Records how a connection's previous delivery ended, flushed to the
    /// disk, before the worker waits for anything or stops.
    async fn record(&self, finished: Option<Finished>) -> Result<()> {
        self.submit(finished, None, Durability::Flushed, None)
            .0
            .wait()
            .await
            .map_err(Error::Ledger)
    }

    /// One worker: takes recipients until none is left or the run stops.
    async fn work(&self) -> Result<()> {
        let mut session: Option<T::Session> = None;
        let mut unrecorded: Option<Finished> = None;
        let mut ahead: Option<Ahead> = None;
        let outcome = self
            .work_with(&mut session, &mut unrecorded, &mut ahead)
            .await;
        if let Some(Ahead { job, .. }) = ahead.take() {
            // Set aside but never attempted: back to the queue (its hold
            // is lifted once every worker has stopped).
            self.requeue(job);
        }
        let flushed = self.record(unrecorded.take()).await;
        if let Some(s) = session {
            self.transport.close(s).await;
        }
        match outcome.and(flushed) {
            // A ledger that cannot record (a full disk) stops the run like
            // a relay that refuses everything: no message leaves without
            // its mark, and the report says what was done.
            Err(Error::Ledger(e)) => {
                self.halt.store(true, Ordering::SeqCst);
                self.report().fatal.get_or_insert(format!(
                    "the ledger cannot record any more, so no further message was sent ({e})"
                ));
                Ok(())
            }
            other => other,
        }
    }

    /// Takes the worker's next recipient from the queue, to be set aside
    /// in the ledger (flushed) with the current one's mark, while the
    /// current message is on the wire (see
    /// [`crate::ledger::Durability`]). Only a recipient ready now is
    /// taken; a source that fails stops the run as it would at the head
    /// of the loop.
    fn take_ahead(&self) -> Option<Job> {
        self.writer.as_ref()?;
        if self.stopped() {
            return None;
        }
        match self.take() {
            Next::Job(job) => Some(job),
            Next::Failed(e) => {
                self.fail(e);
                None
            }
            Next::Wait(_) | Next::Done => None,
        }
    }

    /// What the queue has next, now.
    fn take(&self) -> Next {
        self.queue
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .next(Instant::now())
    }

    /// The source of recipients failed: the run stops.
    fn fail(&self, e: Error) {
        self.report().fatal.get_or_insert(format!(
            "{e}; nothing more was sent, and those not yet sent are left to send"
        ));
        self.halt.store(true, Ordering::SeqCst);
    }

    /// The next recipient from the queue. When none is ready, the worker
    /// records its last outcome (flushed) and waits for a retry to fall
    /// due (`Again`), or stops: the run is over or its source failed.
    async fn next_job(&self, unrecorded: &mut Option<Finished>) -> Result<Taken> {
        match self.take() {
            Next::Job(job) => Ok(Taken::Job(job)),
            Next::Wait(at) => {
                self.record(unrecorded.take()).await?;
                // Wake early if the run stops meanwhile. (Mutation
                // testing: `-` for `+` makes the worker poll without
                // sleeping until the retry is due: the same outcome for a
                // test, only a busy core.)
                let until = at.min(Instant::now() + Duration::from_millis(200));
                tokio::time::sleep_until(until.into()).await;
                Ok(Taken::Again)
            }
            Next::Done => Ok(Taken::Over),
            Next::Failed(e) => {
                self.fail(e);
                Ok(Taken::Over)
            }
        }
    }

    /// Puts a job back at the head of the queue: it was not attempted.
    fn requeue(&self, job: Job) {
        self.queue
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .fresh
            .push_front(job);
    }

    /// The worker's loop. A delivery's outcome is recorded together with
    /// the start of the next one (one commit a message), and on its own
    /// before the worker waits for anything: so at any instant a worker has
    /// at most one delivery whose outcome the ledger does not hold.
    async fn work_with(
        &self,
        session: &mut Option<T::Session>,
        unrecorded: &mut Option<Finished>,
        ahead: &mut Option<Ahead>,
    ) -> Result<()> {
        while let Some((mut job, held)) = self.next_to_send(unrecorded, ahead).await? {
            job.attempts += 1;
            job.first_try.get_or_insert_with(Instant::now);
            let recipient = job.recipient.key.clone();
            let mark = self.mark(unrecorded.take(), &recipient, held, ahead);
            let building = Instant::now();
            let letter = match self.build(&job).await {
                Ok(letter) => letter,
                Err(e) => {
                    // Marked as leaving, but it never will: set back. (The
                    // run stops, so the job's attempts are not read again.)
                    *unrecorded = Some((recipient, Outcome::Retry(e.to_string()), 0));
                    self.requeue(job);
                    return Err(e);
                }
            };
            let started = Instant::now();
            let gate = mark.clone().map(|(recorded, _)| recorded.is_ok());
            let result = self.hand_over(session, &letter, gate).await;
            let (recorded, waited) = mark.await;
            self.add_stages(Stages {
                build: started - building,
                ledger: waited,
                hand_over: started.elapsed().saturating_sub(waited),
            });
            if session.as_ref().is_some_and(|s| !self.transport.usable(s)) {
                *session = None;
            }
            if let Err(e) = recorded {
                // The ledger cannot record: the letter was held back before
                // it was complete (or refused before), so it did not leave,
                // and the run stops with it not attempted (its attempts are
                // not read again).
                self.requeue(job);
                return Err(self.unrecorded(e));
            }
            let settled = self.settle(&job, &recipient, letter.bytes.len(), started, result);
            if let Some(end) = self.go_on(settled, job, recipient, unrecorded) {
                return end;
            }
        }
        Ok(())
    }

    /// The worker's next job: the one it set aside, or the next of the
    /// queue once due (and paced); none once the run is over or stopped.
    async fn next_to_send(
        &self,
        unrecorded: &mut Option<Finished>,
        ahead: &mut Option<Ahead>,
    ) -> Result<Option<(Job, Option<Pending>)>> {
        loop {
            if self.stopped() {
                return Ok(None);
            }
            let (job, held) = match ahead.take() {
                Some(Ahead { job, held }) => (job, Some(held)),
                None => match self.next_job(unrecorded).await? {
                    Taken::Job(job) => (job, None),
                    Taken::Again => continue,
                    Taken::Over => return Ok(None),
                },
            };
            if self.pace.interval.is_some() {
                if let Err(e) = self.record(unrecorded.take()).await {
                    self.requeue(job);
                    return Err(e);
                }
                self.pace.wait().await;
            }
            if self.stopped() {
                self.requeue(job);
                return Ok(None);
            }
            return Ok(Some((job, held)));
        }
    }

    /// Marks `recipient` as leaving, with the previous outcome, in a
    /// commit made while the letter is built and its envelope and content
    /// sent; the letter is complete only once that commit is made. Written,
    /// not flushed, when the recipient was set aside (`held`, flushed)
    /// while the previous message was on the wire; flushed otherwise. The
    /// next recipient is set aside in the same commit (into `ahead`),
    /// flushed while this one is on the wire.
    ///
    /// The answer is awaited by the transport before the letter is
    /// complete (the final dot), and by the worker after it; the first to
    /// wait drives it, and it measures how long the letter waited for the
    /// ledger.
    fn mark(
        &self,
        finished: Option<Finished>,
        recipient: &Key,
        held: Option<Pending>,
        ahead: &mut Option<Ahead>,
    ) -> Mark {
        let durability = match held {
            Some(_) => Durability::Written,
            None => Durability::Flushed,
        };
        let next = self.take_ahead();
        let (mark, held_next) = self.submit(
            finished,
            Some(recipient),
            durability,
            next.as_ref().map(|job| &job.recipient.key),
        );
        *ahead = next.zip(held_next).map(|(job, held)| Ahead { job, held });
        async move {
            let waiting = Instant::now();
            let mut recorded = mark.wait().await;
            if let Some(held) = held {
                recorded = recorded.and(held.wait().await);
            }
            (recorded.map_err(Arc::new), waiting.elapsed())
        }
        .boxed()
        .shared()
    }

    /// Builds the job's letter. A signed letter is signed on a thread of
    /// its own, so that the other connections go on meanwhile (the
    /// signature is most of the work of a signed message).
    async fn build(&self, job: &Job) -> Result<crate::message::Letter> {
        match self.campaign.building(&job.recipient, self.options.date)? {
            Built::Ready(letter) => Ok(letter),
            Built::ToSign(to_sign) => tokio::task::spawn_blocking(move || to_sign.sign())
                .await
                .map_err(|e| Error::Message {
                    recipient: job.recipient.key.as_str().to_owned(),
                    reason: format!("the signing thread stopped: {e}"),
                }),
        }
    }

    /// Hands `letter` over on the worker's session, opened first if it has
    /// none (and kept for the next letter).
    async fn hand_over(
        &self,
        session: &mut Option<T::Session>,
        letter: &crate::message::Letter,
        gate: impl Future<Output = bool> + Send + 'static,
    ) -> std::result::Result<crate::deliver::Receipt, DeliveryError> {
        let s = match session {
            Some(s) => s,
            None => session.insert(self.transport.open().await?),
        };
        self.transport.deliver(s, letter, gate).await
    }

    /// The run's error for a mark the ledger could not record.
    fn unrecorded(&self, e: Arc<LedgerError>) -> Error {
        Error::Ledger(Arc::try_unwrap(e).unwrap_or_else(|shared| {
            LedgerError::Commit {
                path: self
                    .writer
                    .as_ref()
                    .map(|w| w.path().to_path_buf())
                    .unwrap_or_default(),
                reason: shared.to_string(),
            }
        }))
    }

    /// Does what a delivery's outcome calls for: its recipient's outcome
    /// to record with the next commit, the job again later, or the run
    /// stopped (the answer the worker ends with).
    fn go_on(
        &self,
        settled: Settled,
        job: Job,
        recipient: Key,
        unrecorded: &mut Option<Finished>,
    ) -> Option<Result<()>> {
        match settled {
            Settled::Done(outcome) => *unrecorded = Some((recipient, outcome, 1)),
            Settled::Later(reason, delay) => {
                *unrecorded = Some((recipient, Outcome::Retry(reason), 1));
                self.queue
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .later
                    .push((Instant::now() + delay, job));
            }
            Settled::Halt(reason) => {
                // Not this recipient's failure: left to send.
                *unrecorded = Some((recipient, Outcome::Retry(reason.clone()), 0));
                self.requeue(job);
                self.report().fatal.get_or_insert(reason);
                self.halt.store(true, Ordering::SeqCst);
                return Some(Ok(()));
            }
            Settled::Error(e) => {
                self.halt.store(true, Ordering::SeqCst);
                return Some(Err(e));
            }
        }
        None
    }

    /// What a delivery's result means for its recipient and for the run.
    fn settle(
        &self,
        job: &Job,
        recipient: &Key,
        bytes: usize,
        started: Instant,
        result: std::result::Result<crate::deliver::Receipt, DeliveryError>,
    ) -> Settled {
        match result {
            Ok(receipt) => {
                let mut report = self.report();
                report.uncertain_in_a_row = 0;
                report.delivered += 1;
                report.bytes += bytes;
                report.largest = report.largest.max(bytes);
                report.latency.record(started.elapsed());
                drop(report);
                self.streak().clear();
                self.progress.delivered(recipient.as_str());
                Settled::Done(Outcome::Sent(receipt.detail))
            }
            Err(DeliveryError::Refused {
                reply,
                permanent: true,
            }) => self.refused(recipient, reply, false),
            Err(DeliveryError::MessageRefused { reply }) => self.refused(recipient, reply, true),
            Err(DeliveryError::Connection {
                reason,
                after_data: true,
            }) => {
                let mut report = self.report();
                report.uncertain.push((recipient.clone(), reason.clone()));
                report.uncertain_in_a_row += 1;
                // The relay takes messages and drops the connection before
                // saying what became of them: every further one would be
                // as uncertain. Stop; those stay uncertain.
                if report.uncertain_in_a_row >= UNCERTAIN_STREAK && report.fatal.is_none() {
                    report.fatal = Some(format!(
                        "the connection to the relay was lost after the message {} times in a row ({reason}): the relay takes messages and drops them, so nothing more was sent; the messages it dropped are uncertain (sent or not: the next run sends them again, and `breves status` counts them); fix the relay, then run the same command",
                        report.uncertain_in_a_row
                    ));
                    self.halt.store(true, Ordering::SeqCst);
                }
                drop(report);
                self.progress.uncertain(recipient.as_str(), &reason);
                Settled::Done(Outcome::Uncertain(reason))
            }
            Err(DeliveryError::Refused { reply, .. }) => {
                self.transient(job, recipient, reply, true)
            }
            Err(DeliveryError::Connection { reason, .. }) => {
                self.transient(job, recipient, reason, false)
            }
            Err(DeliveryError::Rejected { reply, what }) => Settled::Halt(format!(
                "the relay refused {} ({reply}): no retry and no other recipient can fare better, so nothing more was sent; fix the cause, then run the same command",
                what.describe()
            )),
            Err(DeliveryError::Setup(reason)) => Settled::Halt(reason),
            // Only a ledger that cannot record holds a letter back, and
            // that stops the run before its result is settled.
            Err(e @ DeliveryError::Withheld) => Settled::Halt(e.to_string()),
            Err(DeliveryError::Write { path, source }) => {
                Settled::Error(Error::Write { path, source })
            }
        }
    }

    /// A permanent refusal for one recipient: theirs, unless the same
    /// refusal has come for [`RELAY_STREAK`] recipients in a row across
    /// several domains, in which case it is the relay's: the run stops and
    /// those recipients are left to send.
    ///
    /// A message refused for a reason of the sender or the message
    /// (`message`) is the relay's or the sender's after as many in a row at
    /// one domain as well: one provider refusing every message is the
    /// sender's problem, not each reader's.
    fn refused(&self, recipient: &Key, reply: String, message: bool) -> Settled {
        let mut streak = self.streak();
        let signature = refusal_signature(&reply);
        if signature.is_some() && signature == streak.declared {
            // In flight when the streak was found to be the relay's.
            return Settled::Halt(reply);
        }
        match signature {
            Some(signature) => streak.push(signature, recipient),
            None => streak.clear(),
        }
        if streak.is_relays(message) {
            let n = streak.keys.len();
            let earlier: Vec<Key> = streak.keys.drain(..).filter(|k| k != recipient).collect();
            streak.declared = Some(streak.signature.clone());
            streak.clear();
            drop(streak);
            let mut report = self.report();
            report.failed.retain(|(k, _)| !earlier.contains(k));
            drop(report);
            self.reopen
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .extend(earlier);
            return Settled::Halt(format!(
                "the relay refused {n} recipients in a row with the same reply ({reply}): that is the relay's refusal, not theirs, so nothing more was sent and they are left to send; fix the relay, then run the same command"
            ));
        }
        drop(streak);
        self.report()
            .failed
            .push((recipient.clone(), reply.clone()));
        self.progress.failed(recipient.as_str(), &reply);
        Settled::Done(Outcome::Failed(reply))
    }

    /// A transient failure: tried again later while attempts and time
    /// remain. Then a recipient's own refusals (`refused`) give up on them;
    /// a relay that cannot be reached stops the run.
    fn transient(&self, job: &Job, recipient: &Key, reason: String, refused: bool) -> Settled {
        self.report().retries += 1;
        let retry = &self.options.retry;
        let first_try = job.first_try.unwrap_or_else(Instant::now);
        // (Mutation testing: `<=` for the second `<` differs only at an
        // exact instant; `-` or `*` for `+` give the first retry the same
        // delay and later ones a shorter one: a difference in time, which
        // no test measures.)
        if job.attempts < retry.attempts && first_try.elapsed() < retry.give_up_after {
            let delay = retry.delay(job.attempts + 1);
            self.progress.retrying(recipient.as_str(), &reason, delay);
            return Settled::Later(reason, delay);
        }
        if !refused {
            return Settled::Halt(format!(
                "the relay could not be reached for {} attempts over {:.0} s ({reason}): nothing more was sent; run the same command once it is back",
                job.attempts,
                first_try.elapsed().as_secs_f64()
            ));
        }
        let reason = format!("gave up after {} attempts: {reason}", job.attempts);
        self.report()
            .gave_up
            .push((recipient.clone(), reason.clone()));
        self.progress.failed(recipient.as_str(), &reason);
        Settled::Done(Outcome::GaveUp(reason))
    }

    fn add_stages(&self, stages: Stages) {
        let mut report = self.report();
        report.stages.build += stages.build;
        report.stages.ledger += stages.ledger;
        report.stages.hand_over += stages.hand_over;
    }

    fn streak(&self) -> std::sync::MutexGuard<'_, Streak> {
        self.streak.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// What a worker takes from the queue.
enum Taken {
    Job(Job),
    /// Nothing ready yet: look again.
    Again,
    /// Nothing more for this worker.
    Over,
}

/// The answer to a recipient's mark: whether it was recorded, and how
/// long the letter waited for it.
type Mark = futures_util::future::Shared<
    futures_util::future::BoxFuture<'static, (std::result::Result<(), Arc<LedgerError>>, Duration)>,
>;

/// A worker's next recipient, taken while its current message is on the
/// wire, and the flushed commit that sets them aside.
struct Ahead {
    job: Job,
    held: Pending,
}

/// What a delivery's result calls for.
enum Settled {
    /// Record this outcome.
    Done(Outcome),
    /// Try again after the delay; why.
    Later(String, Duration),
    /// Stop the run; the recipient is left to send; why.
    Halt(String),
    /// Stop on an error of breves' own (a file that cannot be written).
    Error(Error),
}

/// Permanent refusals with the same reply in a row, so that a relay
/// refusing everyone is not taken for every recipient refusing.
#[derive(Debug, Default)]
struct Streak {
    signature: String,
    keys: Vec<Key>,
    domains: HashSet<String>,
    /// The refusal found to be the relay's, once it is.
    declared: Option<String>,
}

impl Streak {
    fn clear(&mut self) {
        self.signature.clear();
        self.keys.clear();
        self.domains.clear();
    }

    fn push(&mut self, signature: String, recipient: &Key) {
        if signature != self.signature {
            self.clear();
            self.signature = signature;
        }
        self.keys.push(recipient.clone());
        let domain = recipient.as_str().rsplit('@').next().unwrap_or_default();
        self.domains.insert(domain.to_owned());
    }

    /// Whether the refusals in a row are the relay's: across domains; or
    /// at one domain, when they refuse messages for a reason of the sender
    /// or the message (`message`).
    fn is_relays(&self, message: bool) -> bool {
        self.keys.len() >= RELAY_STREAK && (self.domains.len() >= 2 || message)
    }
}

/// How many recipients in a row, of at least two domains, refused with
/// the same reply make a refusal the relay's rather than theirs.
pub const RELAY_STREAK: usize = 10;

/// How many connections in a row lost after the message (its fate
/// unknown) make the relay's fault: the run stops.
pub const UNCERTAIN_STREAK: usize = 10;

/// What makes two refusals the same: the reply code and the enhanced
/// status. A status about the recipient's own address or mailbox (`5.1.x`,
/// `5.2.x`) is never the relay's.
fn refusal_signature(reply: &str) -> Option<String> {
    if crate::deliver::smtp::about_the_recipient(reply) {
        return None;
    }
    let code = reply.split_whitespace().next().unwrap_or_default();
    Some(match crate::deliver::smtp::enhanced_status(reply) {
        Some(status) => format!("{code} {status}"),
        None => code.to_owned(),
    })
}

/// Hands the letters of `campaign` to `transport`: to each of
/// `recipients`, in their order.
pub async fn run<T: Transport>(
    campaign: &Campaign<'_>,
    transport: &T,
    recipients: Recipients<'_>,
    journal: Option<&Journal>,
    options: &Options,
    progress: &dyn Progress,
    stop: &AtomicBool,
) -> Result<Report> {
    let started = Instant::now();
    let total = recipients.total;
    let queue = Queue::of(recipients);
    progress.started(total);
    let workers = options.concurrency.clamp(1, total.max(1));
    let writer = journal
        .map(|j| Writer::start(Arc::clone(&j.ledger), j.scope.clone(), workers))
        .transpose()?;
    let shared = Shared {
        campaign,
        transport,
        writer,
        options,
        progress,
        stop,
        queue: Mutex::new(queue),
        pace: Pace::new(options.rate),
        report: Mutex::new(Report {
            variants: campaign.digests().len(),
            skipped: campaign.skipped(),
            ..Report::default()
        }),
        halt: AtomicBool::new(false),
        streak: Mutex::new(Streak::default()),
        reopen: Mutex::new(Vec::new()),
    };
    let results = futures_util::future::join_all((0..workers).map(|_| shared.work())).await;
    let left = shared.queue.lock().unwrap_or_else(|e| e.into_inner()).len();
    let commits = shared.writer.as_ref().map_or(0, Writer::commits);
    let flushes = shared.writer.as_ref().map_or(0, Writer::flushes);
    let mut report = shared
        .report
        .into_inner()
        .unwrap_or_else(|e| e.into_inner());
    let reopen = shared
        .reopen
        .into_inner()
        .unwrap_or_else(|e| e.into_inner());
    report.not_attempted = left + reopen.len();
    report.commits = commits;
    report.flushes = flushes;
    report.elapsed = started.elapsed();
    for result in results {
        result?;
    }
    if let Some(journal) = journal {
        let ledger = Arc::clone(&journal.ledger);
        let scope = journal.scope.clone();
        tokio::task::spawn_blocking(move || {
            // Those set aside and given back unsent. (A ledger that cannot
            // record any more leaves them to the next run, which finds
            // them unsent: see `Ledger::begin_staged`.)
            let _ = ledger.release_held(&scope);
            match reopen.is_empty() {
                true => Ok(()),
                false => ledger.reopen(&scope, &reopen),
            }
        })
        .await
        .map_err(|e| Error::Task {
            what: "the ledger's writer",
            reason: e.to_string(),
        })??;
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latencies_are_kept_as_a_histogram_precise_to_one_percent() {
        let mut latency = Latency::default();
        assert_eq!(latency.quantile(0.99), Duration::ZERO, "nothing timed yet");
        for ms in 1..=100 {
            latency.record(Duration::from_millis(ms));
        }
        assert_eq!(latency.count(), 100);
        let within = |q: f64, ms: f64| {
            let got = latency.quantile(q).as_secs_f64() * 1000.0;
            assert!((got - ms).abs() <= ms * 0.01, "q{q}: {got} ms, not {ms}");
        };
        within(0.5, 50.0);
        within(0.99, 99.0);
        within(1.0, 100.0);
        latency.record(Duration::ZERO);
        assert_eq!(latency.count(), 101, "a time under a microsecond counts");
    }

    /// A job whose variant stands for the recipient.
    fn job(index: usize) -> Job {
        let address = crate::address::parse_address(&format!("m{index}@example.org"));
        let member = crate::subscribers::Member::outsider(address.expect("an address"));
        Job::new(Recipient::new(member, index))
    }

    fn taken(next: Next) -> Option<usize> {
        match next {
            Next::Job(job) => Some(job.recipient.variant),
            Next::Wait(_) | Next::Done | Next::Failed(_) => None,
        }
    }

    #[test]
    fn a_refusal_is_the_relays_only_when_the_same_comes_from_many_domains_in_a_row() {
        assert_eq!(refusal_signature("550 5.1.1 <a@x.org> unknown"), None);
        assert_eq!(refusal_signature("552 5.2.2 mailbox full"), None);
        assert_eq!(
            refusal_signature("550 5.7.1 relaying denied for <a@x.org>").as_deref(),
            Some("550 5.7.1")
        );
        assert_eq!(refusal_signature("554 refused").as_deref(), Some("554"));
        let key = |i: usize, domain: &str| Key::from_text(&format!("m{i}@{domain}"));
        let mut streak = Streak::default();
        for i in 0..RELAY_STREAK {
            streak.push("550 5.7.1".into(), &key(i, "example.org"));
        }
        assert!(
            !streak.is_relays(false),
            "one domain can refuse us on its own"
        );
        // Unless what it refuses is our messages.
        assert!(streak.is_relays(true));
        streak.push("550 5.7.1".into(), &key(99, "example.com"));
        assert!(streak.is_relays(false));
        // Another reply starts another streak; a delivery ends it.
        streak.push("554 5.7.1".into(), &key(100, "example.com"));
        assert_eq!(streak.keys.len(), 1);
        for i in 0..RELAY_STREAK - 2 {
            streak.push(
                "554 5.7.1".into(),
                &key(i, if i % 2 == 0 { "a.org" } else { "b.org" }),
            );
        }
        streak.clear();
        streak.push("554 5.7.1".into(), &key(1, "a.org"));
        assert!(!streak.is_relays(true));
        assert_eq!((streak.keys.len(), streak.domains.len()), (1, 1));
    }

    #[test]
    fn a_retry_waits_for_its_time_then_goes_before_fresh_recipients() {
        let now = Instant::now();
        let mut queue = Queue::default();
        queue.fresh.extend([job(0), job(1)]);
        queue.later.push((now + Duration::from_secs(10), job(7)));
        queue.later.push((now + Duration::from_secs(5), job(8)));
        // Not due yet: the fresh recipients go first.
        assert_eq!(taken(queue.next(now)), Some(0));
        assert_eq!(queue.len(), 3);
        // Due: the earliest retry goes before the fresh one.
        let later = now + Duration::from_secs(11);
        assert_eq!(taken(queue.next(later)), Some(8));
        assert_eq!(taken(queue.next(later)), Some(7));
        assert_eq!(taken(queue.next(later)), Some(1));
        assert!(matches!(queue.next(later), Next::Done));
        // Only a retry not yet due: wait until its time.
        queue.later.push((now + Duration::from_secs(5), job(9)));
        match queue.next(now) {
            Next::Wait(at) => assert_eq!(at, now + Duration::from_secs(5)),
            _ => panic!("the retry is not due"),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn the_rate_ceiling_spaces_letters_evenly() {
        let pace = Pace::new(Some(5.0));
        let start = tokio::time::Instant::now();
        for _ in 0..11 {
            pace.wait().await;
        }
        // Eleven letters at five a second: the last leaves two seconds in.
        assert_eq!(start.elapsed(), Duration::from_secs(2));
        let unbounded = Pace::new(None);
        let start = tokio::time::Instant::now();
        unbounded.wait().await;
        assert_eq!(start.elapsed(), Duration::ZERO);
    }

    #[test]
    fn back_off_doubles_within_bounds_with_jitter() {
        let retry = Retry {
            attempts: 10,
            base: Duration::from_secs(2),
            max_delay: Duration::from_secs(30),
            give_up_after: Duration::from_secs(600),
        };
        for (next, plain) in [
            (2, 2.0),
            (3, 4.0),
            (4, 8.0),
            (5, 16.0),
            (6, 30.0),
            (9, 30.0),
        ] {
            for _ in 0..50 {
                let d = retry.delay(next).as_secs_f64();
                assert!(
                    (plain * 0.5..=plain * 1.5).contains(&d),
                    "attempt {next}: {d} s, not within ±50 % of {plain} s"
                );
            }
        }
        let spread: std::collections::HashSet<u128> =
            (0..20).map(|_| retry.delay(3).as_millis()).collect();
        assert!(spread.len() > 5, "retries are spread, not in waves");
    }
}
