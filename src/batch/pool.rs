//! Sharing sessions between threads, and keeping the photos in memory at once within a budget.

use std::sync::{Condvar, Mutex, PoisonError};

/// Idle sessions of one kind: taken by a thread for one job, then put back. ONNX sessions are
/// not shared between threads at once, and loading one costs a fraction of a second.
pub(super) struct Pool<T> {
    idle: Mutex<Vec<T>>,
}

impl<T> Pool<T> {
    pub(super) fn new(first: T) -> Self {
        Self {
            idle: Mutex::new(vec![first]),
        }
    }

    /// Runs `job` with an idle session, or a new one from `make` when none is idle.
    pub(super) fn with<R, E>(
        &self,
        make: impl FnOnce() -> Result<T, E>,
        job: impl FnOnce(&mut T) -> Result<R, E>,
    ) -> Result<R, E> {
        let idle = self
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        let mut session = match idle {
            Some(s) => s,
            None => make()?,
        };
        let result = job(&mut session);
        self.idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(session);
        result
    }
}

/// A budget of bytes that photos in flight draw on: a thread waits until the photo it is about
/// to open fits. A photo larger than the whole budget runs alone rather than never.
pub(super) struct MemoryGate {
    budget: u64,
    used: Mutex<u64>,
    freed: Condvar,
}

impl MemoryGate {
    pub(super) fn new(budget: u64) -> Self {
        Self {
            budget,
            used: Mutex::new(0),
            freed: Condvar::new(),
        }
    }

    /// Waits until `bytes` fit, then holds them until the returned guard is dropped.
    pub(super) fn enter(&self, bytes: u64) -> Entry<'_> {
        let bytes = bytes.min(self.budget);
        let mut used = self.used.lock().unwrap_or_else(PoisonError::into_inner);
        while *used + bytes > self.budget {
            used = self
                .freed
                .wait(used)
                .unwrap_or_else(PoisonError::into_inner);
        }
        *used += bytes;
        Entry { gate: self, bytes }
    }
}

pub(super) struct Entry<'a> {
    gate: &'a MemoryGate,
    bytes: u64,
}

impl Drop for Entry<'_> {
    fn drop(&mut self) {
        *self
            .gate
            .used
            .lock()
            .unwrap_or_else(PoisonError::into_inner) -= self.bytes;
        self.gate.freed.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU64, Ordering};

    use super::*;

    #[test]
    fn photos_in_flight_stay_within_the_budget_and_an_oversized_one_runs_alone() {
        let gate = MemoryGate::new(100);
        let in_flight = AtomicU64::new(0);
        let peak = AtomicU64::new(0);
        let sizes = [60u64, 30, 50, 40, 250, 10, 70, 20];
        std::thread::scope(|s| {
            for &size in &sizes {
                let (gate, in_flight, peak) = (&gate, &in_flight, &peak);
                s.spawn(move || {
                    let _entry = gate.enter(size);
                    let now = in_flight.fetch_add(size.min(100), Ordering::SeqCst) + size.min(100);
                    peak.fetch_max(now, Ordering::SeqCst);
                    std::thread::sleep(std::time::Duration::from_millis(20));
                    in_flight.fetch_sub(size.min(100), Ordering::SeqCst);
                });
            }
        });
        assert!(peak.load(Ordering::SeqCst) <= 100);
        assert_eq!(*gate.used.lock().unwrap(), 0);
    }

    #[test]
    fn a_pool_reuses_an_idle_session() {
        let pool = Pool::new(1);
        let made = std::cell::Cell::new(0);
        let make = || {
            made.set(made.get() + 1);
            Ok::<_, ()>(2)
        };
        assert_eq!(pool.with(make, |s| Ok(*s)), Ok(1));
        assert_eq!(pool.with(make, |s| Ok(*s)), Ok(1));
        assert_eq!(made.get(), 0);
    }
}
