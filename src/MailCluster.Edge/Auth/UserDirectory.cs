using System.Globalization;
using System.Security.Cryptography;

namespace MailCluster.Edge.Auth;

/// <summary>
/// The configured SMTP AUTH users (<see cref="SmtpUserOptions.Section"/>). Names are case-insensitive (ordinal);
/// if a name is configured twice the first entry wins, and <see cref="Validate"/> reports it so the host refuses
/// to start. Logins use a snapshot taken at construction, so one instance may serve every session concurrently.
/// </summary>
public sealed class UserDirectory
{
    private readonly Dictionary<string, (SmtpUser User, string PasswordHash)> _users = new(StringComparer.OrdinalIgnoreCase);
    private readonly IReadOnlyList<SmtpUserOptions> _options;

    public UserDirectory(IEnumerable<SmtpUserOptions> users)
    {
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

    /// <summary>Users who can log in (named; duplicates counted once). Zero: do not offer AUTH.</summary>
    public int Count => _users.Count;

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
    public Task<SmtpUser?> AuthenticateAsync(string name, string password)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(password);
        var found = _users.TryGetValue(name, out var entry);
        var encoded = found ? entry.PasswordHash : DummyHash;
        // Verify runs whether or not the name was found: same work either way.
        return Task.Run(() => (PasswordHasher.Verify(password, encoded) && found) ? entry.User : null);
    }

    /// <summary>The configured user named <paramref name="name"/> (case-insensitive), without checking any password:
    /// for identities proven otherwise (an OAuth2 token), whose configured senders they may use too.</summary>
    public SmtpUser? Find(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return _users.TryGetValue(name, out var entry) ? entry.User : null;
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
