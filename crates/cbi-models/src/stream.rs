//! Incremental decoders for streamed answers: server-sent events (OpenAI, Anthropic, Cohere)
//! and newline-delimited JSON (Ollama). Bytes arrive in arbitrary pieces — a line, an event, or
//! a UTF-8 character may be split across them — so both keep what they have not yet finished.

/// One server-sent event: its `event:` name (empty when absent) and its `data:` lines joined
/// by newlines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SseEvent {
    pub(crate) event: String,
    pub(crate) data: String,
}

/// Splits bytes into lines, keeping an unfinished last line for the next piece.
#[derive(Debug, Default)]
pub(crate) struct Lines {
    pending: Vec<u8>,
}

impl Lines {
    /// Feeds bytes and returns the lines they complete, without their `\n` or `\r\n`.
    pub(crate) fn push(&mut self, bytes: &[u8]) -> Result<Vec<String>, String> {
        self.pending.extend_from_slice(bytes);
        let mut lines = Vec::new();
        let mut start = 0;
        while let Some(i) = self.pending[start..].iter().position(|&b| b == b'\n') {
            let end = start + i;
            let mut line = &self.pending[start..end];
            if let Some(stripped) = line.strip_suffix(b"\r") {
                line = stripped;
            }
            let line = std::str::from_utf8(line).map_err(|_| "a line is not UTF-8".to_owned())?;
            lines.push(line.to_owned());
            start = end + 1;
        }
        self.pending.drain(..start);
        Ok(lines)
    }

    /// The text after the last newline, once the stream has ended.
    pub(crate) fn rest(&mut self) -> Result<Option<String>, String> {
        let rest = std::mem::take(&mut self.pending);
        let rest = String::from_utf8(rest).map_err(|_| "a line is not UTF-8".to_owned())?;
        Ok(Some(rest).filter(|r| !r.trim().is_empty()))
    }
}

/// Decodes `text/event-stream` as the WHATWG specification describes: `event:` and `data:`
/// fields, comments starting with `:`, and a blank line ending each event.
#[derive(Debug, Default)]
pub(crate) struct SseDecoder {
    lines: Lines,
    event: String,
    data: String,
    has_data: bool,
}

impl SseDecoder {
    /// Feeds bytes and returns the events they complete.
    pub(crate) fn push(&mut self, bytes: &[u8]) -> Result<Vec<SseEvent>, String> {
        let mut events = Vec::new();
        for line in self.lines.push(bytes)? {
            if line.is_empty() {
                if std::mem::take(&mut self.has_data) {
                    events.push(SseEvent {
                        event: std::mem::take(&mut self.event),
                        data: std::mem::take(&mut self.data),
                    });
                }
                self.event.clear();
                continue;
            }
            if line.starts_with(':') {
                continue;
            }
            let (field, value) = line.split_once(':').unwrap_or((&line, ""));
            let value = value.strip_prefix(' ').unwrap_or(value);
            match field {
                "event" => self.event = value.to_owned(),
                "data" => {
                    if self.has_data {
                        self.data.push('\n');
                    }
                    self.data.push_str(value);
                    self.has_data = true;
                }
                _ => {}
            }
        }
        Ok(events)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sse_events(input: &str, split_at: usize) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let mut d = SseDecoder::default();
        let (a, b) = input.as_bytes().split_at(split_at);
        for piece in [a, b] {
            for e in d.push(piece).expect("valid stream") {
                out.push((e.event, e.data));
            }
        }
        out
    }

    /// Every split point must give the same events as the whole text, including splits inside
    /// a `\r\n` and inside a multi-byte character.
    fn check_sse(input: &str, expect: &[(&str, &str)]) {
        let expect: Vec<(String, String)> = expect
            .iter()
            .map(|(e, d)| (e.to_string(), d.to_string()))
            .collect();
        for split in 0..=input.len() {
            assert_eq!(
                sse_events(input, split),
                expect,
                "split at {split} of {input:?}"
            );
        }
    }

    #[test]
    fn server_sent_events() {
        check_sse(
            "data: {\"a\":1}\n\ndata: [DONE]\n\n",
            &[("", "{\"a\":1}"), ("", "[DONE]")],
        );
        check_sse(
            "event: message_start\r\ndata: {\"type\":\"message_start\"}\r\n\r\n",
            &[("message_start", "{\"type\":\"message_start\"}")],
        );
        check_sse(
            ": keep-alive\n\nevent: ping\ndata:{}\n\n",
            &[("ping", "{}")],
        );
        check_sse("data: one\ndata: two\n\n", &[("", "one\ntwo")]);
        check_sse("data: “é”\n\n", &[("", "“é”")]);
        check_sse("event: lonely\n\n", &[]);
        check_sse("data: unfinished", &[]);
    }

    #[test]
    fn lines_keep_the_unfinished_tail() {
        let mut lines = Lines::default();
        let seen = lines.push(b"{\"a\":1}\n{\"b\"").expect("utf-8");
        assert_eq!(seen, ["{\"a\":1}"]);
        assert_eq!(lines.rest().expect("utf-8").as_deref(), Some("{\"b\""));
        assert_eq!(lines.rest().expect("utf-8"), None);
    }

    #[test]
    fn invalid_utf8_is_an_error_not_a_panic() {
        let mut d = SseDecoder::default();
        assert!(d.push(b"data: \xff\n\n").is_err());
    }
}
