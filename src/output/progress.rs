//! Showing that something is happening (README "At a terminal"): at a terminal, a
//! spinner on stderr (indicatif) for the KDF, the grant check and the browser wait (with
//! the time left); elsewhere the same words as plain lines, or only with `-v` for the
//! short steps, so scripts' stderr stays as it was.
//!
//! One activity shows at a time. Every other line ttvault prints on stderr goes through
//! [`suspended`], which hides the spinner while the line is written, so the two never
//! garble each other; a prompt clears it first ([`clear`]).

use super::Reporter;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The spinner now showing, if any, with the number of the activity that shows it.
static ACTIVE: Mutex<Option<(u64, ProgressBar)>> = Mutex::new(None);
static NEXT_ID: AtomicU64 = AtomicU64::new(0);
const TICK: Duration = Duration::from_millis(120);

/// A step under way, shown until the value is dropped.
#[must_use = "the activity shows until this value is dropped"]
pub struct Activity {
    bar: Option<(u64, ProgressBar)>,
}

impl Activity {
    /// A short step (unlocking, checking the grant): a spinner and `message` at a
    /// terminal; elsewhere `message` as a `-v` detail.
    pub fn start(message: &str, report: &dyn Reporter) -> Activity {
        if !stderr_is_terminal() {
            report.detail(message.trim_end_matches('…'));
            return Activity { bar: None };
        }
        let style = ProgressStyle::with_template("{spinner} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner());
        Activity::show(style, message)
    }

    /// A step worth a line even in a log (checking the grant): a spinner and `message`
    /// at a terminal; elsewhere `message` as a plain line.
    pub fn step(message: &str) -> Activity {
        if !stderr_is_terminal() {
            super::say(message);
            return Activity { bar: None };
        }
        let style = ProgressStyle::with_template("{spinner} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner());
        Activity::show(style, message)
    }

    /// The pause before a network retry: "retrying (2/3) in 2 s…", a spinner at a
    /// terminal, a plain line elsewhere (a retry is worth a line in a log).
    pub fn retrying(retry: u32, of: u32, delay: Duration) -> Activity {
        let secs = delay.as_secs_f64();
        let wait = if secs < 1.0 {
            format!("{:.1} s", secs)
        } else {
            format!("{} s", delay.as_secs())
        };
        Activity::step(&format!("ttvault: retrying ({retry}/{of}) in {wait}…"))
    }

    /// A long wait that ends at `deadline` (the browser): a spinner with the time left at
    /// a terminal (none shown without a deadline); elsewhere `message` once as a plain line.
    /// A message that ends in a parenthesis gets the time left inside it ("(…, times out
    /// in 5m; 4m 59s left)"), not in a second one after it.
    pub fn until(message: &str, deadline: Option<Instant>) -> Activity {
        if !stderr_is_terminal() {
            super::say(message);
            return Activity { bar: None };
        }
        let Some(deadline) = deadline else {
            return Activity::step(message);
        };
        let (message, template) = match message.strip_suffix(')') {
            Some(open) => (open, "{spinner} {msg}; {left} left)"),
            None => (message, "{spinner} {msg} ({left} left)"),
        };
        let style = ProgressStyle::with_template(template)
            .unwrap_or_else(|_| ProgressStyle::default_spinner())
            .with_key(
                "left",
                move |_: &ProgressState, w: &mut dyn std::fmt::Write| {
                    let left = deadline.saturating_duration_since(Instant::now());
                    let _ = w.write_str(&remaining(left));
                },
            );
        Activity::show(style, message)
    }

    fn show(style: ProgressStyle, message: &str) -> Activity {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        bar.set_style(style);
        bar.set_message(message.to_string());
        bar.enable_steady_tick(TICK);
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        if let Some((_, previous)) = lock().replace((id, bar.clone())) {
            previous.finish_and_clear();
        }
        Activity {
            bar: Some((id, bar)),
        }
    }
}

impl Drop for Activity {
    fn drop(&mut self) {
        if let Some((id, bar)) = self.bar.take() {
            bar.finish_and_clear();
            let mut active = lock();
            if active.as_ref().is_some_and(|(shown, _)| *shown == id) {
                *active = None;
            }
        }
    }
}

/// "4m 59s", "12s": the time left, to the second.
pub fn remaining(left: Duration) -> String {
    let secs = left.as_secs();
    if secs >= 60 {
        format!("{}m {:02}s", secs / 60, secs % 60)
    } else {
        format!("{secs}s")
    }
}

/// Runs `write` with the spinner hidden, so a line never lands in the middle of it.
pub fn suspended<T>(write: impl FnOnce() -> T) -> T {
    let active = lock().as_ref().map(|(_, bar)| bar.clone());
    match active {
        Some(bar) => bar.suspend(write),
        None => write(),
    }
}

/// Ends the spinner now (before a prompt: the person types on a clean line).
pub fn clear() {
    if let Some((_, bar)) = lock().take() {
        bar.finish_and_clear();
    }
}

fn lock() -> std::sync::MutexGuard<'static, Option<(u64, ProgressBar)>> {
    ACTIVE.lock().unwrap_or_else(|e| e.into_inner())
}

fn stderr_is_terminal() -> bool {
    std::io::stderr().is_terminal()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_left_reads_as_minutes_and_seconds() {
        assert_eq!(remaining(Duration::from_secs(299)), "4m 59s");
        assert_eq!(remaining(Duration::from_millis(12_900)), "12s");
        assert_eq!(remaining(Duration::ZERO), "0s");
    }
}
