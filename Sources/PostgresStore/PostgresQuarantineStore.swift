public import Quarantine

/// The quarantine on PostgreSQL (issue 16): written in the next steps.
public enum PostgresStoreSchema {
    /// The schema version this build writes.
    public static let version = 1
}
