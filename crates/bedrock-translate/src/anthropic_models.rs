//! Anthropic's model names (`claude-sonnet-4-5`, `claude-3-5-haiku-20241022`, ...) and the
//! Bedrock model ids they mean, so that clients written for Anthropic's API (Claude Code, the
//! Anthropic SDKs) work unchanged on every front door.
//!
//! Newer Claude models are served on demand only through a cross-region inference profile:
//! their id takes a geography prefix (`us.`, `eu.`, `apac.`). Which one is the
//! [`InferenceProfilePrefix`] setting; by default ([`InferenceProfilePrefix::Auto`]) it follows
//! the request's region. A configured alias wins over this table; Bedrock ids and ARNs are used
//! as they are.
//!
//! | Anthropic name | Bedrock model id | profile |
//! | --- | --- | --- |
//! | `claude-opus-4-5-20251101`, `claude-opus-4-5` | `anthropic.claude-opus-4-5-20251101-v1:0` | yes |
//! | `claude-haiku-4-5-20251001`, `claude-haiku-4-5` | `anthropic.claude-haiku-4-5-20251001-v1:0` | yes |
//! | `claude-sonnet-4-5-20250929`, `claude-sonnet-4-5` | `anthropic.claude-sonnet-4-5-20250929-v1:0` | yes |
//! | `claude-opus-4-1-20250805`, `claude-opus-4-1` | `anthropic.claude-opus-4-1-20250805-v1:0` | yes |
//! | `claude-opus-4-20250514`, `claude-opus-4-0` | `anthropic.claude-opus-4-20250514-v1:0` | yes |
//! | `claude-sonnet-4-20250514`, `claude-sonnet-4-0` | `anthropic.claude-sonnet-4-20250514-v1:0` | yes |
//! | `claude-3-7-sonnet-20250219`, `claude-3-7-sonnet-latest` | `anthropic.claude-3-7-sonnet-20250219-v1:0` | yes |
//! | `claude-3-5-haiku-20241022`, `claude-3-5-haiku-latest` | `anthropic.claude-3-5-haiku-20241022-v1:0` | no |
//! | `claude-3-5-sonnet-20241022`, `claude-3-5-sonnet-latest` | `anthropic.claude-3-5-sonnet-20241022-v2:0` | no |
//! | `claude-3-haiku-20240307` | `anthropic.claude-3-haiku-20240307-v1:0` | no |
//!
//! # Example
//!
//! ```
//! use bedrock_translate::anthropic_models::{bedrock_id, InferenceProfilePrefix};
//! use bedrock_translate::Region;
//!
//! let region = Region::parse("eu-west-3").unwrap();
//! let prefix = InferenceProfilePrefix::Auto.for_region(Some(&region));
//! assert_eq!(bedrock_id("claude-sonnet-4-5", prefix).as_deref(),
//!            Some("eu.anthropic.claude-sonnet-4-5-20250929-v1:0"));
//! assert_eq!(bedrock_id("claude-3-haiku-20240307", prefix).as_deref(),
//!            Some("anthropic.claude-3-haiku-20240307-v1:0"));
//! assert_eq!(bedrock_id("gpt-4o", prefix), None);
//! ```

use crate::endpoint::Region;

/// Which cross-region inference-profile prefix the Anthropic names of models that need one get.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InferenceProfilePrefix {
    /// From the request's region: `us-*`/`ca-*` -> `us.`, `eu-*` -> `eu.`, `ap-*` -> `apac.`,
    /// any other region none. The default.
    #[default]
    Auto,
    /// No prefix: the plain model id (for regions serving the model on demand).
    None,
    /// `us.`.
    Us,
    /// `eu.`.
    Eu,
    /// `apac.`.
    Apac,
}

/// A prefix setting other than `auto`, `none`, `us`, `eu` or `apac`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown inference profile prefix: use auto, none, us, eu or apac")]
pub struct UnknownPrefix;

impl std::str::FromStr for InferenceProfilePrefix {
    type Err = UnknownPrefix;

    fn from_str(s: &str) -> Result<Self, UnknownPrefix> {
        match s {
            "auto" => Ok(Self::Auto),
            "none" => Ok(Self::None),
            "us" => Ok(Self::Us),
            "eu" => Ok(Self::Eu),
            "apac" => Ok(Self::Apac),
            _ => Err(UnknownPrefix),
        }
    }
}

impl InferenceProfilePrefix {
    /// The prefix (without its dot) for a request in `region` (`None`: no region known).
    pub fn for_region(self, region: Option<&Region>) -> Option<&'static str> {
        match self {
            Self::None => None,
            Self::Us => Some("us"),
            Self::Eu => Some("eu"),
            Self::Apac => Some("apac"),
            Self::Auto => {
                let region = region?.as_str();
                if region.starts_with("us-") || region.starts_with("ca-") {
                    Some("us")
                } else if region.starts_with("eu-") {
                    Some("eu")
                } else if region.starts_with("ap-") {
                    Some("apac")
                } else {
                    None
                }
            }
        }
    }
}

/// One Anthropic model the gateway knows by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AnthropicModel {
    /// Anthropic's dated name.
    pub name: &'static str,
    /// Anthropic's undated alias, if any.
    pub alias: Option<&'static str>,
    /// The Bedrock foundation-model id.
    pub bedrock_id: &'static str,
    /// Whether Bedrock serves it on demand only through an inference profile.
    pub needs_profile: bool,
    /// A human-readable name.
    pub display_name: &'static str,
    /// The release date, RFC 3339.
    pub created_at: &'static str,
}

const fn model(
    name: &'static str,
    alias: Option<&'static str>,
    bedrock_id: &'static str,
    needs_profile: bool,
    display_name: &'static str,
    created_at: &'static str,
) -> AnthropicModel {
    AnthropicModel {
        name,
        alias,
        bedrock_id,
        needs_profile,
        display_name,
        created_at,
    }
}

/// Every Anthropic name the gateway resolves, newest first (the table of the module docs).
pub const ANTHROPIC_MODELS: &[AnthropicModel] = &[
    model(
        "claude-opus-4-5-20251101",
        Some("claude-opus-4-5"),
        "anthropic.claude-opus-4-5-20251101-v1:0",
        true,
        "Claude Opus 4.5",
        "2025-11-24T00:00:00Z",
    ),
    model(
        "claude-haiku-4-5-20251001",
        Some("claude-haiku-4-5"),
        "anthropic.claude-haiku-4-5-20251001-v1:0",
        true,
        "Claude Haiku 4.5",
        "2025-10-15T00:00:00Z",
    ),
    model(
        "claude-sonnet-4-5-20250929",
        Some("claude-sonnet-4-5"),
        "anthropic.claude-sonnet-4-5-20250929-v1:0",
        true,
        "Claude Sonnet 4.5",
        "2025-09-29T00:00:00Z",
    ),
    model(
        "claude-opus-4-1-20250805",
        Some("claude-opus-4-1"),
        "anthropic.claude-opus-4-1-20250805-v1:0",
        true,
        "Claude Opus 4.1",
        "2025-08-05T00:00:00Z",
    ),
    model(
        "claude-opus-4-20250514",
        Some("claude-opus-4-0"),
        "anthropic.claude-opus-4-20250514-v1:0",
        true,
        "Claude Opus 4",
        "2025-05-22T00:00:00Z",
    ),
    model(
        "claude-sonnet-4-20250514",
        Some("claude-sonnet-4-0"),
        "anthropic.claude-sonnet-4-20250514-v1:0",
        true,
        "Claude Sonnet 4",
        "2025-05-22T00:00:00Z",
    ),
    model(
        "claude-3-7-sonnet-20250219",
        Some("claude-3-7-sonnet-latest"),
        "anthropic.claude-3-7-sonnet-20250219-v1:0",
        true,
        "Claude Sonnet 3.7",
        "2025-02-24T00:00:00Z",
    ),
    model(
        "claude-3-5-haiku-20241022",
        Some("claude-3-5-haiku-latest"),
        "anthropic.claude-3-5-haiku-20241022-v1:0",
        false,
        "Claude Haiku 3.5",
        "2024-10-22T00:00:00Z",
    ),
    model(
        "claude-3-5-sonnet-20241022",
        Some("claude-3-5-sonnet-latest"),
        "anthropic.claude-3-5-sonnet-20241022-v2:0",
        false,
        "Claude Sonnet 3.5 (New)",
        "2024-10-22T00:00:00Z",
    ),
    model(
        "claude-3-haiku-20240307",
        None,
        "anthropic.claude-3-haiku-20240307-v1:0",
        false,
        "Claude Haiku 3",
        "2024-03-07T00:00:00Z",
    ),
];

/// The model an Anthropic name (dated or alias) means.
pub fn lookup(name: &str) -> Option<&'static AnthropicModel> {
    ANTHROPIC_MODELS
        .iter()
        .find(|m| m.name == name || m.alias == Some(name))
}

/// The Bedrock id for an Anthropic name, with `prefix` (from
/// [`InferenceProfilePrefix::for_region`]) where the model needs an inference profile;
/// `None` for a name not in the table.
pub fn bedrock_id(name: &str, prefix: Option<&str>) -> Option<String> {
    let model = lookup(name)?;
    Some(match prefix {
        Some(prefix) if model.needs_profile => format!("{prefix}.{}", model.bedrock_id),
        _ => model.bedrock_id.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ModelId;

    fn region(name: &str) -> Region {
        Region::parse(name).unwrap()
    }

    #[test]
    fn auto_follows_the_region() {
        let auto = |r: &str| InferenceProfilePrefix::Auto.for_region(Some(&region(r)));
        assert_eq!(auto("us-east-1"), Some("us"));
        assert_eq!(auto("ca-central-1"), Some("us"));
        assert_eq!(auto("eu-central-1"), Some("eu"));
        assert_eq!(auto("ap-northeast-1"), Some("apac"));
        assert_eq!(auto("sa-east-1"), None);
        assert_eq!(InferenceProfilePrefix::Auto.for_region(None), None);
        assert_eq!(
            InferenceProfilePrefix::Eu.for_region(Some(&region("us-east-1"))),
            Some("eu")
        );
        assert_eq!(
            InferenceProfilePrefix::None.for_region(Some(&region("us-east-1"))),
            None
        );
    }

    #[test]
    fn names_and_aliases_resolve() {
        assert_eq!(
            bedrock_id("claude-sonnet-4-5-20250929", Some("us")).as_deref(),
            Some("us.anthropic.claude-sonnet-4-5-20250929-v1:0")
        );
        assert_eq!(
            bedrock_id("claude-3-5-haiku-latest", Some("us")).as_deref(),
            Some("anthropic.claude-3-5-haiku-20241022-v1:0")
        );
        assert_eq!(
            bedrock_id("claude-opus-4-1", None).as_deref(),
            Some("anthropic.claude-opus-4-1-20250805-v1:0")
        );
    }

    #[test]
    fn the_table_is_valid_and_unique() {
        for (i, model) in ANTHROPIC_MODELS.iter().enumerate() {
            let id = ModelId::parse(model.bedrock_id).unwrap();
            assert_eq!(id.provider(), "anthropic");
            for other in &ANTHROPIC_MODELS[..i] {
                assert_ne!(other.name, model.name);
                assert!(model.alias.is_none() || other.alias != model.alias);
            }
        }
        assert_eq!("apac".parse(), Ok(InferenceProfilePrefix::Apac));
        assert_eq!(
            "global".parse::<InferenceProfilePrefix>(),
            Err(UnknownPrefix)
        );
    }
}
