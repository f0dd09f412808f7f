using System.Globalization;
using System.Security.Cryptography;
using MailCluster.Edge.Credentials;

namespace MailCluster.Edge.Auth;

/// <summary>
/// The SMTP AUTH identities: the configured users (<see cref="SmtpUserOptions.Section"/>, a snapshot taken at
/// construction) and, when the node has the credentials feature, the runtime users and API keys of its
/// <see cref="CredentialSet"/> (refreshed from the cluster database). Names are case-insensitive (ordinal); if a name
/// is configured twice the first entry wins, and <see cref="Validate"/> reports it so the host refuses to start.
/// <para>Order of lookup: a configured user, then an API key (a name of the form <c>key_</c> + 16 hex digits, the
/// secret as password), then a runtime user. <b>Configuration wins on a name clash</b>: it is deployed and reviewed
/// with the node, so an admin token must not be able to shadow or take over a configured account; the users API also
/// refuses to create a runtime user with a configured name (409), so a clash only arises when configuration later adds
/// a name, and then the runtime user simply stops working until removed.</para>
/// One instance serves every session concurrently.
/// </summary>
public sealed class UserDirectory
{
    private readonly Dictionary<string, (SmtpUser User, string PasswordHash)> _users = new(StringComparer.OrdinalIgnoreCase);
    private readonly IReadOnlyList<SmtpUserOptions> _options;
    private readonly CredentialSet? _runtime;
    private readonly VerifiedCredentialCache? _cache;

    /// <param name="runtime">Runtime users and API keys; null on a node (or test) without them.</param>
    /// <param name="cache">Recently verified passwords (<see cref="VerifiedCredentialCache"/>); null hashes every time.</param>
    public UserDirectory(IEnumerable<SmtpUserOptions> users, CredentialSet? runtime = null, VerifiedCredentialCache? cache = null)
    {
        _runtime = runtime;
        _cache = cache;
        ArgumentNullException.ThrowIfNull(users);
        _options = [.. users];
        foreach (var u in _options)
        {
            ArgumentNullException.ThrowIfNull(u, nameof(users));
            if (string.IsNullOrWhiteSpace(u.Name))
            {
                continue; // reported by Validate; such a user can never log in
            }

            _users.TryAdd(u.Name, (new SmtpUser(u.Name, [.. u.AllowedSenders]), u.PasswordHash));
        }

        DummyHash = MakeDummyHash(_options);
    }

    /// <summary>Identities who can log in with a password now: configured users (named; duplicates counted once),
    /// runtime users and enabled API keys with the smtp scope. Zero: do not offer AUTH PLAIN/LOGIN.</summary>
    public int Count => _users.Count + (_runtime?.SmtpLogins ?? 0);

    /// <summary>The configured users (duplicates once), for listings.</summary>
    public IEnumerable<SmtpUser> Configured => _users.Values.Select(v => v.User);

    /// <summary>True when <paramref name="name"/> is a configured user (case-insensitive): a runtime user may not take it.</summary>
    public bool IsConfigured(string name) => _users.ContainsKey(name);

    /// <summary>
    /// A well-formed hash no password matches (its derived key is all zeros), verified for unknown user names so
    /// that they cost as much as a wrong password and timing does not reveal which names exist. It uses the
    /// iteration count most configured users have.
    /// </summary>
    internal string DummyHash { get; }

    /// <summary>
    /// The user when <paramref name="name"/> exists and <paramref name="password"/> matches, else null. PBKDF2
    /// runs on the thread pool (it takes a noticeable fraction of a second by design), never on the caller's thread.
    /// </summary>
    /// <remarks>An API key is checked by the SHA-256 of its secret (<see cref="IApiKeyVerifier"/>), with no slow hash:
    /// its secret is random. A password that matched recently is answered from the cache without a hash.</remarks>
    public async Task<SmtpUser?> AuthenticateAsync(string name, string password)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(password);
        if (_users.TryGetValue(name, out var entry))
        {
            return await VerifyAsync(entry.User, entry.PasswordHash, password).ConfigureAwait(false);
        }

        if (_runtime is not null && ApiKeySecrets.IsKeyId(name))
        {
            return (await _runtime.VerifyAsync(password, ApiKeyScopes.Smtp, name).ConfigureAwait(false))?.AsSmtpUser();
        }

        if (_runtime?.FindUser(name) is { } runtimeUser)
        {
            return await VerifyAsync(new SmtpUser(runtimeUser.Name, runtimeUser.AllowedSenders), runtimeUser.PasswordHash, password).ConfigureAwait(false);
        }

        // Unknown names cost a verification too, so timing does not tell which names exist.
        var dummy = DummyHash;
        await Task.Run(() => PasswordHasher.Verify(password, dummy)).ConfigureAwait(false);
        return null;
    }

    private async Task<SmtpUser?> VerifyAsync(SmtpUser user, string passwordHash, string password)
    {
        if (_cache?.Contains(user.Name, passwordHash, password) == true)
        {
            return user;
        }

        if (!await Task.Run(() => PasswordHasher.Verify(password, passwordHash)).ConfigureAwait(false))
        {
            return null;
        }

        _cache?.Add(user.Name, passwordHash, password);
        return user;
    }

    /// <summary>The configured user named <paramref name="name"/> (case-insensitive), without checking any password:
    /// for identities proven otherwise (an OAuth2 token), whose configured senders they may use too.</summary>
    public SmtpUser? Find(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return _users.TryGetValue(name, out var entry) ? entry.User
            : _runtime?.FindUser(name) is { } runtimeUser ? new SmtpUser(runtimeUser.Name, runtimeUser.AllowedSenders)
            : null;
    }

    /// <summary>
    /// Configuration errors, each naming the offending key in both configuration and environment spelling.
    /// Empty when the configuration is usable.
    /// </summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        var firstIndex = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < _options.Count; i++)
        {
            var u = _options[i];
            if (string.IsNullOrWhiteSpace(u.Name))
            {
                errors.Add($"{Key(i, "Name")}: empty; every user needs a name");
            }
            else if (!firstIndex.TryAdd(u.Name, i))
            {
                errors.Add($"{Key(i, "Name")}: '{u.Name}' duplicates {ConfigKey(firstIndex[u.Name], "Name")} (user names are case-insensitive)");
            }

            if (!PasswordHasher.IsWellFormed(u.PasswordHash))
            {
                errors.Add($"{Key(i, "PasswordHash")}: not a {PasswordHasher.Scheme} hash; create one with 'dotnet MailCluster.Host.dll hash-password'");
            }

            for (var j = 0; j < u.AllowedSenders.Count; j++)
            {
                if (!SenderAuthorization.IsValidEntry(u.AllowedSenders[j]))
                {
                    errors.Add($"{Key(i, $"AllowedSenders:{j}")}: '{u.AllowedSenders[j]}' is neither an address (user@example.com) nor a domain (example.com or @example.com)");
                }
            }
        }

        return errors;
    }

    private static string ConfigKey(int index, string field) =>
        string.Create(CultureInfo.InvariantCulture, $"{SmtpUserOptions.Section}:{index}:{field}");

    private static string Key(int index, string field)
    {
        var key = ConfigKey(index, field);
        return $"{key} (environment: {key.Replace(":", "__", StringComparison.Ordinal)})";
    }

    private static string MakeDummyHash(IEnumerable<SmtpUserOptions> users)
    {
        var iterations = users
            .Select(u => PasswordHasher.TryParse(u.PasswordHash, out var n, out _, out _) ? n : 0)
            .Where(n => n > 0)
            .GroupBy(n => n)
            .OrderByDescending(g => g.Count())
            .ThenByDescending(g => g.Key)
            .Select(g => g.Key)
            .FirstOrDefault(PasswordHasher.DefaultIterations);
        return PasswordHasher.Format(iterations, RandomNumberGenerator.GetBytes(PasswordHasher.SaltSize), new byte[PasswordHasher.HashSize]);
    }
}
