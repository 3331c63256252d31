//! Incremental decoding of the AWS event-stream framing (`application/vnd.amazon.eventstream`).
//!
//! Bytes arrive in arbitrary chunks; [`EventStreamDecoder`] buffers them and yields one
//! [`RawEvent`] per complete frame. Each frame's prelude CRC is checked as soon as its 12 bytes
//! are in, and its length is bounded before anything more is buffered, so a hostile or broken
//! upstream cannot make the gateway allocate without limit; nothing is reserved on the strength
//! of an announced length, the buffer only grows with the bytes that arrive. The message CRC
//! is checked by `aws-smithy-eventstream`'s frame reader when the frame is complete.
//!
//! # Example
//!
//! ```
//! use bedrock_translate::eventstream::{EventStreamDecoder, RawEvent};
//! # use aws_smithy_types::event_stream::{Header, HeaderValue, Message};
//! # let mut frame = Vec::new();
//! # let msg = Message::new(&b"{\"role\":\"assistant\"}"[..])
//! #     .add_header(Header::new(":message-type", HeaderValue::String("event".into())))
//! #     .add_header(Header::new(":event-type", HeaderValue::String("messageStart".into())));
//! # aws_smithy_eventstream::frame::write_message_to(&msg, &mut frame).unwrap();
//! let mut decoder = EventStreamDecoder::new();
//! let (a, b) = frame.split_at(7); // frames may be split anywhere
//! decoder.push(a);
//! assert!(decoder.next_event().unwrap().is_none());
//! decoder.push(b);
//! let event = decoder.next_event().unwrap().unwrap();
//! assert!(matches!(event, RawEvent::Event { ref event_type, .. } if event_type == "messageStart"));
//! ```

use aws_smithy_types::event_stream::{HeaderValue, Message};
use bytes::{Buf, Bytes, BytesMut};
use thiserror::Error;

/// Prelude: total length, headers length, prelude CRC.
const PRELUDE_LEN: usize = 12;
/// Prelude plus the message CRC.
const MIN_FRAME_LEN: usize = 16;
/// The largest frame accepted: botocore's payload cap (24 MiB) plus its header cap (128 KiB).
pub const MAX_FRAME_LEN: usize = 24 * 1024 * 1024 + 128 * 1024 + MIN_FRAME_LEN;

/// One decoded frame, classified by `:message-type`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RawEvent {
    /// `:message-type: event`, with its `:event-type`.
    Event {
        /// e.g. `contentBlockDelta`.
        event_type: String,
        /// The JSON payload.
        payload: Bytes,
    },
    /// `:message-type: exception` (or `error`), with its `:exception-type` (or `:error-code`).
    Exception {
        /// e.g. `throttlingException`.
        exception_type: String,
        /// The payload, usually `{"message": ...}`.
        payload: Bytes,
    },
}

/// The byte stream is not valid event-stream framing.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DecodeError {
    /// A length field is impossible or above [`MAX_FRAME_LEN`].
    #[error("event-stream frame length {0} is out of bounds")]
    FrameLength(u32),
    /// The prelude CRC does not match.
    #[error("event-stream prelude checksum mismatch")]
    PreludeChecksum,
    /// The frame could not be parsed (bad headers, message CRC mismatch, ...).
    #[error("malformed event-stream frame: {0}")]
    Frame(String),
    /// A frame without `:message-type`.
    #[error("event-stream frame without a :message-type header")]
    NoMessageType,
    /// The stream ended in the middle of a frame.
    #[error("event stream ended in the middle of a frame ({0} bytes left over)")]
    Truncated(usize),
}

/// Buffers bytes and yields complete frames.
#[derive(Debug, Default)]
pub struct EventStreamDecoder {
    buffer: BytesMut,
}

impl EventStreamDecoder {
    /// An empty decoder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends bytes received from upstream.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buffer.extend_from_slice(bytes);
    }

    /// The next complete event, `Ok(None)` when more bytes are needed.
    pub fn next_event(&mut self) -> Result<Option<RawEvent>, DecodeError> {
        if self.buffer.len() < PRELUDE_LEN {
            return Ok(None);
        }
        let total = check_prelude(&self.buffer[..PRELUDE_LEN])?;
        if self.buffer.len() < total {
            // No reservation of `total` up front: the buffer grows with the bytes that arrive,
            // so a prelude that announces a large frame costs nothing until it is sent.
            return Ok(None);
        }
        let frame = self.buffer.split_to(total).freeze();
        let message = aws_smithy_eventstream::frame::read_message_from(frame)
            .map_err(|e| DecodeError::Frame(e.to_string()))?;
        classify(message).map(Some)
    }

    /// Checks that the stream ended on a frame boundary.
    pub fn finish(&self) -> Result<(), DecodeError> {
        match self.buffer.len() {
            0 => Ok(()),
            n => Err(DecodeError::Truncated(n)),
        }
    }
}

/// Validates a prelude and returns the frame's total length.
fn check_prelude(mut prelude: &[u8]) -> Result<usize, DecodeError> {
    let crc = crc32fast::hash(&prelude[..8]);
    let total = prelude.get_u32();
    let headers = prelude.get_u32();
    if prelude.get_u32() != crc {
        return Err(DecodeError::PreludeChecksum);
    }
    let total_len = total as usize;
    if !(MIN_FRAME_LEN..=MAX_FRAME_LEN).contains(&total_len)
        || headers as usize > total_len - MIN_FRAME_LEN
    {
        return Err(DecodeError::FrameLength(total));
    }
    Ok(total_len)
}

fn header<'a>(message: &'a Message, name: &str) -> Option<&'a str> {
    message
        .headers()
        .iter()
        .find(|h| h.name().as_str() == name)
        .and_then(|h| match h.value() {
            HeaderValue::String(s) => Some(s.as_str()),
            _ => None,
        })
}

fn classify(message: Message) -> Result<RawEvent, DecodeError> {
    let kind = header(&message, ":message-type").ok_or(DecodeError::NoMessageType)?;
    match kind {
        "event" => Ok(RawEvent::Event {
            event_type: header(&message, ":event-type")
                .unwrap_or_default()
                .to_owned(),
            payload: message.payload().clone(),
        }),
        "exception" => Ok(RawEvent::Exception {
            exception_type: header(&message, ":exception-type")
                .unwrap_or("unknownException")
                .to_owned(),
            payload: message.payload().clone(),
        }),
        _ => {
            let code = header(&message, ":error-code")
                .unwrap_or("InternalServerException")
                .to_owned();
            let text = header(&message, ":error-message").unwrap_or("upstream stream error");
            Ok(RawEvent::Exception {
                exception_type: code,
                payload: Bytes::from(serde_json::json!({ "message": text }).to_string()),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use aws_smithy_types::event_stream::Header;

    use super::*;

    fn frame(headers: &[(&'static str, &'static str)], payload: &'static [u8]) -> Vec<u8> {
        let mut message = Message::new(payload);
        for (name, value) in headers {
            message = message.add_header(Header::new(*name, HeaderValue::String((*value).into())));
        }
        let mut out = Vec::new();
        aws_smithy_eventstream::frame::write_message_to(&message, &mut out).unwrap();
        out
    }

    fn delta() -> Vec<u8> {
        frame(
            &[
                (":event-type", "contentBlockDelta"),
                (":content-type", "application/json"),
                (":message-type", "event"),
            ],
            br#"{"contentBlockIndex":0,"delta":{"text":"Hi"}}"#,
        )
    }

    #[test]
    fn decodes_the_worked_frame_of_the_notes() {
        // bedrock-notes.md section 4: 148 bytes, headers 87, message CRC 1f944657.
        let bytes = delta();
        assert_eq!(bytes.len(), 148);
        assert_eq!(
            &bytes[..12],
            &[0, 0, 0, 0x94, 0, 0, 0, 0x57, 0xb4, 0xab, 0x9a, 0xee]
        );
        assert_eq!(&bytes[144..], &[0x1f, 0x94, 0x46, 0x57]);
        let mut decoder = EventStreamDecoder::new();
        decoder.push(&bytes);
        let event = decoder.next_event().unwrap().unwrap();
        assert_eq!(
            event,
            RawEvent::Event {
                event_type: "contentBlockDelta".into(),
                payload: Bytes::from_static(br#"{"contentBlockIndex":0,"delta":{"text":"Hi"}}"#)
            }
        );
        assert!(decoder.next_event().unwrap().is_none());
        decoder.finish().unwrap();
    }

    #[test]
    fn frames_split_at_every_boundary() {
        let mut stream = delta();
        stream.extend(frame(
            &[
                (":message-type", "exception"),
                (":exception-type", "throttlingException"),
            ],
            br#"{"message":"slow"}"#,
        ));
        for chunk in 1..stream.len() {
            let mut decoder = EventStreamDecoder::new();
            let mut events = Vec::new();
            for piece in stream.chunks(chunk) {
                decoder.push(piece);
                while let Some(event) = decoder.next_event().unwrap() {
                    events.push(event);
                }
            }
            assert_eq!(events.len(), 2, "chunk size {chunk}");
            assert!(
                matches!(&events[1], RawEvent::Exception { exception_type, .. } if exception_type == "throttlingException")
            );
        }
    }

    #[test]
    fn corrupt_frames_are_errors() {
        let good = delta();
        let mut bad_prelude = good.clone();
        bad_prelude[9] ^= 1;
        let mut bad_message = good.clone();
        bad_message[100] ^= 1;
        let mut huge = good.clone();
        huge[..4].copy_from_slice(&u32::MAX.to_be_bytes());
        let crc = crc32fast::hash(&huge[..8]);
        huge[8..12].copy_from_slice(&crc.to_be_bytes());
        for (name, bytes, want) in [
            ("prelude", bad_prelude, DecodeError::PreludeChecksum),
            ("huge", huge, DecodeError::FrameLength(u32::MAX)),
        ] {
            let mut decoder = EventStreamDecoder::new();
            decoder.push(&bytes);
            assert_eq!(decoder.next_event().unwrap_err(), want, "{name}");
        }
        let mut decoder = EventStreamDecoder::new();
        decoder.push(&bad_message);
        assert!(matches!(decoder.next_event(), Err(DecodeError::Frame(_))));
    }

    #[test]
    fn buffer_grows_with_the_bytes_not_the_announced_length() {
        // A valid prelude announcing a 16 MiB frame, then 100 bytes of it.
        let total: u32 = 16 * 1024 * 1024;
        let mut prelude = Vec::from(total.to_be_bytes());
        prelude.extend(0u32.to_be_bytes());
        prelude.extend(crc32fast::hash(&prelude).to_be_bytes());
        let mut decoder = EventStreamDecoder::new();
        decoder.push(&prelude);
        assert!(decoder.next_event().unwrap().is_none());
        for _ in 0..10 {
            decoder.push(&[0; 10]);
            assert!(decoder.next_event().unwrap().is_none());
        }
        let capacity = decoder.buffer.capacity();
        assert!(
            capacity <= 4096,
            "112 bytes buffered in a capacity of {capacity}"
        );
        assert_eq!(decoder.finish(), Err(DecodeError::Truncated(112)));
    }

    #[test]
    fn truncation_is_reported() {
        let mut decoder = EventStreamDecoder::new();
        decoder.push(&delta()[..50]);
        assert!(decoder.next_event().unwrap().is_none());
        assert_eq!(decoder.finish(), Err(DecodeError::Truncated(50)));
    }
}
