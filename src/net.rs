//! Accepted connections, before HTTP sees them. Every one gets
//! `TCP_NODELAY` (a WebSocket's small messages otherwise wait for the
//! peer's delayed ACK: about 40 ms each), a bound on how long a write may
//! make no progress (a client that stops reading cannot pin a response or
//! a subscriber's events), and a record of its reads that the WebSocket
//! transport uses to time out a message that never completes.

use std::{
    io,
    net::SocketAddr,
    pin::Pin,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    task::{Context, Poll},
    time::Duration,
};

use axum::{
    extract::connect_info::Connected,
    serve::{IncomingStream, Listener},
};
use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    net::{TcpListener, TcpStream},
    sync::Notify,
};
use tokio_io_timeout::TimeoutStream;

/// A TCP listener whose connections are [`Conn`]s.
pub struct Accepting {
    listener: TcpListener,
    write_stall: Option<Duration>,
}

impl Accepting {
    /// Accepts on `listener`; a write pending longer than `write_stall`
    /// fails and closes its connection.
    pub fn new(listener: TcpListener, write_stall: Option<Duration>) -> Self {
        Self {
            listener,
            write_stall,
        }
    }
}

impl Listener for Accepting {
    type Io = Conn;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        let (stream, addr) = Listener::accept(&mut self.listener).await;
        if let Err(error) = stream.set_nodelay(true) {
            tracing::debug!(%error, "cannot set TCP_NODELAY");
        }
        let mut stream = TimeoutStream::new(stream);
        stream.set_write_timeout(self.write_stall);
        let conn = Conn {
            stream: Box::pin(stream),
            reads: Arc::new(Reads::default()),
        };
        (conn, addr)
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.listener.local_addr()
    }
}

/// Bytes read from one connection, and a wake-up after each read.
#[derive(Default, Debug)]
pub struct Reads {
    bytes: AtomicU64,
    arrived: Notify,
}

impl Reads {
    /// Bytes read so far.
    pub fn bytes(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }

    /// Resolves once bytes arrive after the last call (or have arrived
    /// since, unseen).
    pub async fn arrived(&self) {
        self.arrived.notified().await;
    }
}

/// One accepted connection.
pub struct Conn {
    stream: Pin<Box<TimeoutStream<TcpStream>>>,
    reads: Arc<Reads>,
}

impl AsyncRead for Conn {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = self.stream.as_mut().poll_read(cx, buf);
        let read = buf.filled().len() - before;
        if read > 0 {
            self.reads.bytes.fetch_add(read as u64, Ordering::Relaxed);
            self.reads.arrived.notify_one();
        }
        polled
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.stream.as_mut().poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.stream.as_mut().poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.stream.as_mut().poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.stream.as_mut().poll_shutdown(cx)
    }
}

/// What a handler may know of its connection (axum's `ConnectInfo`).
#[derive(Clone, Debug)]
pub struct Peer {
    /// The client's address.
    pub addr: SocketAddr,
    /// The connection's reads.
    pub reads: Arc<Reads>,
}

impl Connected<IncomingStream<'_, Accepting>> for Peer {
    fn connect_info(stream: IncomingStream<'_, Accepting>) -> Self {
        Self {
            addr: *stream.remote_addr(),
            reads: stream.io().reads.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    #[tokio::test]
    async fn accepted_connections_have_nodelay_and_count_their_reads() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut accepting = Accepting::new(listener, Some(Duration::from_secs(1)));
        let mut client = TcpStream::connect(addr).await.unwrap();
        let (mut conn, _) = Listener::accept(&mut accepting).await;
        assert!(conn.stream.get_ref().nodelay().unwrap());
        client.write_all(b"hello").await.unwrap();
        let mut buf = [0u8; 5];
        conn.read_exact(&mut buf).await.unwrap();
        assert_eq!(conn.reads.bytes(), 5);
        // The read left a wake-up behind for whoever waits next.
        tokio::time::timeout(Duration::from_secs(1), conn.reads.arrived())
            .await
            .unwrap();
    }
}
