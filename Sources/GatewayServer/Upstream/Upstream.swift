public import Logging
public import NIOCore
public import SMTPCore

/// Where accepted mail goes. One transaction follows one client transaction step by step.
public protocol Upstream: Sendable {
    /// - Parameter eventLoop: the client's event loop; upstream connections are made and pooled
    ///   per loop so that a session and its upstream connection never hop threads.
    func beginTransaction(eventLoop: any EventLoop, logger: Logger) -> any UpstreamTransaction
    /// Closes idle resources (pooled connections) at shutdown.
    func shutdown() async
    /// When mail last could have gone (a connection made or given back after a transaction), on
    /// the uptime clock; nil when never.
    var lastReached: NIODeadline? { get }
    /// Checks now that mail could go (opens a connection, or looks at the Maildir); throws why not.
    func probe(logger: Logger) async throws
}

/// One mail transaction towards the upstream. Every method returns the reply for the client;
/// failures to reach the upstream come back as `451 4.4.1`, never as an error.
public protocol UpstreamTransaction: AnyObject {
    /// Opens the transaction with MAIL and sends along the commands the client pipelined behind
    /// it (RFC 2920); returns one reply per command, MAIL's first.
    func mail(_ envelope: Envelope, then pipelined: [PipelinedCommand]) async -> [Reply]
    func recipient(_ address: MailAddress) async -> Reply
    /// Sends the trace header and the message; the reply is the upstream's final answer.
    /// `envelope` holds the recipients the upstream accepted, to replay the transaction on a new
    /// connection if the first one was lost before the final dot.
    func data(envelope: Envelope, header: String, message: MessageBuffer, queueID: String) async -> Reply
    /// Abandons the transaction before its final dot (RSET, or closing the connection when the
    /// upstream is already reading message data).
    func abort() async
}

/// A command the client pipelined behind MAIL that ThuGate may pass on before MAIL's reply.
public enum PipelinedCommand: Sendable, Equatable {
    case recipient(MailAddress)
    case data
}
