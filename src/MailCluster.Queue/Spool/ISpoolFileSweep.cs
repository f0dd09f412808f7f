namespace MailCluster.Queue.Spool;

/// <summary>
/// A spool that keeps some bodies outside its tables (the embedded SQLite store's body files) and so can leave files
/// that no row names: a crash between a file's fsync and its row's commit, or between a row's deletion and the file's.
/// The orphan sweep (<see cref="Sweep.OrphanSweep"/>) calls this on every run, with its own minimum age.
/// </summary>
public interface ISpoolFileSweep
{
    /// <summary>Deletes the body files older than <paramref name="minAge"/> that no spool row names; returns how many.</summary>
    Task<int> SweepOrphanFilesAsync(TimeSpan minAge, CancellationToken cancellationToken);
}
