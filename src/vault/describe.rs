//! The vault's slots in words, one line each, for `show` and `audit`.

use super::header::Slot;

/// One line per slot; recipients are matched to X25519/SSH slots in order.
pub fn describe_slots(slots: &[Slot], recipients: &[String]) -> Vec<String> {
    let mut names = recipients.iter();
    slots
        .iter()
        .map(|slot| match slot {
            Slot::Passphrase { kdf } => format!(
                "passphrase (argon2id, {} MiB, t={}, p={})",
                kdf.memory_kib / 1024,
                kdf.iterations,
                kdf.parallelism
            ),
            Slot::DamagedPassphrase => "passphrase (damaged parameters)".to_string(),
            Slot::Scrypt { log_n } => format!("passphrase (age scrypt, N=2^{log_n})"),
            Slot::X25519 | Slot::Ssh { .. } => {
                let kind = match slot {
                    Slot::Ssh { key_type } => key_type.as_str(),
                    _ => "age X25519",
                };
                match names.next() {
                    Some(r) => format!("recipient {kind} {}", short_key(r)),
                    None => format!("recipient {kind}"),
                }
            }
            Slot::Other { tag } => format!("other ({tag})"),
        })
        .collect()
}

/// A recipient is public, but long; its start and end identify it.
fn short_key(r: &str) -> String {
    let chars: Vec<char> = r.chars().collect();
    if chars.len() <= 24 {
        return r.to_string();
    }
    let head: String = chars[..14].iter().collect();
    let tail: String = chars[chars.len() - 6..].iter().collect();
    format!("{head}…{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recipients_are_shortened_and_matched_in_order() {
        let slots = [
            Slot::X25519,
            Slot::Ssh {
                key_type: "ssh-ed25519".into(),
            },
            Slot::X25519,
        ];
        let age = format!("age1{}", "q".repeat(58));
        let lines = describe_slots(&slots, &[age.clone(), "ssh-ed25519 AAAA".into()]);
        assert_eq!(
            lines[0],
            format!("recipient age X25519 age1qqqqqqqqqq…qqqqqq")
        );
        assert_eq!(lines[1], "recipient ssh-ed25519 ssh-ed25519 AAAA");
        assert_eq!(lines[2], "recipient age X25519");
        // A stored recipient is not trusted to be ASCII: no panic on a multi-byte one.
        let odd = "é".repeat(30);
        assert!(describe_slots(&[Slot::X25519], &[odd])[0].contains('…'));
    }
}
