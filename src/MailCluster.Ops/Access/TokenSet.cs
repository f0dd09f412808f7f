using System.Collections.Frozen;

namespace MailCluster.Ops.Access;

/// <summary>
/// The tokens in force on this node, by secret hash: the database's set as last read (replaced whole by
/// <see cref="TokenRefresher"/>, so a revoked token is gone at the next refresh) and the admin token file's token.
/// Reads are lock-free (one volatile snapshot).
/// </summary>
public sealed class TokenSet
{
    /// <summary>The id under which the admin token file's token is listed; it is revoked by changing the file.</summary>
    public const string FileTokenId = "admin-token-file";

    private volatile Snapshot current = new(FrozenDictionary<string, TokenIdentity>.Empty, [], null, Loaded: false);

    /// <summary>True once the database's set has been read at least once.</summary>
    public bool Loaded => current.Loaded;

    /// <summary>The caller presenting <paramref name="token"/>, or null for an unknown or revoked token.</summary>
    public TokenIdentity? Find(string token)
    {
        ArgumentNullException.ThrowIfNull(token);
        var snapshot = current;
        var hash = ApiTokens.Hash(token);
        if (snapshot.FileTokenHash is { } fileHash && string.Equals(hash, fileHash, StringComparison.Ordinal))
        {
            return new TokenIdentity(FileTokenId, "admin token file", ApiRole.Admin);
        }

        return snapshot.ByHash.GetValueOrDefault(hash);
    }

    /// <summary>Every token in force, without secrets (the file's token first, when there is one).</summary>
    public IReadOnlyList<StoredToken> List()
    {
        var snapshot = current;
        return snapshot.FileTokenHash is null
            ? snapshot.Stored
            : [new StoredToken(FileTokenId, "admin token file", ApiRole.Admin, "", DateTimeOffset.MinValue), .. snapshot.Stored];
    }

    public void ReplaceStored(IReadOnlyList<StoredToken> stored)
    {
        ArgumentNullException.ThrowIfNull(stored);
        var byHash = stored
            .GroupBy(t => t.SecretHash, StringComparer.Ordinal)
            .ToFrozenDictionary(g => g.Key, g => new TokenIdentity(g.First().Id, g.First().Name, g.First().Role), StringComparer.Ordinal);
        var before = current;
        current = before with { ByHash = byHash, Stored = stored, Loaded = true };
    }

    /// <summary>Sets (or, with null, removes) the admin token file's secret hash.</summary>
    public void ReplaceFileToken(string? secretHash)
    {
        var before = current;
        current = before with { FileTokenHash = secretHash };
    }

    private sealed record Snapshot(FrozenDictionary<string, TokenIdentity> ByHash, IReadOnlyList<StoredToken> Stored, string? FileTokenHash, bool Loaded);
}
