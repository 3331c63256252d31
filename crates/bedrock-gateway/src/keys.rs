//! Gateway API keys: who may use the gateway.
//!
//! When `BEDROCK_GATEWAY_API_KEYS` holds keys, every `/v1/*` request needs
//! `Authorization: Bearer <key>` (what the OpenAI SDKs send as `api_key`, and the Anthropic
//! SDKs as `auth_token`) or `x-api-key: <key>` (the Anthropic SDKs' `api_key`, Claude Code's
//! `ANTHROPIC_API_KEY`). Keys are kept only as
//! SHA-256 digests and compared in constant time, so neither the content nor the length of a
//! key leaks through timing; their `Debug` shows only how many there are. The key a request
//! presented is known after the check only as its digest ([`MatchedKey`]), which the router
//! hands to the pipeline as a request extension (stored responses belong to it).

use bedrock_translate::ApiError;
use http::{HeaderMap, header};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The accepted keys.
#[derive(Clone, Default)]
pub struct GatewayKeys {
    digests: Vec<[u8; 32]>,
}

impl std::fmt::Debug for GatewayKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "GatewayKeys({} keys, redacted)", self.digests.len())
    }
}

/// Request extension: the SHA-256 digest of the gateway key the request presented (set only
/// when gateway keys are configured). `Debug` shows nothing of it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct MatchedKey(pub [u8; 32]);

impl std::fmt::Debug for MatchedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MatchedKey(** redacted **)")
    }
}

impl GatewayKeys {
    /// Keys from a comma-separated list; blanks are skipped.
    pub fn parse(list: &str) -> Self {
        let digests = list
            .split(',')
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .map(|k| Sha256::digest(k.as_bytes()).into())
            .collect();
        Self { digests }
    }

    /// Whether no key is configured (the gateway is open).
    pub fn is_empty(&self) -> bool {
        self.digests.is_empty()
    }

    /// Checks the request's key (`x-api-key`, else `Authorization: Bearer`): the key that
    /// matched, `Ok(None)` when no key is configured.
    pub fn check(&self, headers: &HeaderMap) -> Result<Option<MatchedKey>, ApiError> {
        if self.is_empty() {
            return Ok(None);
        }
        let bearer = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            });
        let api_key = headers.get(X_API_KEY).and_then(|v| v.to_str().ok());
        let presented: Vec<&str> = api_key.into_iter().chain(bearer).map(str::trim).collect();
        if presented.is_empty() {
            return Err(ApiError::authentication(
                "this gateway requires an API key: send Authorization: Bearer <key> (the OpenAI SDKs' api_key) or x-api-key: <key> (the Anthropic SDKs' api_key)",
                "missing_api_key",
            ));
        }
        match presented.into_iter().find_map(|key| self.matches(key)) {
            Some(key) => Ok(Some(key)),
            None => Err(ApiError::authentication(
                "invalid gateway API key",
                "invalid_api_key",
            )),
        }
    }

    /// `presented` when it is a configured key (its digest is then the matching key's), in
    /// constant time over the keys.
    fn matches(&self, presented: &str) -> Option<MatchedKey> {
        let digest: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        let mut matched = subtle::Choice::from(0);
        for known in &self.digests {
            matched |= known.ct_eq(&digest);
        }
        bool::from(matched).then_some(MatchedKey(digest))
    }
}

/// The Anthropic SDKs' key header.
pub const X_API_KEY: &str = "x-api-key";

#[cfg(test)]
mod tests {
    use super::*;

    fn bearer(key: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::AUTHORIZATION,
            format!("Bearer {key}").parse().unwrap(),
        );
        headers
    }

    #[test]
    fn checks_bearer_keys() {
        let keys = GatewayKeys::parse(" key-one-0123456789 , ,key-two-0123456789");
        let one = keys.check(&bearer("key-one-0123456789")).unwrap().unwrap();
        let two = keys.check(&bearer("key-two-0123456789")).unwrap().unwrap();
        assert_ne!(one, two, "each key is told apart");
        assert_eq!(
            one.0,
            <[u8; 32]>::from(Sha256::digest(b"key-one-0123456789"))
        );
        for bad in ["key-one", "key-one-01234567890", ""] {
            assert_eq!(keys.check(&bearer(bad)).unwrap_err().status, 401, "{bad:?}");
        }
        assert_eq!(
            keys.check(&HeaderMap::new())
                .unwrap_err()
                .error
                .code
                .as_deref(),
            Some("missing_api_key")
        );
    }

    #[test]
    fn checks_x_api_key_too() {
        let keys = GatewayKeys::parse("key-one-0123456789");
        let mut headers = HeaderMap::new();
        headers.insert(X_API_KEY, "key-one-0123456789".parse().unwrap());
        assert!(keys.check(&headers).is_ok());
        headers.insert(X_API_KEY, "wrong".parse().unwrap());
        assert_eq!(keys.check(&headers).unwrap_err().status, 401);
        let mut both = bearer("key-one-0123456789");
        both.insert(X_API_KEY, "wrong".parse().unwrap());
        assert!(keys.check(&both).is_ok());
    }

    #[test]
    fn no_keys_means_open_and_debug_redacts() {
        assert_eq!(
            GatewayKeys::parse("").check(&HeaderMap::new()).unwrap(),
            None
        );
        let debug = format!("{:?}", GatewayKeys::parse("super-secret-key"));
        assert!(!debug.contains("super-secret-key"), "{debug}");
    }
}
