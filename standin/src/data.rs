//! The fixed account data the API routes serve, in Tastytrade's dasherized shapes. Option
//! expirations are computed from today's date so `days-to-expiration` stays realistic.

use serde_json::{json, Value};

pub const CUSTOMER_ID: &str = "U0001234567";
pub const CUSTOMER_EMAIL: &str = "demo.trader@example.com";
/// The accounts `GET /customers/me/accounts` lists, in order.
pub const ACCOUNT_NUMBERS: [&str; 2] = ["5WT00001", "5WT00002"];

pub fn customer() -> Value {
    json!({
        "id": CUSTOMER_ID,
        "first-name": "Demo",
        "last-name": "Trader",
        "email": CUSTOMER_EMAIL,
        "username": "demotrader",
        "has-industry-affiliation": false,
        "is-professional": false,
        "permitted-account-types": [],
    })
}

pub fn accounts() -> Value {
    json!({
        "items": [
            {
                "account": {
                    "account-number": ACCOUNT_NUMBERS[0],
                    "nickname": "Individual",
                    "account-type-name": "Individual",
                    "margin-or-cash": "Margin",
                    "is-closed": false,
                    "is-firm-error": false,
                    "is-foreign": false,
                    "day-trader-status": false,
                    "opened-at": "2021-03-15T14:30:00.000+00:00",
                },
                "authority-level": "owner",
            },
            {
                "account": {
                    "account-number": ACCOUNT_NUMBERS[1],
                    "nickname": "Roth IRA",
                    "account-type-name": "Roth IRA",
                    "margin-or-cash": "Cash",
                    "is-closed": false,
                    "is-firm-error": false,
                    "is-foreign": false,
                    "day-trader-status": false,
                    "opened-at": "2022-01-10T15:00:00.000+00:00",
                },
                "authority-level": "owner",
            },
        ]
    })
}

pub fn quote_token(token: &str) -> Value {
    json!({
        "token": token,
        "dxlink-url": "wss://tasty-openapi-ws.dxfeed.com/realtime",
        "level": "api",
    })
}

const STRIKES: [u32; 3] = [5900, 5950, 6000];

/// `GET /option-chains/SPX/nested`: two roots, as Tastytrade answers. SPX carries the
/// AM-settled monthlies, SPXW the PM-settled weeklies (including 0DTE on weekdays).
pub fn spx_chain(today: i64) -> Value {
    let monthly = next_third_fridays(today, 2);
    let first_weekly = next_weekday(today);
    let second_weekly = next_friday_after(first_weekly);
    json!({
        "items": [
            chain_item("SPX", &monthly, "Regular", "AM", today),
            chain_item("SPXW", &[first_weekly, second_weekly], "Weekly", "PM", today),
        ]
    })
}

fn chain_item(root: &str, dates: &[i64], kind: &str, settlement: &str, today: i64) -> Value {
    let expirations: Vec<Value> = dates
        .iter()
        .map(|&day| {
            let (y, m, d) = civil_from_days(day);
            let strikes: Vec<Value> = STRIKES
                .iter()
                .map(|&strike| {
                    json!({
                        "strike-price": format!("{strike}.0"),
                        "call": occ_symbol(root, y, m, d, 'C', strike),
                        "call-streamer-symbol": streamer_symbol(root, y, m, d, 'C', strike),
                        "put": occ_symbol(root, y, m, d, 'P', strike),
                        "put-streamer-symbol": streamer_symbol(root, y, m, d, 'P', strike),
                    })
                })
                .collect();
            json!({
                "expiration-type": kind,
                "expiration-date": format!("{y:04}-{m:02}-{d:02}"),
                "days-to-expiration": day - today,
                "settlement-type": settlement,
                "strikes": strikes,
            })
        })
        .collect();
    json!({
        "underlying-symbol": "SPX",
        "root-symbol": root,
        "option-chain-type": "Standard",
        "shares-per-contract": 100,
        "tick-sizes": [
            { "threshold": "3.0", "value": "0.05" },
            { "value": "0.1" },
        ],
        "deliverables": [{
            "amount": "100.0",
            "deliverable-type": "Cash",
            "description": "Cash of 100.0",
            "instrument-type": "Cash",
            "percent": "100",
            "root-symbol": root,
            "symbol": "USD",
        }],
        "expirations": expirations,
    })
}

/// OCC symbology: root padded to six characters, YYMMDD, C/P, strike × 1000 in eight digits.
fn occ_symbol(root: &str, y: i64, m: u32, d: u32, side: char, strike: u32) -> String {
    format!(
        "{root:<6}{:02}{m:02}{d:02}{side}{:08}",
        y % 100,
        u64::from(strike) * 1000
    )
}

/// DXLink's streamer symbol: `.` root YYMMDD C/P strike.
fn streamer_symbol(root: &str, y: i64, m: u32, d: u32, side: char, strike: u32) -> String {
    format!(".{root}{:02}{m:02}{d:02}{side}{strike}", y % 100)
}

/// Days since 1970-01-01 (UTC) for today.
pub fn today() -> i64 {
    (crate::state::unix_now() / 86_400) as i64
}

/// 0 = Sunday … 6 = Saturday. 1970-01-01 was a Thursday.
fn weekday(day: i64) -> i64 {
    (day + 4).rem_euclid(7)
}

fn next_weekday(mut day: i64) -> i64 {
    while matches!(weekday(day), 0 | 6) {
        day += 1;
    }
    day
}

fn next_friday_after(day: i64) -> i64 {
    let mut d = day + 1;
    while weekday(d) != 5 {
        d += 1;
    }
    d
}

/// The next `n` third Fridays on or after `today`.
fn next_third_fridays(today: i64, n: usize) -> Vec<i64> {
    let (mut y, mut m, _) = civil_from_days(today);
    let mut out = Vec::new();
    while out.len() < n {
        let first = days_from_civil(y, m, 1);
        let first_friday = first + (5 - weekday(first)).rem_euclid(7);
        let third = first_friday + 14;
        if third >= today {
            out.push(third);
        }
        if m == 12 {
            y += 1;
            m = 1;
        } else {
            m += 1;
        }
    }
    out
}

// Howard Hinnant's civil calendar algorithms (public domain), so no date crate is needed.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar_round_trips() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(days_from_civil(2025, 12, 19), 20_441);
        for day in 18_000..22_000 {
            let (y, m, d) = civil_from_days(day);
            assert_eq!(days_from_civil(y, m, d), day);
        }
    }

    #[test]
    fn third_fridays() {
        // 2025-12-01 (a Monday): December's third Friday is the 19th, January's the 16th.
        let today = days_from_civil(2025, 12, 1);
        let fridays = next_third_fridays(today, 2);
        assert_eq!(civil_from_days(fridays[0]), (2025, 12, 19));
        assert_eq!(civil_from_days(fridays[1]), (2026, 1, 16));
        // After the 19th the next one is January's.
        let later = next_third_fridays(days_from_civil(2025, 12, 20), 1);
        assert_eq!(civil_from_days(later[0]), (2026, 1, 16));
    }

    #[test]
    fn symbols() {
        assert_eq!(
            occ_symbol("SPXW", 2025, 12, 19, 'C', 5900),
            "SPXW  251219C05900000"
        );
        assert_eq!(
            streamer_symbol("SPXW", 2025, 12, 19, 'P', 5900),
            ".SPXW251219P5900"
        );
    }

    #[test]
    fn weeklies_skip_weekends() {
        // 2025-12-06 is a Saturday: the first weekly is Monday the 8th, then Friday the 12th.
        let sat = days_from_civil(2025, 12, 6);
        assert_eq!(civil_from_days(next_weekday(sat)), (2025, 12, 8));
        assert_eq!(
            civil_from_days(next_friday_after(next_weekday(sat))),
            (2025, 12, 12)
        );
    }
}
