//! `ttvault status`: what the vault's header shows, without any passphrase.

use crate::cli::Global;
use crate::error::Result;
use crate::vault::{format, header::Slot, store};
use serde_json::json;

pub fn run(global: &Global) -> Result<i32> {
    let path = &global.vault;
    let bytes = store::read(path)?;
    let header = format::read_header(&bytes)?;
    let slots = header.slots();
    let private = store::check_private(path).is_ok();
    if global.json {
        let doc = json!({
            "vault": path.display().to_string(),
            "format": if header.armored { "age v1 (armored)" } else { "age v1" },
            "slots": slots,
            "private": private,
        });
        println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
        return Ok(0);
    }
    println!("vault:   {}", path.display());
    println!(
        "format:  age v1{}",
        if header.armored { " (armored)" } else { "" }
    );
    for slot in &slots {
        let line = match slot {
            Slot::Passphrase { kdf } => format!(
                "passphrase, argon2id m={} KiB t={} p={}{}",
                kdf.memory_kib,
                kdf.iterations,
                kdf.parallelism,
                if kdf.is_below_floor() {
                    " (below ttvault's floor)"
                } else {
                    ""
                }
            ),
            Slot::DamagedPassphrase => "passphrase (damaged parameters)".into(),
            Slot::Scrypt { log_n } => format!("passphrase, age scrypt N=2^{log_n}"),
            Slot::X25519 => "recipient, age X25519".into(),
            Slot::Ssh { key_type } => format!("recipient, {key_type}"),
            Slot::Other { tag } => format!("other stanza ({tag})"),
        };
        println!("slot:    {line}");
    }
    if !private {
        println!(
            "warning: the file can be read by other users; run `chmod 600 {}`",
            path.display()
        );
    }
    Ok(0)
}
