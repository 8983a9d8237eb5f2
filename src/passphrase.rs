//! Passphrase sources.
