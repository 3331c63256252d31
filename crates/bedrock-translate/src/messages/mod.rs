//! Anthropic's Messages API (`POST /v1/messages`, `POST /v1/messages/count_tokens`) on Bedrock.
//!
//! - Claude models (`anthropic.` in the resolved model id: plain ids, inference profiles such as
//!   `us.anthropic.…`, ARNs naming them) go to InvokeModel with Anthropic's own body, nearly
//!   untouched ([`invoke`]): full fidelity, every Anthropic feature Bedrock has.
//! - Every other model goes through Converse / ConverseStream ([`to_converse`], then
//!   [`from_converse`] for the answer and the stream).
//! - `count_tokens` goes to Bedrock's CountTokens, whose model must be a foundation model
//!   ([`crate::ModelId::foundation_model`]).
//!
//! Every error of these doors is in Anthropic's shape ([`error`]), streamed ones as
//! `event: error`. The model name the client sent is the one in the answer.
//!
//! # Example
//!
//! ```
//! use bedrock_translate::messages::is_claude;
//! use bedrock_translate::ModelId;
//! assert!(is_claude(&ModelId::parse("us.anthropic.claude-sonnet-4-5-20250929-v1:0").unwrap()));
//! assert!(!is_claude(&ModelId::parse("amazon.nova-lite-v1:0").unwrap()));
//! ```

pub mod error;
pub mod from_converse;
pub mod invoke;
pub mod to_converse;

use anthropic_types::{CountTokensRequest, CountTokensResponse, MessagesRequest};
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode};
use http_body::Body;
use http_body_util::Full;
use serde_json::Value;
use tower::{BoxError, Service};

use crate::body::{EventsBody, OpenAiBody};
use crate::converse::{ConverseRequest, ConverseResponse};
use crate::error::{ApiError, TranslateError};
use crate::guardrail::{Guardrail, guardrail_config};
use crate::layer::{
    Error, FrontDoor, ResolvedModel, TranslateConfig, bedrock_error, bedrock_request,
    json_response, read_answer, read_post, requested_model, stream_response,
};
use crate::model_id::{ModelId, Operation};
use crate::request::ConverseOptions;

/// InvokeModel's guardrail identifier header.
const GUARDRAIL_ID: http::HeaderName =
    http::HeaderName::from_static("x-amzn-bedrock-guardrailidentifier");
/// InvokeModel's guardrail version header.
const GUARDRAIL_VERSION: http::HeaderName =
    http::HeaderName::from_static("x-amzn-bedrock-guardrailversion");
/// InvokeModel's guardrail trace header.
const GUARDRAIL_TRACE: http::HeaderName = http::HeaderName::from_static("x-amzn-bedrock-trace");

/// Whether `model` is a Claude model (served through InvokeModel).
pub fn is_claude(model: &ModelId) -> bool {
    model.provider() == "anthropic"
}

/// `err` as an Anthropic error response.
fn failure<RB>(err: &ApiError) -> Response<OpenAiBody<RB>> {
    error::error_response(err).map(OpenAiBody::from_full)
}

/// The `anthropic-beta` header values, joined with commas.
fn betas(headers: &HeaderMap) -> Option<String> {
    let values: Vec<&str> = headers
        .get_all("anthropic-beta")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    (!values.is_empty()).then(|| values.join(","))
}

/// One call to Bedrock with a JSON body, to `path` with `headers`.
async fn send<S, RB>(
    mut inner: S,
    config: &TranslateConfig,
    extensions: http::Extensions,
    (path, headers): (&str, HeaderMap),
    body: Bytes,
    stream: bool,
) -> Result<Response<RB>, Error>
where
    S: Service<Request<Full<Bytes>>, Response = Response<RB>>,
    S::Error: Into<BoxError>,
{
    let mut upstream = bedrock_request(config, extensions, path, stream, body);
    upstream.headers_mut().extend(headers);
    tracing::debug!(path, stream, "calling Bedrock");
    inner
        .call(upstream)
        .await
        .map_err(|e| Error::Upstream(e.into()))
}

/// Serves `POST /v1/messages` and `POST /v1/messages/count_tokens` (`door`).
pub(crate) async fn serve<S, B, RB>(
    inner: S,
    config: &TranslateConfig,
    request: Request<B>,
    door: FrontDoor,
) -> Result<Response<OpenAiBody<RB>>, Error>
where
    S: Service<Request<Full<Bytes>>, Response = Response<RB>>,
    S::Error: Into<BoxError>,
    B: Body,
    B::Error: Into<BoxError>,
    RB: Body<Data = Bytes> + Unpin,
    RB::Error: Into<BoxError>,
{
    if request.method() != Method::POST {
        let err =
            ApiError::invalid_request("use POST", None).with_status(StatusCode::METHOD_NOT_ALLOWED);
        return Ok(failure(&err));
    }
    let (parts, body) = match read_post(request).await? {
        Ok(read) => read,
        Err(response) => return Ok(response),
    };
    let requested = requested_model(&body).filter(|m| !m.is_empty());
    let Some(name) = requested else {
        let err = TranslateError::invalid("model", "model: field required");
        return Ok(failure(&err.into()));
    };
    let model = match config.resolve_model_in(Some(&name), &parts.extensions) {
        Ok(model) => model,
        Err(err) => return Ok(failure(&err.into())),
    };
    let betas = betas(&parts.headers);
    let mut call = Call {
        config,
        extensions: parts.extensions,
        model,
        body,
        betas,
    };
    let mut answer = match (door, is_claude(&call.model)) {
        (FrontDoor::CountTokens, _) => call.count_tokens(inner).await?,
        (_, true) => call.invoke(inner).await?,
        (_, false) => call.converse(inner).await?,
    };
    answer.extensions_mut().insert(ResolvedModel(call.model));
    Ok(answer)
}

/// A Messages request, its model resolved.
struct Call<'a> {
    config: &'a TranslateConfig,
    extensions: http::Extensions,
    model: ModelId,
    body: Bytes,
    betas: Option<String>,
}

impl Call<'_> {
    /// The client request's extensions, for the one Bedrock call (read them before).
    fn take_extensions(&mut self) -> http::Extensions {
        std::mem::take(&mut self.extensions)
    }

    /// Bedrock's error answer, in Anthropic's shape.
    async fn refused<RB>(&self, response: Response<RB>, requested: &str) -> Response<OpenAiBody<RB>>
    where
        RB: Body<Data = Bytes>,
        RB::Error: Into<BoxError>,
    {
        let err = bedrock_error(response).await;
        failure(&err.naming_model(Some(requested), &self.model))
    }

    /// The guardrail of an InvokeModel call, as headers: the request's [`Guardrail`] extension,
    /// else the configured one.
    fn guardrail_headers(&self) -> HeaderMap {
        let mut headers = HeaderMap::new();
        let guardrail = self
            .extensions
            .get::<Guardrail>()
            .or(self.config.guardrail.as_ref());
        if let Some(guardrail) = guardrail {
            let value = |v: &str| HeaderValue::from_str(v).expect("guardrails are validated");
            headers.insert(GUARDRAIL_ID, value(guardrail.identifier()));
            headers.insert(GUARDRAIL_VERSION, value(guardrail.version()));
            let trace = if self.config.guardrail_trace {
                "ENABLED"
            } else {
                "DISABLED"
            };
            headers.insert(GUARDRAIL_TRACE, HeaderValue::from_static(trace));
        }
        headers
    }

    /// Claude: InvokeModel with Anthropic's body.
    async fn invoke<S, RB>(&mut self, inner: S) -> Result<Response<OpenAiBody<RB>>, Error>
    where
        S: Service<Request<Full<Bytes>>, Response = Response<RB>>,
        S::Error: Into<BoxError>,
        RB: Body<Data = Bytes> + Unpin,
        RB::Error: Into<BoxError>,
    {
        let request = match invoke::invoke_request(&self.body, self.betas.as_deref()) {
            Ok(request) => request,
            Err(err) => return Ok(failure(&err.into())),
        };
        let operation = if request.stream {
            Operation::InvokeModelWithResponseStream
        } else {
            Operation::InvokeModel
        };
        let path = self.model.path(operation);
        let headers = self.guardrail_headers();
        let extensions = self.take_extensions();
        let response = send(
            inner,
            self.config,
            extensions,
            (path.as_str(), headers),
            request.body,
            request.stream,
        )
        .await?;
        if !response.status().is_success() {
            return Ok(self.refused(response, &request.model).await);
        }
        if request.stream {
            let translator = Box::new(invoke::ChunkEvents::new(request.model));
            return Ok(events(EventsBody::with_translator(
                response.into_body(),
                translator,
            ))
            .await);
        }
        let bytes = read_answer(response.into_body(), self.config.max_upstream_body).await?;
        Ok(match invoke::rewrite_answer(&bytes, &request.model) {
            Ok((json, usage)) => {
                let mut answer = json_response(StatusCode::OK, json);
                if let Some(usage) = usage {
                    answer.extensions_mut().insert(usage);
                }
                answer
            }
            Err(e) => failure(&unreadable(&e)),
        })
    }

    /// Other models: Converse / ConverseStream.
    async fn converse<S, RB>(&mut self, inner: S) -> Result<Response<OpenAiBody<RB>>, Error>
    where
        S: Service<Request<Full<Bytes>>, Response = Response<RB>>,
        S::Error: Into<BoxError>,
        RB: Body<Data = Bytes> + Unpin,
        RB::Error: Into<BoxError>,
    {
        let (requested, stream, stops, body) = match self.converse_body() {
            Ok(prepared) => prepared,
            Err(err) => return Ok(failure(&err.into())),
        };
        let operation = if stream {
            Operation::ConverseStream
        } else {
            Operation::Converse
        };
        let path = self.model.path(operation);
        let extensions = self.take_extensions();
        let target = (path.as_str(), HeaderMap::new());
        let response = send(inner, self.config, extensions, target, body, stream).await?;
        if !response.status().is_success() {
            return Ok(self.refused(response, &requested).await);
        }
        let id = from_converse::message_id();
        if stream {
            let translator = Box::new(
                from_converse::MessagesEvents::new(id, requested).with_stop_sequences(stops),
            );
            return Ok(events(EventsBody::with_translator(
                response.into_body(),
                translator,
            ))
            .await);
        }
        let bytes = read_answer(response.into_body(), self.config.max_upstream_body).await?;
        let converse: ConverseResponse = match serde_json::from_slice(&bytes) {
            Ok(converse) => converse,
            Err(e) => return Ok(failure(&unreadable(&e))),
        };
        Ok(
            match from_converse::converse_to_message(converse, id, &requested, &stops) {
                Ok(message) => {
                    let usage = invoke::metered_usage(&message.usage);
                    let json = serde_json::to_vec(&message).expect("messages serialise");
                    let mut answer = json_response(StatusCode::OK, Bytes::from(json));
                    answer.extensions_mut().insert(usage);
                    answer
                }
                Err(err) => failure(&err),
            },
        )
    }

    /// The client's model name, whether it streams, its stop sequences, and the Converse body
    /// (guardrail included).
    fn converse_body(
        &self,
    ) -> Result<(String, bool, from_converse::StopSequences, Bytes), TranslateError> {
        let request: MessagesRequest =
            serde_json::from_slice(&self.body).map_err(|e| TranslateError::Json(e.to_string()))?;
        let requested = request.model.clone();
        let stream = request.stream.unwrap_or(false);
        let stops = from_converse::StopSequences::new(request.stop_sequences.clone());
        let options = ConverseOptions::default().with_prompt_caching(self.config.prompt_caching);
        let mut converse = to_converse::messages_to_converse(request, &self.model, &options)?;
        let guardrail = self
            .extensions
            .get::<Guardrail>()
            .or(self.config.guardrail.as_ref());
        converse.guardrail_config = guardrail.map(|guardrail| {
            let mode = stream.then_some(self.config.guardrail_stream_mode);
            guardrail_config(guardrail, self.config.guardrail_trace, mode)
        });
        let body = serde_json::to_vec(&converse).expect("Converse requests always serialise");
        Ok((requested, stream, stops, Bytes::from(body)))
    }

    /// `count_tokens`: CountTokens on the foundation model.
    async fn count_tokens<S, RB>(&mut self, inner: S) -> Result<Response<OpenAiBody<RB>>, Error>
    where
        S: Service<Request<Full<Bytes>>, Response = Response<RB>>,
        S::Error: Into<BoxError>,
        RB: Body<Data = Bytes> + Unpin,
        RB::Error: Into<BoxError>,
    {
        let prepared = if is_claude(&self.model) {
            invoke::count_tokens_request(&self.body, self.betas.as_deref())
        } else {
            count_tokens_converse(&self.body, &self.model)
        };
        let (requested, body) = match prepared {
            Ok(prepared) => prepared,
            Err(err) => return Ok(failure(&err.into())),
        };
        let path = self.model.foundation_model().path(Operation::CountTokens);
        let extensions = self.take_extensions();
        let target = (path.as_str(), HeaderMap::new());
        let response = send(inner, self.config, extensions, target, body, false).await?;
        if !response.status().is_success() {
            return Ok(self.refused(response, &requested).await);
        }
        let bytes = read_answer(response.into_body(), self.config.max_upstream_body).await?;
        Ok(match count_tokens_answer(&bytes) {
            Ok(json) => json_response(StatusCode::OK, json),
            Err(e) => failure(&unreadable(&e)),
        })
    }
}

/// Primes a stream: an error before its first event is answered as a plain HTTP error.
async fn events<RB>(mut events: EventsBody<RB>) -> Response<OpenAiBody<RB>>
where
    RB: Body<Data = Bytes> + Unpin,
    RB::Error: Into<BoxError>,
{
    match events.prime().await {
        Ok(()) => stream_response(events),
        Err(err) => failure(&err),
    }
}

fn unreadable(e: &serde_json::Error) -> ApiError {
    ApiError::server(
        StatusCode::BAD_GATEWAY,
        format!("Bedrock answered with an unreadable body: {e}"),
        "upstream_error",
    )
}

/// The CountTokens body of a count_tokens request for a model other than Claude:
/// `{"input":{"converse":{messages,system?,toolConfig?}}}`; and the `model` the client sent.
pub fn count_tokens_converse(
    body: &[u8],
    model: &ModelId,
) -> Result<(String, Bytes), TranslateError> {
    let request: CountTokensRequest =
        serde_json::from_slice(body).map_err(|e| TranslateError::Json(e.to_string()))?;
    let requested = request.model.clone();
    let messages = MessagesRequest {
        model: request.model,
        max_tokens: 1,
        messages: request.messages,
        system: request.system,
        tools: request.tools,
        tool_choice: request.tool_choice,
        thinking: request.thinking,
        output_config: None,
        stop_sequences: None,
        temperature: None,
        top_p: None,
        top_k: None,
        metadata: None,
        stream: None,
        cache_control: None,
    };
    let converse = to_converse::messages_to_converse(messages, model, &ConverseOptions::default())?;
    Ok((requested, count_tokens_input(&converse)))
}

/// The CountTokens body counting the input of a Converse request:
/// `{"input":{"converse":{messages,system?,toolConfig?}}}` (what CountTokens' `converse` input
/// takes of it; inference settings, guardrails and the rest do not count).
pub fn count_tokens_input(converse: &ConverseRequest) -> Bytes {
    let Value::Object(mut all) = serde_json::to_value(converse).expect("Converse serialises")
    else {
        unreachable!("a Converse request serialises as an object");
    };
    let mut input = serde_json::Map::new();
    for key in ["messages", "system", "toolConfig"] {
        if let Some(value) = all.remove(key) {
            input.insert(key.to_owned(), value);
        }
    }
    let wrapped = serde_json::json!({"input": {"converse": input}});
    Bytes::from(wrapped.to_string())
}

/// The `inputTokens` of Bedrock's CountTokens answer `{"inputTokens":N}`.
pub fn counted_tokens(bytes: &[u8]) -> Result<u64, serde_json::Error> {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Counted {
        input_tokens: u64,
    }
    serde_json::from_slice::<Counted>(bytes).map(|c| c.input_tokens)
}

/// Bedrock's `{"inputTokens":N}` as Anthropic's `{"input_tokens":N}`.
pub fn count_tokens_answer(bytes: &[u8]) -> Result<Bytes, serde_json::Error> {
    let answer = CountTokensResponse {
        input_tokens: counted_tokens(bytes)?,
    };
    Ok(Bytes::from(
        serde_json::to_vec(&answer).expect("counts serialise"),
    ))
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use http_body_util::BodyExt;
    use serde_json::json;
    use tower::{Layer, ServiceExt};

    use super::*;
    use crate::{BedrockEndpoint, Region, TranslateLayer};

    /// What the fake Bedrock saw: path, headers, body.
    type Seen = Arc<Mutex<Vec<(String, HeaderMap, Bytes)>>>;

    /// A fake Bedrock answering every call with `answer`.
    fn fake(
        seen: &Seen,
        answer: &'static str,
    ) -> impl Service<
        Request<Full<Bytes>>,
        Response = Response<Full<Bytes>>,
        Error = std::convert::Infallible,
        Future: Send,
    > + Clone
    + Send
    + 'static {
        let seen = Arc::clone(seen);
        tower::service_fn(move |request: Request<Full<Bytes>>| {
            let seen = Arc::clone(&seen);
            async move {
                let (parts, body) = request.into_parts();
                let body = body.collect().await.unwrap().to_bytes();
                seen.lock()
                    .unwrap()
                    .push((parts.uri.path().to_owned(), parts.headers, body));
                Ok(Response::new(Full::new(Bytes::from_static(
                    answer.as_bytes(),
                ))))
            }
        })
    }

    #[tokio::test]
    async fn claude_goes_to_invoke_model_with_the_guardrail_as_headers() {
        let seen = Seen::default();
        let region = Region::parse("eu-west-3").unwrap();
        let config = TranslateConfig::new(
            ModelId::parse("amazon.nova-lite-v1:0").unwrap(),
            BedrockEndpoint::for_region(&region),
        )
        .with_guardrail(Some(Guardrail::parse("abc123:2").unwrap()));
        let service = TranslateLayer::from_config(config).layer(fake(
            &seen,
            r#"{"id":"msg_1","type":"message","model":"x","content":[],"usage":{"input_tokens":1,"output_tokens":2}}"#,
        ));
        let mut request = Request::post("/v1/messages")
            .header(
                "anthropic-beta",
                "claude-code-20250219,context-1m-2025-08-07",
            )
            .body(Full::new(Bytes::from_static(
                br#"{"model":"claude-sonnet-4-5","max_tokens":5,"messages":[]}"#,
            )))
            .unwrap();
        request.extensions_mut().insert(FrontDoor::Messages);
        request.extensions_mut().insert(region);
        let response = service.oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let body = response.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(
            serde_json::from_slice::<Value>(&body).unwrap()["model"],
            "claude-sonnet-4-5"
        );
        let seen = seen.lock().unwrap();
        let (path, headers, sent) = &seen[0];
        assert_eq!(
            path,
            "/model/eu.anthropic.claude-sonnet-4-5-20250929-v1%3A0/invoke"
        );
        assert_eq!(headers["x-amzn-bedrock-guardrailidentifier"], "abc123");
        assert_eq!(headers["x-amzn-bedrock-guardrailversion"], "2");
        assert_eq!(headers["x-amzn-bedrock-trace"], "DISABLED");
        assert_eq!(
            &sent[..],
            br#"{"max_tokens":5,"messages":[],"anthropic_version":"bedrock-2023-05-31","anthropic_beta":["context-1m-2025-08-07"]}"#
        );
    }

    #[tokio::test]
    async fn count_tokens_for_a_profile_counts_on_the_foundation_model() {
        let seen = Seen::default();
        let service = TranslateLayer::from_config(TranslateConfig::default())
            .layer(fake(&seen, r#"{"inputTokens":7}"#));
        let request = Request::post("/v1/messages/count_tokens")
            .body(Full::new(Bytes::from_static(
                br#"{"model":"us.anthropic.claude-3-7-sonnet-20250219-v1:0","messages":[]}"#,
            )))
            .unwrap();
        let response = service.oneshot(request).await.unwrap();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(&body[..], br#"{"input_tokens":7}"#);
        let seen = seen.lock().unwrap();
        assert_eq!(
            seen[0].0,
            "/model/anthropic.claude-3-7-sonnet-20250219-v1%3A0/count-tokens"
        );
        assert!(!seen[0].1.contains_key("x-amzn-bedrock-guardrailidentifier"));
    }

    #[test]
    fn count_tokens_for_other_models_wraps_converse_input() {
        let model = ModelId::parse("amazon.nova-lite-v1:0").unwrap();
        let (requested, body) = count_tokens_converse(
            br#"{"model":"amazon.nova-lite-v1:0","system":"Be brief.","messages":[{"role":"user","content":"hi"}]}"#,
            &model,
        )
        .unwrap();
        assert_eq!(requested, "amazon.nova-lite-v1:0");
        assert_eq!(
            serde_json::from_slice::<Value>(&body).unwrap(),
            json!({"input": {"converse": {
                "messages": [{"role": "user", "content": [{"text": "hi"}]}],
                "system": [{"text": "Be brief."}]
            }}})
        );
    }

    #[test]
    fn the_count_answer_is_anthropics() {
        assert_eq!(
            &count_tokens_answer(br#"{"inputTokens":42}"#).unwrap()[..],
            br#"{"input_tokens":42}"#
        );
        assert!(count_tokens_answer(b"{}").is_err());
    }
}
