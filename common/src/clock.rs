//! The time, as a part that tests can set: a business day turns at a given
//! hour, and a test must be able to stand at 01:30 without waiting for it.

use std::{
    fmt,
    sync::{Arc, Mutex},
};

use chrono::{DateTime, Utc};

/// Where a subgraph reads the time.
#[derive(Clone, Default)]
pub struct Clock(Option<Arc<Mutex<DateTime<Utc>>>>);

impl Clock {
    /// The system clock.
    pub fn system() -> Self {
        Clock(None)
    }

    /// A clock that stands at `at` until [`Clock::set`] moves it (tests).
    pub fn manual(at: DateTime<Utc>) -> Self {
        Clock(Some(Arc::new(Mutex::new(at))))
    }

    pub fn now(&self) -> DateTime<Utc> {
        match &self.0 {
            None => Utc::now(),
            Some(at) => *at.lock().unwrap_or_else(|e| e.into_inner()),
        }
    }

    /// Moves a manual clock (every clone of it); the system clock ignores it.
    pub fn set(&self, at: DateTime<Utc>) {
        if let Some(current) = &self.0 {
            *current.lock().unwrap_or_else(|e| e.into_inner()) = at;
        }
    }
}

impl fmt::Debug for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            None => f.write_str("Clock::system"),
            Some(_) => write!(f, "Clock::manual({})", self.now()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_stands_still_until_moved_and_clones_share_it() {
        let start: DateTime<Utc> = "2026-11-24T16:30:00Z".parse().expect("instant");
        let clock = Clock::manual(start);
        let other = clock.clone();
        assert_eq!(clock.now(), start);
        let later = start + chrono::Duration::hours(3);
        other.set(later);
        assert_eq!(clock.now(), later);
        Clock::system().set(start);
        assert!(Clock::system().now() > start);
    }
}
