//! Bounds on the agent's durations and safe conversions of the times it sends, so no input
//! (an argument, a frame from a same-user process) can make any arithmetic overflow.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The longest an agent may hold a vault open (`--ttl`) or wait unused (`--idle`).
pub const MAX_AGENT_DURATION: Duration = Duration::from_secs(7 * 24 * 3600);

/// `--ttl` / `--idle`: more than zero and at most [`MAX_AGENT_DURATION`]. The text is
/// clap's error message (exit 2), shown before anything starts.
pub fn agent_duration(text: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(text).map_err(|e| format!("{e} (examples: 90s, 15m, 2h)"))?;
    if d.is_zero() {
        return Err("must be longer than zero (examples: 90s, 15m, 2h)".into());
    }
    if d > MAX_AGENT_DURATION {
        return Err(
            "at most 7 days: an agent holds the grant in memory no longer (run `ttvault unlock` again when it ends)"
                .into(),
        );
    }
    Ok(d)
}

/// The last second [`SystemTime`] can show as a date (9999-12-31T23:59:59Z); later
/// instants from a peer are treated as unknown instead of overflowing or panicking.
const LAST_SHOWN_SECS: u64 = 253_402_300_799;

/// Unix seconds from a frame as a time, when they are a plausible date.
pub fn from_unix_secs(secs: u64) -> Option<SystemTime> {
    if secs > LAST_SHOWN_SECS {
        return None;
    }
    UNIX_EPOCH.checked_add(Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_bounded_and_times_never_overflow() {
        assert_eq!(agent_duration("15m"), Ok(Duration::from_secs(900)));
        assert_eq!(agent_duration("7days"), Ok(MAX_AGENT_DURATION));
        assert!(agent_duration("7days 1s").unwrap_err().contains("7 days"));
        assert!(agent_duration("10000years").unwrap_err().contains("7 days"));
        assert!(agent_duration("0s").unwrap_err().contains("zero"));
        assert!(agent_duration("soon").is_err());
        assert!(from_unix_secs(u64::MAX).is_none());
        assert!(from_unix_secs(LAST_SHOWN_SECS + 1).is_none());
        assert!(from_unix_secs(1_700_000_000).is_some());
    }
}
