//! Rate limiting per principal: a bucket per API key and per token
//! subject of a workspace (GCRA, from `governor`), refilled at `--rate-limit-per-sec` and holding at most
//! `--rate-limit-burst` requests. Buckets live in memory, per process.

use std::{num::NonZeroU32, sync::Arc};

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter as Governor, clock::Clock};

use crate::{config::Limits, error::AppError};

/// The limiter shared by every request; `None` inside when turned off.
#[derive(Clone)]
pub struct RateLimiter(Option<Arc<DefaultKeyedRateLimiter<Arc<str>>>>);

impl RateLimiter {
    /// A limiter for `limits`; rate 0 turns it off.
    pub fn new(limits: &Limits) -> Self {
        let Some(rate) = NonZeroU32::new(limits.rate_limit_per_sec) else {
            return Self(None);
        };
        let burst = NonZeroU32::new(limits.rate_limit_burst).unwrap_or(rate);
        let quota = Quota::per_second(rate).allow_burst(burst);
        Self(Some(Arc::new(Governor::keyed(quota))))
    }

    /// Takes one request from `holder`'s bucket (see
    /// [`Principal::holder`](crate::auth::Principal::holder)), or says how
    /// long until one is available.
    pub fn check(&self, holder: &Arc<str>) -> Result<(), AppError> {
        let Some(limiter) = &self.0 else {
            return Ok(());
        };
        limiter.check_key(holder).map_err(|not_until| {
            let wait = not_until.wait_time_from(limiter.clock().now());
            AppError::RateLimited {
                // Retry-After takes whole seconds; rounding down would send
                // the client back too early.
                retry_after_secs: wait.as_secs() + u64::from(wait.subsec_nanos() > 0),
            }
        })
    }

    /// Drops the buckets that are full again (their holders have been idle
    /// long enough to have their whole burst back): without it, every key
    /// and token user ever seen would keep one for the process's life.
    pub fn forget_idle(&self) {
        if let Some(limiter) = &self.0 {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn holders(limiter: &RateLimiter) -> usize {
        limiter.0.as_ref().map_or(0, |limiter| limiter.len())
    }

    #[test]
    fn holders_idle_long_enough_to_be_full_again_are_forgotten() {
        // A bucket of one refilled every 10 ms.
        let limits = Limits {
            rate_limit_per_sec: 100,
            rate_limit_burst: 1,
            ..Limits::DEFAULT
        };
        let limiter = RateLimiter::new(&limits);
        let holder: Arc<str> = "idle".into();
        limiter.check(&holder).unwrap();
        assert_eq!(holders(&limiter), 1);
        // Longer than the refill (only a lower bound matters here).
        std::thread::sleep(std::time::Duration::from_millis(50));
        limiter.forget_idle();
        assert_eq!(holders(&limiter), 0);
        // A forgotten holder starts again with its whole burst.
        limiter.check(&holder).unwrap();
    }
}
