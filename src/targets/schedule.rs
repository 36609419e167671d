//! Many deliveries at once: bounded concurrency, targets taking turns, and a target that
//! is down given up on for the rest of the run.

use std::sync::{Mutex, OnceLock};
use std::thread;

use reqwest::blocking::Client;

use super::{attempt, http_client, Job, Outcome, Target, MAX_CONCURRENCY};

/// After this many deliveries in a row to one target failed because the target is down,
/// the rest of its deliveries in this run are not attempted (they stay failed, and the
/// next run tries them again). Each of those deliveries has already used its retries, so
/// three in a row is not a blip; fewer could be two payloads caught by one short restart.
/// Until a target has delivered once in this run, at most this many of its deliveries are
/// in flight at a time: a target that is down from the start costs three deliveries, side
/// by side, i.e. about one timeout (× attempts) of wall time, however many orphans there
/// are.
pub const GIVE_UP_AFTER: u32 = 3;

/// A target's standing in one [`deliver_all`].
#[derive(Default)]
struct TargetState {
    /// Its jobs not yet started, in job order.
    queue: std::collections::VecDeque<usize>,
    in_flight: usize,
    /// Deliveries that failed in a row because the target is down.
    streak: u32,
    /// It answered once in this run (delivered, or refused a payload).
    answered: bool,
}

impl TargetState {
    fn given_up(&self) -> bool {
        self.streak >= GIVE_UP_AFTER
    }
}

struct Scheduler {
    targets: Vec<TargetState>,
    /// Where the next search for work starts, so targets take turns.
    turn: usize,
    workers: usize,
}

/// What a worker is to do next.
enum Work {
    Deliver(usize, usize),
    /// Record the job as not attempted: its target was given up on.
    Skip(usize, usize),
    Wait,
    Done,
}

impl Scheduler {
    fn next(&mut self) -> Work {
        let n = self.targets.len();
        let mut waiting = false;
        for k in 0..n {
            let t = (self.turn + k) % n;
            let st = &self.targets[t];
            let Some(&job) = st.queue.front() else {
                continue;
            };
            waiting = true;
            if st.given_up() {
                self.targets[t].queue.pop_front();
                return Work::Skip(job, t);
            }
            if st.in_flight >= self.limit(t) {
                continue;
            }
            let st = &mut self.targets[t];
            st.queue.pop_front();
            st.in_flight += 1;
            self.turn = (t + 1) % n;
            return Work::Deliver(job, t);
        }
        if waiting {
            Work::Wait
        } else {
            Work::Done
        }
    }

    /// How many of target `t`'s deliveries may be in flight now.
    fn limit(&self, t: usize) -> usize {
        let st = &self.targets[t];
        let mut limit = self.workers;
        // One worker stays free for the other targets while they have work: a target
        // that hangs never holds every slot.
        let others = self
            .targets
            .iter()
            .enumerate()
            .any(|(i, o)| i != t && !o.queue.is_empty() && !o.given_up());
        if others {
            limit = limit.saturating_sub(1);
        }
        // Not yet known to be up, or failing: no more in flight than failures it may
        // still have before it is given up on.
        if !st.answered || st.streak > 0 {
            limit = limit.min(GIVE_UP_AFTER.saturating_sub(st.streak) as usize);
        }
        limit.max(1)
    }

    fn finished(&mut self, t: usize, ok: bool, down: bool) {
        let st = &mut self.targets[t];
        st.in_flight -= 1;
        if ok || !down {
            st.answered = true;
            st.streak = 0;
        } else {
            st.streak += 1;
        }
    }
}

/// What one run learned about its targets, carried from one [`deliver_all_within`] to the
/// next (a `close` that first retries an earlier run's failed deliveries, then delivers
/// its own): a target given up on stays given up on for the rest of the run.
#[derive(Debug, Default)]
pub struct RunBudget {
    /// Target name → (failures in a row because it is down, it answered once).
    seen: Mutex<std::collections::HashMap<String, (u32, bool)>>,
}

/// [`deliver_all_within`] with a budget of its own.
#[cfg(test)]
pub fn deliver_all(
    jobs: &[Job],
    concurrency: usize,
    on_done: &(dyn Fn(usize, &Outcome) + Sync),
) -> Vec<Outcome> {
    deliver_all_within(jobs, concurrency, &RunBudget::default(), on_done)
}

/// Deliver each `(target, payload)` job, at most `concurrency` at a time (at least one),
/// calling `on_done(job_index, &outcome)` from the worker thread as each one finishes.
/// Returns the outcomes in job order.
///
/// Each target has its own budget: after [`GIVE_UP_AFTER`] deliveries in a row failed
/// because the target is down (timed out, unreachable, HTTP 5xx or 429 after the
/// retries, a command that timed out or could not be started), its remaining jobs are not
/// attempted and fail at once with a detail saying so. A target that answers "no" (HTTP
/// 4xx, a command's non-zero exit) is up and costs no timeout, so that does not count:
/// three payloads it always refuses must not keep it from getting the others, run after
/// run. Targets take turns for workers, and no target holds every worker while another
/// one has work, so a healthy target never waits behind a dead one.
pub fn deliver_all_within(
    jobs: &[Job],
    concurrency: usize,
    budget: &RunBudget,
    on_done: &(dyn Fn(usize, &Outcome) + Sync),
) -> Vec<Outcome> {
    let workers = concurrency.clamp(1, MAX_CONCURRENCY).min(jobs.len());
    // Targets by identity (the same config entry), in order of first appearance.
    let mut distinct: Vec<&Target> = Vec::new();
    let mut states: Vec<TargetState> = Vec::new();
    for (i, job) in jobs.iter().enumerate() {
        let t = match distinct.iter().position(|d| std::ptr::eq(*d, job.target)) {
            Some(t) => t,
            None => {
                distinct.push(job.target);
                states.push(TargetState::default());
                distinct.len() - 1
            }
        };
        states[t].queue.push_back(i);
    }
    {
        let seen = budget.seen.lock().unwrap_or_else(|p| p.into_inner());
        for (st, t) in states.iter_mut().zip(&distinct) {
            (st.streak, st.answered) = seen.get(&t.name).copied().unwrap_or_default();
        }
    }
    let sched = Mutex::new(Scheduler {
        targets: states,
        turn: 0,
        workers,
    });
    let wake = std::sync::Condvar::new();
    let results: Mutex<Vec<Option<Outcome>>> = Mutex::new(vec![None; jobs.len()]);
    // Built on first use: a run with command targets only needs no HTTP client.
    let client: OnceLock<Client> = OnceLock::new();
    thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| loop {
                let work = {
                    let mut g = lock(&sched);
                    loop {
                        match g.next() {
                            Work::Wait => g = wake.wait(g).unwrap_or_else(|p| p.into_inner()),
                            w => break w,
                        }
                    }
                };
                let (i, outcome) = match work {
                    Work::Done => break,
                    Work::Wait => unreachable!("waited above"),
                    Work::Skip(i, t) => (i, not_attempted(distinct[t])),
                    Work::Deliver(i, t) => {
                        let job = &jobs[i];
                        let (outcome, down) = attempt(job.target, job.payload, job.key, || {
                            client.get_or_init(http_client)
                        });
                        lock(&sched).finished(t, outcome.ok, down);
                        wake.notify_all();
                        (i, outcome)
                    }
                };
                on_done(i, &outcome);
                results.lock().unwrap_or_else(|p| p.into_inner())[i] = Some(outcome);
            });
        }
    });
    let sched = sched.into_inner().unwrap_or_else(|p| p.into_inner());
    let mut seen = budget.seen.lock().unwrap_or_else(|p| p.into_inner());
    for (st, t) in sched.targets.iter().zip(&distinct) {
        seen.insert(t.name.clone(), (st.streak, st.answered));
    }
    drop(seen);
    results
        .into_inner()
        .unwrap_or_else(|p| p.into_inner())
        .into_iter()
        .map(|o| o.expect("every job was delivered"))
        .collect()
}

fn lock(m: &Mutex<Scheduler>) -> std::sync::MutexGuard<'_, Scheduler> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The outcome of a job whose target was given up on: a failure, so the next run tries it
/// again.
fn not_attempted(target: &Target) -> Outcome {
    Outcome {
        ok: false,
        attempts: 0,
        detail: format!(
            "not attempted: target {} failed {GIVE_UP_AFTER} times in a row this run; left for the next run",
            target.name
        ),
        elapsed_ms: 0,
    }
}

#[cfg(test)]
#[path = "schedule_tests.rs"]
mod tests;
