import Foundation
import Logging
import PostgresNIO
import Quarantine

/// Jobs one node of the cluster runs at a time (the purge, the verdict expiry, the digests).
extension PostgresQuarantineStore {
    /// Runs `body` only if this node got the job's lock: `pg_try_advisory_lock` on a connection
    /// held for the job, released with `pg_advisory_unlock` on that same connection (or, if that
    /// fails, by closing it: the server drops a session's locks with it). Returns nil, without
    /// running `body`, when another node holds it. A node that dies loses its locks with its
    /// connection, so a job is never stuck.
    public func withClusterLock<T: Sendable>(_ job: String, _ body: @Sendable () async throws -> T) async throws -> T? {
        let key = Self.lockKey(job)
        let logger = logger
        // The job's own error is carried out as it is (not as a store error).
        let outcome = try await withoutActuallyEscaping(body) { body in
            try await withConnection { connection -> Result<T, any Error>? in
                let got = try await connection.query("SELECT pg_try_advisory_lock(\(key))", logger: logger).decode(Bool.self).all().first
                guard got == true else { return nil }
                let result: Result<T, any Error>
                do {
                    result = .success(try await body())
                } catch {
                    result = .failure(error)
                }
                do {
                    try await connection.query("SELECT pg_advisory_unlock(\(key))", logger: logger)
                } catch {
                    try? await connection.close()
                }
                return result
            }
        }
        return try outcome?.get()
    }

    /// The advisory lock key of job `job`: the first 8 bytes of the SHA-256 of `thugate job <job>`
    /// (stable across nodes and versions; distinct from the schema's own keys).
    static func lockKey(_ job: String) -> Int64 {
        var hasher = SHA256()
        hasher.update(Array("thugate job \(job)".utf8))
        let digest = hasher.finalize()
        return digest.prefix(8).reduce(Int64(0)) { ($0 << 8) | Int64($1) }
    }
}
