using Microsoft.Data.Sqlite;
using Xunit;

namespace MailCluster.Storage.Tests;

/// <summary>A test class with a node data directory of its own, deleted afterwards (SQLite's pooled handles closed
/// first, or the files stay open).</summary>
public abstract class NodeDirectoryTest(string prefix) : IDisposable
{
    protected string Directory { get; } = Path.Combine(Path.GetTempPath(), $"mc-{prefix}-{Guid.NewGuid():N}");

    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        if (System.IO.Directory.Exists(Directory))
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }

        GC.SuppressFinalize(this);
    }
}
