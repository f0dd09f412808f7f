namespace MailCluster.Storage;

/// <summary>Configuration section <c>MailCluster:Storage</c>.</summary>
public sealed class StorageOptions
{
    public const string Section = "MailCluster:Storage";

    /// <summary><c>Sqlite</c> (embedded, one node) or <c>PostgreSql</c> (cluster).</summary>
    public string Provider { get; set; } = "Sqlite";

    /// <summary>For PostgreSql, the Npgsql connection string. For Sqlite, optional: defaults to files in the data directory.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>For PostgreSql, a file holding the connection string (either form), read once at start: a Kubernetes
    /// Secret mounted as a file, such as CloudNativePG's <c>uri</c> key. Used when <see cref="ConnectionString"/> is unset.</summary>
    public string? ConnectionStringFile { get; set; }

    /// <summary>Seconds between two compactions of the journal (events covered by a snapshot deleted; see
    /// <c>Journal/JournalCompaction</c>); 0 keeps every event for ever. Default 300.</summary>
    public int JournalCompactionSeconds { get; set; } = 300;
    /// <summary>Embedded SQLite only: message bodies of at least this many bytes are stored as files in
    /// <c>{DataDir}/spool-bodies/</c> (fsync'd with their directory before the row naming them commits) rather than in
    /// the spool database, which would write them twice (WAL, then checkpoint) on its one writer thread. 0 keeps every
    /// body in the database. Ignored with PostgreSQL: there every node must read every body, so bodies stay in the
    /// shared database.</summary>
    public int SpoolFileThresholdBytes { get; set; } = 128 * 1024;

    /// <summary>True when <see cref="Provider"/> names PostgreSQL (case-insensitive); else the SQLite files are used.</summary>
    public bool IsPostgreSql => string.Equals(Provider, SpoolStoreFactory.PostgreSql, StringComparison.OrdinalIgnoreCase);

    /// <summary>The embedded journal (events and snapshots of the domain queues) in <paramref name="dataDir"/>.</summary>
    public static string SqliteJournalPath(string dataDir) => Path.Combine(Path.GetFullPath(dataDir), "journal.db");

    /// <summary>The embedded spool (message bodies) in <paramref name="dataDir"/>.</summary>
    public static string SqliteSpoolPath(string dataDir) => Path.Combine(Path.GetFullPath(dataDir), "spool.db");
}
