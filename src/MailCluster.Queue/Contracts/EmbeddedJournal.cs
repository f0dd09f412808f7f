namespace MailCluster.Queue.Contracts;

/// <summary>
/// Where the journal projections read the journal table directly (see MailCluster.Events JournalFollower) instead of
/// through Akka.Persistence.Query's <c>AllEvents</c>, which adds a sequence actor, linq2db row materialization and
/// several stream stages per row. Registered by the storage feature: <see cref="EmbeddedJournal"/> or
/// <see cref="PostgresJournal"/>.
/// </summary>
public abstract record DirectJournal;

/// <summary>
/// The embedded SQLite journal file. On SQLite one writer at a time takes the orderings, so a row is never visible
/// before a lower one: no gap to wait for, unlike PostgreSQL's concurrent writers.
/// </summary>
/// <param name="Path">The journal database file.</param>
public sealed record EmbeddedJournal(string Path) : DirectJournal;

/// <summary>
/// The journal table in PostgreSQL. Concurrent transactions take orderings from one sequence and commit in any order,
/// so a reader may see an ordering before a lower one is committed: the reader waits for such a gap until every
/// transaction that could still fill it has ended (MailCluster.Events PostgresJournalTail).
/// </summary>
/// <param name="ConnectionString">The storage connection string (the database that holds <c>journal</c>).</param>
public sealed record PostgresJournal(string ConnectionString) : DirectJournal;
