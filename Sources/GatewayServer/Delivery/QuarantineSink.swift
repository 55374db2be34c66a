/// Where held messages go, out of the mail flow until someone reviews them. A message counts
/// as held only once ``hold(_:outcome:)`` returned: only then does the client get 250.
public protocol QuarantineSink: Sendable {
    /// Stores the message durably with what is known about it (its outcome, the disposition
    /// not yet set); returns the id it is held under. Throws when it could not be stored: the
    /// message is then deferred.
    func hold(_ message: MessageBuffer, outcome: MessageOutcome) async throws -> String
}

/// The quarantine as a Maildir (`[quarantine] directory`): each held message is a file with
/// the headers of ``AddedHeaders/held`` above it; it is held under its queue ID.
public final class MaildirQuarantine: QuarantineSink {
    let maildir: Maildir

    public init(directory: String, hostname: String) throws {
        maildir = try Maildir(directory: directory, hostname: hostname)
    }

    public var directory: String { maildir.directory }

    public func hold(_ message: MessageBuffer, outcome: MessageOutcome) async throws -> String {
        _ = try await maildir.write(header: AddedHeaders(outcome, date: rfc5322Date()).held, message: message, queueID: outcome.queueID)
        return outcome.queueID
    }
}
