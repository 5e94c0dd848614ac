//! A circuit breaker per route: closed while calls succeed, open after a run of failures,
//! half-open after a cooldown, when exactly one probe call decides whether to close again.
//!
//! Time is tokio's clock, so tests drive it with `tokio::time::pause` and `advance`.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use super::BreakerPolicy;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Closed { failures: u32 },
    Open { until: Instant },
    HalfOpen { probing: bool },
}

/// Why a call may not go to this route now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// Open; the next probe is allowed in this long.
    Open(Duration),
    /// Half-open, and another caller's probe is in flight.
    Probing,
}

#[derive(Debug)]
pub(crate) struct Breaker {
    state: Mutex<State>,
    policy: BreakerPolicy,
}

impl Breaker {
    pub(crate) fn new(policy: BreakerPolicy) -> Self {
        Breaker {
            state: Mutex::new(State::Closed { failures: 0 }),
            policy,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // The state is a plain value that no panic can leave half-written.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Asks to make a call. The ticket must be given back through [`Ticket::succeeded`] or
    /// [`Ticket::failed`]; a ticket dropped unanswered (the caller gave up) lets the next caller
    /// probe instead.
    pub(crate) fn admit(&self) -> Result<Ticket<'_>, Refusal> {
        let mut state = self.lock();
        let now = Instant::now();
        let probe = match *state {
            State::Closed { .. } => false,
            State::Open { until } if now < until => return Err(Refusal::Open(until - now)),
            State::Open { .. } | State::HalfOpen { probing: false } => {
                *state = State::HalfOpen { probing: true };
                true
            }
            State::HalfOpen { probing: true } => return Err(Refusal::Probing),
        };
        Ok(Ticket {
            breaker: self,
            probe,
            answered: false,
        })
    }

    /// Whether the breaker is open or half-open, for reports.
    pub(crate) fn is_tripped(&self) -> bool {
        !matches!(*self.lock(), State::Closed { .. })
    }
}

/// Permission for one call.
#[derive(Debug)]
pub(crate) struct Ticket<'a> {
    breaker: &'a Breaker,
    probe: bool,
    answered: bool,
}

impl Ticket<'_> {
    /// Whether this call is the half-open probe; a probe is never retried.
    pub(crate) fn is_probe(&self) -> bool {
        self.probe
    }

    pub(crate) fn succeeded(mut self) {
        self.answered = true;
        *self.breaker.lock() = State::Closed { failures: 0 };
    }

    /// Records a failure the provider is to blame for; returns whether the breaker is now open.
    pub(crate) fn failed(mut self) -> bool {
        self.answered = true;
        let policy = self.breaker.policy;
        let mut state = self.breaker.lock();
        let failures = match *state {
            State::Closed { failures } if !self.probe => failures + 1,
            _ => u32::MAX,
        };
        *state = if failures >= policy.failure_threshold.max(1) {
            State::Open {
                until: Instant::now() + policy.cooldown,
            }
        } else {
            State::Closed { failures }
        };
        matches!(*state, State::Open { .. })
    }

    /// The call failed in a way that says nothing about the provider's health (the request
    /// itself was refused): a probe counts as passed, a normal call leaves the count alone.
    pub(crate) fn neutral(mut self) {
        self.answered = true;
        if self.probe {
            *self.breaker.lock() = State::Closed { failures: 0 };
        }
    }
}

impl Drop for Ticket<'_> {
    fn drop(&mut self) {
        if !self.answered && self.probe {
            *self.breaker.lock() = State::HalfOpen { probing: false };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn breaker() -> Breaker {
        Breaker::new(BreakerPolicy {
            failure_threshold: 2,
            cooldown: Duration::from_secs(10),
        })
    }

    #[tokio::test(start_paused = true)]
    async fn opens_after_consecutive_failures_and_probes_once() {
        let b = breaker();
        assert!(!b.admit().expect("closed").failed());
        b.admit().expect("closed").succeeded();
        assert!(
            !b.admit().expect("closed").failed(),
            "a success resets the count"
        );
        assert!(
            b.admit().expect("closed").failed(),
            "second failure in a row opens"
        );
        assert_eq!(
            b.admit().err(),
            Some(Refusal::Open(Duration::from_secs(10)))
        );

        tokio::time::advance(Duration::from_secs(10)).await;
        let probe = b.admit().expect("half-open");
        assert!(probe.is_probe());
        assert_eq!(
            b.admit().err(),
            Some(Refusal::Probing),
            "one probe at a time"
        );
        assert!(probe.failed(), "a failed probe reopens at once");
        assert!(matches!(b.admit(), Err(Refusal::Open(_))));

        tokio::time::advance(Duration::from_secs(10)).await;
        b.admit().expect("half-open").succeeded();
        assert!(!b.is_tripped());
        assert!(!b.admit().expect("closed").is_probe());
    }

    #[tokio::test(start_paused = true)]
    async fn an_abandoned_probe_lets_the_next_caller_probe() {
        let b = breaker();
        for _ in 0..2 {
            b.admit().expect("closed").failed();
        }
        tokio::time::advance(Duration::from_secs(10)).await;
        drop(b.admit().expect("probe"));
        assert!(b.admit().expect("probe again").is_probe());
    }
}
