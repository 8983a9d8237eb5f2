//! Which Tastytrade a vault talks to. The endpoints chosen at `init` are stored in the
//! vault, so every later command talks to the same place (and tests can point the whole
//! program at the local stand-in).

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

pub const PRODUCTION_AUTHORIZE: &str = "https://my.tastytrade.com/auth.html";
pub const PRODUCTION_API: &str = "https://api.tastyworks.com";
pub const SANDBOX_AUTHORIZE: &str = "https://cert-my.staging-tasty.works/auth.html";
pub const SANDBOX_API: &str = "https://api.cert.tastyworks.com";

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Environment {
    Production,
    Sandbox,
    /// Endpoints given by `TTVAULT_API_URL` / `TTVAULT_AUTHORIZE_URL` (the stand-in, tests).
    Custom {
        api_url: String,
        authorize_url: String,
    },
}

impl Environment {
    /// The environment for a new grant: `TTVAULT_API_URL` / `TTVAULT_AUTHORIZE_URL` when
    /// set, else sandbox or production.
    pub fn for_new_grant(sandbox: bool) -> Result<Self> {
        let api = non_empty_var("TTVAULT_API_URL");
        let authorize = non_empty_var("TTVAULT_AUTHORIZE_URL");
        let base = if sandbox {
            Environment::Sandbox
        } else {
            Environment::Production
        };
        if api.is_none() && authorize.is_none() {
            return Ok(base);
        }
        let custom = Environment::Custom {
            api_url: api
                .unwrap_or_else(|| base.api_url().to_string())
                .trim_end_matches('/')
                .to_string(),
            authorize_url: authorize.unwrap_or_else(|| base.authorize_url().to_string()),
        };
        custom.validate()?;
        Ok(custom)
    }

    pub fn name(&self) -> &'static str {
        match self {
            Environment::Production => "production",
            Environment::Sandbox => "sandbox",
            Environment::Custom { .. } => "custom",
        }
    }

    /// The API base URL, without a trailing slash.
    pub fn api_url(&self) -> &str {
        match self {
            Environment::Production => PRODUCTION_API,
            Environment::Sandbox => SANDBOX_API,
            Environment::Custom { api_url, .. } => api_url,
        }
    }

    pub fn authorize_url(&self) -> &str {
        match self {
            Environment::Production => PRODUCTION_AUTHORIZE,
            Environment::Sandbox => SANDBOX_AUTHORIZE,
            Environment::Custom { authorize_url, .. } => authorize_url,
        }
    }

    pub fn token_url(&self) -> String {
        format!("{}/oauth/token", self.api_url())
    }

    /// Custom endpoints must at least be http(s) URLs; whether they are safe (https or
    /// loopback) is `audit`'s judgement, since the stand-in is plain http on loopback.
    fn validate(&self) -> Result<()> {
        for url in [self.api_url(), self.authorize_url()] {
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                return Err(Error::usage(format!(
                    "endpoint `{url}` is not an http(s) URL"
                ))
                .hint("set TTVAULT_API_URL / TTVAULT_AUTHORIZE_URL to full URLs, e.g. http://127.0.0.1:8001"));
            }
        }
        Ok(())
    }
}

fn non_empty_var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_endpoint_follows_the_api_base() {
        assert_eq!(
            Environment::Production.token_url(),
            "https://api.tastyworks.com/oauth/token"
        );
        assert_eq!(
            Environment::Sandbox.token_url(),
            "https://api.cert.tastyworks.com/oauth/token"
        );
        let custom = Environment::Custom {
            api_url: "http://127.0.0.1:9".into(),
            authorize_url: "http://127.0.0.1:9/auth.html".into(),
        };
        assert_eq!(custom.token_url(), "http://127.0.0.1:9/oauth/token");
    }

    #[test]
    fn serialized_form_names_the_kind() {
        let json = serde_json::to_string(&Environment::Sandbox).unwrap();
        assert_eq!(json, r#"{"kind":"sandbox"}"#);
        let back: Environment = serde_json::from_str(r#"{"kind":"production"}"#).unwrap();
        assert_eq!(back, Environment::Production);
    }
}
