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

/// The floor a debug build uses under `TTVAULT_TEST_WEAK_KDF`: argon2id's smallest sensible
/// cost, so the test suite's hundreds of unlocks do not spend most of its time in argon2.
/// Release builds never read the variable (settings.rs), so no installed ttvault writes it.
const TEST_FLOOR: KdfParams = KdfParams {
    memory_kib: 8 * 1024,
    iterations: 1,
    parallelism: 1,
};

/// The floor in force: `FLOOR`, or `TEST_FLOOR` in a debug build that the tests asked.
pub fn floor() -> KdfParams {
    if crate::settings::get().test_weak_kdf {
        TEST_FLOOR
    } else {
        FLOOR
    }
}

/// Largest memory a vault may ask for: 1 GiB.
pub const MAX_MEMORY_KIB: u32 = 1024 * 1024;
/// Most passes a vault may ask for.
pub const MAX_ITERATIONS: u32 = 64;
/// Most lanes a vault may ask for.
pub const MAX_PARALLELISM: u32 = 16;
/// Most total work (memory KiB × passes) a vault may ask for: 1 GiB × 8 passes. Measured
/// with `benches/kdf.sh` on the 2-core build machine, a file at this cap costs about 10 s
/// and 1 GiB of memory to open (README, Performance), against about 1 s and 256 MiB for
/// what ttvault writes there.
pub const MAX_WORK: u64 = 8 * 1024 * 1024;

/// Memory a new passphrase slot uses where the machine has it: 256 MiB, as much as age's
/// default passphrase file (scrypt N=2^18, r=8), so a guess costs at least what a guess
/// at an `age -p` file costs for an unlock no longer than age's.
pub const DEFAULT_MEMORY_KIB: u32 = 256 * 1024;
/// Most memory a write calibrates up to (when one second allows t ≥ 3 there): half the
/// read cap, so a slower machine still opens the file.
pub const MAX_WRITE_MEMORY_KIB: u32 = 512 * 1024;

/// Length of the random salt stored in the slot.
pub const SALT_LEN: usize = 16;
/// Domain separation: the salt argon2 sees is this label followed by the random salt.
const SALT_LABEL: &[u8] = b"ttvault.argon2id.v1/";

/// What a write should aim for: about one second, unless `TTVAULT_KDF_TARGET_MS` asks for
/// less (tests and benchmarks). The floor applies whatever the target.
pub fn target_duration() -> Duration {
    crate::settings::get()
        .kdf_target_ms
        .map(Duration::from_millis)
        .unwrap_or(Duration::from_secs(1))
}

/// The parameters a write uses, and a warning for the user when this machine could not
/// give the slot its full strength (the caller prints it; the library does not).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tuned {
    pub params: KdfParams,
    pub warning: Option<String>,
}

/// How the memory of a new slot is chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemoryPlan {
    /// Calibrate: `DEFAULT_MEMORY_KIB` or more where this much memory (KiB) is
    /// available (`None`: unknown, assume it is).
    Calibrate { available_kib: Option<u64> },
    /// Exactly this much (`TTVAULT_KDF_MEMORY_MIB`: tests and benchmarks).
    Fixed { memory_kib: u32 },
}

impl MemoryPlan {
    /// From the environment: the test override, else this machine's free memory.
    pub fn from_env() -> MemoryPlan {
        match crate::settings::get().kdf_memory_mib {
            Some(mib) => MemoryPlan::Fixed {
                memory_kib: mib
                    .saturating_mul(1024)
                    .clamp(floor().memory_kib, MAX_MEMORY_KIB),
            },
            None => MemoryPlan::Calibrate {
                available_kib: available_memory_kib(),
            },
        }
    }
}

/// The parameters for a new passphrase slot on this machine: `tune_with` the environment's
/// target and memory plan.
pub fn tune() -> Tuned {
    tune_with(target_duration(), MemoryPlan::from_env())
}

/// Memory first, then passes (RFC 9106, section 4): the largest memory from 256 MiB up to
/// `MAX_WRITE_MEMORY_KIB` that this machine has free (half of what is available, so the
/// derivation does not push other programs into swap) and at which t = 3 fits the target;
/// then the passes that take about `target`, never below the floor nor above the caps. A
/// machine without 512 MiB free (256 MiB for the slot) falls back to less memory, with a
/// warning.
pub fn tune_with(target: Duration, plan: MemoryPlan) -> Tuned {
    let (mut memory_kib, warning) = match plan {
        MemoryPlan::Fixed { memory_kib } => (memory_kib, None),
        MemoryPlan::Calibrate { available_kib } => choose_memory(available_kib),
    };
    let cost = measure(memory_kib, target);
    let mut passes = cost.passes_for(target);
    // Memory before passes: while twice the memory still allows t ≥ 3 in the target
    // (half the passes), take it.
    let grow = matches!(plan, MemoryPlan::Calibrate { available_kib }
        if available_kib.is_none_or(|a| a >= 4 * u64::from(memory_kib)));
    while grow && memory_kib < MAX_WRITE_MEMORY_KIB && passes >= 2 * FLOOR.iterations {
        memory_kib *= 2;
        passes /= 2;
    }
    let max_passes = MAX_ITERATIONS.min((MAX_WORK / u64::from(memory_kib)) as u32);
    Tuned {
        params: KdfParams {
            memory_kib,
            iterations: passes.clamp(floor().iterations, max_passes),
            parallelism: 1,
        },
        warning,
    }
}

/// The slot's memory for `available_kib` of free memory, and the warning when that is
/// less than `DEFAULT_MEMORY_KIB`.
pub fn choose_memory(available_kib: Option<u64>) -> (u32, Option<String>) {
    let Some(available) = available_kib else {
        return (DEFAULT_MEMORY_KIB, None);
    };
    let affordable = available / 2;
    if affordable >= u64::from(DEFAULT_MEMORY_KIB) {
        return (DEFAULT_MEMORY_KIB, None);
    }
    let mut memory = DEFAULT_MEMORY_KIB;
    while memory > FLOOR.memory_kib && u64::from(memory) > affordable {
        memory /= 2;
    }
    let warning = format!(
        "only {} MiB of memory is free here, so the passphrase slot uses {} MiB instead of {} MiB          and a guess at the passphrase costs an attacker less; run `ttvault passwd` on a machine          with more free memory to give it full strength",
        available / 1024,
        memory / 1024,
        DEFAULT_MEMORY_KIB / 1024
    );
    (memory, Some(warning))
}

/// Free memory: Linux's MemAvailable; elsewhere whether the allocation itself succeeds.
fn available_memory_kib() -> Option<u64> {
    if let Ok(text) = std::fs::read_to_string("/proc/meminfo") {
        let kib = text
            .lines()
            .find_map(|l| l.strip_prefix("MemAvailable:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok());
        if kib.is_some() {
            return kib;
        }
    }
    let wanted = 2 * DEFAULT_MEMORY_KIB as usize * 1024;
    match Vec::<u8>::new().try_reserve_exact(wanted) {
        Ok(()) => None,
        Err(_) => Some(u64::from(DEFAULT_MEMORY_KIB)),
    }
}

/// Time per derivation ≈ setup + passes × pass, measured at one memory size.
struct Cost {
    setup: f64,
    pass: f64,
}

impl Cost {
    fn passes_for(&self, target: Duration) -> u32 {
        ((target.as_secs_f64() - self.setup) / self.pass)
            .round()
            .clamp(0.0, f64::from(MAX_ITERATIONS)) as u32
    }
}

/// Two probes separate setup (allocating and filling memory, a large share at t = 1)
/// from a pass. One is enough when t = 3 already takes the target.
fn measure(memory_kib: u32, target: Duration) -> Cost {
    let time = |iterations| {
        let probe = KdfParams {
            memory_kib,
            iterations,
            parallelism: 1,
        };
        let start = Instant::now();
        // The probe's outcome is irrelevant; only its duration is.
        let _ = probe.derive(&Passphrase::new("ttvault-tuning"), &[0; SALT_LEN]);
        start.elapsed().as_secs_f64()
    };
    let one = time(1);
    if 3.0 * one >= target.as_secs_f64() {
        return Cost {
            setup: 0.0,
            pass: one.max(1e-4),
        };
    }
    let two = time(2);
    let pass = (two - one).max(1e-4);
    Cost {
        setup: (one - pass).max(0.0),
        pass,
    }
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
        let floor = floor();
        self.memory_kib < floor.memory_kib || self.iterations < floor.iterations
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tuning_never_goes_below_the_floor() {
        let fixed = MemoryPlan::Fixed {
            memory_kib: FLOOR.memory_kib,
        };
        let t = tune_with(Duration::from_millis(1), fixed);
        assert_eq!(t.params, FLOOR);
        assert_eq!(t.warning, None);
        assert!(t.params.check_caps().is_ok());
    }

    /// Memory first: with memory to spare, a new slot takes at least 256 MiB (as much as
    /// age's default scrypt) and t ≥ 3, whatever the time target; the old tuning took
    /// 64 MiB always.
    #[test]
    fn calibration_takes_256_mib_or_more_where_the_machine_has_it() {
        let plenty = MemoryPlan::Calibrate {
            available_kib: Some(16 << 20),
        };
        let t = tune_with(Duration::from_millis(1), plenty);
        assert!(t.params.memory_kib >= DEFAULT_MEMORY_KIB, "{:?}", t.params);
        assert!(t.params.iterations >= 3);
        assert_eq!(t.warning, None);
        assert!(t.params.check_caps().is_ok());
    }

    /// A machine short of memory falls back to less, never below the floor, and says so
    /// (returned for the caller to print).
    #[test]
    fn low_memory_falls_back_with_a_warning() {
        assert_eq!(choose_memory(Some(8 << 20)), (DEFAULT_MEMORY_KIB, None));
        assert_eq!(choose_memory(None), (DEFAULT_MEMORY_KIB, None));
        let (m, warning) = choose_memory(Some(300 * 1024));
        assert_eq!(m, 128 * 1024);
        let warning = warning.unwrap();
        assert!(warning.contains("128 MiB instead of 256 MiB"), "{warning}");
        assert!(warning.contains("ttvault passwd"), "{warning}");
        let (m, warning) = choose_memory(Some(20 * 1024));
        assert_eq!(m, FLOOR.memory_kib);
        assert!(warning.is_some());
        let t = tune_with(
            Duration::from_millis(1),
            MemoryPlan::Calibrate {
                available_kib: Some(300 * 1024),
            },
        );
        assert_eq!(t.params.memory_kib, 128 * 1024);
        assert!(t.warning.is_some());
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
