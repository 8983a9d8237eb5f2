//! The dotenv parser for legacy .secrets.
