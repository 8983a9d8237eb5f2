//! A local stand-in for Tastytrade (filled in by the OAuth work).
