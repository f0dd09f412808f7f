namespace MailCluster.Queue.Contracts;

/// <summary>
/// Registered by the storage feature when the journal is the embedded SQLite file (not PostgreSQL): its path, for the
/// journal projections, which then read the journal table directly (see MailCluster.Events SqliteJournalTail) instead of
/// through Akka.Persistence.Query. On SQLite one writer at a time takes the orderings, so a row is never visible before
/// a lower one: no gap to wait for, unlike PostgreSQL's concurrent writers.
/// </summary>
/// <param name="Path">The journal database file.</param>
public sealed record EmbeddedJournal(string Path);
