/// Why the upstream could not be talked to. The client always sees `451 4.4.1` for these.
public struct UpstreamError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case connect, closed, timeout, tls, protocolViolation
        /// A transaction replayed on a new connection got other answers than the first time.
        case replayRefused
    }
    public var kind: Kind
    public var detail: String
    public init(kind: Kind, detail: String) {
        self.kind = kind
        self.detail = detail
    }
    public var description: String { "upstream \(kind): \(detail)" }
}
