//! A fixed-size buffer for the agent's secrets: mlock'ed (where the OS allows) before any
//! secret is written to it, zeroized and munlock'ed on drop. Its capacity never grows, so
//! no copy of a secret is left behind by a reallocation.

use zeroize::Zeroize;

pub struct Locked {
    buf: Box<[u8]>,
    len: usize,
    locked: bool,
}

/// Room for a grant: the vault's document is a few hundred bytes; payloads are capped far
/// below this by the protocol's frame limit anyway.
const MIN_CAPACITY: usize = 16 * 1024;

impl Locked {
    /// Copies `data` into a new locked buffer.
    pub fn new(data: &[u8]) -> Locked {
        let buf = vec![0u8; MIN_CAPACITY.max(data.len())].into_boxed_slice();
        let locked = crate::harden::mlock(&buf);
        let mut l = Locked {
            buf,
            len: 0,
            locked,
        };
        l.buf[..data.len()].copy_from_slice(data);
        l.len = data.len();
        l
    }

    pub fn bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// Whether mlock succeeded.
    pub fn is_locked(&self) -> bool {
        self.locked
    }
}

impl Drop for Locked {
    fn drop(&mut self) {
        self.buf.zeroize();
        if self.locked {
            crate::harden::munlock(&self.buf);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_what_it_was_given() {
        let l = Locked::new(b"secret bytes");
        assert_eq!(l.bytes(), b"secret bytes");
        let big = vec![7u8; MIN_CAPACITY + 5];
        assert_eq!(Locked::new(&big).bytes(), &big[..]);
    }
}
