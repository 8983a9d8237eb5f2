//! Which Tastytrade a vault talks to. The endpoints chosen at `init` are stored in the
//! vault, so every later command talks to the same place (and tests can point the whole
//! program at the local stand-in).

pub mod hosts;

use crate::error::Result;
use hosts::HostKind;
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
        let settings = crate::settings::get();
        let (api, authorize) = (settings.api_url.clone(), settings.authorize_url.clone());
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

    /// Whether this is Tastytrade's sandbox: by name, or custom endpoints on a sandbox
    /// host. Sandbox applications and grants are managed with the sandbox's own tools.
    pub fn is_sandbox(&self) -> bool {
        match self {
            Environment::Sandbox => true,
            Environment::Production => false,
            Environment::Custom { api_url, .. } => hosts::kind_of(api_url) == HostKind::Sandbox,
        }
    }

    /// Every endpoint must be https, or plain http on this computer (the stand-in):
    /// refused with exit 2 before any request. Stored endpoints are checked again before
    /// each request (`oauth`), so an old vault cannot send secrets in the clear either.
    pub fn validate(&self) -> Result<()> {
        for url in [self.api_url(), self.authorize_url()] {
            hosts::require_secure(url)?;
        }
        Ok(())
    }

    /// How this environment differs from `stored`, for people; `None` when it does not.
    pub fn change_from(&self, stored: &Environment) -> Option<String> {
        if self == stored {
            return None;
        }
        let describe = |env: &Environment| {
            format!(
                "{} (API {}, sign-in {})",
                env.name(),
                hosts::origin_of(env.api_url()),
                hosts::origin_of(env.authorize_url())
            )
        };
        Some(format!("from {} to {}", describe(stored), describe(self)))
    }
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
    fn custom_endpoints_must_be_https_or_loopback() {
        let env = |api: &str| Environment::Custom {
            api_url: api.into(),
            authorize_url: "https://my.tastytrade.com/auth.html".into(),
        };
        assert!(env("http://127.0.0.1:9").validate().is_ok());
        assert!(env("https://api.tastytrade.com").validate().is_ok());
        let e = env("http://api.evil.example").validate().unwrap_err();
        assert_eq!(e.code, crate::Code::Usage);
        assert!(e.message.contains("plain http"), "{}", e.message);
    }

    #[test]
    fn a_change_of_endpoints_is_described() {
        let custom = Environment::Custom {
            api_url: "https://api.evil.example".into(),
            authorize_url: "https://my.tastytrade.com/auth.html".into(),
        };
        assert_eq!(
            Environment::Production.change_from(&Environment::Production),
            None
        );
        let said = custom.change_from(&Environment::Production).unwrap();
        assert!(said.contains("https://api.tastyworks.com"), "{said}");
        assert!(said.contains("https://api.evil.example"), "{said}");
    }

    #[test]
    fn sandbox_is_known_by_name_or_host() {
        assert!(Environment::Sandbox.is_sandbox());
        assert!(!Environment::Production.is_sandbox());
        let custom = |api: &str| Environment::Custom {
            api_url: api.into(),
            authorize_url: SANDBOX_AUTHORIZE.into(),
        };
        assert!(custom("https://api.sandbox.tastytrade.com").is_sandbox());
        assert!(!custom("http://127.0.0.1:9").is_sandbox());
    }

    #[test]
    fn serialized_form_names_the_kind() {
        let json = serde_json::to_string(&Environment::Sandbox).unwrap();
        assert_eq!(json, r#"{"kind":"sandbox"}"#);
        let back: Environment = serde_json::from_str(r#"{"kind":"production"}"#).unwrap();
        assert_eq!(back, Environment::Production);
    }
}
