//! The passphrase KDF: argon2id (RFC 9106) with parameters recorded in the vault, a floor
//! for what ttvault writes, and caps on what it will agree to compute when reading, so a
//! hostile file cannot exhaust memory or hang the process (compare age's scrypt cap).

use crate::error::{Error, Result};
use crate::secret::Passphrase;
use std::time::{Duration, Instant};
use zeroize::Zeroizing;

/// Argon2id cost parameters, as recorded in a vault's passphrase slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct KdfParams {
    /// Memory in KiB (argon2's `m`).
    pub memory_kib: u32,
    /// Passes over memory (argon2's `t`).
    pub iterations: u32,
    /// Lanes (argon2's `p`).
    pub parallelism: u32,
}

/// What ttvault writes at least: RFC 9106's second recommended option (64 MiB, t=3).
pub const FLOOR: KdfParams = KdfParams {
    memory_kib: 64 * 1024,
    iterations: 3,
    parallelism: 1,
};

/// Largest memory a vault may ask for: 1 GiB.
pub const MAX_MEMORY_KIB: u32 = 1024 * 1024;
/// Most passes a vault may ask for.
pub const MAX_ITERATIONS: u32 = 64;
/// Most lanes a vault may ask for.
pub const MAX_PARALLELISM: u32 = 16;
/// Most total work (memory KiB × passes) a vault may ask for: 1 GiB × 8 passes, a few
/// seconds on a current laptop, against about 1 s for the parameters ttvault writes.
pub const MAX_WORK: u64 = 8 * 1024 * 1024;

/// Length of the random salt stored in the slot.
pub const SALT_LEN: usize = 16;
/// Domain separation: the salt argon2 sees is this label followed by the random salt.
const SALT_LABEL: &[u8] = b"ttvault.argon2id.v1/";

/// What a write should aim for: about one second, unless `TTVAULT_KDF_TARGET_MS` asks for
/// less (tests and benchmarks). The floor applies whatever the target.
pub fn target_duration() -> Duration {
    std::env::var("TTVAULT_KDF_TARGET_MS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .map(Duration::from_millis)
        .unwrap_or(Duration::from_secs(1))
}

impl KdfParams {
    /// Checks that a vault's parameters are within the caps, before anything is allocated.
    pub fn check_caps(&self) -> Result<()> {
        let work = u64::from(self.memory_kib) * u64::from(self.iterations);
        let fits = (1..=MAX_MEMORY_KIB).contains(&self.memory_kib)
            && (1..=MAX_ITERATIONS).contains(&self.iterations)
            && (1..=MAX_PARALLELISM).contains(&self.parallelism)
            && self.memory_kib >= 8 * self.parallelism
            && work <= MAX_WORK;
        if fits {
            Ok(())
        } else {
            Err(Error::vault(format!(
                "the vault asks for argon2id m={} KiB, t={}, p={}, beyond what ttvault will compute \
                 (at most {MAX_MEMORY_KIB} KiB, t={MAX_ITERATIONS}, p={MAX_PARALLELISM}, m×t={MAX_WORK})",
                self.memory_kib, self.iterations, self.parallelism
            ))
            .hint("this file was not written by ttvault, or was tampered with; restore a backup"))
        }
    }

    pub fn is_below_floor(&self) -> bool {
        self.memory_kib < FLOOR.memory_kib || self.iterations < FLOOR.iterations
    }

    /// Derives the 32-byte wrapping key. The caller has checked the caps.
    pub fn derive(
        &self,
        passphrase: &Passphrase,
        salt: &[u8; SALT_LEN],
    ) -> Result<Zeroizing<[u8; 32]>> {
        let params =
            argon2::Params::new(self.memory_kib, self.iterations, self.parallelism, Some(32))
                .map_err(|e| Error::vault(format!("invalid argon2id parameters: {e}")))?;
        let argon =
            argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
        let mut full_salt = Vec::with_capacity(SALT_LABEL.len() + SALT_LEN);
        full_salt.extend_from_slice(SALT_LABEL);
        full_salt.extend_from_slice(salt);
        let mut key = Zeroizing::new([0u8; 32]);
        argon
            .hash_password_into(passphrase.expose().as_bytes(), &full_salt, key.as_mut())
            .map_err(|e| Error::failure(format!("argon2id failed: {e}")))?;
        Ok(key)
    }
}

/// Picks the passes so one derivation takes about `target` on this machine, with 64 MiB
/// of memory, never below the floor nor above the caps.
pub fn tune(target: Duration) -> KdfParams {
    // time(t) ≈ setup + t × pass, where setup (allocating and filling 64 MiB) is a large
    // share at t = 1; two probes separate the two.
    let time = |iterations| {
        let probe = KdfParams {
            iterations,
            ..FLOOR
        };
        let start = Instant::now();
        // The probe's outcome is irrelevant; only its duration is.
        let _ = probe.derive(&Passphrase::new("ttvault-tuning"), &[0; SALT_LEN]);
        start.elapsed().as_secs_f64()
    };
    let one = time(1);
    let three = time(3);
    let pass = ((three - one) / 2.0).max(1e-4);
    let setup = (one - pass).max(0.0);
    let passes = ((target.as_secs_f64() - setup) / pass).round().max(0.0) as u32;
    let max_by_work = (MAX_WORK / u64::from(FLOOR.memory_kib)) as u32;
    KdfParams {
        iterations: passes.clamp(FLOOR.iterations, MAX_ITERATIONS.min(max_by_work)),
        ..FLOOR
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tuning_never_goes_below_the_floor() {
        let p = tune(Duration::from_millis(1));
        assert_eq!(p, FLOOR);
        assert!(p.check_caps().is_ok());
    }

    #[test]
    fn caps_refuse_hostile_parameters() {
        for (m, t, p) in [
            (MAX_MEMORY_KIB + 1, 1, 1),
            (64 * 1024, MAX_ITERATIONS + 1, 1),
            (64 * 1024, 1, MAX_PARALLELISM + 1),
            (MAX_MEMORY_KIB, 9, 1),
            (0, 1, 1),
            (64 * 1024, 0, 1),
            (8, 1, 2),
        ] {
            let params = KdfParams {
                memory_kib: m,
                iterations: t,
                parallelism: p,
            };
            let err = params.check_caps().unwrap_err();
            assert_eq!(err.code, crate::Code::Vault, "{params:?}");
        }
    }

    #[test]
    fn derivation_depends_on_passphrase_and_salt() {
        let p = KdfParams {
            memory_kib: 1024,
            iterations: 1,
            parallelism: 1,
        };
        let a = p.derive(&Passphrase::new("a"), &[1; SALT_LEN]).unwrap();
        let b = p.derive(&Passphrase::new("b"), &[1; SALT_LEN]).unwrap();
        let c = p.derive(&Passphrase::new("a"), &[2; SALT_LEN]).unwrap();
        let a2 = p.derive(&Passphrase::new("a"), &[1; SALT_LEN]).unwrap();
        assert_ne!(*a, *b);
        assert_ne!(*a, *c);
        assert_eq!(*a, *a2);
    }
}
