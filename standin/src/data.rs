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

/// The user `POST /sessions/validate` answers with (the legacy session's user object).
pub fn session_user() -> Value {
    json!({
        "email": CUSTOMER_EMAIL,
        "username": "demotrader",
        "external-id": "U0000000001",
        "id": 1_234_567,
        "is-confirmed": true,
    })
}

/// Every field SDKs read from an account (tastyware's `Account` model validates them),
/// so real clients pointed at the stand-in parse it.
pub fn accounts() -> Value {
    json!({
        "items": [
            account_item(ACCOUNT_NUMBERS[0], "Individual", "Individual", "Margin",
                "2021-03-15T14:30:00.000+00:00", "2021-03-17", "A0000101"),
            account_item(ACCOUNT_NUMBERS[1], "Roth IRA", "Roth IRA", "Cash",
                "2022-01-10T15:00:00.000+00:00", "2022-01-12", "A0000102"),
        ]
    })
}

fn account_item(
    number: &str,
    nickname: &str,
    type_name: &str,
    margin_or_cash: &str,
    opened_at: &str,
    funding_date: &str,
    external_id: &str,
) -> Value {
    json!({
        "account": {
            "account-number": number,
            "external-id": external_id,
            "opened-at": opened_at,
            "nickname": nickname,
            "account-type-name": type_name,
            "day-trader-status": false,
            "is-closed": false,
            "is-firm-error": false,
            "is-firm-proprietary": false,
            "is-futures-approved": false,
            "is-test-drive": false,
            "margin-or-cash": margin_or_cash,
            "is-foreign": false,
            "funding-date": funding_date,
            "investment-objective": "SPECULATION",
            "suitable-options-level": "No Restrictions",
            "created-at": opened_at,
        },
        "authority-level": "owner",
    })
}

/// How many transactions each account of [`ACCOUNT_NUMBERS`] has.
pub const TRANSACTION_COUNTS: [usize; 2] = [11, 3];

/// The transactions of an account, newest first (Tastytrade's default order), or None
/// for an account the customer does not have.
pub fn transactions(account: &str) -> Option<Vec<Value>> {
    let index = ACCOUNT_NUMBERS.iter().position(|n| *n == account)?;
    let count = TRANSACTION_COUNTS[index];
    Some(
        (0..count)
            .map(|i| transaction(account, index, count - i))
            .collect(),
    )
}

/// One plausible trade: alternately buying to open and selling to close SPXW calls.
fn transaction(account: &str, account_index: usize, n: usize) -> Value {
    let id = 250_000_000 + account_index * 1000 + n;
    // Trading days from 2024-10-01 (a Tuesday) on: options trade and expire on weekdays.
    let mut day = days_from_civil(2024, 10, 1);
    for _ in 0..n {
        day = next_weekday(day + 1);
    }
    let (y, m, d) = civil_from_days(day);
    let strike = 5800 + 25 * (n as u32 % 8);
    let opening = n % 2 == 1;
    let price = 5 + n % 7;
    let value = price * 100;
    json!({
        "id": id,
        "account-number": account,
        "symbol": occ_symbol("SPXW", y, m, d, 'C', strike),
        "instrument-type": "Equity Option",
        "underlying-symbol": "SPX",
        "transaction-type": "Trade",
        "transaction-sub-type": if opening { "Buy to Open" } else { "Sell to Close" },
        "description": if opening { "Bought 1 SPXW Call" } else { "Sold 1 SPXW Call" },
        "action": if opening { "Buy to Open" } else { "Sell to Close" },
        "quantity": "1.0",
        "price": format!("{price}.0"),
        "executed-at": format!("{y:04}-{m:02}-{d:02}T15:30:00.000+00:00"),
        "transaction-date": format!("{y:04}-{m:02}-{d:02}"),
        "value": format!("{value}.0"),
        "value-effect": if opening { "Debit" } else { "Credit" },
        "net-value": format!("{value}.0"),
        "net-value-effect": if opening { "Debit" } else { "Credit" },
        "commission": "1.0",
        "commission-effect": "Debit",
        "clearing-fees": "0.1",
        "clearing-fees-effect": "Debit",
        "regulatory-fees": "0.04",
        "regulatory-fees-effect": "Debit",
        "proprietary-index-option-fees": "0.65",
        "proprietary-index-option-fees-effect": "Debit",
        "is-estimated-fee": true,
        "currency": "USD",
    })
}

/// `GET /api-quote-tokens`: a DXLink token, valid 24 hours (SDKs read `expires-at`).
pub fn quote_token(token: &str) -> Value {
    let now = crate::state::unix_now() as i64;
    json!({
        "token": token,
        "dxlink-url": "wss://tasty-openapi-ws.dxfeed.com/realtime",
        "level": "api",
        "issued-at": timestamp(now),
        "expires-at": timestamp(now + 24 * 3600),
    })
}

/// A UTC time as Tastytrade writes it: `2026-11-30T14:05:09.000+00:00`.
fn timestamp(unix: i64) -> String {
    let (y, m, d) = civil_from_days(unix.div_euclid(86_400));
    let secs = unix.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.000+00:00",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// The price the strikes are centred on (SPX's level when this was written).
pub const SPX_PRICE: u32 = 6000;

/// `GET /option-chains/SPX/nested`: two roots, as Tastytrade answers. SPX carries the
/// AM-settled monthlies (strikes every 25 points), SPXW the PM-settled dailies including
/// 0DTE on weekdays (strikes every 10 points, closer in), all around [`SPX_PRICE`].
pub fn spx_chain(today: i64) -> Value {
    let monthly = next_third_fridays(today, 3);
    let mut dailies = vec![next_weekday(today)];
    while dailies.len() < 5 {
        let after = dailies[dailies.len() - 1] + 1;
        dailies.push(next_weekday(after));
    }
    json!({
        "items": [
            chain_item("SPX", &monthly, "Regular", "AM", &strikes(200, 25), today),
            chain_item("SPXW", &dailies, "Weekly", "PM", &strikes(100, 10), today),
        ]
    })
}

/// Strikes from `SPX_PRICE - width` to `SPX_PRICE + width`, `step` apart.
fn strikes(width: u32, step: u32) -> Vec<u32> {
    (SPX_PRICE - width..=SPX_PRICE + width)
        .step_by(step as usize)
        .collect()
}

fn chain_item(
    root: &str,
    dates: &[i64],
    kind: &str,
    settlement: &str,
    strikes: &[u32],
    today: i64,
) -> Value {
    let expirations: Vec<Value> = dates
        .iter()
        .map(|&day| {
            let (y, m, d) = civil_from_days(day);
            let strikes: Vec<Value> = strikes
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
        // Cash-settled on the index: SDKs validate `id` and an instrument type they know.
        "deliverables": [{
            "id": if root == "SPX" { 5_001 } else { 5_002 },
            "amount": "100.0",
            "deliverable-type": "Cash",
            "description": "Cash of 100.0",
            "instrument-type": "Index",
            "percent": "100",
            "root-symbol": root,
            "symbol": "SPX",
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
    fn dailies_skip_weekends() {
        // 2025-12-06 is a Saturday: SPXW expires Monday the 8th to Friday the 12th.
        let sat = days_from_civil(2025, 12, 6);
        let chain = spx_chain(sat);
        let dates: Vec<&str> = chain["items"][1]["expirations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["expiration-date"].as_str().unwrap())
            .collect();
        assert_eq!(
            dates,
            [
                "2025-12-08",
                "2025-12-09",
                "2025-12-10",
                "2025-12-11",
                "2025-12-12"
            ]
        );
        // On a weekday the first one is 0DTE.
        let fri = days_from_civil(2025, 12, 12);
        let first = &spx_chain(fri)["items"][1]["expirations"][0];
        assert_eq!(first["days-to-expiration"], 0);
    }

    #[test]
    fn strikes_centre_on_one_price() {
        for (width, step) in [(200, 25), (100, 10)] {
            let s = strikes(width, step);
            assert_eq!(s.first(), Some(&(SPX_PRICE - width)));
            assert_eq!(s.last(), Some(&(SPX_PRICE + width)));
            assert!(s.contains(&SPX_PRICE));
            assert!(s.windows(2).all(|w| w[1] - w[0] == step));
        }
    }

    #[test]
    fn transactions_are_newest_first_and_unique() {
        for (number, count) in ACCOUNT_NUMBERS.iter().zip(TRANSACTION_COUNTS) {
            let list = transactions(number).unwrap();
            assert_eq!(list.len(), count);
            let ids: Vec<u64> = list.iter().map(|t| t["id"].as_u64().unwrap()).collect();
            assert!(ids.windows(2).all(|w| w[0] > w[1]), "{ids:?}");
            assert!(list.iter().all(|t| t["account-number"] == *number));
            for t in &list {
                let date = t["transaction-date"].as_str().unwrap();
                let (y, m, d) = (&date[..4], &date[5..7], &date[8..]);
                let day =
                    days_from_civil(y.parse().unwrap(), m.parse().unwrap(), d.parse().unwrap());
                assert!(!matches!(weekday(day), 0 | 6), "{date} is a weekend");
            }
        }
        assert!(transactions("5WT99999").is_none());
    }
}
