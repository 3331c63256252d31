//! Validated AWS regions and the Bedrock Runtime endpoint built from them.
//!
//! Nothing a client sends may become a host name unchecked: a region is matched against the
//! shape of AWS region names before `bedrock-runtime.{region}.amazonaws.com` is formed, and an
//! endpoint override must be an `http(s)` URL with a host and nothing after the path.
//!
//! # Example
//!
//! ```
//! use bedrock_translate::endpoint::{BedrockEndpoint, Region};
//!
//! let region = Region::parse("eu-west-3").unwrap();
//! let endpoint = BedrockEndpoint::for_region(&region);
//! assert_eq!(endpoint.to_string(), "https://bedrock-runtime.eu-west-3.amazonaws.com");
//! assert!(Region::parse("us-east-1.evil.example#").is_err());
//! ```

use std::fmt;

use http::Uri;
use http::uri::{Authority, PathAndQuery, Scheme};
use thiserror::Error;

/// An AWS region name such as `us-east-1` or `us-gov-west-1`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Region(String);

/// The region is not an AWS region name.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error(
    "invalid AWS region name: expected lowercase letters and digits in dash-separated parts, like 'us-east-1'"
)]
pub struct InvalidRegion;

impl Region {
    /// Validates a region name: 2 to 8 dash-separated parts of lowercase ASCII letters, the last
    /// one a number, 32 characters at most.
    pub fn parse(name: &str) -> Result<Self, InvalidRegion> {
        let parts: Vec<&str> = name.split('-').collect();
        let (last, head) = parts.split_last().ok_or(InvalidRegion)?;
        let word = |p: &&str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase());
        let number =
            !last.is_empty() && last.len() <= 3 && last.bytes().all(|b| b.is_ascii_digit());
        let valid =
            name.len() <= 32 && (2..=7).contains(&head.len()) && head.iter().all(word) && number;
        if valid {
            Ok(Self(name.to_owned()))
        } else {
            Err(InvalidRegion)
        }
    }

    /// The region name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Region {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where Bedrock Runtime requests go: a scheme, a host (and port) and an optional base path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BedrockEndpoint {
    scheme: Scheme,
    authority: Authority,
    base_path: String,
    /// Made by [`BedrockEndpoint::for_region`]: a request's own region may replace it.
    regional: bool,
}

/// The endpoint URL is unusable.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("invalid endpoint URL: {0}")]
pub struct InvalidEndpoint(&'static str);

impl BedrockEndpoint {
    /// `https://bedrock-runtime.{region}.amazonaws.com`.
    pub fn for_region(region: &Region) -> Self {
        let host = format!("bedrock-runtime.{region}.amazonaws.com");
        Self {
            scheme: Scheme::HTTPS,
            authority: Authority::try_from(host).expect("a validated region makes a valid host"),
            base_path: String::new(),
            regional: true,
        }
    }

    /// An override such as `AWS_ENDPOINT_URL_BEDROCK_RUNTIME`: `http` or `https`, a host, an
    /// optional path prefix; no user info, query or fragment.
    pub fn parse(url: &str) -> Result<Self, InvalidEndpoint> {
        let uri: Uri = url.parse().map_err(|_| InvalidEndpoint("not a URL"))?;
        let scheme = match uri.scheme_str() {
            Some("http") => Scheme::HTTP,
            Some("https") => Scheme::HTTPS,
            _ => return Err(InvalidEndpoint("the scheme must be http or https")),
        };
        let authority = uri.authority().cloned().ok_or(InvalidEndpoint("no host"))?;
        if authority.as_str().contains('@') {
            return Err(InvalidEndpoint("user info is not allowed"));
        }
        if authority.host().is_empty() {
            return Err(InvalidEndpoint("no host"));
        }
        if uri.query().is_some() || url.contains('#') {
            return Err(InvalidEndpoint("a query or fragment is not allowed"));
        }
        let base_path = uri.path().trim_end_matches('/').to_owned();
        Ok(Self {
            scheme,
            authority,
            base_path,
            regional: false,
        })
    }

    /// Whether this is a region's own endpoint ([`BedrockEndpoint::for_region`]) rather than an
    /// override ([`BedrockEndpoint::parse`]), which pins the host whatever a request's region.
    pub fn is_regional(&self) -> bool {
        self.regional
    }

    /// The host and port.
    pub fn authority(&self) -> &Authority {
        &self.authority
    }

    /// The full URI of `path` (which starts with `/`) on this endpoint.
    pub fn uri(&self, path: &str) -> Uri {
        let path = PathAndQuery::try_from(format!("{}{path}", self.base_path))
            .expect("validated model ids and base paths make valid paths");
        Uri::builder()
            .scheme(self.scheme.clone())
            .authority(self.authority.clone())
            .path_and_query(path)
            .build()
            .expect("scheme, authority and path are valid")
    }
}

impl fmt::Display for BedrockEndpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}{}", self.scheme, self.authority, self.base_path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_real_regions() {
        for name in [
            "us-east-1",
            "us-gov-west-1",
            "ap-southeast-2",
            "eu-central-1",
            "cn-north-1",
            "il-central-1",
            "ap-east-2",
        ] {
            assert!(Region::parse(name).is_ok(), "{name}");
        }
    }

    #[test]
    fn rejects_hostile_regions() {
        for name in [
            "",
            "us",
            "us-east",
            "US-EAST-1",
            "us-east-1.evil.example#",
            "us-east-1/x",
            "us_east-1",
            "us-east-1 ",
            "a-1",
            "us--1",
            "us-east-1\n",
            "us-east-1234",
        ] {
            assert!(Region::parse(name).is_err(), "{name:?}");
        }
    }

    #[test]
    fn parses_overrides() {
        let e = BedrockEndpoint::parse("http://127.0.0.1:8080/").unwrap();
        assert_eq!(
            e.uri("/model/x/converse").to_string(),
            "http://127.0.0.1:8080/model/x/converse"
        );
        let e = BedrockEndpoint::parse("https://vpce.example.com/prefix").unwrap();
        assert_eq!(
            e.uri("/model/x/converse").to_string(),
            "https://vpce.example.com/prefix/model/x/converse"
        );
        for bad in [
            "ftp://x",
            "127.0.0.1:80",
            "http://u:p@host",
            "http://host/?q=1",
            "http://host/#f",
            "not a url",
        ] {
            assert!(BedrockEndpoint::parse(bad).is_err(), "{bad}");
        }
    }
}
