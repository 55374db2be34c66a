import Foundation
public import Logging
public import NIOCore
import SMTPCore

/// Local delivery into a Maildir (``Maildir``), for trying ThuGate without a mail server
/// (`url = "maildir:DIR"`): the client gets 250 only once the message is durably written.
public final class MaildirUpstream: Upstream {
    public var directory: String { maildir.directory }
    let maildir: Maildir

    public init(directory: String, hostname: String) throws {
        maildir = try Maildir(directory: directory, hostname: hostname)
    }

    public func beginTransaction(eventLoop: any EventLoop, logger: Logger) -> any UpstreamTransaction {
        MaildirTransaction(maildir: maildir, logger: logger)
    }

    public func shutdown() async {}

    /// A Maildir is always there to write to while its directory is.
    public var lastReached: NIODeadline? { FileManager.default.fileExists(atPath: directory) ? .now() : nil }

    public func probe(logger: Logger) async throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory + "/new", isDirectory: &isDirectory), isDirectory.boolValue else {
            throw MaildirProbeError(directory: directory)
        }
    }

    /// `mkdir -p`.
    public static func makeDirectory(_ path: String) throws {
        try Maildir.makeDirectory(path)
    }
}

struct MaildirProbeError: Error, CustomStringConvertible {
    var directory: String
    var description: String { "Maildir \(directory) is gone" }
}

final class MaildirTransaction: UpstreamTransaction {
    let maildir: Maildir
    let logger: Logger

    init(maildir: Maildir, logger: Logger) {
        self.maildir = maildir
        self.logger = logger
    }

    func mail(_ envelope: Envelope, then pipelined: [PipelinedCommand]) async -> [Reply] {
        [.senderOK] + pipelined.map { $0 == .data ? .startData : .recipientOK }
    }
    func recipient(_ address: MailAddress) async -> Reply { .recipientOK }
    func abort() async {}

    func data(envelope: Envelope, header: String, message: MessageBuffer, queueID: String) async -> Reply {
        do {
            _ = try await maildir.write(header: header, message: message, queueID: queueID)
            return .custom(250, EnhancedStatus(2, 0, 0), "Đã nhận, mã \(queueID) / Ok: queued as \(queueID)")
        } catch {
            logger.error("maildir delivery failed", metadata: ["error": "\(error)", "queue_id": "\(queueID)"])
            return .localError
        }
    }
}
