//! The seam between a follower and its leader: [`LeaderClient`] sends one request and returns
//! the decoded answer, or the answer's stream of messages for chunked files. The transport
//! implements it for a remote alias; tests implement it over a leader service in the same
//! process, with no socket. Errors say whether asking again can help.

use std::sync::Arc;
use std::time::Duration;

use tandem_replication::follower::Failure;
use tandem_transport::{BoxFuture, PeerInfo, RemoteConnection, RequestHandler, Response};
use tandem_wire::{Message, RemoteError};

/// Most messages one streamed answer may carry (a file chunk request is bounded by its length).
pub const STREAM_MESSAGES_MAX: usize = 65_536;

/// Why a call to the leader failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    /// The leader answered with an error.
    #[error("{}", .0.reason)]
    Remote(RemoteError),
    /// The call did not complete (connection, timeout, protocol).
    #[error("{reason}")]
    Transport {
        /// Whether asking again can help.
        retryable: bool,
        /// What happened.
        reason: String,
    },
}

impl CallError {
    /// The failure as the follower task classifies it.
    pub fn failure(&self) -> Failure {
        match self {
            // OpenSearch's pause reason names the exception class; "closed" alone says little.
            CallError::Remote(error) if error.kind == tandem_wire::ErrorKind::IndexClosed => {
                Failure::Permanent(format!(
                    "org.opensearch.indices.IndexClosedException: {}",
                    error.reason
                ))
            }
            CallError::Remote(error)
                if error.kind == tandem_wire::ErrorKind::RetentionLeaseNotFound =>
            {
                Failure::Permanent(format!(
                    "org.opensearch.index.seqno.RetentionLeaseNotFoundException: {}",
                    error.reason
                ))
            }
            CallError::Remote(error) if error.is_retryable() => {
                Failure::Retryable(error.reason.clone())
            }
            CallError::Remote(error) => Failure::Permanent(error.reason.clone()),
            CallError::Transport {
                retryable: true,
                reason,
            } => Failure::Retryable(reason.clone()),
            CallError::Transport {
                retryable: false,
                reason,
            } => Failure::Permanent(reason.clone()),
        }
    }
}

/// Sends requests to one leader.
pub trait LeaderClient: Send + Sync + 'static {
    /// One request, one answer (an error answer becomes [`CallError::Remote`]).
    fn call(
        &self,
        request: Message,
        timeout: Duration,
    ) -> BoxFuture<'_, Result<Message, CallError>>;

    /// One request, a stream of answers (file chunks), collected.
    fn call_stream(
        &self,
        request: Message,
        timeout: Duration,
    ) -> BoxFuture<'_, Result<Vec<Message>, CallError>>;
}

fn answer(message: Message) -> Result<Message, CallError> {
    match message {
        Message::Error(error) => Err(CallError::Remote(error)),
        other => Ok(other),
    }
}

fn transport_error(error: &tandem_transport::TransportError) -> CallError {
    CallError::Transport {
        retryable: error.is_retryable(),
        reason: error.to_string(),
    }
}

impl LeaderClient for RemoteConnection {
    fn call(
        &self,
        request: Message,
        timeout: Duration,
    ) -> BoxFuture<'_, Result<Message, CallError>> {
        Box::pin(async move {
            let frame = self
                .request(&request, timeout)
                .await
                .map_err(|error| transport_error(&error))?;
            let message = Message::decode(&frame).map_err(|error| CallError::Transport {
                retryable: true,
                reason: error.to_string(),
            })?;
            answer(message)
        })
    }

    fn call_stream(
        &self,
        request: Message,
        timeout: Duration,
    ) -> BoxFuture<'_, Result<Vec<Message>, CallError>> {
        Box::pin(async move {
            let mut frames = self
                .request_stream(&request, timeout)
                .await
                .map_err(|error| transport_error(&error))?;
            let mut messages = Vec::new();
            while let Some(frame) = frames.next().await {
                let frame = frame.map_err(|error| transport_error(&error))?;
                let message = Message::decode(&frame).map_err(|error| CallError::Transport {
                    retryable: true,
                    reason: error.to_string(),
                })?;
                messages.push(answer(message)?);
                if messages.len() > STREAM_MESSAGES_MAX {
                    return Err(CallError::Transport {
                        retryable: false,
                        reason: format!("more than {STREAM_MESSAGES_MAX} messages in one answer"),
                    });
                }
            }
            Ok(messages)
        })
    }
}

/// A leader in the same process: calls its request handler directly.
pub struct InProcessLeader {
    handler: Arc<dyn RequestHandler>,
    peer: PeerInfo,
}

impl InProcessLeader {
    /// A client of `handler`, presenting itself as `peer`.
    pub fn new(handler: Arc<dyn RequestHandler>, peer: PeerInfo) -> Self {
        InProcessLeader { handler, peer }
    }
}

impl LeaderClient for InProcessLeader {
    fn call(
        &self,
        request: Message,
        timeout: Duration,
    ) -> BoxFuture<'_, Result<Message, CallError>> {
        Box::pin(async move {
            let response =
                tokio::time::timeout(timeout, self.handler.handle(self.peer.clone(), request))
                    .await
                    .map_err(|_| CallError::Transport {
                        retryable: true,
                        reason: "timed out".into(),
                    })?;
            match response {
                Response::Message(message) => answer(message),
                Response::Frame(frame) => {
                    let frame =
                        tandem_wire::Frame::decode_exact(frame.to_bytes()).map_err(|error| {
                            CallError::Transport {
                                retryable: false,
                                reason: error.to_string(),
                            }
                        })?;
                    let message =
                        Message::decode(&frame).map_err(|error| CallError::Transport {
                            retryable: false,
                            reason: error.to_string(),
                        })?;
                    answer(message)
                }
                Response::Stream(_) => Err(CallError::Transport {
                    retryable: false,
                    reason: "a streamed answer to a single request".into(),
                }),
            }
        })
    }

    fn call_stream(
        &self,
        request: Message,
        timeout: Duration,
    ) -> BoxFuture<'_, Result<Vec<Message>, CallError>> {
        Box::pin(async move {
            let response = self.handler.handle(self.peer.clone(), request).await;
            let Response::Stream(mut receiver) = response else {
                let Response::Message(message) = response else {
                    return Err(CallError::Transport {
                        retryable: false,
                        reason: "unexpected answer".into(),
                    });
                };
                return answer(message).map(|message| vec![message]);
            };
            let mut messages = Vec::new();
            loop {
                match tokio::time::timeout(timeout, receiver.recv()).await {
                    Ok(Some(message)) => messages.push(answer(message)?),
                    Ok(None) => return Ok(messages),
                    Err(_) => {
                        return Err(CallError::Transport {
                            retryable: true,
                            reason: "timed out".into(),
                        })
                    }
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_closed_leader_index_is_a_permanent_failure_naming_the_exception() {
        let closed = CallError::Remote(RemoteError::index_closed());
        assert_eq!(
            closed.failure(),
            Failure::Permanent("org.opensearch.indices.IndexClosedException: closed".into())
        );
        let gone = CallError::Remote(RemoteError::index_not_found("u"));
        assert!(
            matches!(gone.failure(), Failure::Permanent(reason) if reason.contains("no such index"))
        );
    }
}
