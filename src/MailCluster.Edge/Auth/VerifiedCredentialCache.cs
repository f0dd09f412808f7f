using System.Security.Cryptography;
using System.Text;

namespace MailCluster.Edge.Auth;

/// <summary>
/// Remembers, for a while, that a password matched a user's stored PBKDF2 hash, so that a client opening a connection
/// per message does not cost a full hash (hundreds of milliseconds of CPU) per AUTH.
/// <list type="bullet">
/// <item>Keyed by HMAC-SHA-256, under a random key made at start and never stored, of the user name, the stored hash
/// and the password: a changed password (a new hash, with a new salt) or a removed user never matches an old entry;
/// changed senders are read from the user, not from here. No plaintext is kept, and the HMAC key makes an entry
/// useless outside this process.</item>
/// <item>Only successes are cached: a wrong password always costs the full hash (and the AUTH failure delay).</item>
/// <item>Bounded: at most <c>capacity</c> entries, the oldest dropped first, each valid for <c>lifetime</c>.</item>
/// </list>
/// The trade-off: an entry is a fast-to-check image of a password for as long as it lives, so a memory dump of the
/// node reveals candidates faster than the slow hashes would; such a dump also holds the passwords of sessions in
/// flight, so little is lost.
/// </summary>
public sealed class VerifiedCredentialCache
{
    public const int DefaultCapacity = 10_000;

    public static readonly TimeSpan DefaultLifetime = TimeSpan.FromMinutes(15);

    private readonly byte[] _hmacKey = RandomNumberGenerator.GetBytes(32);
    private readonly Dictionary<string, DateTimeOffset> _expiry = new(StringComparer.Ordinal);
    private readonly Queue<string> _order = new();
    private readonly Lock _lock = new();
    private readonly int _capacity;
    private readonly TimeSpan _lifetime;
    private readonly TimeProvider _clock;

    public VerifiedCredentialCache(int capacity = DefaultCapacity, TimeSpan? lifetime = null, TimeProvider? clock = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _capacity = capacity;
        _lifetime = lifetime ?? DefaultLifetime;
        _clock = clock ?? TimeProvider.System;
    }

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _expiry.Count;
            }
        }
    }

    /// <summary>True when this exact (user, stored hash, password) was verified within the lifetime.</summary>
    public bool Contains(string name, string storedHash, string password)
    {
        var key = Key(name, storedHash, password);
        lock (_lock)
        {
            return _expiry.TryGetValue(key, out var until) && until > _clock.GetUtcNow();
        }
    }

    /// <summary>Records a successful verification.</summary>
    public void Add(string name, string storedHash, string password)
    {
        var key = Key(name, storedHash, password);
        lock (_lock)
        {
            if (!_expiry.ContainsKey(key))
            {
                while (_expiry.Count >= _capacity && _order.TryDequeue(out var oldest))
                {
                    _expiry.Remove(oldest);
                }

                _order.Enqueue(key);
            }

            _expiry[key] = _clock.GetUtcNow() + _lifetime;
        }
    }

    private string Key(string name, string storedHash, string password)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(storedHash);
        ArgumentNullException.ThrowIfNull(password);

        // Lengths first, so that no two different triples give the same input.
        var text = $"{name.Length}:{name.ToUpperInvariant()}\0{storedHash.Length}:{storedHash}\0{password}";
        return Convert.ToBase64String(HMACSHA256.HashData(_hmacKey, Encoding.UTF8.GetBytes(text)));
    }
}
