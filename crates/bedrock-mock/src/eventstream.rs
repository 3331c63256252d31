//! AWS event-stream frames, written with `aws-smithy-eventstream`.

use aws_smithy_types::event_stream::{Header, HeaderValue, Message};
use bytes::Bytes;
use serde_json::Value;

fn frame(headers: Vec<(&'static str, String)>, payload: Vec<u8>) -> Bytes {
    let mut message = Message::new(payload);
    for (name, value) in headers {
        message = message.add_header(Header::new(name, HeaderValue::String(value.into())));
    }
    let mut out = Vec::new();
    aws_smithy_eventstream::frame::write_message_to(&message, &mut out)
        .expect("frames always encode");
    Bytes::from(out)
}

/// An event frame; the payload gets Bedrock's random padding field `p`.
pub fn event(event_type: &str, mut payload: Value, padding: usize) -> Bytes {
    if let Some(object) = payload.as_object_mut() {
        let pad: String = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123"
            .chars()
            .cycle()
            .take(padding)
            .collect();
        object.insert("p".to_owned(), Value::String(pad));
    }
    frame(
        vec![
            (":event-type", event_type.to_owned()),
            (":content-type", "application/json".to_owned()),
            (":message-type", "event".to_owned()),
        ],
        serde_json::to_vec(&payload).expect("JSON values serialise"),
    )
}

/// An exception frame, e.g. `throttlingException`.
pub fn exception(exception_type: &str, message: &str) -> Bytes {
    let mut payload = serde_json::json!({ "message": message });
    if exception_type == "modelStreamErrorException" {
        payload["originalStatusCode"] = 500.into();
        payload["originalMessage"] = "the model failed".into();
    }
    frame(
        vec![
            (":exception-type", exception_type.to_owned()),
            (":content-type", "application/json".to_owned()),
            (":message-type", "exception".to_owned()),
        ],
        serde_json::to_vec(&payload).expect("JSON values serialise"),
    )
}

#[cfg(test)]
mod tests {
    use aws_smithy_eventstream::frame::{DecodedFrame, MessageFrameDecoder};

    use super::*;

    #[test]
    fn frames_round_trip_through_the_sdk_decoder() {
        let bytes = event(
            "contentBlockDelta",
            serde_json::json!({"contentBlockIndex": 0, "delta": {"text": "Hi"}}),
            5,
        );
        let mut buf = bytes::BytesMut::from(&bytes[..]);
        let DecodedFrame::Complete(message) =
            MessageFrameDecoder::new().decode_frame(&mut buf).unwrap()
        else {
            panic!()
        };
        let payload: Value = serde_json::from_slice(message.payload()).unwrap();
        assert_eq!(payload["delta"]["text"], "Hi");
        assert_eq!(payload["p"], "abcde");
        let names: Vec<&str> = message
            .headers()
            .iter()
            .map(|h| h.name().as_str())
            .collect();
        assert_eq!(names, [":event-type", ":content-type", ":message-type"]);
    }
}
