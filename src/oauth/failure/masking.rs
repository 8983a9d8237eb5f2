//! What a server said, with the pieces of the request's secrets it echoed masked.

use super::Failure;

impl Failure {
    /// The server's own words (an error description, a redirect's Location) with any piece
    /// of a secret the request carried masked: a server, or whatever answers in its place,
    /// may echo what it was sent.
    pub fn masking(self, secrets: &[&str]) -> Failure {
        let mask = |said: String| crate::oauth::sanitize::mask_secret_pieces(&said, secrets);
        match self {
            Failure::Refused {
                refusal,
                said,
                sandbox,
            } => Failure::Refused {
                refusal,
                said: mask(said),
                sandbox,
            },
            Failure::TransientSandbox { said } => Failure::TransientSandbox { said: mask(said) },
            Failure::Status {
                endpoint,
                url,
                status,
                html_401,
                redirect_to,
            } => Failure::Status {
                endpoint,
                url,
                status,
                html_401,
                redirect_to: redirect_to.map(mask),
            },
            other => other,
        }
    }
}
