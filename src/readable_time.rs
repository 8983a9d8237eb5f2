//! Times people read: "until 23:35 (in 29 min)", "valid for 14 min". Local time and a
//! relative span for people; `--json` and `-v` keep RFC 3339 UTC for programs.

use std::time::{Duration, SystemTime};

/// `at` as a local clock time with how far it is from `now`: "23:35 (in 29 min)",
/// "Tue 1 Dec 09:00 (in 1 day 2 h)" on another day, "23:35 (3 min ago)" when past.
pub fn until(at: SystemTime, now: SystemTime) -> String {
    until_in(at, now, &jiff::tz::TimeZone::system())
}

fn until_in(at: SystemTime, now: SystemTime, zone: &jiff::tz::TimeZone) -> String {
    let relative = match at.duration_since(now) {
        // To the nearest minute (a half rounded down, never promising more): a 15-minute
        // unlock read a moment later is "in 15 min", not "in 14 min".
        Ok(left) if left >= Duration::from_secs(60) => {
            format!(
                "in {}",
                span(Duration::from_secs((left.as_secs() + 29) / 60 * 60))
            )
        }
        Ok(left) => format!("in {}", span(left)),
        Err(e) => format!("{} ago", span(e.duration())),
    };
    let (Ok(at_ts), Ok(now_ts)) = (
        jiff::Timestamp::try_from(at),
        jiff::Timestamp::try_from(now),
    ) else {
        return relative;
    };
    let local = at_ts.to_zoned(zone.clone());
    let same_day = local.date() == now_ts.to_zoned(zone.clone()).date();
    let clock = if same_day {
        local.strftime("%H:%M").to_string()
    } else {
        local.strftime("%a %-d %b %H:%M").to_string()
    };
    format!("{clock} ({relative})")
}

/// A span in the largest two units that matter: "45 s", "14 min", "2 h 5 min",
/// "3 days 4 h". Rounded down, so "valid for 14 min" never promises too much.
pub fn span(d: Duration) -> String {
    let secs = d.as_secs();
    let (days, hours, mins) = (secs / 86_400, secs / 3_600 % 24, secs / 60 % 60);
    match secs {
        0..=59 => format!("{secs} s"),
        60..=3_599 => format!("{mins} min"),
        3_600..=86_399 if mins == 0 => format!("{hours} h"),
        3_600..=86_399 => format!("{hours} h {mins} min"),
        _ => {
            let unit = if days == 1 { "day" } else { "days" };
            if hours == 0 {
                format!("{days} {unit}")
            } else {
                format!("{days} {unit} {hours} h")
            }
        }
    }
}

/// RFC 3339 UTC to the second, as `--json` and `-v` show times.
pub fn rfc3339(at: SystemTime) -> String {
    humantime::format_rfc3339_seconds(at).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    #[test]
    fn spans_read_as_people_say_them() {
        assert_eq!(span(Duration::from_secs(0)), "0 s");
        assert_eq!(span(Duration::from_secs(45)), "45 s");
        assert_eq!(span(Duration::from_secs(899)), "14 min");
        assert_eq!(span(Duration::from_secs(3_600)), "1 h");
        assert_eq!(span(Duration::from_secs(7_500)), "2 h 5 min");
        assert_eq!(span(Duration::from_secs(86_400)), "1 day");
        assert_eq!(
            span(Duration::from_secs(3 * 86_400 + 4 * 3_600 + 59)),
            "3 days 4 h"
        );
    }

    #[test]
    fn until_shows_the_clock_in_the_zone_and_the_span() {
        let utc = jiff::tz::TimeZone::UTC;
        // 2026-11-29T22:35:11Z
        let at = UNIX_EPOCH + Duration::from_secs(1_795_991_711);
        let now = at - Duration::from_secs(29 * 60 + 30);
        assert_eq!(until_in(at, now, &utc), "22:35 (in 29 min)");
        // A 15-minute unlock, read a second later.
        let soon = now + Duration::from_secs(899);
        assert!(until_in(soon, now, &utc).ends_with("(in 15 min)"));
        assert_eq!(until_in(now, at, &utc), "22:05 (29 min ago)");
        let plus_one = jiff::tz::TimeZone::fixed(jiff::tz::offset(1));
        assert_eq!(until_in(at, now, &plus_one), "23:35 (in 29 min)");
        let tomorrow = at + Duration::from_secs(86_400 + 3_600);
        assert_eq!(
            until_in(tomorrow, now, &utc),
            "Mon 30 Nov 23:35 (in 1 day 1 h)"
        );
    }
}
