//! `POST /v1/embeddings` <-> Bedrock InvokeModel, as pure functions.
//!
//! - Titan Text Embeddings v1 and v2 embed one text per call: a list of inputs becomes one
//!   InvokeModel body per text (sent concurrently by the Layer, results kept in input order).
//!   v2 takes `dimensions` (256, 512 or 1024) and is asked to normalise, like OpenAI's vectors.
//! - Cohere Embed v3 embeds up to 96 texts per call: inputs are batched; `input_type` defaults
//!   to `search_document` (a request may set another with the non-standard `input_type` field).
//! - `encoding_format: base64` returns the little-endian f32 bytes in base64, as OpenAI does.
//! - Token arrays (a list of token ids, or a list of such lists: LangChain's `OpenAIEmbeddings`
//!   sends them by default) are decoded back to text with OpenAI's `cl100k_base` encoding
//!   ([`decode_tokens`], shipped in the `tiktoken-rs` crate, nothing fetched at run time) and
//!   that text is embedded.
//!
//! Bounds: [`count_inputs`] counts a body's inputs without building them, so that a request over
//! the layer's limit is refused before its texts are allocated; [`check_answer`] holds every
//! answer to one vector per text sent, each of at most the plan's [`EmbeddingPlan::dimensions`],
//! so that the assembled answer is at most inputs × dimensions floats whatever Bedrock sends.
//!
//! # Example
//!
//! ```
//! use bedrock_translate::embeddings::plan;
//! use bedrock_translate::model_id::ModelId;
//!
//! let req = serde_json::from_str(r#"{"input":["a","b"],"model":"amazon.titan-embed-text-v2:0","dimensions":256}"#).unwrap();
//! let plan = plan(req, &ModelId::parse("amazon.titan-embed-text-v2:0").unwrap()).unwrap();
//! assert_eq!(plan.bodies.len(), 2);
//! assert_eq!(
//!     serde_json::from_slice::<serde_json::Value>(&plan.bodies[0]).unwrap(),
//!     serde_json::json!({"inputText": "a", "dimensions": 256, "normalize": true})
//! );
//! ```

use base64::Engine as _;
use bytes::Bytes;
use openai_types::embeddings::{
    Embedding, EmbeddingInput, EmbeddingVector, EmbeddingsRequest, EmbeddingsResponse,
    EmbeddingsUsage, EncodingFormat,
};
use serde::Deserialize;
use serde_json::json;

use crate::error::TranslateError;
use crate::model_id::ModelId;

/// Cohere's limit of texts per call.
pub const COHERE_BATCH: usize = 96;
/// Titan Text Embeddings v1's vector length.
pub const TITAN_V1_DIMENSIONS: usize = 1536;
/// Cohere Embed v3's vector length.
pub const COHERE_V3_DIMENSIONS: usize = 1024;

/// The embedding model families the gateway speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// `amazon.titan-embed-text-v1`.
    TitanV1,
    /// `amazon.titan-embed-text-v2:0`.
    TitanV2,
    /// `cohere.embed-english-v3`, `cohere.embed-multilingual-v3`.
    CohereV3,
}

impl Family {
    /// The family of `model`, if it is an embedding model the gateway speaks.
    pub fn of(model: &ModelId) -> Option<Self> {
        let base = model.base_model();
        if base.starts_with("amazon.titan-embed-text-v1")
            || base.starts_with("amazon.titan-embed-g1-text")
        {
            Some(Self::TitanV1)
        } else if base.starts_with("amazon.titan-embed-text-v2") {
            Some(Self::TitanV2)
        } else if base.starts_with("cohere.embed-english-v3")
            || base.starts_with("cohere.embed-multilingual-v3")
        {
            Some(Self::CohereV3)
        } else {
            None
        }
    }
}

/// The InvokeModel calls an embeddings request needs.
#[derive(Debug, Clone, PartialEq)]
pub struct EmbeddingPlan {
    /// The model family.
    pub family: Family,
    /// One body per InvokeModel call, in input order.
    pub bodies: Vec<Bytes>,
    /// How to encode the vectors.
    pub encoding: EncodingFormat,
    /// The texts in all.
    pub inputs: usize,
    /// The texts per call: every call holds this many but the last, which holds the rest.
    pub batch: usize,
    /// The length of the model's vectors (as asked, for Titan v2): no answer may hold longer.
    pub dimensions: usize,
}

impl EmbeddingPlan {
    /// The number of texts sent in call `call` (0-based).
    ///
    /// ```
    /// # use bedrock_translate::embeddings::plan;
    /// # use bedrock_translate::model_id::ModelId;
    /// let texts: Vec<String> = (0..100).map(|i| i.to_string()).collect();
    /// let req = serde_json::from_value(serde_json::json!({ "input": texts })).unwrap();
    /// let plan = plan(req, &ModelId::parse("cohere.embed-english-v3").unwrap()).unwrap();
    /// assert_eq!((plan.texts_in_call(0), plan.texts_in_call(1)), (96, 4));
    /// ```
    pub fn texts_in_call(&self, call: usize) -> usize {
        self.inputs
            .saturating_sub(call.saturating_mul(self.batch))
            .min(self.batch)
    }
}

/// The number of inputs in an embeddings request body (a text or a token array counts as
/// one), read without allocating them: a cheap check before the body is parsed for real.
///
/// ```
/// use bedrock_translate::embeddings::count_inputs;
/// assert_eq!(count_inputs(br#"{"input":["a","b","c"],"model":"m"}"#).unwrap(), 3);
/// assert_eq!(count_inputs(br#"{"input":"one text"}"#).unwrap(), 1);
/// assert_eq!(count_inputs(br#"{"input":[1,2,3]}"#).unwrap(), 1);
/// ```
pub fn count_inputs(body: &[u8]) -> Result<usize, serde_json::Error> {
    #[derive(Deserialize)]
    struct Counted {
        #[serde(default)]
        input: InputCount,
    }
    serde_json::from_slice::<Counted>(body).map(|counted| counted.input.0)
}

/// The number of inputs of an `input` field (see [`count_inputs`]).
#[derive(Debug, Default)]
struct InputCount(usize);

impl<'de> Deserialize<'de> for InputCount {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(InputCountVisitor)
    }
}

struct InputCountVisitor;

impl<'de> serde::de::Visitor<'de> for InputCountVisitor {
    type Value = InputCount;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a text or an array")
    }

    fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<InputCount, E> {
        Ok(InputCount(1))
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<InputCount, A::Error> {
        let mut count = 0;
        let mut token_array = false;
        while let Some(item) = seq.next_element::<ItemKind>()? {
            token_array |= count == 0 && item == ItemKind::Number;
            count += 1;
        }
        // An array of numbers is one token array: one input.
        Ok(InputCount(if token_array { 1 } else { count }))
    }
}

/// What an element of `input` is, without keeping it.
#[derive(Debug, PartialEq, Eq)]
enum ItemKind {
    Number,
    Other,
}

impl<'de> Deserialize<'de> for ItemKind {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ItemKindVisitor)
    }
}

struct ItemKindVisitor;

impl<'de> serde::de::Visitor<'de> for ItemKindVisitor {
    type Value = ItemKind;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_u64<E>(self, _: u64) -> Result<ItemKind, E> {
        Ok(ItemKind::Number)
    }

    fn visit_i64<E>(self, _: i64) -> Result<ItemKind, E> {
        Ok(ItemKind::Number)
    }

    fn visit_f64<E>(self, _: f64) -> Result<ItemKind, E> {
        Ok(ItemKind::Number)
    }

    fn visit_str<E>(self, _: &str) -> Result<ItemKind, E> {
        Ok(ItemKind::Other)
    }

    fn visit_bool<E>(self, _: bool) -> Result<ItemKind, E> {
        Ok(ItemKind::Other)
    }

    fn visit_unit<E>(self) -> Result<ItemKind, E> {
        Ok(ItemKind::Other)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<ItemKind, A::Error> {
        while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
        Ok(ItemKind::Other)
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<ItemKind, A::Error> {
        while map
            .next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?
            .is_some()
        {}
        Ok(ItemKind::Other)
    }
}

/// Refuses a request of more than `max` inputs (400 on `input`), before anything is sent.
pub fn check_input_count(count: usize, max: usize) -> Result<(), TranslateError> {
    if count > max {
        return Err(TranslateError::invalid(
            "input",
            format!(
                "input holds {count} items, more than this gateway's limit of {max} per request: split it into several requests"
            ),
        ));
    }
    Ok(())
}

/// Checks one InvokeModel answer against what was asked: one vector per text sent, none longer
/// than `dimensions`. The message says what was wrong (the caller makes it a 502).
pub fn check_answer(vectors: &[Vec<f32>], texts: usize, dimensions: usize) -> Result<(), String> {
    if vectors.len() != texts {
        return Err(format!("{} vectors for {texts} texts", vectors.len()));
    }
    match vectors.iter().map(Vec::len).max() {
        Some(longest) if longest > dimensions => Err(format!(
            "a vector of {longest} floats, more than the model's {dimensions}"
        )),
        _ => Ok(()),
    }
}

/// The text of a token array in OpenAI's `cl100k_base` encoding (the one of
/// `text-embedding-ada-002` and `text-embedding-3-*`, which clients such as LangChain tokenise
/// with). A token outside the vocabulary is a 400 naming its index (`input[2]`, or
/// `input[1][2]` in a list of arrays); bytes that do not end a UTF-8 character (an array cut in
/// the middle of one) become U+FFFD, as tiktoken's `decode` does. The encoding is loaded once,
/// at the first token array.
///
/// ```
/// use bedrock_translate::embeddings::decode_tokens;
///
/// assert_eq!(decode_tokens(&[9906, 1917], "input").unwrap(), "Hello world");
/// let err = decode_tokens(&[9906, 4_000_000], "input").unwrap_err();
/// assert!(err.to_string().contains("input[1]"));
/// ```
pub fn decode_tokens(tokens: &[u32], param: &str) -> Result<String, TranslateError> {
    let bpe = tiktoken_rs::cl100k_base_singleton();
    let mut bytes = Vec::with_capacity(tokens.len() * 4);
    for (i, &token) in tokens.iter().enumerate() {
        let piece = bpe.decode_bytes(&[token]).map_err(|_| {
            TranslateError::invalid(
                format!("{param}[{i}]"),
                format!(
                    "{param}[{i}] is token {token}, which is not in the cl100k_base vocabulary (token arrays are decoded with cl100k_base)"
                ),
            )
        })?;
        bytes.extend_from_slice(&piece);
    }
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// Plans the InvokeModel calls for `req` on `model`.
pub fn plan(req: EmbeddingsRequest, model: &ModelId) -> Result<EmbeddingPlan, TranslateError> {
    let family = Family::of(model).ok_or_else(|| {
        TranslateError::unsupported(
            "model",
            format!("'{model}' is not an embedding model this gateway supports: use amazon.titan-embed-text-v1, amazon.titan-embed-text-v2:0, cohere.embed-english-v3 or cohere.embed-multilingual-v3"),
        )
    })?;
    let texts = match req.input {
        EmbeddingInput::Text(text) => vec![text],
        EmbeddingInput::Texts(texts) => texts,
        EmbeddingInput::Tokens(tokens) => vec![decode_tokens(&tokens, "input")?],
        EmbeddingInput::TokenBatches(batches) => batches
            .iter()
            .enumerate()
            .map(|(i, tokens)| decode_tokens(tokens, &format!("input[{i}]")))
            .collect::<Result<_, _>>()?,
    };
    if texts.is_empty() {
        return Err(TranslateError::invalid(
            "input",
            "input must hold at least one text",
        ));
    }
    if let Some(i) = texts.iter().position(|t| t.trim().is_empty()) {
        return Err(TranslateError::invalid(
            "input",
            format!("input[{i}] is empty"),
        ));
    }
    let inputs = texts.len();
    let (batch, dimensions) = match family {
        Family::TitanV1 => (1, TITAN_V1_DIMENSIONS),
        Family::TitanV2 => (1, req.dimensions.unwrap_or(1024) as usize),
        Family::CohereV3 => (COHERE_BATCH, COHERE_V3_DIMENSIONS),
    };
    let bodies = match family {
        Family::TitanV1 => {
            check_dimensions(req.dimensions, &[1536])?;
            texts
                .into_iter()
                .map(|text| to_bytes(&json!({ "inputText": text })))
                .collect()
        }
        Family::TitanV2 => {
            let dimensions = req.dimensions.unwrap_or(1024);
            check_dimensions(Some(dimensions), &[256, 512, 1024])?;
            texts
                .into_iter()
                .map(|text| {
                    to_bytes(
                        &json!({ "inputText": text, "dimensions": dimensions, "normalize": true }),
                    )
                })
                .collect()
        }
        Family::CohereV3 => {
            check_dimensions(req.dimensions, &[1024])?;
            let input_type = req.input_type.as_deref().unwrap_or("search_document");
            if !matches!(
                input_type,
                "search_document" | "search_query" | "classification" | "clustering"
            ) {
                return Err(TranslateError::invalid(
                    "input_type",
                    "input_type must be search_document, search_query, classification or clustering",
                ));
            }
            texts
                .chunks(COHERE_BATCH)
                .map(|batch| to_bytes(&json!({ "texts": batch, "input_type": input_type, "embedding_types": ["float"] })))
                .collect()
        }
    };
    Ok(EmbeddingPlan {
        family,
        bodies,
        encoding: req.encoding_format.unwrap_or(EncodingFormat::Float),
        inputs,
        batch,
        dimensions,
    })
}

fn check_dimensions(dimensions: Option<u32>, allowed: &[u32]) -> Result<(), TranslateError> {
    match dimensions {
        Some(d) if !allowed.contains(&d) => Err(TranslateError::invalid(
            "dimensions",
            format!("dimensions {d} is not supported by this model: use one of {allowed:?}"),
        )),
        _ => Ok(()),
    }
}

fn to_bytes(value: &serde_json::Value) -> Bytes {
    Bytes::from(serde_json::to_vec(value).expect("JSON values serialise"))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TitanAnswer {
    embedding: Vec<f32>,
    #[serde(default)]
    input_text_token_count: u64,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum CohereEmbeddings {
    Floats(Vec<Vec<f32>>),
    ByType { float: Vec<Vec<f32>> },
}

#[derive(Debug, Deserialize)]
struct CohereAnswer {
    embeddings: CohereEmbeddings,
}

/// The vectors and input tokens of one InvokeModel answer. `header_tokens` is the
/// `x-amzn-bedrock-input-token-count` header, used when the body has no count.
pub fn parse_answer(
    family: Family,
    body: &[u8],
    header_tokens: Option<u64>,
) -> Result<(Vec<Vec<f32>>, u64), serde_json::Error> {
    match family {
        Family::TitanV1 | Family::TitanV2 => {
            let answer: TitanAnswer = serde_json::from_slice(body)?;
            let tokens = if answer.input_text_token_count > 0 {
                answer.input_text_token_count
            } else {
                header_tokens.unwrap_or(0)
            };
            Ok((vec![answer.embedding], tokens))
        }
        Family::CohereV3 => {
            let answer: CohereAnswer = serde_json::from_slice(body)?;
            let vectors = match answer.embeddings {
                CohereEmbeddings::Floats(v) | CohereEmbeddings::ByType { float: v } => v,
            };
            Ok((vectors, header_tokens.unwrap_or(0)))
        }
    }
}

/// The OpenAI response from the vectors of every call, in input order.
pub fn assemble(
    vectors: Vec<Vec<f32>>,
    prompt_tokens: u64,
    encoding: EncodingFormat,
    model: &str,
) -> EmbeddingsResponse {
    let data = vectors
        .into_iter()
        .enumerate()
        .map(|(index, vector)| Embedding {
            object: "embedding".to_owned(),
            index: index as u32,
            embedding: match encoding {
                EncodingFormat::Float => EmbeddingVector::Float(vector),
                EncodingFormat::Base64 => EmbeddingVector::Base64(base64_f32(&vector)),
            },
        })
        .collect();
    EmbeddingsResponse {
        object: "list".to_owned(),
        data,
        model: model.to_owned(),
        usage: EmbeddingsUsage {
            prompt_tokens,
            total_tokens: prompt_tokens,
        },
    }
}

/// Little-endian f32 bytes in standard base64, as OpenAI's `encoding_format: base64`.
pub fn base64_f32(vector: &[f32]) -> String {
    let bytes: Vec<u8> = vector.iter().flat_map(|f| f.to_le_bytes()).collect();
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(json: &str) -> EmbeddingsRequest {
        serde_json::from_str(json).unwrap()
    }

    fn model(id: &str) -> ModelId {
        ModelId::parse(id).unwrap()
    }

    #[test]
    fn titan_v1_one_body_per_text() {
        let plan = plan(
            req(r#"{"input":["x","y","z"]}"#),
            &model("amazon.titan-embed-text-v1"),
        )
        .unwrap();
        assert_eq!(plan.family, Family::TitanV1);
        assert_eq!(
            plan.bodies,
            vec![
                Bytes::from(r#"{"inputText":"x"}"#),
                Bytes::from(r#"{"inputText":"y"}"#),
                Bytes::from(r#"{"inputText":"z"}"#)
            ]
        );
    }

    #[test]
    fn cohere_batches_of_96_with_default_input_type() {
        let texts: Vec<String> = (0..200).map(|i| format!("t{i}")).collect();
        let body = serde_json::json!({ "input": texts }).to_string();
        let plan = plan(req(&body), &model("cohere.embed-english-v3")).unwrap();
        assert_eq!(plan.bodies.len(), 3);
        let first: serde_json::Value = serde_json::from_slice(&plan.bodies[0]).unwrap();
        assert_eq!(first["texts"].as_array().unwrap().len(), 96);
        assert_eq!(first["input_type"], "search_document");
        let last: serde_json::Value = serde_json::from_slice(&plan.bodies[2]).unwrap();
        assert_eq!(last["texts"].as_array().unwrap().len(), 8);
        assert_eq!(last["texts"][7], "t199");
    }

    #[test]
    fn token_arrays_are_decoded_with_cl100k_base() {
        let titan = model("amazon.titan-embed-text-v2:0");
        let plan = plan(req(r#"{"input":[9906,1917]}"#), &titan).unwrap();
        let body: serde_json::Value = serde_json::from_slice(&plan.bodies[0]).unwrap();
        assert_eq!(body["inputText"], "Hello world");
        let plan = plan_of(r#"{"input":[[9906,1917],[1917],[100257]]}"#, &titan);
        let texts: Vec<serde_json::Value> = plan
            .bodies
            .iter()
            .map(|b| serde_json::from_slice::<serde_json::Value>(b).unwrap()["inputText"].clone())
            .collect();
        assert_eq!(texts, ["Hello world", " world", "<|endoftext|>"]);
        let cohere = plan_of(
            r#"{"input":[[9906],[1917]]}"#,
            &model("cohere.embed-english-v3"),
        );
        let body: serde_json::Value = serde_json::from_slice(&cohere.bodies[0]).unwrap();
        assert_eq!(body["texts"], serde_json::json!(["Hello", " world"]));
        // A multi-byte character cut between two arrays: U+FFFD, as tiktoken's decode.
        let crab = tiktoken_rs::cl100k_base_singleton().encode_ordinary("🦀");
        assert!(crab.len() > 1, "{crab:?}");
        assert_eq!(decode_tokens(&crab, "input").unwrap(), "🦀");
        let cut = decode_tokens(&crab[..1], "input").unwrap();
        assert!(cut.contains('\u{fffd}'), "{cut:?}");
    }

    fn plan_of(body: &str, model: &ModelId) -> EmbeddingPlan {
        plan(req(body), model).unwrap()
    }

    #[test]
    fn rejects_what_bedrock_cannot_do() {
        let cases = [
            (
                r#"{"input":[9906,200000]}"#,
                "amazon.titan-embed-text-v1",
                "input[1]",
            ),
            (
                r#"{"input":[[9906],[1917,100300]]}"#,
                "amazon.titan-embed-text-v1",
                "input[1][1]",
            ),
            (r#"{"input":[220]}"#, "amazon.titan-embed-text-v1", "input"),
            (r#"{"input":[]}"#, "amazon.titan-embed-text-v1", "input"),
            (r#"{"input":" "}"#, "amazon.titan-embed-text-v1", "input"),
            (
                r#"{"input":"x","dimensions":300}"#,
                "amazon.titan-embed-text-v2:0",
                "dimensions",
            ),
            (
                r#"{"input":"x","dimensions":256}"#,
                "amazon.titan-embed-text-v1",
                "dimensions",
            ),
            (
                r#"{"input":"x","input_type":"poetry"}"#,
                "cohere.embed-english-v3",
                "input_type",
            ),
            (
                r#"{"input":"x"}"#,
                "anthropic.claude-3-haiku-20240307-v1:0",
                "model",
            ),
        ];
        for (body, id, param) in cases {
            let err = crate::ApiError::from(plan(req(body), &model(id)).unwrap_err());
            assert_eq!(err.error.param.as_deref(), Some(param), "{body}");
        }
    }

    #[test]
    fn parses_both_cohere_shapes_and_titan() {
        let (v, t) = parse_answer(
            Family::CohereV3,
            br#"{"embeddings":[[1.0,2.0]],"id":"x","response_type":"embeddings_floats"}"#,
            Some(4),
        )
        .unwrap();
        assert_eq!((v, t), (vec![vec![1.0, 2.0]], 4));
        let (v, _) = parse_answer(
            Family::CohereV3,
            br#"{"embeddings":{"float":[[3.0]]},"response_type":"embeddings_by_type"}"#,
            None,
        )
        .unwrap();
        assert_eq!(v, vec![vec![3.0]]);
        let (v, t) = parse_answer(
            Family::TitanV2,
            br#"{"embedding":[0.5],"inputTextTokenCount":7,"embeddingsByType":{"float":[0.5]}}"#,
            None,
        )
        .unwrap();
        assert_eq!((v, t), (vec![vec![0.5]], 7));
    }

    #[test]
    fn inputs_are_counted_without_being_built() {
        let cases: [(&str, usize); 7] = [
            (r#"{"input":["a","b\"]","c"]}"#, 3),
            (r#"{"model":"m","input":"x"}"#, 1),
            (r#"{"input":[[1,2],[3]]}"#, 2),
            (r#"{"input":[7,8,9,10]}"#, 1),
            (r#"{"input":[]}"#, 0),
            (r#"{"input":[{"a":[1]},true,null]}"#, 3),
            (r#"{"model":"m"}"#, 0),
        ];
        for (body, count) in cases {
            assert_eq!(count_inputs(body.as_bytes()).unwrap(), count, "{body}");
        }
        assert!(count_inputs(b"{\"input\":[").is_err());
        assert!(check_input_count(2048, 2048).is_ok());
        let err = crate::ApiError::from(check_input_count(2049, 2048).unwrap_err());
        assert_eq!(err.error.param.as_deref(), Some("input"));
    }

    #[test]
    fn answers_hold_one_vector_per_text_within_the_dimensions() {
        assert!(check_answer(&[vec![0.0; 4]], 1, 4).is_ok());
        assert!(check_answer(&[vec![0.0; 5]], 1, 4).is_err());
        assert!(check_answer(&[vec![0.0], vec![0.0]], 1, 4).is_err());
        assert!(check_answer(&[], 1, 4).is_err());
    }

    #[test]
    fn base64_is_little_endian_f32() {
        // 1.0f32 = 00 00 80 3f; -2.0f32 = 00 00 00 c0.
        assert_eq!(
            base64_f32(&[1.0, -2.0]),
            base64::engine::general_purpose::STANDARD.encode([0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0])
        );
        let response = assemble(vec![vec![1.0], vec![2.0]], 5, EncodingFormat::Base64, "m");
        assert_eq!(response.data[1].index, 1);
        assert_eq!(response.usage.total_tokens, 5);
    }
}
