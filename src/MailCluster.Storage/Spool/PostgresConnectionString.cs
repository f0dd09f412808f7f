using System.Globalization;
using Npgsql;

namespace MailCluster.Storage;

/// <summary>
/// <c>MailCluster:Storage:ConnectionString</c> in either of the two forms operators are handed: Npgsql's
/// <c>Host=...;Username=...</c>, or a libpq connection URI (<c>postgresql://user:password@host:port/dbname?sslmode=require</c>,
/// PostgreSQL manual §34.1.1), which is what CloudNativePG's generated Secret holds under <c>uri</c> and what Npgsql
/// does not parse. A URI is translated into the Npgsql form; the key=value form is checked by Npgsql's own builder.
/// Messages never repeat the password.
/// </summary>
public static class PostgresConnectionString
{
    /// <summary>libpq URI query parameters and the Npgsql keyword each becomes (others are refused: silently dropping
    /// one such as <c>sslmode</c> would weaken the connection without a word).</summary>
    private static readonly Dictionary<string, string> Parameters = new(StringComparer.Ordinal)
    {
        ["host"] = "Host",
        ["port"] = "Port",
        ["dbname"] = "Database",
        ["user"] = "Username",
        ["password"] = "Password",
        ["sslmode"] = "SSL Mode",
        ["sslrootcert"] = "Root Certificate",
        ["sslcert"] = "SSL Certificate",
        ["sslkey"] = "SSL Key",
        ["sslpassword"] = "SSL Password",
        ["application_name"] = "Application Name",
        ["connect_timeout"] = "Timeout",
        ["target_session_attrs"] = "Target Session Attributes",
        ["options"] = "Options",
        ["keepalives_idle"] = "Keepalive",
    };

    /// <summary>libpq <c>sslmode</c> values and Npgsql's spelling of each.</summary>
    private static readonly Dictionary<string, string> SslModes = new(StringComparer.Ordinal)
    {
        ["disable"] = "Disable",
        ["allow"] = "Allow",
        ["prefer"] = "Prefer",
        ["require"] = "Require",
        ["verify-ca"] = "VerifyCA",
        ["verify-full"] = "VerifyFull",
    };

    /// <summary>
    /// The configured connection string and the key it came from: <c>MailCluster:Storage:ConnectionString</c>, or
    /// else the contents of <c>MailCluster:Storage:ConnectionStringFile</c> (trimmed; null when unreadable).
    /// </summary>
    public static (string Key, string? Value) Configured(StorageOptions storage)
    {
        ArgumentNullException.ThrowIfNull(storage);
        if (!string.IsNullOrWhiteSpace(storage.ConnectionString) || string.IsNullOrWhiteSpace(storage.ConnectionStringFile))
        {
            return (StorageOptions.Section + ":ConnectionString", storage.ConnectionString);
        }

        try
        {
            return (StorageOptions.Section + ":ConnectionStringFile", File.ReadAllText(storage.ConnectionStringFile).Trim());
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return (StorageOptions.Section + ":ConnectionStringFile", null);
        }
    }

    public static bool IsUri(string value) =>
        value.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase) || value.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase);

    /// <summary>The Npgsql form of <paramref name="value"/> (a key=value string is returned as Npgsql normalises it).</summary>
    /// <exception cref="FormatException">The value is malformed; the message says what is wrong, without the password.</exception>
    public static string ToNpgsql(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var text = value.Trim();
        try
        {
            return IsUri(text) ? FromUri(text).ConnectionString : new NpgsqlConnectionStringBuilder(text).ConnectionString;
        }
        catch (ArgumentException ex)
        {
            // Npgsql's messages name the keyword or value at fault and never echo the whole string.
            throw new FormatException(ex.Message, ex);
        }
    }

    /// <summary>Null when <paramref name="value"/> is usable, else what is wrong with it (for a config error).</summary>
    public static string? Problem(string value)
    {
        try
        {
            ToNpgsql(value);
            return null;
        }
        catch (FormatException ex)
        {
            return ex.Message;
        }
    }

    private static NpgsqlConnectionStringBuilder FromUri(string uri)
    {
        var rest = uri[(uri.IndexOf("://", StringComparison.Ordinal) + 3)..];
        var builder = new NpgsqlConnectionStringBuilder();
        var query = Cut(ref rest, '?');
        var path = Cut(ref rest, '/');
        var at = rest.LastIndexOf('@');
        if (at >= 0)
        {
            var userInfo = rest[..at];
            rest = rest[(at + 1)..];
            var colon = userInfo.IndexOf(':', StringComparison.Ordinal);
            Set(builder, "Username", Decode(colon < 0 ? userInfo : userInfo[..colon]));
            if (colon >= 0)
            {
                Set(builder, "Password", Decode(userInfo[(colon + 1)..]));
            }
        }

        if (rest.Length > 0)
        {
            var hosts = Hosts(rest);
            if (hosts.Count == 1)
            {
                builder.Host = hosts[0].Host;
                if (hosts[0].Port is { } port)
                {
                    builder.Port = port;
                }
            }
            else
            {
                // Npgsql takes the same list, each host with its own port (failover, target_session_attrs).
                builder.Host = string.Join(',', hosts.Select(h => h.Port is { } p ? $"{h.Host}:{p}" : h.Host));
            }
        }

        if (path is not null && path.Length > 0)
        {
            Set(builder, "Database", Decode(path));
        }

        foreach (var pair in (query ?? "").Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                throw new FormatException($"URI parameter '{Decode(pair)}' has no value (expected name=value)");
            }

            var name = Decode(pair[..eq]);
            var parameterValue = Decode(pair[(eq + 1)..]);
            if (!Parameters.TryGetValue(name, out var keyword))
            {
                throw new FormatException($"URI parameter '{name}' is not supported (supported: {string.Join(", ", Parameters.Keys)})");
            }

            if (keyword == "SSL Mode")
            {
                parameterValue = SslModes.TryGetValue(parameterValue, out var mode)
                    ? mode
                    : throw new FormatException($"URI parameter sslmode='{parameterValue}' is not one of {string.Join(", ", SslModes.Keys)}");
            }

            Set(builder, keyword, parameterValue);
        }

        if (string.IsNullOrEmpty(builder.Host))
        {
            throw new FormatException("the URI names no host (postgresql://user:password@host:port/database)");
        }

        return builder;
    }

    /// <summary>Cuts <paramref name="text"/> at the first <paramref name="separator"/>: returns what follows (null when
    /// absent) and keeps what precedes.</summary>
    private static string? Cut(ref string text, char separator)
    {
        var index = text.IndexOf(separator, StringComparison.Ordinal);
        if (index < 0)
        {
            return null;
        }

        var tail = text[(index + 1)..];
        text = text[..index];
        return tail;
    }

    /// <summary>libpq's host list <c>h1:5432,h2,[::1]:5433</c>: each host (IPv6 without its brackets) and its port.</summary>
    private static List<(string Host, int? Port)> Hosts(string list) =>
        [.. list.Split(',').Select(entry =>
        {
            string host = entry, port = "";
            if (entry.StartsWith('['))
            {
                var close = entry.IndexOf(']', StringComparison.Ordinal);
                if (close < 0)
                {
                    throw new FormatException($"host '{entry}' has an unclosed '['");
                }

                host = entry[1..close];
                port = entry[(close + 1)..].TrimStart(':');
            }
            else if (entry.LastIndexOf(':') is var colon and >= 0)
            {
                (host, port) = (entry[..colon], entry[(colon + 1)..]);
            }

            host = Decode(host);
            if (host.Length == 0)
            {
                throw new FormatException($"host list '{list}' has an empty host");
            }

            if (port.Length == 0)
            {
                return (host, (int?)null);
            }

            return int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out var p) && p is > 0 and < 65536
                ? (host, p)
                : throw new FormatException($"port '{port}' of host {host} is not 1-65535");
        })];

    private static void Set(NpgsqlConnectionStringBuilder builder, string keyword, string value) => builder[keyword] = value;

    /// <summary>RFC 3986 percent-decoding ('+' is a plus sign in a URI, as libpq reads it).</summary>
    private static string Decode(string text) => Uri.UnescapeDataString(text);
}
