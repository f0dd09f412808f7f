using System.Collections.Frozen;

namespace MailCluster.Edge.Credentials;

/// <summary>
/// The runtime users and API keys in force on this node: the database's rows as last read, replaced whole by
/// <see cref="CredentialRefresher"/> (so a deleted user or key is gone at the next refresh). Reads are lock-free
/// (one volatile snapshot); verification of a key is a SHA-256 and a lookup.
/// </summary>
public sealed class CredentialSet : IApiKeyVerifier
{
    private volatile Snapshot current = new(
        FrozenDictionary<string, RuntimeUser>.Empty,
        FrozenDictionary<string, ApiKey>.Empty,
        FrozenDictionary<string, ApiKey>.Empty,
        [],
        [],
        Loaded: false);

    /// <summary>True once the database has been read at least once.</summary>
    public bool Loaded => current.Loaded;

    public IReadOnlyList<RuntimeUser> Users => current.UserList;

    /// <summary>Every key, enabled or not, without secrets.</summary>
    public IReadOnlyList<ApiKey> Keys => current.KeyList;

    /// <summary>Runtime users plus enabled keys with the smtp scope: the identities that can use AUTH PLAIN/LOGIN now.</summary>
    public int SmtpLogins => current.UserList.Count + current.KeyList.Count(k => k.Enabled && k.Allows(ApiKeyScopes.Smtp));

    /// <summary>The runtime user named <paramref name="name"/> (case-insensitive, ordinal), or null.</summary>
    public RuntimeUser? FindUser(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return current.UsersByName.GetValueOrDefault(name);
    }

    /// <summary>The key with id <paramref name="id"/>, enabled or not, or null.</summary>
    public ApiKey? FindKey(string id)
    {
        ArgumentNullException.ThrowIfNull(id);
        return current.KeysById.GetValueOrDefault(id);
    }

    public ValueTask<ApiKey?> VerifyAsync(string secret, ApiKeyScopes scope, string? keyId = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(secret);
        var key = current.KeysByHash.GetValueOrDefault(ApiKeySecrets.Hash(secret));
        var ok = key is not null
            && key.Enabled
            && key.Allows(scope)
            && (keyId is null || string.Equals(keyId, key.Id, StringComparison.Ordinal));
        return ValueTask.FromResult(ok ? key : null);
    }

    public void Replace(IReadOnlyList<RuntimeUser> users, IReadOnlyList<ApiKey> keys)
    {
        ArgumentNullException.ThrowIfNull(users);
        ArgumentNullException.ThrowIfNull(keys);
        current = new Snapshot(
            users.GroupBy(u => u.Name, StringComparer.OrdinalIgnoreCase).ToFrozenDictionary(g => g.Key, g => g.First(), StringComparer.OrdinalIgnoreCase),
            keys.GroupBy(k => k.SecretHash, StringComparer.Ordinal).ToFrozenDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal),
            keys.GroupBy(k => k.Id, StringComparer.Ordinal).ToFrozenDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal),
            users,
            keys,
            Loaded: true);
    }

    private sealed record Snapshot(
        FrozenDictionary<string, RuntimeUser> UsersByName,
        FrozenDictionary<string, ApiKey> KeysByHash,
        FrozenDictionary<string, ApiKey> KeysById,
        IReadOnlyList<RuntimeUser> UserList,
        IReadOnlyList<ApiKey> KeyList,
        bool Loaded);
}
